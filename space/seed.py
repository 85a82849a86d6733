"""Seed the store with the published leaderboards: AudioMarathon's (audiomarathon_metric.published),
MMAR's and AIR-Bench Foundation's (audiomarathon_metric.published_benchmarks), the one source of
truth for those numbers, marked "reported in the paper" with the source of each row."""

from __future__ import annotations

from audiomarathon.tasks import get_task

from space.claims import known_model
from space.store import BENCHMARK, OVERALL, PAPER, Entry, Store

# The published table's groups as the board's weights column says them.
WEIGHTS = {"open-source": "open", "closed-source": "closed", "human": "human"}


def published_entries() -> list[Entry]:
    """Every benchmark's published rows."""
    return audiomarathon_entries() + other_benchmark_entries()


def audiomarathon_entries() -> list[Entry]:
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


def other_benchmark_entries() -> list[Entry]:
    """MMAR's and AIR-Bench Foundation's published rows. A row's columns are its tasks' scores
    (Foundation), whose categories follow by the benchmark's aggregation (not published: derived,
    and said so), or a breakdown of its items (MMAR's modalities) kept as that table."""
    from audiomarathon_metric.aggregations import get_aggregation
    from audiomarathon_metric.published_benchmarks import DERIVED, OTHER_PUBLISHED

    from audiomarathon.benchmarks import get_benchmark

    entries = []
    for key, rows in OTHER_PUBLISHED.items():
        bench = get_benchmark(key)
        for row in rows:
            reported = {k: float(v) for k, v in row.columns.items() if v is not None}
            scores = {} if row.breakdown else reported
            categories = get_aggregation(bench.aggregation).combine(bench, scores, {})[0] if scores else {}
            tables = {row.breakdown: reported} if row.breakdown else {}
            overall = {BENCHMARK: bench.key, "source": row.source, "size_printed": row.size,
                       **({"tables": tables} if tables else {})}
            entries.append(Entry(
                model=row.model, source=PAPER, weights=row.weights, size_b=None,
                config={"model": row.model, "method": "none", "ratio": 0.0, "reported_in": row.source},
                run_id=f"paper:{bench.key}:{row.model}", scores=scores, categories=categories,
                average=None if row.average is None else float(row.average),
                details={"source": row.source, "group": row.group, "derived": {c: DERIVED for c in categories},
                         OVERALL: overall},
            ))
    return entries


def seed_published(store: Store) -> str:
    """Insert the published rows once (idempotent); returns a line for the status bar."""
    try:
        entries = published_entries()
    except ImportError as exc:
        return f"Published rows are unavailable ({exc}); only verified submissions are shown."
    added = store.add_entries(entries)
    store.refresh_published(entries)  # a store seeded by an older version gets today's sizes
    return f"{len(entries)} published rows of {len({e.benchmark for e in entries})} benchmarks ({added} added at this start)."
