"""The published leaderboards of MMAR and AIR-Bench Foundation, as data, every figure with its source.

AudioMarathon's own table is ``audiomarathon_metric.published``; ``published_rows`` gives the
rows of every benchmark, keyed by the benchmark's key (``audiomarathon.benchmarks``). The Space seeds
one leaderboard tab per benchmark from here.

- MMAR: the authors' leaderboard (github.com/ddlBoJack/MMAR, README.md "Leaderboard", commit 3bce090a),
  which carries the paper's table (arXiv 2505.13032) and rows added since (Qwen3-Omni-Thinking).
  Columns: Avg, then one per modality, named here by the release's ``modality`` values.
- AIR-Bench Foundation: the authors' "Foundation LeaderBoard" (github.com/OFA-Sys/AIR-Bench,
  README.md, commit 98324766): one accuracy per task and the Average row. Columns: the release's
  ``task_name`` of each row (the task whose registry title is the row's label). Only the per-task figures
  and the average are published; the speech / sound / music figures are derived by the leaderboard's
  aggregation (each the unweighted mean of its tasks, the average the mean of the three), which
  reproduces every published average to its decimal (tests/test_space_benchmarks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from audiomarathon.benchmarks import get_benchmark

MMAR_SOURCE = ("MMAR leaderboard (arXiv 2505.13032), github.com/ddlBoJack/MMAR README.md "
               "\"Leaderboard\" @ 3bce090a")
FOUNDATION_SOURCE = ("AIR-Bench Foundation leaderboard (arXiv 2402.07729), github.com/OFA-Sys/AIR-Bench "
                     "README.md \"Foundation LeaderBoard\" @ 98324766")
DERIVED = "derived: the unweighted mean of the category's published task figures"


@dataclass(frozen=True)
class PublishedFigures:
    """One published row of a benchmark's leaderboard.

    ``columns``: the table's figures by the release's own names (MMAR: ``modality`` values;
    Foundation: ``task_name`` values); None where the table prints "/" or nothing. ``breakdown``:
    the meta key whose values name the columns (MMAR's "modality"); None: the columns are tasks. ``average``: the table's average, None where it prints none."""

    benchmark: str  # the benchmark's key
    model: str
    group: str  # the table's group of the row
    weights: str  # "open", "closed" or "baseline"
    size: str | None  # as the table prints it ("8.4B"); None where it prints "-" or nothing
    average: float | None
    columns: Mapping[str, float | None]
    source: str
    breakdown: str | None = None


# --- MMAR -------------------------------------------------------------------------------------------
# The table's columns after Avg, as the release's ``modality`` values name them.
MMAR_COLUMNS = ("sound", "music", "speech", "mix-sound-music", "mix-sound-speech", "mix-music-speech",
                "mix-sound-music-speech")
_LALM, _LARM, _OLM = "Large Audio Language Models", "Large Audio Reasoning Models", "Omni Language Models"
_LLM, _LRM = "LLMs with audio captions", "Large Reasoning Models with audio captions"


def _mmar(model: str, group: str, size: str | None, open_source: bool | None, avg: float, *figures: float):
    assert len(figures) == len(MMAR_COLUMNS), model
    weights = "baseline" if open_source is None else ("open" if open_source else "closed")
    return PublishedFigures("mmar", model, group, weights, size, avg, dict(zip(MMAR_COLUMNS, figures)), MMAR_SOURCE,
                            breakdown="modality")


# Models listed twice in the table (two sizes) carry their size in the name.
MMAR_PUBLISHED: tuple[PublishedFigures, ...] = (
    _mmar("Random Guess", "Random guess", None, None, 29.3, 29.4, 25.9, 31.5, 25.0, 29.3, 31.1, 28.1),
    _mmar("GPT-4o Audio", _LALM, None, False, 63.5, 53.9, 51.0, 70.4, 63.6, 72.5, 62.2, 75.0),
    _mmar("Omni-R1", _LALM, "8.4B", True, 63.4, 67.3, 51.5, 64.3, 45.5, 70.2, 64.6, 70.8),
    _mmar("GPT-4o mini Audio", _LALM, None, False, 50.6, 38.8, 35.9, 58.8, 45.5, 60.1, 57.3, 50.0),
    _mmar("R1-AQA", _LALM, "8.4B", True, 47.6, 55.8, 37.4, 49.0, 9.1, 50.0, 50.0, 50.0),
    _mmar("SALMONN", _LALM, "7B", True, 32.8, 30.9, 29.6, 34.4, 9.1, 37.6, 28.1, 37.5),
    _mmar("Qwen2-Audio", _LALM, "8.4B", True, 30.4, 33.9, 23.3, 33.0, 9.1, 33.0, 26.8, 33.3),
    _mmar("Qwen2-Audio-Instruct", _LALM, "8.4B", True, 30.0, 33.3, 24.3, 32.3, 9.1, 31.2, 30.5, 25.0),
    _mmar("Audio Flamingo", _LALM, "2.2B", True, 26.6, 32.7, 21.8, 24.8, 18.2, 30.3, 24.4, 25.0),
    _mmar("GAMA", _LALM, "7B", True, 26.5, 29.1, 24.3, 27.9, 27.3, 24.8, 28.1, 20.8),
    _mmar("Qwen-Audio-Chat", _LALM, "8.4B", True, 23.5, 27.9, 20.4, 22.1, 9.1, 25.2, 25.6, 20.8),
    _mmar("Audio Flamingo 2 (0.5B)", _LALM, "0.5B", True, 23.0, 20.6, 20.4, 24.2, 27.3, 23.9, 26.8, 25.0),
    _mmar("Audio Flamingo 2 (1.5B)", _LALM, "1.5B", True, 22.9, 26.7, 20.9, 22.8, 9.1, 22.9, 23.2, 20.8),
    _mmar("Audio Flamingo 2 (3B)", _LALM, "3B", True, 21.9, 24.9, 17.5, 20.8, 18.2, 26.6, 23.2, 8.3),
    _mmar("LTU", _LALM, "7B", True, 19.2, 19.4, 19.9, 14.0, 18.2, 24.8, 22.0, 16.7),
    _mmar("LTU-AS", _LALM, "7B", True, 19.0, 20.0, 14.1, 19.1, 9.1, 20.6, 28.1, 12.5),
    _mmar("GAMA-IT", _LALM, "7B", True, 17.4, 22.4, 16.0, 12.2, 36.4, 22.5, 14.6, 12.5),
    _mmar("MU-LLaMA", _LALM, "7B", True, 13.9, 13.9, 13.6, 15.0, 9.1, 12.4, 14.6, 16.7),
    _mmar("MusiLingo", _LALM, "7B", True, 6.6, 9.1, 7.3, 4.1, 9.1, 6.9, 7.3, 8.3),
    _mmar("Qwen3-Omni-Thinking", _LARM, "30B-A3B", True, 66.4, 57.6, 44.7, 78.2, 63.4, 75.2, 69.5, 79.1),
    _mmar("Audio-Reasoner", _LARM, "8.4B", True, 36.8, 43.6, 33.5, 33.0, 45.5, 42.7, 31.7, 25.0),
    _mmar("Audio-CoT", _LARM, "8.4B", True, 31.3, 35.8, 25.2, 34.0, 9.1, 30.7, 30.5, 37.5),
    _mmar("Mellow", _LARM, "167M", True, 30.0, 33.3, 26.7, 24.8, 18.2, 37.2, 32.9, 29.2),
    _mmar("Gemini 2.5 Pro", _OLM, None, False, 74.7, 67.3, 56.8, 82.0, 100.0, 84.9, 80.5, 66.7),
    _mmar("Gemini 2.5 Flash", _OLM, None, False, 68.4, 60.0, 53.4, 77.2, 63.6, 76.2, 69.5, 75.0),
    _mmar("Gemini 2.0 Flash", _OLM, None, False, 65.6, 61.2, 51.0, 72.1, 81.8, 72.5, 65.9, 70.8),
    _mmar("Qwen2.5-Omni (10.7B)", _OLM, "10.7B", True, 56.7, 58.8, 40.8, 59.9, 54.5, 61.9, 67.1, 58.3),
    _mmar("Qwen2.5-Omni (5.5B)", _OLM, "5.5B", True, 53.8, 53.9, 46.1, 53.7, 36.4, 60.1, 57.3, 58.3),
    _mmar("Baichuan-Omni-1.5", _OLM, "11B", True, 40.7, 41.2, 33.0, 40.5, 36.4, 48.6, 39.0, 41.7),
    _mmar("OpenOmni", _OLM, "8B", True, 27.0, 20.6, 22.3, 35.4, 18.2, 27.1, 23.2, 25.0),
    _mmar("AnyGPT-chat", _OLM, "8B", True, 23.7, 24.2, 19.4, 22.1, 27.3, 27.5, 26.8, 29.2),
    _mmar("Caption + GPT-4o", _LLM, None, False, 50.7, 46.1, 40.3, 60.9, 27.3, 53.7, 46.3, 45.8),
    _mmar("Caption + DeepSeek-V3", _LLM, "671B", True, 47.6, 42.4, 40.8, 56.1, 18.2, 50.0, 45.1, 37.5),
    _mmar("Caption + DeepSeek-R1", _LRM, "671B", True, 55.5, 46.7, 49.5, 62.6, 45.5, 58.7, 56.1, 54.2),
    _mmar("Caption + OpenAI o3", _LRM, None, False, 54.7, 49.7, 41.8, 64.0, 36.4, 60.1, 52.4, 54.2),
    _mmar("Caption + OpenAI o1", _LRM, None, False, 53.0, 48.5, 43.2, 63.6, 18.2, 56.9, 45.1, 45.8),
)


# --- AIR-Bench Foundation ---------------------------------------------------------------------------
# The table's task rows in its order, as it labels them: each is the registry's title of one
# Foundation task (whose category, speech / sound / music, is the registry's too).
FOUNDATION_TASK_ROWS: tuple[str, ...] = (
    "Speech grounding", "Spoken language identification", "Speaker gender recognition", "Emotion recognition",
    "Speaker age prediction", "Speech entity recognition", "Intent classification", "Speaker number verification",
    "Synthesized voice detection", "Audio grounding", "Vocal sound classification", "Acoustic scene classification",
    "Sound question answering", "Music instruments classification", "Music genre classification",
    "Music note analysis-pitch", "Music note analysis-velocity", "Music question answering", "Music emotion detection",
)


def _foundation_task_names() -> tuple[str, ...]:
    by_title = {t.title: t.name for t in get_benchmark("airbench-foundation").tasks}
    missing = [label for label in FOUNDATION_TASK_ROWS if label not in by_title]
    if missing:
        raise ValueError(f"Foundation leaderboard rows with no registry task of that title: {missing}")
    return tuple(by_title[label] for label in FOUNDATION_TASK_ROWS)


# The table's columns (models) and, per model, its figures down the task rows (None: "/"), then the
# Average row (None: "/").
_FOUNDATION_TABLE: dict[str, tuple[tuple[float | None, ...], float | None]] = {
    "Qwen-Audio-Turbo": ((45.4, 95.9, 82.5, 60.0, 58.8, 48.1, 56.4, 54.3, 69.3, 41.6, 78.1, 61.3, 62.8, 59.6, 77.1,
                          30.1, 25.1, 62.5, 39.0), 57.8),
    "Qwen-Audio": ((56.1, 92.8, 67.2, 43.2, 36.0, 71.2, 77.8, 35.3, 48.3, 23.9, 84.9, 67.5, 64.6, 59.1, 71.2, 28.6,
                    25.4, 48.2, 36.1), 54.5),
    "PandaGPT": ((23.0, 34.6, 66.5, 26.0, 42.5, 34.0, 28.5, 43.2, 53.1, 38.3, 31.6, 55.7, 48.7, 47.7, 39.8, 26.4,
                  27.2, 50.7, 36.7), 40.2),
    "SALMONN": ((25.3, 28.1, 35.5, 29.9, 48.7, 51.7, 36.7, 34.3, 50.0, 24.0, 45.3, 34.1, 28.4, 41.3, 45.3, 26.4,
                 22.8, 54.6, 32.2), 36.0),
    "NExT-GPT": ((25.4, 23.7, 57.0, 25.7, 62.4, 26.1, 25.6, 25.4, 30.8, 62.2, 23.5, 24.1, 18.8, 24.3, 28.1, 25.1,
                  23.1, 47.1, 25.4), 31.5),
    "BLSP": ((25.0, 30.8, 33.2, 27.4, 51.2, 37.2, 46.6, 28.1, 50.0, 34.6, 29.8, 25.2, 36.1, 22.8, 26.1, 23.5, 24.9,
              31.0, 28.3), 31.4),
    "SpeechGPT": ((28.8, 39.6, 29.2, 37.6, 20.4, 35.9, 45.8, 32.6, 39.2, 26.1, 26.2, 23.7, 33.9, 29.1, 29.3, 24.1,
                   25.2, 31.3, 29.7), 30.0),
    "Whisper+GPT 4": ((35.0, 96.8, 21.9, 59.5, 41.1, 69.8, 87.7, 30.0, 40.5) + (None,) * 10, None),
}
# The table names PandaGPT "Pandagpt" and NExT-GPT "Next-gpt": the models' own spellings here.
# Whisper+GPT 4 is a cascade of two closed-source models; the others publish their weights,
# Qwen-Audio-Turbo excepted (an API model).
_FOUNDATION_WEIGHTS = {"Qwen-Audio-Turbo": "closed", "Whisper+GPT 4": "closed"}

FOUNDATION_PUBLISHED: tuple[PublishedFigures, ...] = tuple(
    PublishedFigures("airbench-foundation", model, "Foundation leaderboard", _FOUNDATION_WEIGHTS.get(model, "open"),
                     None, average, dict(zip(_foundation_task_names(), figures)),
                     FOUNDATION_SOURCE)
    for model, (figures, average) in _FOUNDATION_TABLE.items()
)
assert all(len(r.columns) == len(FOUNDATION_TASK_ROWS) for r in FOUNDATION_PUBLISHED)


# --- AIR-Bench Chat ---------------------------------------------------------------------------------
# The Chat leaderboard prints one judge score (1-10, gpt-4-0125-preview as the judge) per category
# and the average; "/" where a model was not scored. Its Mixed Audio column is the mean of the two
# mixed tasks (the README's note). Each printed average is the mean of its four categories cut or
# rounded to two decimals, except NExT-GPT's (4.13; the four give 3.93) and Macaw-LLM's (1.01; 0.97),
# kept as printed.
CHAT_SOURCE = ("AIR-Bench Chat leaderboard (arXiv 2402.07729), github.com/OFA-Sys/AIR-Bench README.md "
               "\"Chat LeaderBoard\" @ 98324766")
CHAT_COLUMNS = ("speech", "sound", "music", "mixed")
_CHAT_TABLE: dict[str, tuple[float | None, ...]] = {  # speech, sound, music, mixed, average
    "Qwen2-Audio": (7.18, 6.99, 6.79, 6.77, 6.93),
    "Qwen-Audio-Turbo": (7.04, 6.59, 5.98, 5.77, 6.34),
    "SALMONN": (6.16, 6.28, 5.95, 6.08, 6.11),
    "Qwen-Audio": (6.47, 6.95, 5.52, 5.38, 6.08),
    "Gemini-1.5-pro": (6.97, 5.49, 5.06, 5.27, 5.70),
    "BLSP": (6.17, 5.55, 5.08, 4.52, 5.33),
    "PandaGPT": (3.58, 5.46, 5.06, 2.93, 4.25),
    "NExT-GPT": (3.86, 4.76, 4.18, 2.92, 4.13),
    "SpeechGPT": (1.57, 0.95, 0.95, 1.14, 1.15),
    "Macaw-LLM": (0.97, 1.01, 0.91, 1.00, 1.01),
    "Whisper+GPT 4": (7.54, None, None, None, None),
}
_CHAT_WEIGHTS = {"Qwen-Audio-Turbo": "closed", "Gemini-1.5-pro": "closed", "Whisper+GPT 4": "closed"}
CHAT_PUBLISHED: tuple[PublishedFigures, ...] = tuple(
    PublishedFigures("airbench-chat", model, "Chat leaderboard", _CHAT_WEIGHTS.get(model, "open"), None,
                     figures[-1], dict(zip(CHAT_COLUMNS, figures[:-1])), CHAT_SOURCE, breakdown="category")
    for model, figures in _CHAT_TABLE.items()
)


# The rows of the benchmarks beside AudioMarathon, by benchmark key.
OTHER_PUBLISHED: dict[str, tuple[PublishedFigures, ...]] = {
    "mmar": MMAR_PUBLISHED, "airbench-foundation": FOUNDATION_PUBLISHED, "airbench-chat": CHAT_PUBLISHED,
}


def published_rows(benchmark_key: str) -> tuple:
    """The published rows of one benchmark, by its key (AudioMarathon's: ``published.PUBLISHED``)."""
    from .published import PUBLISHED

    table = {"audiomarathon": PUBLISHED, **OTHER_PUBLISHED}
    try:
        return table[benchmark_key]
    except KeyError:
        raise KeyError(f"no published rows for benchmark {benchmark_key!r}; known: {', '.join(table)}") from None
