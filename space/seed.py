"""Seed the store with the published AudioMarathon leaderboard (audiomarathon_metric.published,
the one source of truth for those numbers), marked "reported in the paper"."""

from __future__ import annotations

import importlib

from space.store import PAPER, Entry, Store


def published_entries() -> list[Entry]:
    published = importlib.import_module("audiomarathon_metric.published")
    from audiomarathon_metric import aggregate

    entries = []
    for row in published.ROWS:
        scores = {k: float(v) for k, v in row.scores.items() if v is not None}
        agg = aggregate(scores)
        method = getattr(row, "method", None) or "none"
        ratio = float(getattr(row, "ratio", 0.0) or 0.0)
        entries.append(
            Entry(
                model=row.model,
                source=PAPER,
                model_type=row.kind,
                size_b=getattr(row, "size_b", None),
                method=method,
                ratio=ratio,
                config={"model": row.model, "method": method, "ratio": ratio, "reported_in": "paper"},
                config_key=f"paper:{row.model}:{method}:{ratio:g}",
                scores=scores,
                categories=agg["categories"],
                average=agg["average"] if agg["complete"] else None,
                details={"reported_average": getattr(row, "average", None)},
            )
        )
    return entries


def seed_published(store: Store) -> str:
    """Insert the published rows once (idempotent); returns a line for the status bar."""
    try:
        entries = published_entries()
    except ModuleNotFoundError as exc:
        return f"Published rows are unavailable ({exc}); only verified submissions are shown."
    added = store.add_entries(entries)
    return f"{len(entries)} rows reported in the paper ({added} added now)."
