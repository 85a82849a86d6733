"""Leaderboard aggregate: category averages and the overall average, plain means of task scores."""

from __future__ import annotations

from typing import Mapping

from audiomarathon.tasks import CATEGORIES
from audiomarathon.tasks import TASKS
from audiomarathon.tasks import get_task


def aggregate(task_scores: Mapping[str, float]) -> dict:
    """Average task scores (0-100) keyed by config name or abbreviation.

    Returns ``{"categories": {category: mean}, "average": mean, "n_tasks": int,
    "complete": bool, "missing": [config names]}``. Only the tasks given are averaged;
    ``complete`` says whether all 10 are there (a leaderboard average needs all of them).
    """
    scores: dict[str, float] = {}
    for key, value in task_scores.items():
        name = get_task(key).name
        if name in scores:
            raise ValueError(f"task {name} given twice (as {key!r})")
        if value is None:
            raise ValueError(f"task {name} has no score")
        scores[name] = float(value)
    categories = {}
    for category in CATEGORIES:
        values = [scores[t.name] for t in TASKS if t.category == category and t.name in scores]
        if values:
            categories[category] = sum(values) / len(values)
    return {
        "categories": categories,
        "average": sum(scores.values()) / len(scores) if scores else None,
        "n_tasks": len(scores),
        "complete": len(scores) == len(TASKS),
        "missing": [t.name for t in TASKS if t.name not in scores],
    }
