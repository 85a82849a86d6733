"""The runner part of `make demo`: a tiny random model over a built (synthetic) benchmark.

    from audiomarathon_runner.demo import run_tiny_demo
    results = run_tiny_demo("demo_out/dataset", "demo_out/run")
    print(format_summary(results))

Scores of a random model are near zero or chance: the point is that every stage runs for real
(load_dataset, processor, from_pretrained, generate, extraction, metric).
"""

from __future__ import annotations

from pathlib import Path

from .commands.run import format_summary  # noqa: F401  (re-exported for the demo script)
from .compression import CompressionConfig
from .run import RunConfig, run_evaluation
from .tiny import TINY_FAMILIES, save_tiny_model


def run_tiny_demo(data: str | Path, out: str | Path, family: str = "qwen2_audio", tasks: str = "all",
                  limit: int | None = None, max_new_tokens: int = 12, seed: int = 0, progress: bool = True) -> dict:
    """Build (once) the tiny ``family`` model under OUT/tiny-<family>, evaluate it, return results.json's dict."""
    out = Path(out)
    model_dir = out / f"tiny-{family}"
    if not (model_dir / "config.json").exists():
        save_tiny_model(family, model_dir, seed=seed)
    config = RunConfig(model=str(model_dir), data=str(data), out=str(out / "run"), tasks=tasks, limit=limit,
                       dtype="fp32", device="cpu", max_new_tokens=max_new_tokens,
                       compression=CompressionConfig(seed=seed), progress=progress,
                       # a remote-code family's tiny model runs this package's own code (tiny_remote)
                       trust_remote_code=TINY_FAMILIES[family].remote_code if family in TINY_FAMILIES else False)
    return run_evaluation(config)
