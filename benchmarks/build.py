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
* peak RSS of the whole process tree (main + workers), sampled every 20 ms;
* CPU seconds of the tree (user + system) and of its busiest process: on a shared machine
  (load average above the core count) wall-clock speed-ups understate the parallelism, so
  the CPU figures are printed next to them with the load average.

Targets (issue 3): >= 300x real time per core, >= 1.8x with 2 processes, peak < 1 GiB at any size.
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
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CORPUS_OF = {"TAU": "tau", "GTZAN": "gtzan", "VoxGender": "voxceleb", "LibriSpeech": "librispeech",
             "HAD": "had", "VESUS": "vesus", "DESED": "desed", "SLUE": "slue"}


def run_build(sources: Path, out: Path, tasks: str, procs: int) -> dict:
    """Run one build in a subprocess; wall time, CPU time per process and peak tree RSS."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(sources), str(out), tasks, str(procs)]
    peak = 0
    cpu: dict[int, float] = {}  # last seen user+sys seconds per process of the tree
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                procs = [ps, *ps.children(recursive=True)]
            except psutil.Error:  # the build just exited
                break
            rss = 0
            for p in procs:
                try:
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
            peak = max(peak, rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    main_cpu = cpu.get(proc.pid, 0.0)
    busiest = max([v for k, v in cpu.items() if k != proc.pid] or [0.0])
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}):\n{stderr}")
    build_wall = json.loads(stdout.strip().splitlines()[-1])["build_wall_s"]
    report = json.loads((out / "build_report.json").read_text())
    seconds = sum(t["output_seconds"] for t in report["tasks"].values())
    instances = sum(t["instances"] for t in report["tasks"].values())
    return {"procs": procs, "wall_s": build_wall, "command_wall_s": wall, "output_s": seconds, "instances": instances,
            "x_realtime": seconds / wall, "x_realtime_per_core": seconds / wall / procs, "peak_rss_mib": peak / 2**20,
            "cpu_s": tree_cpu, "x_realtime_per_cpu_s": seconds / tree_cpu if tree_cpu else None,
            "main_cpu_s": main_cpu, "busiest_worker_cpu_s": busiest, "load_avg_before": load_before}


def child(sources: str, out: str, tasks: str, procs: str) -> int:
    """The measured process: times build_benchmark itself (worker start-up included,
    interpreter start-up and imports not) and prints it as JSON."""
    from audiomarathon_dataset.build import build_benchmark

    start = time.perf_counter()
    build_benchmark(sources, out, tasks=tasks, num_proc=int(procs), progress=False)
    print(json.dumps({"build_wall_s": time.perf_counter() - start}))
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return child(*argv[1:5])
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
            base = base_cpu = None
            for procs in args.procs:
                out = work / f"out-{hours:g}h-{procs}p"
                r = run_build(sources, out, args.tasks, procs)
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
                      f" busiest worker {r['busiest_worker_cpu_s']:.1f} s; load avg before {r['load_avg_before']:.1f})")
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
