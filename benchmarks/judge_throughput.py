"""LLM judge: throughput against a server with a fixed delay.

The local test server (tests/openai_server.py, a separate process) answers every request after a
fixed --delay with a fixed verdict ("8 7"); the judge (``Judge.run``, as ``audiomarathon judge``
drives it: prompt, request through the openai client, reply parsing, a judgments.jsonl line
appended and fsync'd per verdict) judges --judgments-per-slot x concurrency judgments (items x
two orders) at concurrency 1, 4, 16. The ideal is concurrency / delay judgments/s; ``ratio`` =
measured / ideal.

    .venv/bin/python benchmarks/judge_throughput.py [--delay 0.25] [--concurrency 1,4,16]
        [--judgments-per-slot 16]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audiomarathon_runner.api.config import ApiConfig  # noqa: E402
from audiomarathon_runner.judge.items import JudgeItem  # noqa: E402
from audiomarathon_runner.judge.judging import Judge  # noqa: E402
from audiomarathon_runner.judge.settings import JudgeSettings  # noqa: E402


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "openai_server.py"), "--delay", str(delay),
                             "--no-decode", "--reply", "8 7"],
                            stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return proc, proc.stdout.readline().strip()


def items(n: int, prefix: str) -> list[JudgeItem]:
    return [JudgeItem(id=f"{prefix}-{i:05d}", task="sound_QA", meta_info="A dog barks twice, then a car passes by.",
                      question="What animal is heard?", reference="A dog is barking.",
                      reply="The recording has a dog barking, followed by a passing car.") for i in range(n)]


def throughput(base: str, concurrency: int, n_judgments: int, folder: Path) -> tuple[float, int]:
    api = ApiConfig(base_urls=(base,), concurrency=concurrency, timeout_s=120, max_retries=0)
    settings = JudgeSettings.for_profile("bench-judge")
    Judge(settings, api).run(items(1, f"warm{concurrency}")[:1], folder / f"warm{concurrency}.jsonl")
    todo = items(n_judgments // 2, f"c{concurrency}")
    t0 = time.perf_counter()
    recs = Judge(settings, api).run(todo, folder / f"c{concurrency}.jsonl")
    elapsed = time.perf_counter() - t0
    return len(recs) / elapsed, sum(bool(r["failure"]) for r in recs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--judgments-per-slot", type=int, default=16)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    proc, base = start_server(args.delay)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"server {base}, delay {args.delay:g} s")
            print("| concurrency | judgments | judgments/s | ideal (c/delay) | ratio | failures |")
            print("|---:|---:|---:|---:|---:|---:|")
            for c in [int(x) for x in args.concurrency.split(",")]:
                n = c * args.judgments_per_slot
                rate, failures = throughput(base, c, n, Path(tmp))
                ideal = c / args.delay
                print(f"| {c} | {n} | {rate:.2f} | {ideal:.2f} | {rate / ideal:.3f} | {failures} |")
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
