#!/usr/bin/env python
"""`make demo`: the whole benchmark loop, end to end, on an embedded synthetic default.

synthetic source corpora -> build all 10 configs -> load_dataset -> a tiny random audio LLM with
no compression, FastV at 0.5 and SnapKV at 0.5 -> scores -> submit into a local leaderboard store
-> print the leaderboard, write an efficiency plot -> scores by duration and a paired comparison
(long-audio analysis) -> MMAR and AIR-Bench Foundation: synthetic releases in their authors' exact
layouts -> import-release -> load_dataset -> the tiny model -> strict and paper scores -> their boards
-> the command that serves the Space.

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

STAGES = 9
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


def _mmar_release(folder: Path, seed: int) -> Path:
    from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_mmar

    return write_synthetic_mmar(folder, n=8, seed=seed, jsonl=True, tarball=True)


def _foundation_release(folder: Path, seed: int) -> Path:
    from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_foundation

    return write_synthetic_foundation(folder, n_per_folder=1, seed=seed)  # 25 folders, 19 tasks


# The other benchmarks the demo runs: key -> (its --tasks, its folders' name under the workdir, a
# small release in the authors' exact layout: MMAR's GitHub jsonl with its audio in the tarball,
# Foundation's 25 folders in WAV, FLAC and MP3).
OTHER_BENCHMARKS = {
    "mmar": ("MMAR", "mmar", _mmar_release),
    "airbench-foundation": ("foundation", "airbench", _foundation_release),
}


def other_benchmarks(work: Path, model_dir: Path, service, seed: int) -> dict:
    """Each other benchmark's loop on the demo's tiny model: release -> import -> load -> run ->
    strict and paper scores -> submitted to its own board. Returns {key: (dataset, run folder)}."""
    import datasets

    # In a log, datasets' bars (loading, the server's answer key) would leave each redraw behind.
    quiet = not sys.stderr.isatty() and datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        return _other_benchmarks(work, model_dir, service, seed)
    finally:
        if quiet:
            datasets.enable_progress_bars()


def _other_benchmarks(work: Path, model_dir: Path, service, seed: int) -> dict:
    import datasets

    from audiomarathon.benchmarks import get_benchmark
    from audiomarathon.records import PREDICTIONS_FILE, RESULTS_FILE
    from audiomarathon_dataset.release import import_release
    from audiomarathon_metric import score
    from audiomarathon_metric.commands.score import score_columns
    from audiomarathon_runner.run import RunConfig, load_model, run_evaluation
    from space.service import board_text

    adapter = None
    out = {}
    for key, (tasks, name, write) in OTHER_BENCHMARKS.items():
        bench = get_benchmark(key)
        release = write(work / "releases" / name, seed)
        dataset = work / f"{name}_dataset"
        report = import_release(release, dataset, progress=False)
        print(f"   {bench.name}: import-release {release.relative_to(work)}: {report.summary_line()}")
        ds = datasets.load_dataset(str(dataset), tasks, split="test")
        options = sorted({len(c) for c in ds["choices"]})
        print(f"   load_dataset({dataset.name!r}, {tasks!r}): {ds.num_rows} items of {min(ds['duration']):.1f}-"
              f"{max(ds['duration']):.1f} s, {'-'.join(map(str, (options[0], options[-1])))} options each")
        config = RunConfig(model=str(model_dir), data=str(dataset), out=str(work / "runs" / name), tasks=tasks,
                           dtype="fp32", device="cpu", max_new_tokens=8, progress=False)
        adapter = adapter or load_model(config, "cpu")
        results = run_evaluation(config, adapter=adapter)
        run = Path(config.out)
        paper = score(**score_columns(run / PREDICTIONS_FILE, run / RESULTS_FILE), mode="paper", n_bootstrap=0)
        strict = results["scores"]["benchmarks"][key]
        guess = (strict.get("random_guess") or {}).get("average")
        print(f"   {bench.name} with the tiny model: strict {strict['average']:.1f}, paper "
              f"{paper['benchmarks'][key]['average']:.1f} (random guessing {guess:.1f}) over {strict['n']} items; "
              f"tables: audiomarathon score {run} [--mode paper]")
        service.add_dataset(dataset)
        sub = service.submit(run / PREDICTIONS_FILE, run / RESULTS_FILE)
        print(f"   accepted on the {bench.name} board: verified average {sub.entry.average:.1f}")
        print("\n".join("     " + line for line in board_text(service, key).splitlines()[:6]))
        out[key] = (dataset, run)
    return out


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

    stages.start("MMAR and AIR-Bench Foundation: their releases' layouts -> import -> load -> run -> score -> boards")
    others = other_benchmarks(work, model_dir, service, args.seed)
    stages.done()

    data_args = " ".join(f"--data {path}" for path in (dataset, *(d for d, _ in others.values())))
    print(f"\nDemo finished in {time.perf_counter() - stages.t0:.0f} s. Serve the leaderboard with:\n"
          f"   .venv/bin/audiomarathon serve --db {db} {data_args}")
    print(f"Its dataset is {dataset} and its tiny model {model_dir}; evaluate the model again with:\n"
          f"   .venv/bin/audiomarathon run --model {model_dir} --data {dataset} --tasks TAU,GTZAN "
          f"--out runs/tiny --max-new-tokens 8")
    for key, (dataset_dir, _) in others.items():
        tasks = OTHER_BENCHMARKS[key][0]
        print(f"   .venv/bin/audiomarathon run --model {model_dir} --data {dataset_dir} --tasks {tasks} "
              f"--out runs/tiny-{OTHER_BENCHMARKS[key][1]} --max-new-tokens 8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
