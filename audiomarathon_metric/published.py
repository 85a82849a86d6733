"""The paper's published leaderboard (per-task scores, 0-100; ASR = 100 - WER), as data.

Source: AudioMarathon (arXiv 2510.07293), main results table, as committed in the authors'
repository github.com/DabDans/AudioMarathon, file main_results.tex (commit 9595183b), table
"tab:AudioMarathon_results_categories_avg". ``average`` is the paper's Avg. column; tests recompute it from the
task scores with :func:`audiomarathon_metric.aggregate`. The Space seeds its leaderboard from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

SOURCE = "AudioMarathon (arXiv 2510.07293), main results table; github.com/DabDans/AudioMarathon main_results.tex @ 9595183b"

# Column order of the paper's table (abbreviations, as in the registry).
COLUMNS = ("SER", "SCR", "ASR", "SED", "MC", "ASC", "SD", "ER", "SAR", "SGR")


@dataclass(frozen=True)
class PublishedRow:
    model: str
    scores: Mapping[str, float | None]  # abbreviation -> score; None = not reported
    average: float  # the paper's Avg. column
    group: str  # "open-source", "closed-source" or "human"
    source: str = SOURCE


def _row(model: str, group: str, values: tuple, average: float) -> PublishedRow:
    return PublishedRow(model, dict(zip(COLUMNS, values)), average, group)


_OPEN, _CLOSED = "open-source", "closed-source"

PUBLISHED: tuple[PublishedRow, ...] = (
    _row("Phi-4-Multimodal", _OPEN, (18.4, 69.3, 92.7, 55.1, 46.7, 23.4, 26.4, 27.3, 26.6, 91.1), 47.7),
    _row("Qwen2.5-Omni-3B", _OPEN, (25.2, 82.3, 94.7, 70.2, 97.4, 69.3, 67.3, 39.6, 29.1, 97.2), 67.2),
    _row("Qwen2.5-Omni-7B", _OPEN, (26.3, 85.1, 98.1, 78.4, 100.0, 72.2, 72.3, 53.4, 21.4, 98.0), 70.5),
    _row("Audio-Flamingo-2", _OPEN, (26.8, 39.8, 1.0, 27.1, 66.8, 29.7, 45.9, 13.1, 20.3, 85.1), 35.6),
    _row("Audio-Flamingo-3", _OPEN, (21.7, 78.9, 94.3, 59.5, 97.0, 54.1, 33.7, 54.3, 40.7, 96.2), 63.0),
    _row("Gemma-3n-E2B-it", _OPEN, (22.5, 51.6, 91.3, 50.2, 56.8, 28.2, 35.1, 15.2, 12.2, 91.6), 45.5),
    _row("Gemma-3n-E4B-it", _OPEN, (19.0, 56.9, 93.2, 50.2, 71.9, 31.7, 35.9, 18.9, 21.8, 93.0), 49.3),
    _row("Voxtral-Mini-3B-2507", _OPEN, (24.3, 71.1, 96.8, 71.0, 83.8, 27.2, 68.0, 29.7, 30.7, 71.0), 57.4),
    _row("Baichuan-Omni-1.5", _OPEN, (12.4, 11.2, 86.5, 45.7, 52.0, 25.8, 49.2, 18.9, 10.2, 81.5), 39.3),
    _row("Aero-1-Audio", _OPEN, (17.9, 56.6, 43.7, 55.0, 83.9, 39.9, 33.7, 32.0, 17.8, 47.5), 42.8),
    _row("GPT-4o-Audio (Preview 2024-10-01)", _CLOSED, (25.8, 61.4, 94.4, 50.7, 59.5, 40.8, 32.5, 22.5, 17.2, 69.2), 47.4),
    _row("GPT-4o-Audio (Preview 2024-12-17)", _CLOSED, (25.7, 60.2, 94.7, 51.2, 67.6, 41.9, 30.8, 21.8, 19.9, 73.1), 48.7),
    _row("Gemini-2.0-Flash-Lite", _CLOSED, (23.7, 65.6, 97.4, 60.9, 86.9, 43.4, 34.5, 17.3, 19.0, 82.1), 53.1),
    _row("Gemini-2.0-Flash", _CLOSED, (30.9, 71.8, 96.4, 68.1, 88.5, 54.1, 32.1, 20.1, 39.2, 93.1), 59.4),
    _row("Gemini-2.5-Flash-Lite", _CLOSED, (30.3, 64.0, 96.5, 68.0, 64.8, 36.8, 33.9, 14.6, 19.6, 77.9), 50.6),
    _row("Gemini-2.5-Flash", _CLOSED, (28.1, 83.6, 96.8, 69.2, 79.3, 40.8, 33.1, 31.9, 34.3, 99.3), 59.6),
    # Human listeners: no ASR entry; the paper's average is over the other nine tasks.
    _row("Human Evaluation", "human", (45.1, 88.1, None, 96.2, 100.0, 100.0, 100.0, 90.8, 71.4, 97.0), 87.6),
)


def published_scores(row: PublishedRow) -> dict[str, float]:
    """The reported task scores of a row (abbreviation -> score), unreported tasks left out."""
    return {abbrev: value for abbrev, value in row.scores.items() if value is not None}


def get_published(model: str) -> PublishedRow:
    for row in PUBLISHED:
        if row.model == model:
            return row
    raise KeyError(f"no published row for {model!r}; known: {', '.join(r.model for r in PUBLISHED)}")
