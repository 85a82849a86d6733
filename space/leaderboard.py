"""The leaderboard table: store entries -> a filtered, sorted pandas DataFrame for display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from audiomarathon.tasks import CATEGORIES, TASKS

from space.store import Entry, SOURCE_LABELS

MODEL, SOURCE, TYPE, SIZE, METHOD, RATIO, AVERAGE, PREFILL = (
    "Model", "Source", "Type", "Size (B)", "Method", "Ratio (%)", "Average", "Prefill (s)",
)
TASK_COLUMNS = tuple(f"{t.abbrev}" for t in TASKS)
CATEGORY_COLUMNS = tuple(CATEGORIES)
COLUMNS = (MODEL, SOURCE, TYPE, SIZE, METHOD, RATIO, AVERAGE, *CATEGORY_COLUMNS, *TASK_COLUMNS, PREFILL)
NUMERIC = frozenset({SIZE, RATIO, AVERAGE, PREFILL, *CATEGORY_COLUMNS, *TASK_COLUMNS})
DATATYPES = ["number" if c in NUMERIC else "str" for c in COLUMNS]  # "str": cells render as text


@dataclass(frozen=True)
class SizeBand:
    label: str
    low: float
    high: float

    def holds(self, size: float | None) -> bool:
        return size is not None and self.low <= size < self.high


SIZE_BANDS = (
    SizeBand("< 4B", 0, 4), SizeBand("4-10B", 4, 10), SizeBand("10-40B", 10, 40),
    SizeBand(">= 40B", 40, float("inf")),
)
UNKNOWN_SIZE = "unknown / closed"
SIZE_CHOICES = tuple(b.label for b in SIZE_BANDS) + (UNKNOWN_SIZE,)
TYPE_CHOICES = ("open", "closed", "human")


@dataclass(frozen=True)
class Filters:
    search: str = ""
    types: Sequence[str] = TYPE_CHOICES
    sources: Sequence[str] = tuple(SOURCE_LABELS.values())
    sizes: Sequence[str] = SIZE_CHOICES
    methods: Sequence[str] = ()  # empty: every method
    ratios: Sequence[str] = ()  # empty: every ratio; values as ratio_label() writes them
    sort_by: str = AVERAGE
    ascending: bool = False


def ratio_label(ratio: float) -> str:
    return f"{round(ratio * 100):d}%"


def _size_ok(size: float | None, sizes: Sequence[str]) -> bool:
    if size is None:
        return UNKNOWN_SIZE in sizes
    return any(b.holds(size) for b in SIZE_BANDS if b.label in sizes)


def _row(e: Entry) -> list:
    return [
        e.model, e.source_label, e.model_type, e.size_b, e.method, round(e.ratio * 100, 1),
        _r(e.average), *(_r(e.categories.get(c)) for c in CATEGORY_COLUMNS),
        *(_r(e.scores.get(t.name)) for t in TASKS), _r(e.prefill_s, 3),
    ]


def _r(x, digits: int = 1):
    return None if x is None else round(float(x), digits)


def leaderboard_frame(entries: Sequence[Entry], filters: Filters = Filters()) -> pd.DataFrame:
    terms = [t for t in filters.search.lower().split() if t]
    kept = [
        e for e in entries
        if e.model_type in filters.types
        and e.source_label in filters.sources
        and _size_ok(e.size_b, filters.sizes)
        and (not filters.methods or e.method in filters.methods)
        and (not filters.ratios or ratio_label(e.ratio) in filters.ratios)
        and all(t in f"{e.model} {e.method}".lower() for t in terms)
    ]
    frame = pd.DataFrame([_row(e) for e in kept], columns=list(COLUMNS))
    sort_by = filters.sort_by if filters.sort_by in COLUMNS else AVERAGE
    # Rows without a value go last whichever way the column is sorted.
    frame = frame.sort_values(sort_by, ascending=filters.ascending, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def method_choices(entries: Sequence[Entry]) -> list[str]:
    return sorted({e.method for e in entries}, key=lambda m: (m != "none", m))


def ratio_choices(entries: Sequence[Entry]) -> list[str]:
    return [ratio_label(r) for r in sorted({round(e.ratio, 4) for e in entries})]


def text_table(entries: Sequence[Entry], filters: Filters = Filters()) -> str:
    """The leaderboard as plain text (the demo prints this)."""
    frame = leaderboard_frame(entries, filters)
    cols = [MODEL, SOURCE, METHOD, RATIO, AVERAGE, *TASK_COLUMNS]
    return frame[cols].to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.1f}")
