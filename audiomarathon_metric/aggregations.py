"""Each benchmark's aggregate as its leaderboard publishes it: a registry by name, the name being
``Benchmark.aggregation`` in the task registry.

- ``audiomarathon``: the average is the plain mean of the task scores; each category's score is the
  mean of its tasks' (``aggregate.aggregate``).
- ``mmar``: the micro average over items (every item weighs the same; MMAR has one task, so this is
  its accuracy), reported with tables by modality, layer (``category``) and sub-category.
- ``airbench-foundation``: a task's score is its accuracy over all its items, pooled over the task's
  folders (``task_name`` x ``dataset_name``); each category (speech, sound, music) is the unweighted
  mean of its tasks' scores, and the average is the mean of the three categories. The published
  Qwen-Audio-Turbo row reproduces this way (63.4 / 61.0 / 48.9 -> 57.8), not as the mean of the 19
  tasks (58.3). How a task's folders combine is not published; pooling is chosen because a task is
  scored over its items as every other task here is, and it is what adding the official script's
  per-folder counts gives (a mean of folders would weigh a folder of 200 items like one of 2,000).
  The per-folder table is reported beside it.

Every combination is linear in the task scores, so it applies to bootstrap replicates as well as to
point scores (``combine`` takes either). Per-item tables (``breakdown_tables``) and the random-guess
baseline (``random_guess``: expected accuracy ``mean(1 / len(choices))``, aggregated the benchmark's
way) are computed from the items' records.
"""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from audiomarathon.tasks import Benchmark

# The value a breakdown table files an item under when its meta lacks the key.
NOT_GIVEN = "(not given)"


def _mean(values: list):
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class Aggregation(ABC):
    """How one benchmark turns task scores into category scores and an average."""

    name: str
    description: str
    # Also report the items by release folder (``<task_name>_<dataset_name>``, see ``folder_of``).
    folder_table: bool = False

    @abstractmethod
    def combine(self, benchmark: Benchmark, scores: Mapping[str, Any],
                weights: Mapping[str, int]) -> tuple[dict[str, Any], Any]:
        """(category -> score, average) of the scored tasks; ``scores`` are floats or arrays of
        bootstrap replicates (task name -> value), ``weights`` the items each task's score is over."""


@dataclass(frozen=True)
class TaskMean(Aggregation):
    """Average = mean of the task scores; a category = mean of its tasks'."""

    def combine(self, benchmark, scores, weights):
        categories = {}
        for category in dict.fromkeys(t.category for t in benchmark.tasks):
            values = [scores[t.name] for t in benchmark.tasks if t.category == category and t.name in scores]
            if values:
                categories[category] = _mean(values)
        return categories, _mean(list(scores.values()))


@dataclass(frozen=True)
class ItemMicro(Aggregation):
    """Average = accuracy over all items (task scores weighted by their items); no categories."""

    def combine(self, benchmark, scores, weights):
        total = sum(weights[name] for name in scores)
        if not scores or not total:
            return {}, None
        return {}, sum(scores[name] * weights[name] for name in scores) / total


@dataclass(frozen=True)
class CategoryMean(Aggregation):
    """A category = unweighted mean of its tasks' scores; average = mean of the categories."""

    def combine(self, benchmark, scores, weights):
        categories, _ = TaskMean.combine(self, benchmark, scores, weights)
        return categories, _mean(list(categories.values()))


AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a
    for a in (
        TaskMean("audiomarathon", "mean of the task scores; categories: mean of their tasks"),
        ItemMicro("mmar", "micro average over items, with modality, layer and sub-category tables"),
        CategoryMean("airbench-foundation",
                     "mean of the speech, sound and music categories, each the mean of its tasks' accuracies "
                     "(a task pooled over its folders), with a per-folder table", folder_table=True),
        # AIR-Bench Chat's judge scores (1-10): the same rule, mixed audio included (a mean of its two tasks).
        CategoryMean("airbench-chat", "mean of the speech, sound, music and mixed categories, each the mean of "
                     "its tasks' judge scores (both orders; audiomarathon_metric.judge)"),
    )
}


def get_aggregation(name: str) -> Aggregation:
    try:
        return AGGREGATIONS[name]
    except KeyError:
        raise KeyError(f"no aggregation named {name!r}; registered: {', '.join(AGGREGATIONS)}") from None


def random_guess_accuracy(n_choices: Sequence[int]) -> float | None:
    """Expected accuracy (0-100) of answering uniformly at random: mean of 1 / n over the items."""
    counts = np.asarray(list(n_choices), dtype=float)
    if counts.size == 0:
        return None
    if (counts < 1).any():
        raise ValueError("every item needs at least one option")
    return 100.0 * float((1.0 / counts).mean())


def folder_of(task_name: str, meta: Mapping[str, Any], dataset_names: Sequence[str]) -> str:
    """An AIR-Bench Foundation item's folder, ``<task_name>_<dataset_name>`` (the release's audio
    folder, and the unit the official script counts by); the dataset name from the item's meta,
    else the task's only one."""
    dataset = meta.get("dataset_name")
    if not isinstance(dataset, str) or not dataset:
        dataset = dataset_names[0] if len(dataset_names) == 1 else None
    return f"{task_name}_{dataset}" if dataset else f"{task_name}_{NOT_GIVEN}"


def breakdown_tables(keys: Sequence[str], samples: Sequence[Mapping[str, Any]]) -> dict[str, dict]:
    """Per meta key, per value: items (``n_items``), items scored (``n``), accuracy over those,
    and the random-guess accuracy over all of them. Values in first-seen order."""
    tables: dict[str, dict] = {}
    for key in keys:
        groups: dict[str, list] = {}
        for s in samples:
            value = (s.get("meta") or {}).get(key)
            groups.setdefault(value if isinstance(value, str) and value else NOT_GIVEN, []).append(s)
        tables[key] = {value: group_row(group) for value, group in groups.items()}
    return tables


def group_row(samples: Sequence[Mapping[str, Any]]) -> dict:
    scored = [s for s in samples if s["scored"]]
    return {"n_items": len(samples), "n": len(scored),
            "accuracy": 100.0 * sum(bool(s["correct"]) for s in scored) / len(scored) if scored else None,
            "random_guess": random_guess_accuracy([s["n_choices"] for s in samples])}
