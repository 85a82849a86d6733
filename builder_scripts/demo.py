#!/usr/bin/env python
"""`make demo`: the whole benchmark loop, end to end, on an embedded synthetic default.

synthetic source corpora -> build all 10 configs -> load_dataset -> a tiny random audio LLM with
no compression, FastV at 0.5 and SnapKV at 0.5 -> scores -> submit into a local leaderboard store
-> print the leaderboard, write an efficiency plot -> scores by duration and a paired comparison
(long-audio analysis) -> the command that serves the Space.

The tiny model answers at random: the point is that every stage runs for real.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `space` is a folder of the repo, not an installed package

STAGES = 8
DEMO_DURATION_BINS = (8.0, 12.0, 16.0)  # the demo's instances are 8-16 s long


class Stages:
    def __init__(self) -> None:
        self.n = 0
        self.t0 = time.perf_counter()
        self.t = self.t0

    def start(self, title: str) -> None:
        self.n += 1
        self.t = time.perf_counter()
        print(f"\n== [{self.n}/{STAGES}] {title}", flush=True)

    def done(self) -> None:
        print(f"   ({time.perf_counter() - self.t:.1f} s)", flush=True)


def summarize(out: Path) -> None:
    import datasets

    from audiomarathon import get_task

    names = datasets.get_dataset_config_names(str(out))
    print(f"   configs: {', '.join(names)}")
    print(f"   {'config':<12} {'abbrev':<6} {'n':>3} {'mean s':>7}  first question -> answer")
    for name in names:
        if name == "all":
            continue
        ds = datasets.load_dataset(str(out), name, split="test")
        first = ds[0]
        assert first["audio"]["sampling_rate"] == 16000
        mean = sum(ds["duration"]) / ds.num_rows
        answer = f"{first['answer']} {first['answer_text'][:28]!r}" if first["answer"] else "(transcript)"
        print(f"   {name:<12} {get_task(name).abbrev:<6} {ds.num_rows:>3} {mean:>7.1f}  "
              f"{first['question'][:46]!r} -> {answer}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=str(ROOT / "demo_out"), help="where the demo writes (replaced)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", default="qwen2_audio", help="tiny model family (audiomarathon_runner.tiny)")
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stages = Stages()

    stages.start("writing synthetic source corpora (nine corpora in their official layouts)")
    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

    sources = write_synthetic_sources(work / "sources", seed=args.seed)
    stages.done()

    stages.start("audiomarathon build: composing all 10 configs (short instances for the demo)")
    from audiomarathon_dataset.build import build_benchmark

    dataset = work / "dataset"
    report = build_benchmark(sources, dataset, seed=args.seed, num_proc=2, min_duration=8, max_duration=16)
    print(f"   {report.summary_line()}")
    stages.done()

    stages.start("load_dataset on every config")
    summarize(dataset)
    stages.done()

    stages.start(f"tiny random {args.family} model: none, fastv@0.5, snapkv@0.5 (model loaded once)")
    from audiomarathon_runner.compression import CompressionConfig
    from audiomarathon_runner.run import RunConfig
    from audiomarathon_runner.sweep import run_sweep
    from audiomarathon_runner.tiny import save_tiny_model

    model_dir = save_tiny_model(args.family, work / f"tiny-{args.family}", seed=args.seed)
    base = RunConfig(model=str(model_dir), data=str(dataset), out=str(work / "runs"), tasks="all",
                     dtype="fp32", device="cpu", max_new_tokens=8, compression=CompressionConfig(seed=args.seed))
    rows = run_sweep(base, ["none", "fastv", "snapkv"], [0.5])
    stages.done()

    stages.start("scores (audiomarathon_metric.score, strict mode)")
    for row in rows:
        kept = row.get("kept_audio_tokens_mean")
        kept_text = f", audio tokens kept (mean) {kept:.0f}" if kept is not None else ""
        print(f"   {row['folder']:<14} average {row['average']:5.1f}, prefill median "
              f"{row['prefill_ms_median']:.1f} ms, KV cache {row['kv_cache_bytes_mean'] / 1024:.0f} KiB{kept_text}")
    print(f"   per-task table: {work / 'runs' / 'sweep_summary.md'}")
    stages.done()

    stages.start("submitting the three runs to a local leaderboard (re-scored on the server)")
    from audiomarathon.records import PREDICTIONS_FILE, RESULTS_FILE
    from space.leaderboard import text_table
    from space.service import Service

    db = work / "leaderboard.sqlite"
    service = Service.open(db, [str(dataset)])
    for row in rows:
        run_dir = work / "runs" / row["folder"]
        sub = service.submit(run_dir / PREDICTIONS_FILE, run_dir / RESULTS_FILE)
        print(f"   accepted {row['folder']}: verified average {sub.entry.average:.1f}")
    print(text_table(service.entries()))
    stages.done()

    stages.start("efficiency plot")
    from space.plots import score_vs_ratio

    png = work / "efficiency.png"
    score_vs_ratio(service.entries()).savefig(png, dpi=110)
    print(f"   wrote {png}")
    stages.done()

    stages.start("long-audio analysis: scores by duration bin, none vs fastv@0.5 item by item, plots")
    from audiomarathon_metric.commands.compare import plot_runs
    from audiomarathon_metric.long_plots import write_plots
    from audiomarathon_metric.run_compare import compare_runs, duration_table, load_run

    runs = [load_run(work / "runs" / row["folder"]) for row in rows]
    # All three runs, as `compare none fastv snapkv --out` takes them: the plots get a baseline and
    # two methods at two ratios each (the uncompressed run is their 0% point).
    result = compare_runs(runs, duration_bins=DEMO_DURATION_BINS, n_bootstrap=200, seed=args.seed)
    for run in runs[:2]:
        print(f"   {run.name}: score by duration (trend: points per minute, p-value)")
        for line in duration_table(result["runs"][run.name]["scores"]).splitlines():
            print(f"     {line}")
    diff = result["comparisons"][0]
    print(f"   {diff['a']} - {diff['b']}: {diff['average_diff']:+.1f} points on average over "
          f"{diff['n_common']} paired items")
    plots = write_plots(work / "long_audio", plot_runs(runs, result), baseline=runs[0].name)
    print(f"   wrote {', '.join(p.name for p in plots.paths)} in {work / 'long_audio'}")
    for name, why in plots.skipped.items():
        print(f"   not written: {name} ({why})")
    stages.done()

    print(f"\nDemo finished in {time.perf_counter() - stages.t0:.0f} s. Serve the leaderboard with:\n"
          f"   .venv/bin/audiomarathon serve --db {db} --data {dataset}")
    print(f"Its dataset is {dataset} and its tiny model {model_dir}; evaluate the model again with:\n"
          f"   .venv/bin/audiomarathon run --model {model_dir} --data {dataset} --tasks TAU,GTZAN "
          f"--out runs/tiny --max-new-tokens 8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
