#!/usr/bin/env python
"""Builder throughput and peak memory.

    python benchmarks/build.py [--hours 0.5 2.0] [--tasks TAU,GTZAN,VoxGender,LibriSpeech] [--procs 1 2]

For each corpus size (hours of source audio per corpus) it writes synthetic corpora with
realistic clips (TAU-like 44.1 kHz 24-bit, GTZAN-like 22.05 kHz, 16 kHz FLAC speech, ~8-12 s
clips, tone/noise content), then runs ``audiomarathon build`` with the default 90-300 s
instance lengths in a subprocess at each process count and reports:

* throughput: output audio seconds per wall second (whole command, process start included),
  and per core (divided by the process count);
* speed-up of N processes over 1;
* peak RSS of the whole process tree (main + workers), sampled every 20 ms.

Targets (issue 3): >= 300x real time per core, >= 1.8x with 2 processes, peak < 1 GiB at any size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CORPUS_OF = {"TAU": "tau", "GTZAN": "gtzan", "VoxGender": "voxceleb", "LibriSpeech": "librispeech",
             "HAD": "had", "VESUS": "vesus", "DESED": "desed", "SLUE": "slue"}


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_build(sources: Path, out: Path, tasks: str, procs: int) -> dict:
    cmd = [sys.executable, "-m", "audiomarathon", "build", "--sources", str(sources), "--out", str(out),
           "--tasks", tasks, "--num-proc", str(procs), "--no-progress"]
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(ps))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}):\n{stderr}")
    report = json.loads((out / "build_report.json").read_text())
    seconds = sum(t["output_seconds"] for t in report["tasks"].values())
    instances = sum(t["instances"] for t in report["tasks"].values())
    return {"procs": procs, "wall_s": wall, "output_s": seconds, "instances": instances,
            "x_realtime": seconds / wall, "x_realtime_per_core": seconds / wall / procs, "peak_rss_mib": peak / 2**20}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, nargs="+", default=[0.5, 2.0], help="source hours per corpus (one run each)")
    p.add_argument("--tasks", default="TAU,GTZAN,VoxGender,LibriSpeech")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--workdir", default=None, help="where to write corpora and outputs (default: a temp dir)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)

    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

    tasks = [t.strip() for t in args.tasks.split(",")]
    corpora = sorted({CORPUS_OF[t] for t in tasks})
    work = Path(args.workdir or tempfile.mkdtemp(prefix="am-bench-build-"))
    results = []
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}")
    try:
        for hours in args.hours:
            sources = work / f"src-{hours:g}h"
            t0 = time.perf_counter()
            groups = max(2, int(round(hours * 3600 / 600)))  # 10-minute groups (scene locations, speakers, ...)
            write_synthetic_sources(sources, seed=0, groups=groups, group_seconds=hours * 3600 / groups,
                                    speech=False, corpora=corpora, clip_scale=2.0)
            size = sum(f.stat().st_size for f in sources.rglob("*") if f.is_file())
            print(f"\n{hours:g} h per corpus x {len(corpora)} corpora: {size / 2**20:.0f} MiB of sources "
                  f"written in {time.perf_counter() - t0:.0f} s")
            base = None
            for procs in args.procs:
                out = work / f"out-{hours:g}h-{procs}p"
                r = run_build(sources, out, args.tasks, procs)
                r["source_hours_per_corpus"] = hours
                r["source_mib"] = size / 2**20
                if procs == 1:
                    base = r["wall_s"]
                r["speedup_vs_1"] = (base / r["wall_s"]) if base else None
                results.append(r)
                print(f"  {procs} proc: {r['instances']} instances, {r['output_s'] / 3600:.2f} h out in {r['wall_s']:.1f} s"
                      f" = {r['x_realtime']:.0f}x real time ({r['x_realtime_per_core']:.0f}x per core)"
                      + (f", {r['speedup_vs_1']:.2f}x vs 1 proc" if r["speedup_vs_1"] and procs > 1 else "")
                      + f", peak RSS {r['peak_rss_mib']:.0f} MiB")
                shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(sources, ignore_errors=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
