"""Seeded runner-shaped outputs (predictions.jsonl + results.json) for an answer key: used by the
tests, the benchmark and the demo to exercise the Submit path without running a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audiomarathon.tasks import get_task

from space.answer_key import AnswerKey, KeyItem


def _reply(item: KeyItem, correct: bool, rng: np.random.Generator) -> str:
    task = get_task(item.task)
    if not task.is_mcq:
        words = item.reference.split()
        if not correct and words:
            words[int(rng.integers(len(words)))] = "mistake"
        return "Spoken Content: " + " ".join(words)
    letters = task.letters
    letter = item.reference if correct else str(rng.choice([x for x in letters if x != item.reference]))
    style = int(rng.integers(4))
    if style == 0:
        return letter
    if style == 1:
        return f"The answer is {letter}."
    if style == 2:
        return f"({letter})"
    return f"Answer: {letter}"


def make_run(key: AnswerKey, out_dir: str | Path, model: str = "Tiny-Audio-1B", method: str = "none",
             ratio: float = 0.0, accuracy: float = 0.7, seed: int = 0, prefill_s: float = 0.5,
             fingerprint: str | None = None) -> Path:
    """Write OUT/predictions.jsonl and OUT/results.json as the runner would; same seed, same bytes."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for ident, item in key.items.items():
        correct = bool(rng.random() < accuracy)
        lines.append(json.dumps({
            "id": ident, "task": item.task, "reply": _reply(item, correct, rng), "parsed": None, "rule": None,
            "reference": item.reference, "choices": list(item.choices),
            "timings": {"prefill_s": round(prefill_s * (0.8 + 0.4 * float(rng.random())), 4)},
            "config_hash": "synthetic", "error": None,
        }, ensure_ascii=False))
    (out / "predictions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = {
        "config": {"model": model, "revision": "main", "method": method, "ratio": ratio, "layer": 2,
                   "seed": seed, "dtype": "float32"},
        "versions": {"audiomarathon": "synthetic"},
        "dataset": {"path": key.source, "fingerprint": fingerprint or key.fingerprint, "num_ids": key.num_ids},
        "scores": {"average": 99.9},  # ignored by the server: it re-scores
        "timing": {}, "samples": {"original": key.num_ids, "effective": key.num_ids},
    }
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return out


def scaled_key(base: AnswerKey, per_task: dict[str, int], seed: int = 0) -> AnswerKey:
    """A key with the paper's instance counts, cycling the base key's items of each task (for the
    benchmark: a full-size submission without building a full-size dataset)."""
    by_task: dict[str, list[KeyItem]] = {}
    for item in base.items.values():
        by_task.setdefault(item.task, []).append(item)
    items = {}
    for task, n in per_task.items():
        pool = by_task[task]
        for i in range(n):
            items[f"{task}-{i:05d}"] = pool[i % len(pool)]
    return AnswerKey(f"{base.fingerprint}-x{sum(per_task.values())}", items, base.source)
