"""Samples/s of the runner's real loop on the full-size Qwen2.5-Omni-7B thinker, against the authors'
per-sample procedure, with the time split per sample.

The model is ``gpu_prefill.build_model``'s thinker (published 7B configuration, random bf16 weights
materialized on the device) behind the runner's own Qwen2.5-Omni adapter; the processor (tokenizer +
Whisper features) is the tiny checkpoint's, whose special-token ids the big model is given. Clips of
90 / 180 / 300 s of synthetic audio are fed as arrays (no dataset, no audio decoding library needed).

* **runner**: ``SampleRunner`` + ``Prefetcher`` + ``PredictionLog``, exactly the loop of
  ``run_evaluation`` (features prepared one sample ahead in a thread, one ``generate`` per sample with a
  first-token streamer, records appended durably);
* **authors**: per sample, features built inline, ``generate`` called twice — once with one new token
  only to time prefill, then the real generation — and the reply appended to a JSON-lines file.

Reported per clip length: samples/s of both and their ratio; the runner's split per sample (features,
audio encoder, prefill without the encoder, decode, harness = wall time per sample outside
``generate``) and harness share of the wall time; prefill throughput on the language model against the
bf16 matmul rate this script measures on the same device.

    python benchmarks/gpu_runner.py --out gpu_runner.json                 # one H200: about 6 minutes
    python benchmarks/gpu_runner.py --preset tiny --device cpu --dtype float32 --seconds 4 --samples 2

Imports torch, transformers and the repository's packages only.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_prefill import build_model  # noqa: E402

from audiomarathon_runner.adapters import load_adapter  # noqa: E402
from audiomarathon.records import PredictionLog  # noqa: E402
from audiomarathon.records import read_predictions as read_records  # noqa: E402
from audiomarathon_runner.run import RunConfig  # noqa: E402
from audiomarathon_runner.sample_runner import SampleRunner  # noqa: E402
from audiomarathon_runner.samples import Sample  # noqa: E402
from audiomarathon_runner.tiny import save_tiny_model  # noqa: E402

PROMPT = dict(task="TAU", question="Which acoustic scene is this recording from?",
              choices=["park", "bus", "metro", "airport"], answer="B", answer_text="bus")
TOKEN_IDS = ("audio_token_index", "image_token_index", "video_token_index", "audio_start_token_id",
             "audio_end_token_id", "vision_start_token_id", "vision_end_token_id", "user_token_id")
DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def build_adapter(preset: str, device: str, dtype: str, folder: Path):
    path = save_tiny_model("qwen2_5_omni_thinker", folder / "tiny", seed=0)
    tiny = load_adapter(str(path), dtype=DTYPES[dtype], device=device)
    if preset == "tiny":
        return tiny
    ids = {name: getattr(tiny.model.config, name) for name in TOKEN_IDS}
    model = build_model(preset, device, getattr(torch, dtype), token_ids=ids)
    return type(tiny)(model, tiny.processor, model_id=f"random-{preset}-thinker")


def samples_of(seconds: float, n: int) -> list[Sample]:
    out = []
    for i in range(n):
        audio = (np.random.default_rng(i).standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)
        out.append(Sample(id=f"TAU-{int(seconds)}-{i:03d}", duration=seconds, audio_array=audio, **PROMPT))
    return out


def runner_loop(adapter, samples, device: str, new_tokens: int, folder: Path) -> dict:
    config = RunConfig(model=adapter.model_id, tasks="TAU", device=device, prefetch=1, max_new_tokens=new_tokens,
                       progress=False)
    runner = SampleRunner(adapter, config)
    path = folder / "predictions.jsonl"
    path.unlink(missing_ok=True)
    with PredictionLog(path) as log:
        _sync(device)
        start = time.perf_counter()
        for rec in runner.records(samples, config.run_id(None)):  # the loop of run_evaluation
            log.append(rec)
        _sync(device)
        wall = time.perf_counter() - start
    records = read_records(path)
    errors = [r["error"] for r in records if r.get("error")]
    if errors:
        raise RuntimeError(f"runner loop: {errors[0]}")
    t = [r["timings"] for r in records]
    per_sample = wall * 1000 / len(samples)
    med = lambda key: statistics.median(x[key] or 0.0 for x in t)  # noqa: E731
    return dict(samples_per_s=len(samples) / wall, wall_ms_per_sample=per_sample,
                features_ms=med("preprocess_ms"), features_exposed_ms=med("prefetch_wait_ms"),
                encoder_ms=med("encoder_ms"), prefill_ms=med("prefill_ms") - med("encoder_ms"),
                decode_ms=med("decode_ms"), generate_ms=med("total_ms"),
                harness_ms=per_sample - statistics.mean(x["total_ms"] for x in t),
                audio_tokens=int(med("audio_tokens")), input_tokens=int(med("input_tokens")))


def authors_loop(adapter, samples, device: str, new_tokens: int, folder: Path) -> dict:
    """Their per-sample procedure: inline features, generate once to time prefill, once for the answer."""
    path = folder / "authors.jsonl"
    model = adapter.model
    _sync(device)
    start = time.perf_counter()
    with path.open("w") as out:
        for sample in samples:
            inputs = adapter.build_inputs(sample.load_audio(), sample.prompt(), device=None).to(device)
            with torch.inference_mode():
                _sync(device)
                t0 = time.perf_counter()
                model.generate(**inputs, max_new_tokens=1, do_sample=False)
                _sync(device)
                prefill_ms = (time.perf_counter() - t0) * 1000
                ids = model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False)
            reply = adapter.decode(ids[0, inputs["input_ids"].shape[-1]:])
            out.write(json.dumps({"id": sample.id, "reply": reply, "prefill_ms": prefill_ms}) + "\n")
            out.flush()
    _sync(device)
    wall = time.perf_counter() - start
    return dict(samples_per_s=len(samples) / wall, wall_ms_per_sample=wall * 1000 / len(samples))


def matmul_tflops(device: str, dtype: torch.dtype, n: int = 8192, reps: int = 20) -> float:
    """Dense matmul rate measured here (the reference for the prefill rate)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e12


