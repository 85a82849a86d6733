"""Per-sample time the runner spends outside the model, for 90 s and 300 s clips.

Stages timed (median of --repeats): FLAC decode (dataset bytes -> float32), prompt rendering +
processor (features + token expansion, the family's long-audio policy), reply parsing, and the
durable predictions.jsonl append (write + flush + fsync). Uses each family's tiny checkpoint for
its real processor; the model forward is not run.

    .venv/bin/python benchmarks/runner_overhead.py [--families qwen2_audio,...] [--seconds 90,300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audiomarathon_dataset.audio_io import encode_flac  # noqa: E402
from audiomarathon_runner.adapters import load_adapter  # noqa: E402
from audiomarathon_runner.records import PredictionLog  # noqa: E402
from audiomarathon_runner.run import parse_reply  # noqa: E402
from audiomarathon_runner.samples import Sample  # noqa: E402
from audiomarathon_runner.tiny import save_tiny_model  # noqa: E402


def _median_ms(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times), result


def bench(family: str, seconds: float, repeats: int, workdir: Path) -> dict:
    model_dir = workdir / family
    if not (model_dir / "config.json").exists():
        save_tiny_model(family, model_dir)
    adapter = load_adapter(model_dir, dtype="fp32", device="cpu")
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)
    sample = Sample(id="TAU-00000", task="TAU", question="Which acoustic scene is this recording from?",
                    choices=["park", "bus", "metro", "airport"], answer="B", answer_text="bus",
                    audio_bytes=encode_flac(audio))
    decode_ms, decoded = _median_ms(sample.load_audio, repeats)
    prompt = sample.prompt()
    proc_ms, inputs = _median_ms(lambda: adapter.build_inputs(decoded, prompt), repeats)
    parse_ms, _ = _median_ms(lambda: parse_reply("B", sample), repeats)
    with tempfile.TemporaryDirectory() as tmp, PredictionLog(Path(tmp) / "p.jsonl") as log:
        rec = {"id": sample.id, "task": "TAU", "reply": "B", "parsed": "B", "timings": {"x": 1.0}}
        write_ms, _ = _median_ms(lambda: log.append(rec), repeats)
    total = decode_ms + proc_ms + parse_ms + write_ms
    return {"family": family, "seconds": seconds, "audio_tokens": int(adapter.audio_token_mask(inputs).sum()),
            "decode_ms": decode_ms, "processor_ms": proc_ms, "parse_ms": parse_ms, "write_ms": write_ms,
            "total_ms": total}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="qwen2_5_omni_thinker,qwen2_audio,audioflamingo3,phi4_multimodal")
    ap.add_argument("--seconds", default="90,300")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fam in args.families.split(","):
            for sec in (float(s) for s in args.seconds.split(",")):
                rows.append(bench(fam, sec, args.repeats, Path(tmp)))
    cols = ["family", "seconds", "audio_tokens", "decode_ms", "processor_ms", "parse_ms", "write_ms", "total_ms"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
