#!/usr/bin/env python
"""Import throughput (audio seconds per wall second, 1 and 2 processes) and `load_dataset`
first-row latency for a release of realistic durations (40 instances of 90-300 s).

    python benchmarks/import_release.py [--per-task 4] [--workdir /tmp/am-bench-import]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _timed_subprocess(code: str) -> float:
    """Run in a fresh interpreter so no cache or warm import skews a first-row latency."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-task", type=int, default=4)
    parser.add_argument("--workdir", default="/tmp/am-bench-import")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.perf_counter()
    release = write_synthetic_release(work / "release", per_task=args.per_task, seed=0, duration=(90.0, 300.0))
    print(f"wrote release in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    rows = []
    for num_proc in (1, 2):
        times = []
        for _ in range(args.repeats):
            out = work / f"out{num_proc}"
            t0 = time.perf_counter()
            report = import_release(release, out, num_proc=num_proc, progress=False)
            times.append(time.perf_counter() - t0)
        import datasets

        seconds = sum(sum(datasets.load_dataset(str(out), c, split="test")["duration"])
                      for c in report.counts)
        best = min(times)
        rows.append((num_proc, report.summary_line(), seconds, best, seconds / best))

    code_load = (
        "import time,datasets;t=time.perf_counter();"
        f"ds=datasets.load_dataset({str(work / 'out1')!r},'TAU',split='test');a=ds[0]['audio']['array'];"
        "print(time.perf_counter()-t)"
    )
    code_stream = (
        "import time,datasets;t=time.perf_counter();"
        f"ds=datasets.load_dataset({str(work / 'out1')!r},'TAU',split='test',streaming=True);"
        "a=next(iter(ds))['audio']['array'];print(time.perf_counter()-t)"
    )
    load_first = statistics.median(_timed_subprocess(code_load) for _ in range(3))
    stream_first = statistics.median(_timed_subprocess(code_stream) for _ in range(3))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"release: {rows[0][1]}; {rows[0][2] / 3600:.2f} h of audio")
    print("| processes | wall s | audio s / wall s | speedup |")
    print("|---:|---:|---:|---:|")
    for num_proc, _, seconds, best, tput in rows:
        print(f"| {num_proc} | {best:.2f} | {tput:.0f} | {rows[0][3] / best:.2f}x |")
    print(f"load_dataset(OUT, 'TAU') + first row decoded (fresh process, timed after 'import datasets', median of 3): {load_first:.2f} s")
    print(f"streaming first row decoded (fresh process, timed after 'import datasets', median of 3): {stream_first:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
