"""Seed the store with the published AudioMarathon leaderboard (audiomarathon_metric.published,
the one source of truth for those numbers), marked "reported in the paper"."""

from __future__ import annotations

from audiomarathon.tasks import get_task

from space.claims import known_model
from space.store import OVERALL, PAPER, Entry, Store

# The published table's groups as the board's weights column says them.
WEIGHTS = {"open-source": "open", "closed-source": "closed", "human": "human"}


def published_entries() -> list[Entry]:
    from audiomarathon_metric.aggregate import aggregate
    from audiomarathon_metric.published import PUBLISHED, published_scores

    entries = []
    for row in PUBLISHED:
        scores = {get_task(abbrev).name: float(v) for abbrev, v in published_scores(row).items()}
        agg = aggregate(scores)
        weights = WEIGHTS[row.group]
        # Sizes from the one table of known models, with their source; closed models publish none
        # and the human row has none.
        known = known_model(row.model) if weights == "open" else None
        entries.append(
            Entry(
                model=row.model,
                source=PAPER,
                weights=weights,
                size_b=known.params_b if known else None,
                config={"model": row.model, "method": "none", "ratio": 0.0, "reported_in": row.source},
                run_id=f"paper:{row.model}",
                scores=scores,
                categories=agg["categories"],
                # The paper's Avg. column, as reported (the human row averages nine tasks: no ASR).
                # The mean of the rounded task scores can differ from it by 0.1; it is kept too.
                average=float(row.average),
                details={"mean_of_reported_tasks": agg["average"], "missing_tasks": agg["missing"],
                         "source": row.source, OVERALL: {"size_source": known.size_source} if known else {}},
            )
        )
    return entries


def seed_published(store: Store) -> str:
    """Insert the published rows once (idempotent); returns a line for the status bar."""
    try:
        entries = published_entries()
    except ImportError as exc:
        return f"Published rows are unavailable ({exc}); only verified submissions are shown."
    added = store.add_entries(entries)
    store.refresh_published(entries)  # a store seeded by an older version gets today's sizes
    return f"{len(entries)} rows reported in the paper ({added} added at this start)."
