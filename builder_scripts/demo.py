#!/usr/bin/env python
"""`make demo`: the benchmark loop end to end on an embedded synthetic default.

Stages: write a synthetic release in every official shape -> import it -> load every config
with `datasets.load_dataset` and summarize it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage(title: str):
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def done(t0: float) -> None:
    print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)


def summarize(out: Path) -> None:
    import datasets

    from audiomarathon import get_task

    datasets.disable_progress_bars()
    names = datasets.get_dataset_config_names(str(out))
    print(f"   configs: {', '.join(names)}")
    print(f"   {'config':<12} {'abbrev':<6} {'n':>3} {'mean s':>7}  first question / answer")
    for name in names:
        if name == "all":
            continue
        ds = datasets.load_dataset(str(out), name, split="test")
        first = ds[0]
        audio = first["audio"]
        assert audio["sampling_rate"] == 16000
        mean = sum(ds["duration"]) / ds.num_rows
        answer = first["answer"] or "(transcript)"
        text = first["answer_text"][:40]
        print(f"   {name:<12} {get_task(name).abbrev:<6} {ds.num_rows:>3} {mean:>7.1f}  "
              f"{first['question'][:44]!r} -> {answer} {text!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", default=str(ROOT / "demo_out"), help="where the demo writes (replaced)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    t0 = stage("1/3 writing a synthetic release (every official metadata shape, WAV/FLAC/OGG/MP3)")
    release = write_synthetic_release(work / "release", per_task=4, seed=args.seed, duration=(3.0, 6.0))
    done(t0)

    t0 = stage("2/3 audiomarathon import-release")
    out = work / "audiomarathon"
    report = import_release(release, out)
    print(f"   {report.summary_line()}")
    done(t0)

    t0 = stage("3/3 load_dataset on every config")
    summarize(out)
    done(t0)
    print(f"\nDataset written to {out}; load it with datasets.load_dataset({str(out)!r}, 'TAU').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