def prefill_flops(config, tokens: int) -> float:
    """Language-model prefill FLOPs on ``tokens`` causal tokens (+ the one LM-head row)."""
    h, kv = config.hidden_size, config.num_key_value_heads * (config.hidden_size // config.num_attention_heads)
    per_layer = 2 * tokens * (2 * h * h + 2 * h * kv + 3 * h * config.intermediate_size) + 2 * tokens * tokens * h
    return config.num_hidden_layers * per_layer + 2 * h * config.vocab_size


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=["omni7b", "tiny"], default="omni7b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="bfloat16")
    p.add_argument("--seconds", type=float, nargs="+", default=[90, 180, 300])
    p.add_argument("--samples", type=int, default=6, help="clips per length (the first warms up both loops)")
    p.add_argument("--new-tokens", type=int, default=8)
    p.add_argument("--matmul-size", type=int, default=8192)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.samples < 2:
        p.error("--samples must be >= 2 (the first sample of each loop is a warm-up)")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_grad_enabled(False)
    rate = matmul_tflops(args.device, getattr(torch, args.dtype), args.matmul_size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        adapter = build_adapter(args.preset, args.device, args.dtype, folder)
        text = adapter.model.config.get_text_config()
        for seconds in args.seconds:
            samples = samples_of(seconds, args.samples)
            runner_loop(adapter, samples[:1], args.device, args.new_tokens, folder)  # warm-up
            ours = runner_loop(adapter, samples[1:], args.device, args.new_tokens, folder)
            authors_loop(adapter, samples[:1], args.device, args.new_tokens, folder)  # warm-up
            theirs = authors_loop(adapter, samples[1:], args.device, args.new_tokens, folder)
            achieved = prefill_flops(text, ours["input_tokens"]) / (ours["prefill_ms"] / 1000) / 1e12
            row = dict(seconds=seconds, **{f"runner_{k}": v for k, v in ours.items()},
                       authors_samples_per_s=theirs["samples_per_s"],
                       speedup_vs_authors=ours["samples_per_s"] / theirs["samples_per_s"],
                       harness_share_pct=100 * ours["harness_ms"] / ours["wall_ms_per_sample"],
                       prefill_tflops=achieved, matmul_tflops=rate, prefill_share_of_matmul_pct=100 * achieved / rate)
            rows.append(row)
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    print(markdown_table(rows))
    if args.out:
        meta = dict(preset=args.preset, device=args.device, dtype=args.dtype, samples=args.samples,
                    new_tokens=args.new_tokens, torch=torch.__version__, transformers=transformers.__version__,
                    machine=platform.platform(),
                    gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None)
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


def markdown_table(rows) -> str:
    lines = ["| audio s | runner samples/s | authors samples/s | × | features ms (exposed) | encoder ms | "
             "prefill ms | decode ms | harness ms | harness % | prefill TFLOP/s | % of matmul |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['seconds']:g} | {r['runner_samples_per_s']:.3f} | {r['authors_samples_per_s']:.3f} | "
                     f"{r['speedup_vs_authors']:.2f} | {r['runner_features_ms']:.1f} ({r['runner_features_exposed_ms']:.1f}) | "
                     f"{r['runner_encoder_ms']:.1f} | {r['runner_prefill_ms']:.1f} | {r['runner_decode_ms']:.1f} | "
                     f"{r['runner_harness_ms']:.1f} | {r['harness_share_pct']:.2f} | {r['prefill_tflops']:.1f} | "
                     f"{r['prefill_share_of_matmul_pct']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
