"""The leaderboards of the benchmarks beside AudioMarathon (MMAR, AIR-Bench Foundation): one table per
benchmark, in a tab of its own.

A board's columns are data (``Board``): the run-wide figures (model, source, weights, size, average),
then the benchmark's published breakdown (MMAR: one column per modality; Foundation: speech, sound,
music and one column per task), then where each row's figures come from. Published rows and verified
submissions are the store's entries of that benchmark (``Entry.benchmark``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from audiomarathon.benchmarks import get_benchmark
from audiomarathon_metric.published_benchmarks import CHAT_COLUMNS, MMAR_COLUMNS

from space.leaderboard import half_up, model_cell
from space.store import OVERALL, PAPER, Entry

MODEL, SOURCE, TYPE, SIZE, AVERAGE, REPORTED = "Model", "Source", "Type", "Size", "Average", "Figures from"
SCORES, CATEGORIES, TABLES = "scores", "categories", "tables"


@dataclass(frozen=True)
class Column:
    """A figure column: ``label`` on the board; the figure is ``Entry.scores[key]`` (a task),
    ``Entry.categories[key]``, or row ``key`` of the entry's breakdown table ``table`` (MMAR's
    "modality"), kept in its details."""

    label: str
    field: str  # SCORES, CATEGORIES or TABLES
    key: str
    table: str = ""

    def value(self, e: Entry) -> float | None:
        if self.field == TABLES:
            return ((e.details.get(OVERALL) or {}).get(TABLES) or {}).get(self.table, {}).get(self.key)
        return getattr(e, self.field).get(self.key)


@dataclass(frozen=True)
class Board:
    benchmark: str  # the benchmark's key
    intro: str  # Markdown above the table
    figures: tuple[Column, ...]
    note: str = ""  # Markdown below the table

    @property
    def title(self) -> str:
        return get_benchmark(self.benchmark).name

    @property
    def elem_id(self) -> str:
        return f"board-{self.benchmark}"

    @property
    def columns(self) -> list[str]:
        return [MODEL, SOURCE, TYPE, SIZE, AVERAGE, *(c.label for c in self.figures), REPORTED]

    @property
    def numeric(self) -> frozenset[str]:
        return frozenset({AVERAGE, *(c.label for c in self.figures)})

    def datatypes(self) -> list[str]:
        return ["number" if c in self.numeric else "str" for c in self.columns]


def _modality_label(modality: str) -> str:
    """"mix-sound-music" -> "Sound-Music", as MMAR's table heads its columns."""
    return "-".join(part.capitalize() for part in modality.removeprefix("mix-").split("-"))


def _mmar_board() -> Board:
    return Board(
        "mmar",
        "MMAR: 1,000 human-curated reasoning questions over sound, music, speech and their mix, 2-6 text options "
        "each. **Average** is the accuracy over all items (micro average, 0-100); the other columns are the "
        "accuracy per modality.",
        tuple(Column(_modality_label(m), TABLES, m, "modality") for m in MMAR_COLUMNS),
        "Published rows: the authors' leaderboard as printed (the paper's table and rows added since). Verified "
        "rows: raw replies re-scored here in strict mode (an unreadable reply counts as wrong).",
    )


def _foundation_board() -> Board:
    bench = get_benchmark("airbench-foundation")
    tasks = tuple(Column(t.title or t.name, SCORES, t.name) for t in bench.tasks)
    return Board(
        "airbench-foundation",
        "AIR-Bench Foundation: single-choice questions over 19 tasks of speech, sound and music. A task's "
        "figure is its accuracy (0-100); **Speech**, **Sound** and **Music** are the unweighted means of their "
        "tasks and **Average** the mean of the three, as the authors' leaderboard aggregates.",
        (*(Column(c.capitalize(), CATEGORIES, c) for c in dict.fromkeys(t.category for t in bench.tasks)), *tasks),
        "Published rows: the authors' Foundation leaderboard publishes each task's accuracy and the average; "
        "their Speech, Sound and Music figures are derived here (the unweighted mean of the category's "
        "published tasks), and reproduce every published average. Verified rows: raw replies re-scored here "
        "in strict mode (an unreadable reply counts as wrong, never left out).",
    )


def _chat_board() -> Board:
    return Board(
        "airbench-chat",
        "AIR-Bench Chat: open questions about speech, sound, music and mixed audio, each reply scored 1-10 by an "
        "LLM judge against a reference answer. **Speech**, **Sound**, **Music** and **Mixed** are the means of "
        "their two tasks' scores and **Average** the mean of the four, as the authors' leaderboard aggregates.",
        tuple(Column(c.capitalize(), TABLES, c, "category") for c in CHAT_COLUMNS),
        "Published rows: the authors' Chat leaderboard as printed (judge gpt-4-0125-preview at temperature 1.0, "
        "half the requests at 2.0, the reference first only; unreadable verdicts dropped). Scores judged with "
        "`audiomarathon judge` are judged in both orders at temperature 0 and count a failed verdict as 1 for "
        "the model: comparable among themselves, not figure for figure with the printed rows.",
    )


def boards() -> tuple[Board, ...]:
    """The boards shown beside AudioMarathon's, in tab order."""
    return (_mmar_board(), _foundation_board(), _chat_board())


def _size(e: Entry) -> str:
    printed = (e.details.get(OVERALL) or {}).get("size_printed")
    if printed:
        return printed
    if e.size_b is None:
        return ""
    return "<0.1B" if 0 < e.size_b < 0.05 else f"{half_up(e.size_b)}B"  # a tiny model is not a 0 B one


def _reported(e: Entry) -> str:
    overall = e.details.get(OVERALL) or {}
    if e.source == PAPER:
        return overall.get("source", "")
    return f"re-scored here (dataset {e.dataset_fingerprint})"


def board_frame(board: Board, entries: Sequence[Entry]) -> pd.DataFrame:
    """The board's rows: the entries of its benchmark, ranked by average (rows without one last,
    held rows after every ranked one)."""
    kept = [e for e in entries if e.benchmark == board.benchmark]
    rows = [[model_cell(e), e.source_label, e.weights, _size(e), e.average,
             *(c.value(e) for c in board.figures), _reported(e)] for e in kept]
    frame = pd.DataFrame(rows, columns=board.columns)
    frame = frame.sort_values(AVERAGE, ascending=False, na_position="last", kind="stable")
    held = pd.Series([e.held for e in kept], dtype=bool).reindex(frame.index)
    return pd.concat([frame[~held], frame[held]]).reset_index(drop=True)


def styled(board: Board, frame: pd.DataFrame):
    """Numbers shown with one decimal (halves rounded up), kept numeric for sorting."""
    return frame.style.format({c: half_up for c in frame.columns if c in board.numeric}, na_rep="")


def text_board(board: Board, entries: Sequence[Entry], figures: int = 3) -> str:
    """The board as plain text (the demo prints it): model, source, average and the first figures."""
    frame = board_frame(board, entries)
    cols = [MODEL, SOURCE, AVERAGE, *(c.label for c in board.figures[:figures])]
    numbers = {c: pd.to_numeric(frame[c], errors="coerce") for c in cols[2:]}
    return frame[cols].assign(**numbers).to_string(index=False, na_rep="-", float_format=half_up)
