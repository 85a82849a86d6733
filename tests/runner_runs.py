"""Run folders made by the real runner (a tiny random Qwen2-Audio, on the CPU) for the tests of
the Space and the demo path: predictions.jsonl and results.json are the runner's own output.

The model and the samples are loaded once; each (method, ratio) is run once and copied per test.
Two derivations keep the suite fast, both through the run-record format's own functions:
``retarget`` records the same outputs under another model name (identity and run id recomputed
exactly as the runner computes them), and ``set_replies`` swaps the replies (a test that needs a
known score cannot get it from a random model).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from audiomarathon.records import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    read_predictions,
    read_results,
    write_predictions,
    write_results,
)
from audiomarathon.run_identity import run_id, run_identity

MAX_NEW_TOKENS = 3


class RunnerRuns:
    def __init__(self, root: Path, dataset: Path):
        from audiomarathon_runner.adapters import load_adapter
        from audiomarathon_runner.samples import load_samples
        from audiomarathon_runner.tiny import save_tiny_model

        self.root, self.dataset = Path(root), Path(dataset)
        self.model_dir = save_tiny_model("qwen2_audio", self.root / "Tiny-Audio-1B")
        self.adapter = load_adapter(str(self.model_dir), "fp32", "cpu")
        self.samples = load_samples(str(self.dataset), "all", None, progress=False)
        self._cache: dict[tuple, Path] = {}

    def run(self, out: Path, method: str = "none", ratio: float = 0.0, data: Path | None = None,
            prefetch: int | None = None) -> Path:
        """A fresh runner invocation (the tiny model, every sample of the dataset) into ``out``."""
        from audiomarathon_runner.run import RunConfig, run_evaluation

        from audiomarathon_runner.compression import CompressionConfig

        config = RunConfig(model=str(self.model_dir), data=str(data or self.dataset), out=str(out),
                           compression=CompressionConfig(method=method, ratio=ratio), dtype="fp32", device="cpu",
                           max_new_tokens=MAX_NEW_TOKENS,
                           progress=False, prefetch=prefetch)
        run_evaluation(config, adapter=self.adapter, samples=self.samples)
        return Path(out)

    def run_benchmark(self, out: Path, data: Path, tasks: str) -> Path:
        """A fresh runner invocation of the tiny model on ``tasks`` of another benchmark's dataset
        (``--tasks MMAR``, ``--tasks foundation``) into ``out``, its samples loaded by the runner."""
        from audiomarathon_runner.run import RunConfig, run_evaluation

        config = RunConfig(model=str(self.model_dir), data=str(data), tasks=tasks, out=str(out), dtype="fp32",
                           device="cpu", max_new_tokens=MAX_NEW_TOKENS, progress=False)
        run_evaluation(config, adapter=self.adapter)
        return Path(out)

    def make(self, out: Path, model: str = "Tiny-Audio-1B", method: str = "none", ratio: float = 0.0) -> Path:
        """A copy of the runner's run of (method, ratio) in ``out``, recorded under ``model``."""
        key = (method, float(ratio))
        if key not in self._cache:
            self._cache[key] = self.run(self.root / "runs" / f"{method}-{ratio:g}", method, ratio)
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name in (PREDICTIONS_FILE, RESULTS_FILE):
            shutil.copyfile(self._cache[key] / name, out / name)
        if model != self.model_dir.name:
            retarget(out, model)
        return out


def retarget(run: Path, model: str) -> None:
    """Record the run's outputs under another model name, as the runner would have."""
    results = read_results(run / RESULTS_FILE)
    old = results["config"]["config_hash"]
    results["config"]["model"] = results["config"]["model_id"] = model
    results["identity"] = run_identity(results["config"], results["dataset"]["fingerprint"])
    new = results["config"]["config_hash"] = run_id(results["identity"])
    records = [dict(r, config_hash=new) for r in read_predictions(run / PREDICTIONS_FILE, old)]
    write_predictions(run / PREDICTIONS_FILE, records)
    write_results(run / RESULTS_FILE, results)


def set_replies(run: Path, reply: Callable[[dict], str | None]) -> list[dict]:
    """Replace each record's reply with ``reply(record)``; returns the records written."""
    records = [dict(r, reply=reply(r)) for r in read_predictions(run / PREDICTIONS_FILE)]
    write_predictions(run / PREDICTIONS_FILE, records)
    return records
