"""API backend: throughput against a server with a fixed delay, and client CPU per 300 s sample.

1. Throughput: the local test server (tests/openai_server.py, a separate process) answers every
   request after a fixed --delay with a fixed reply; the runner's API loop (``ApiRunner.records``,
   as ``run_evaluation`` drives it) sends --samples-per-slot x concurrency clips of --clip-seconds
   at concurrency 1, 4, 16. The ideal is concurrency / delay samples/s; ``ratio`` = measured / ideal.

2. Client CPU per 300 s clip: process CPU time (all client threads) of ``ApiRunner.record`` for one
   sample: 16-bit WAV encode + base64 + JSON body + the HTTP request and reply parsing (the server
   runs in its own process and is not counted). Median over --repeats, split into the encode part
   (WAV + base64, ``plan_requests``) and the rest.

    .venv/bin/python benchmarks/api_throughput.py [--delay 0.25] [--concurrency 1,4,16]
        [--samples-per-slot 16] [--clip-seconds 2] [--cpu-seconds 300] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audiomarathon_runner.api import ApiConfig, ApiRunner  # noqa: E402
from audiomarathon_runner.api.audio import plan_requests  # noqa: E402
from audiomarathon_runner.run import RunConfig  # noqa: E402
from audiomarathon_runner.samples import Sample  # noqa: E402


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    # The server does not decode the audio here: on a small machine its CPU would be taken from
    # the client being measured (tests/test_api_runner.py checks the decoded bytes).
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "openai_server.py"), "--delay", str(delay),
                             "--no-decode"],
                            stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return proc, proc.stdout.readline().strip()


def samples(n: int, seconds: float, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    # Audio on the 16-bit grid, like every clip decoded from the benchmark's FLAC files.
    audio = (np.round(rng.standard_normal(int(seconds * 16000)) * 0.1 * 32768) / 32768).clip(-1, 32767 / 32768)
    audio = audio.astype(np.float32)
    return [Sample(id=f"TAU-{i:05d}", task="TAU", question="Which acoustic scene is this recording from?",
                   choices=["park", "bus", "metro", "airport"], answer="B", answer_text="bus", audio_array=audio)
            for i in range(n)]


def config(base: str, concurrency: int) -> RunConfig:
    return RunConfig(model="bench", progress=False, max_audio_seconds=3600,
                     api=ApiConfig(base_urls=(base,), concurrency=concurrency, timeout_s=120, max_retries=0))


def throughput(base: str, concurrency: int, n: int, clip_seconds: float) -> tuple[float, int]:
    runner = ApiRunner(config(base, concurrency))
    todo = samples(n, clip_seconds)
    runner.record(todo[0], "warm-up")  # imports (reply parsing), first connection
    t0 = time.perf_counter()
    errors = sum(bool(rec["error"]) for rec in runner.records(todo, "bench"))
    return n / (time.perf_counter() - t0), errors


def client_cpu(base: str, seconds: float, repeats: int) -> dict:
    cfg = config(base, 1)
    runner = ApiRunner(cfg)
    sample = samples(1, seconds)[0]
    audio, prompt = sample.load_audio(), sample.prompt()
    size = runner._body_size(prompt, 16)
    total, encode = [], []
    runner.record(sample, "bench")  # warm-up: connection, imports
    for _ in range(repeats):
        c0 = time.process_time()
        plan_requests(audio, sample_id=sample.id, fmt="wav", max_seconds=None, max_request_mb=None,
                      policy="refuse", body_size=size, multi_request_ok=False)
        encode.append((time.process_time() - c0) * 1000.0)
        c0 = time.process_time()
        rec = runner.record(sample, "bench")
        total.append((time.process_time() - c0) * 1000.0)
        assert rec["error"] is None, rec["error"]
    return {"total_ms": statistics.median(total), "encode_ms": statistics.median(encode),
            "total_min_ms": min(total), "encode_min_ms": min(encode),
            "request_bytes": rec["timings"]["request_bytes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--samples-per-slot", type=int, default=16)
    parser.add_argument("--clip-seconds", type=float, default=2.0)
    parser.add_argument("--cpu-seconds", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")

    proc, base = start_server(args.delay)
    try:
        print(f"server {base}, delay {args.delay:g} s, {args.clip_seconds:g} s clips")
        print("| concurrency | samples | samples/s | ideal (c/delay) | ratio | errors |")
        print("|---:|---:|---:|---:|---:|---:|")
        for c in [int(x) for x in args.concurrency.split(",")]:
            n = c * args.samples_per_slot
            rate, errors = throughput(base, c, n, args.clip_seconds)
            ideal = c / args.delay
            print(f"| {c} | {n} | {rate:.2f} | {ideal:.2f} | {rate / ideal:.3f} | {errors} |")
    finally:
        proc.kill()
        proc.wait()
    proc, base = start_server(0.0)
    try:
        cpu = client_cpu(base, args.cpu_seconds, args.repeats)
        print(f"\nclient CPU per {args.cpu_seconds:g} s sample (median of {args.repeats}): "
              f"{cpu['total_ms']:.1f} ms in all (min {cpu['total_min_ms']:.1f}), of which WAV encode + base64 "
              f"{cpu['encode_ms']:.1f} ms (min {cpu['encode_min_ms']:.1f}); "
              f"request body {cpu['request_bytes'] / 1e6:.1f} MB")
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
