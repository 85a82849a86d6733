"""AudioMarathon's leaderboard table: store entries -> a filtered, sorted pandas DataFrame for display
(the other benchmarks' boards: ``space.boards``).

Held entries (probable duplicates awaiting a maintainer) are listed after every ranked row,
whatever the sort; a size the server could not check is marked as the submitter's claim."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from audiomarathon.tasks import CATEGORIES, TASKS
from audiomarathon_metric.display import round_half_up

from space.claims import SIZE_NOMINAL, SIZE_SELF_REPORTED
from space.store import DEFAULT_BENCHMARK, HELD_LABEL, OVERALL, SOURCE_LABELS, Entry

MODEL, SOURCE, TYPE, SIZE, METHOD, RATIO, AVERAGE, CI, INVALID, PREFILL = (
    "Model", "Source", "Type", "Size (B)", "Method", "Ratio (%)", "Average", "95% CI", "Invalid (%)",
    "Prefill (ms, self-reported)",
)
TASK_COLUMNS = tuple(f"{t.abbrev}" for t in TASKS)
CATEGORY_COLUMNS = tuple(CATEGORIES)
COLUMNS = (MODEL, SOURCE, TYPE, SIZE, METHOD, RATIO, AVERAGE, CI, INVALID, *CATEGORY_COLUMNS, *TASK_COLUMNS,
           PREFILL)
NUMERIC = frozenset({SIZE, RATIO, AVERAGE, INVALID, PREFILL, *CATEGORY_COLUMNS, *TASK_COLUMNS})
DATATYPES = ["number" if c in NUMERIC else "str" for c in COLUMNS]  # "str": cells render as text

# Column groups a reader can show or hide; the rest are always shown.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "Source": (SOURCE,), "Type": (TYPE,), "95% CI": (CI,), "Invalid rate": (INVALID,),
    "Categories": CATEGORY_COLUMNS, "Prefill": (PREFILL,),
}
# At 1280 px every task column fits next to these (and at 1600 px next to all of them).
DEFAULT_OPTIONAL = ("Source", "95% CI", "Invalid rate")
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


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
WEIGHTS_CHOICES = ("open", "closed", "human")
SOURCE_CHOICES = (*SOURCE_LABELS.values(), HELD_LABEL)
SELF_REPORTED_MARK = "*"  # after a size the submitter claims (a model the board does not know)
NOMINAL_MARK = "~"  # before a size a model is named by (no published count of all its weights)
# frame.attrs key: row position -> how its size is marked (attrs follow iloc slices)
_SIZE_MARKS = "size_marks"

# Column widths. The table is set in a 12 px monospace font (app.CSS), so a width follows from a
# count of characters: a header wraps only at spaces and after hyphens, never inside a word, and a
# column is as wide as its header's longest word or its widest usual cell, whichever is wider
# (a longer model or method name wraps inside its cell).
FONT_PX = 12
CHAR_PX = 7.3  # the advance of one character of that font
HEADER_PAD_PX = 16  # a header's padding (app.CSS) and a pixel each side to spare
CELL_PAD_PX = 10  # a cell's padding (app.CSS) and a pixel each side to spare
_CELL_CHARS = {MODEL: 16, SOURCE: len("verified"), TYPE: len("closed"), SIZE: len("~1.5"),
               METHOD: len("pyramidkv"), RATIO: 3, CI: len("52.3–61.2")}
_SCORE_CHARS = len("100.0")


@dataclass(frozen=True)
class Filters:
    search: str = ""
    weights: Sequence[str] = WEIGHTS_CHOICES
    sources: Sequence[str] = SOURCE_CHOICES
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
    overall = e.details.get(OVERALL) or {}
    return [
        # A held row says only "held" in the narrow Source column; the entry whose replies it
        # repeats is named to its submitter and by the review command.
        model_cell(e), e.source_label, e.weights, e.size_b, e.method, e.ratio * 100,
        e.average, _ci_text(overall.get("ci95_low"), overall.get("ci95_high")),
        None if overall.get("invalid_rate") is None else 100 * overall["invalid_rate"],
        *(e.categories.get(c) for c in CATEGORY_COLUMNS), *(e.scores.get(t.name) for t in TASKS), e.prefill_s,
    ]


def model_cell(e: Entry) -> str:
    """The model, and a named run's display name after it (run --name): ``Qwen2-Audio-7B (sweep a)``.
    In the Model cell, not a column of its own: the name wraps inside the cell, and every column
    still fits the page."""
    return f"{e.model} ({e.name})" if e.name else e.model


def half_up(x, digits: int = 1) -> str:
    """One decimal, halves rounded up (63.25 -> 63.3), as the paper prints its tables."""
    if x is None or x != x:
        return ""
    return f"{round_half_up(x, digits):.{digits}f}"


def _ci_text(low, high) -> str:
    return "" if low is None or high is None else f"{half_up(low)}–{half_up(high)}"


def _cell(column: str, x) -> str:
    if column == SIZE and x is not None and 0 < x < 0.05:
        return "<0.1"  # a tiny model is not a 0 B one
    if column == RATIO:
        return "" if x is None or x != x else ratio_label(x / 100).rstrip("%")  # as the filter names it
    if column == PREFILL:
        return "" if x is None or x != x else half_up(1000 * x, 0)  # stored in seconds, shown in ms
    return half_up(x)


def column_width(column: str) -> int:
    """Pixels for ``column``: its header's longest word or its widest usual cell."""
    word = max(len(w) for w in re.split(r"\s+|(?<=-)", column) if w)
    cell = _CELL_CHARS.get(column, _SCORE_CHARS)
    return max(math.ceil(word * CHAR_PX) + HEADER_PAD_PX, math.ceil(cell * CHAR_PX) + CELL_PAD_PX)


