"""CPU variant of qwen2_prefill.py: a small Qwen2-architecture model (8 layers, hidden 256), float32,
timed in process CPU time (robust to other load on shared cores; the prune share stays wall-clock).

    python benchmarks/cpu_prefill.py [--seconds 90 180] [--methods fastv random]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qwen2_prefill import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(defaults=dict(preset="small", device="cpu", dtype="float32", seconds=[90, 180, 300],
                                        ratios=[0.5], reps=2, decode_steps=16,
                                        clock="process")))
