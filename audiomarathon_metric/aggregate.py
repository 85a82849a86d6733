"""Leaderboard aggregate: category averages and the overall average, plain means of task scores."""

from __future__ import annotations

from typing import Mapping

from audiomarathon.tasks import CATEGORIES
from audiomarathon.tasks import TASKS
from audiomarathon.tasks import get_task


def aggregate(task_scores: Mapping[str, float]) -> dict:
    """Average task scores (0-100) keyed by config name or abbreviation.

    Returns ``{"categories": {category: mean}, "average": mean, "n_tasks": int,
    "complete": bool, "missing": [config names], "unscored": [config names]}``. Only the tasks
    given with a score are averaged; a task given with ``None`` (nothing could be scored) is listed
    under ``unscored``, never averaged as 0. ``complete`` says whether all 10 have a score (a
    leaderboard average needs all of them).
    """
    scores: dict[str, float] = {}
    unscored: list[str] = []
    for key, value in task_scores.items():
        name = get_task(key).name
        if name in scores or name in unscored:
            raise ValueError(f"task {name} given twice (as {key!r})")
        if value is None:
            unscored.append(name)
        else:
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
        "missing": [t.name for t in TASKS if t.name not in scores and t.name not in unscored],
        "unscored": [t.name for t in TASKS if t.name in unscored],
    }