def column_widths(columns: Sequence[str]) -> list[str]:
    return [f"{column_width(c)}px" for c in columns]


def _size_mark(e: Entry) -> str:
    source = (e.details.get(OVERALL) or {}).get("size_source")
    if e.size_b is None:
        return ""
    return {SIZE_SELF_REPORTED: SELF_REPORTED_MARK, SIZE_NOMINAL: NOMINAL_MARK}.get(source, "")


def leaderboard_frame(entries: Sequence[Entry], filters: Filters = Filters()) -> pd.DataFrame:
    terms = [t for t in filters.search.lower().split() if t]
    kept = [
        e for e in entries
        if e.benchmark == DEFAULT_BENCHMARK  # the other benchmarks' boards: space.boards
        and e.weights in filters.weights
        and e.source_label in filters.sources
        and _size_ok(e.size_b, filters.sizes)
        and (not filters.methods or e.method in filters.methods)
        and (not filters.ratios or ratio_label(e.ratio) in filters.ratios)
        and all(t in f"{e.model} {e.name or ''} {e.method}".lower() for t in terms)
    ]
    frame = pd.DataFrame([_row(e) for e in kept], columns=list(COLUMNS))
    sort_by = filters.sort_by if filters.sort_by in COLUMNS else AVERAGE
    # Rows without a value go last whichever way the column is sorted; held rows after them all.
    frame = frame.sort_values(sort_by, ascending=filters.ascending, na_position="last", kind="stable")
    held = pd.Series([e.held for e in kept], dtype=bool).reindex(frame.index)
    frame = pd.concat([frame[~held], frame[held]])
    marks = pd.Series([_size_mark(e) for e in kept], dtype=object).reindex(frame.index)
    frame = frame.reset_index(drop=True)
    frame.attrs[_SIZE_MARKS] = {i: mark for i, mark in enumerate(marks) if mark}
    return frame


def shown_columns(optional: Sequence[str] = DEFAULT_OPTIONAL) -> list[str]:
    hidden = {c for name, cols in OPTIONAL_COLUMNS.items() if name not in optional for c in cols}
    return [c for c in COLUMNS if c not in hidden]


def page_count(n_rows: int, page_size: int) -> int:
    return max(1, -(-n_rows // max(1, page_size)))


def page_of(frame: pd.DataFrame, page: int, page_size: int) -> pd.DataFrame:
    page = min(max(1, int(page)), page_count(len(frame), page_size))
    return frame.iloc[(page - 1) * page_size: page * page_size]


def page_label(n_rows: int, page: int, page_size: int) -> str:
    page = min(max(1, int(page)), page_count(n_rows, page_size))
    first, last = (page - 1) * page_size + 1, min(n_rows, page * page_size)
    if not n_rows:
        return "No rows match."
    return f"Rows {first}–{last} of {n_rows} · page {page} of {page_count(n_rows, page_size)}"


def styled(frame: pd.DataFrame, columns: Sequence[str]):
    """The frame with only `columns`, every number shown with one decimal (rounded half up) while
    the cells keep their numeric values for sorting."""
    frame = frame[[c for c in columns if c in frame.columns]]
    formats = {c: (lambda x, c=c: _cell(c, x)) for c in frame.columns if c in NUMERIC}
    style = frame.style.format(formats, na_rep="")
    marks = frame.attrs.get(_SIZE_MARKS, {})
    if SIZE in frame.columns:
        for mark in set(marks.values()):
            rows = [i for i in frame.index if marks.get(i) == mark]
            style = style.format(lambda x, m=mark: _marked(_cell(SIZE, x), m), subset=pd.IndexSlice[rows, [SIZE]])
    return style


def _marked(size_text: str, mark: str) -> str:
    """"~1.5" (a nominal size reads as approximate), "1.5*" (a claim, with its footnote mark)."""
    return mark + size_text if mark == NOMINAL_MARK else size_text + mark


def datatypes(columns: Sequence[str]) -> list[str]:
    return ["number" if c in NUMERIC else "str" for c in columns]


def method_choices(entries: Sequence[Entry]) -> list[str]:
    return sorted({e.method for e in entries}, key=lambda m: (m != "none", m))


def ratio_choices(entries: Sequence[Entry]) -> list[str]:
    return [ratio_label(r) for r in sorted({round(e.ratio, 4) for e in entries})]


def text_table(entries: Sequence[Entry], filters: Filters = Filters()) -> str:
    """The leaderboard as plain text (the demo prints this)."""
    frame = leaderboard_frame(entries, filters)
    cols = [MODEL, SOURCE, METHOD, RATIO, AVERAGE, *TASK_COLUMNS]
    scores = {c: pd.to_numeric(frame[c], errors="coerce") for c in (AVERAGE, *TASK_COLUMNS)}  # None -> NaN -> "-"
    frame = frame[cols].assign(**scores, **{RATIO: [_cell(RATIO, x) for x in frame[RATIO]]})  # whole percents
    return frame.to_string(index=False, na_rep="-", float_format=half_up)
