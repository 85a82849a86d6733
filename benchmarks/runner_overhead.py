"""Per-sample time the runner spends outside the model, for 90 s and 300 s clips.

Two tables, both over each family's tiny checkpoint (its real processor; the real run loop):

1. Raw preparation cost per sample (median of --repeats), whether or not it is overlapped:
   ``decode_ms`` FLAC bytes (as stored in the dataset) -> float32; ``processor_ref_ms`` the
   family's own processor (reference extractor, CPU) as before this change; ``processor_ms`` the
   same with the fast drop-in extractor on --device; ``prepare_ms`` everything the runner does
   before the model (decode + long-audio policy + features + prompt + tokens, features on
   --device); ``parse_ms`` reply parsing; ``write_ms`` one durable predictions.jsonl append.
   ``raw_total_ms`` = prepare + parse + write: what the model would wait without overlap.

2. Exposed overhead in the real loop (``SampleRunner`` + ``Prefetcher`` + ``PredictionLog``,
   exactly as ``run_evaluation``) over --samples clips: ``outside_ms`` is the per-sample time
   outside the model's ``generate`` that the model actually waited for (wait for the prepared
   sample + moving inputs + parsing + the fsync'd append), median over samples 2..N (sample 1
   has nothing to overlap with). ``gen_ms`` is the model's own generate time, ``wall_ms`` the
   loop's wall time per sample. Rows with prefetch=0 prepare inline (features on --device).

    .venv/bin/python benchmarks/runner_overhead.py [--families qwen2_audio,...] [--seconds 90,300]
        [--repeats 3] [--samples 4] [--device cpu|cuda] [--max-new-tokens 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audiomarathon.tasks import get_task  # noqa: E402
from audiomarathon_dataset.audio_io import encode_flac  # noqa: E402
from audiomarathon_runner.adapters import load_adapter  # noqa: E402
from audiomarathon.records import PredictionLog  # noqa: E402
from audiomarathon.records import read_predictions as read_records  # noqa: E402
from audiomarathon_runner.prediction import parse_reply  # noqa: E402
from audiomarathon_runner.run import RunConfig  # noqa: E402
from audiomarathon_runner.sample_runner import SampleRunner  # noqa: E402
from audiomarathon_runner.samples import Sample  # noqa: E402
from audiomarathon_runner.tiny import save_tiny_model  # noqa: E402

# The official form, from the registry: the prompt's length (tokenized per sample) matches real data.
_TAU = get_task("TAU")
_OPTIONS = [_TAU.option_text(label) for label in ("park", "bus", "metro", "airport")]
PROMPT_FIELDS = dict(task="TAU", question=_TAU.question, choices=_OPTIONS, answer="B", answer_text=_OPTIONS[1])


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _median_ms(fn, repeats: int, device: str = "cpu") -> tuple[float, object]:
    times, result = [], None
    fn()  # warm-up (allocator, FFT plans, CUDA kernels)
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        result = fn()
        _sync(device)
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times), result


def _sample(i: int, seconds: float) -> Sample:
    audio = (np.random.default_rng(i).standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)
    return Sample(id=f"TAU-{i:05d}", audio_bytes=encode_flac(audio), duration=seconds, **PROMPT_FIELDS)


def raw_costs(adapter, family: str, seconds: float, repeats: int, device: str) -> dict:
    sample = _sample(0, seconds)
    decode_ms, decoded = _median_ms(sample.load_audio, repeats)
    prompt = sample.prompt()
    own = type(adapter).load_processor(adapter.model_id)
    fast, adapter.processor = adapter.processor, own
    try:
        ref_ms, _ = _median_ms(lambda: adapter.build_inputs(decoded, prompt, device="cpu"), repeats)
    finally:
        adapter.processor = fast
    adapter.set_feature_device(device)
    proc_ms, inputs = _median_ms(lambda: adapter.build_inputs(decoded, prompt, device=device), repeats, device)
    runner = SampleRunner(adapter, RunConfig(model=adapter.model_id, prefetch=0, device=device))
    prep_ms, _ = _median_ms(lambda: runner.prepare(sample), repeats, device)
    parse_ms, _ = _median_ms(lambda: parse_reply("B", sample), repeats)
    with tempfile.TemporaryDirectory() as tmp, PredictionLog(Path(tmp) / "p.jsonl") as log:
        rec = {"id": sample.id, "task": "TAU", "reply": "B", "parsed": "B", "timings": {"x": 1.0}}
        write_ms, _ = _median_ms(lambda: log.append(rec), repeats)
    return {"family": family, "seconds": seconds, "audio_tokens": int(adapter.audio_token_mask(inputs).sum()),
            "decode_ms": decode_ms, "processor_ref_ms": ref_ms, "processor_ms": proc_ms, "prepare_ms": prep_ms,
            "parse_ms": parse_ms, "write_ms": write_ms, "raw_total_ms": prep_ms + parse_ms + write_ms}


def exposed(adapter, family: str, seconds: float, n: int, prefetch: int, device: str, max_new_tokens: int) -> dict:
    samples = [_sample(i, seconds) for i in range(n)]
    config = RunConfig(model=adapter.model_id, tasks="TAU", dtype="fp32", device=device, prefetch=prefetch,
                       max_new_tokens=max_new_tokens, progress=False)
    runner = SampleRunner(adapter, config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.jsonl"
        with PredictionLog(path) as log:
            _sync(device)
            t0 = time.perf_counter()
            for rec in runner.records(samples, config.run_id(None)):  # the loop of run_evaluation
                log.append(rec)
            _sync(device)
            wall = (time.perf_counter() - t0) * 1000.0
        recs = read_records(path)
    errors = [r["error"] for r in recs if r["error"]]
    if errors:
        raise RuntimeError(f"{family}: {errors[0]}")
    steady = [r["timings"] for r in recs[1:]] or [recs[0]["timings"]]

    def med(key):
        return statistics.median(t[key] for t in steady)

    return {"family": family, "seconds": seconds, "prefetch": prefetch, "samples": n,
            "prepare_ms": med("preprocess_ms"), "wait_ms": med("prefetch_wait_ms"), "outside_ms": med("outside_ms"),
            "gen_ms": med("total_ms"), "wall_ms": wall / n}


def _table(rows: list[dict], cols: list[str]) -> str:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="qwen2_5_omni_thinker,qwen2_audio,audioflamingo3,phi4_multimodal,voxtral")
    ap.add_argument("--seconds", default="90,300")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=4, help="clips per exposed-overhead run")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--skip-exposed", action="store_true")
    args = ap.parse_args(argv)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    raw, exp = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for fam in args.families.split(","):
            model_dir = Path(tmp) / fam
            save_tiny_model(fam, model_dir)
            adapter = load_adapter(model_dir, dtype="fp32", device=args.device)
            for sec in (float(s) for s in args.seconds.split(",")):
                raw.append(raw_costs(adapter, fam, sec, args.repeats, args.device))
                print(_table(raw[-1:], list(raw[-1])).splitlines()[-1], file=sys.stderr, flush=True)
                if args.skip_exposed:
                    continue
                for prefetch in (1, 0):
                    exp.append(exposed(adapter, fam, sec, args.samples, prefetch, args.device, args.max_new_tokens))
                    print(_table(exp[-1:], list(exp[-1])).splitlines()[-1], file=sys.stderr, flush=True)
    print(f"device={args.device} torch={torch.__version__} transformers={transformers.__version__} "
          f"threads={torch.get_num_threads()}\n")
    print("Raw preparation cost per sample (ms, median of %d):\n" % args.repeats)
    print(_table(raw, list(raw[0])))
    if exp:
        print("\nExposed overhead in the run loop (ms per sample, median over samples 2..N):\n")
        print(_table(exp, list(exp[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
