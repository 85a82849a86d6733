#!/usr/bin/env python
"""import-release and load_dataset at full size for MMAR (1,000 items) and AIR-Bench Foundation
(25 folders x 1,000 = 25,000 items), from synthetic releases in the authors' layouts (0.5 s clips:
the per-item work is measured, not audio length).

    python benchmarks/import_benchmarks.py [--mmar 1000] [--per-folder 1000] [--workdir /tmp/am-bench-mmar-air]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _timed_subprocess(code: str) -> list[float]:
    """Run in a fresh interpreter (no warm import or cache in this process); prints its timings."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]


def _load_code(out: Path, config: str, cache: Path) -> str:
    # first load: reads the parquet shards into datasets' cache; second: from that cache; then
    # the first row's audio decoded (pays the audio decoder's import: torch), then 50 more
    return (
        "import time,datasets;"
        f"kw=dict(split='test',cache_dir={str(cache)!r});"
        f"t=time.perf_counter();ds=datasets.load_dataset({str(out)!r},{config!r},**kw);a=time.perf_counter()-t;"
        f"t=time.perf_counter();ds=datasets.load_dataset({str(out)!r},{config!r},**kw);b=time.perf_counter()-t;"
        "t=time.perf_counter();x=ds[0]['audio']['array'];c=time.perf_counter()-t;"
        "t=time.perf_counter();[ds[i]['audio']['array'] for i in range(1,51)];d=(time.perf_counter()-t)/50;"
        "print(a,b,c,d,ds.num_rows)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mmar", type=int, default=1000, help="MMAR items")
    parser.add_argument("--per-folder", type=int, default=1000, help="Foundation items per folder (25 folders)")
    parser.add_argument("--workdir", default="/tmp/am-bench-mmar-air")
    parser.add_argument("--num-proc", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_foundation, write_synthetic_mmar

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    releases = {}
    for name, write in (("MMAR", lambda p: write_synthetic_mmar(p, n=args.mmar, seed=0, tarball=True)),
                        ("foundation", lambda p: write_synthetic_foundation(p, n_per_folder=args.per_folder, seed=0))):
        t0 = time.perf_counter()
        releases[name] = write(work / f"release-{name}")
        size = sum(p.stat().st_size for p in releases[name].rglob("*") if p.is_file())
        print(f"wrote {name} release in {time.perf_counter() - t0:.1f} s ({size / 1e6:.0f} MB)", file=sys.stderr)

    rows, loads = [], []
    for name, release in releases.items():
        for num_proc in args.num_proc:
            out = work / f"out-{name}-{num_proc}"
            t0 = time.perf_counter()
            report = import_release(release, out, num_proc=num_proc, progress=False)
            wall = time.perf_counter() - t0
            n = sum(c["written"] for c in report.counts.values())
            assert report.ok, report.issues[:5]
            rows.append((name, num_proc, n, wall))
            print(f"{name} num_proc={num_proc}: {report.summary_line()} in {wall:.1f} s", file=sys.stderr)
        out = work / f"out-{name}-{args.num_proc[0]}"
        first, again, row0, row = _timed_subprocess(_load_code(out, name, work / f"cache-{name}"))[:4]
        loads.append((name, first, again, row0, row))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print("| release | items | processes | import wall s | items / s |")
    print("|---|---:|---:|---:|---:|")
    for name, num_proc, n, wall in rows:
        print(f"| {name} | {n} | {num_proc} | {wall:.1f} | {n / wall:.0f} |")
    print()
    print("| config | load_dataset, first (shards -> cache) s | again (from cache) s | first row's audio s "
          "(decoder import) | a row's audio after it, ms |")
    print("|---|---:|---:|---:|---:|")
    for name, first, again, row0, row in loads:
        print(f"| {name} | {first:.2f} | {again:.2f} | {row0:.2f} | {row * 1000:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
