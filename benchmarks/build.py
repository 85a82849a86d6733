#!/usr/bin/env python
"""Builder throughput and peak memory.

    python benchmarks/build.py [--hours 0.5 2.0] [--tasks TAU,GTZAN,VoxGender,LibriSpeech] [--procs 1 2]

For each corpus size (hours of source audio per corpus) it writes synthetic corpora with
realistic clips (TAU-like 44.1 kHz 24-bit, GTZAN-like 22.05 kHz, 16 kHz FLAC speech, ~8-12 s
clips, tone/noise content), then runs ``audiomarathon build`` with the default 90-300 s
instance lengths in a subprocess at each process count and reports:

* throughput: output audio seconds per wall second of ``build_benchmark`` (worker start-up
  included, interpreter start-up and imports not; the whole command's wall time is kept in
  the JSON as ``command_wall_s``), and per core (divided by the process count);
* speed-up of N processes over 1;
* peak RSS of the process tree: the main process's peak plus (workers x the largest worker's
  peak), an upper bound taken from the processes' own accounting (nothing polls the build: a
  sampler would take CPU from the 2-process run on a 2-core machine and not from the serial one);
* CPU seconds (user + system) of the main process and of the workers: on a shared machine
  (load average above the core count) wall-clock speed-ups understate the parallelism, so
  the CPU figures are printed next to them with the load average;
* every configuration runs ``--repeats`` times (default 2); the fastest is reported and all are
  listed. ``--num-proc N`` is N processes in all: the main process composes too (see
  ``audiomarathon_dataset/parallel.py``).

Targets: >= 300x real time per core, >= 1.8x with 2 processes, peak < 1 GiB at any size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CORPUS_OF = {"TAU": "tau", "GTZAN": "gtzan", "VoxGender": "voxceleb", "LibriSpeech": "librispeech",
             "HAD": "had", "VESUS": "vesus", "DESED": "desed", "SLUE": "slue"}


def run_build(sources: Path, out: Path, tasks: str, procs: int) -> dict:
    """Run one build in a subprocess; its wall time, CPU time and peak memory as it measured them.

    Nothing polls the build while it runs: on a 2-core machine a sampler would take CPU from
    the 2-process run and not from the serial one. Peak memory is the sum of the main
    process's peak and (workers x the largest worker's peak), an upper bound of the tree's."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(sources), str(out), tasks, str(procs)]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}):\n{proc.stderr}")
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    report = json.loads((out / "build_report.json").read_text())
    seconds = sum(t["output_seconds"] for t in report["tasks"].values())
    instances = sum(t["instances"] for t in report["tasks"].values())
    workers = procs - 1
    peak = m["main_peak_kib"] + workers * m["worker_peak_kib"]
    cpu = m["main_cpu_s"] + m["workers_cpu_s"]
    return {"procs": procs, "wall_s": m["build_wall_s"], "command_wall_s": wall, "output_s": seconds,
            "instances": instances, "x_realtime": seconds / m["build_wall_s"],
            "x_realtime_per_core": seconds / m["build_wall_s"] / procs, "peak_rss_mib": peak / 1024,
            "cpu_s": cpu, "x_realtime_per_cpu_s": seconds / cpu if cpu else None, "main_cpu_s": m["main_cpu_s"],
            "busiest_worker_cpu_s": m["workers_cpu_s"] / workers if workers else 0.0,
            "load_avg_before": load_before}


def child(sources: str, out: str, tasks: str, procs: str) -> int:
    """The measured process: times build_benchmark itself (worker start-up included,
    interpreter start-up and imports not) and prints it, with CPU and peak memory, as JSON."""
    from audiomarathon_dataset.build import build_benchmark

    start, cpu = time.perf_counter(), time.process_time()
    build_benchmark(sources, out, tasks=tasks, num_proc=int(procs), progress=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"build_wall_s": wall, "main_cpu_s": cpu, "main_peak_kib": me.ru_maxrss,
                      "workers_cpu_s": workers.ru_utime + workers.ru_stime, "worker_peak_kib": workers.ru_maxrss}))
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return child(*argv[1:5])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, nargs="+", default=[0.5, 2.0], help="source hours per corpus (one run each)")
    p.add_argument("--tasks", default="TAU,GTZAN,VoxGender,LibriSpeech")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2, help="runs per process count; the fastest is reported")
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
            os.sync()  # the sources' write-back must not run during the first measurement
            time.sleep(2)
            print(f"\n{hours:g} h per corpus x {len(corpora)} corpora: {size / 2**20:.0f} MiB of sources "
                  f"written in {time.perf_counter() - t0:.0f} s")
            base = base_cpu = None
            for procs in args.procs:
                out = work / f"out-{hours:g}h-{procs}p"
                runs = []
                for _ in range(args.repeats):
                    runs.append(run_build(sources, out, args.tasks, procs))
                    shutil.rmtree(out, ignore_errors=True)
                r = min(runs, key=lambda run: run["wall_s"])
                r["all_wall_s"] = [round(run["wall_s"], 2) for run in runs]
                r["source_hours_per_corpus"] = hours
                r["source_mib"] = size / 2**20
                if procs == 1:
                    base, base_cpu = r["wall_s"], r["cpu_s"]
                r["speedup_vs_1"] = (base / r["wall_s"]) if base else None
                # what an otherwise idle machine would show: the N-process run's CPU spread over N
                # cores, bounded by its busiest process
                busiest = max(r["busiest_worker_cpu_s"], r["main_cpu_s"] if procs > 1 else r["cpu_s"])
                r["cpu_speedup_estimate"] = base_cpu / max(r["cpu_s"] / procs, busiest) if base else None
                results.append(r)
                print(f"  {procs} proc: {r['instances']} instances, {r['output_s'] / 3600:.2f} h out in {r['wall_s']:.1f} s"
                      f" = {r['x_realtime']:.0f}x real time ({r['x_realtime_per_core']:.0f}x per core)"
                      + (f", {r['speedup_vs_1']:.2f}x vs 1 proc (CPU-bound estimate {r['cpu_speedup_estimate']:.2f}x)"
                         if r["speedup_vs_1"] and procs > 1 else "")
                      + f", peak RSS {r['peak_rss_mib']:.0f} MiB; CPU {r['cpu_s']:.1f} s"
                      f" ({r['x_realtime_per_cpu_s']:.0f}x real time per CPU second; main {r['main_cpu_s']:.1f} s,"
                      f" busiest worker {r['busiest_worker_cpu_s']:.1f} s; load avg before {r['load_avg_before']:.1f};"
                      f" all runs {r['all_wall_s']} s)")
            shutil.rmtree(sources, ignore_errors=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
