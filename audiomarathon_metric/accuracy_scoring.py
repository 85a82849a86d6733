"""Scoring of the benchmarks whose headline figure is accuracy (MMAR, AIR-Bench Foundation): one
task's items in, its summary out, and each benchmark's section of the result (aggregate, tables,
random-guess baseline).

Strict mode (the default) reads each reply with this package's extraction (``extract_answer``; MMAR's
unlettered options with ``mmar_rules.UNLETTERED_RULES``) and keeps every item: an unread reply, or no
reply at all, is scored as a wrong answer, its least favourable one for accuracy, so declining never
pays. Paper mode applies the benchmark's official rule (``PAPER_READERS``, family-independent: the
authors wrote one script for every model), with the items it leaves out left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import AIRBENCH_FOUNDATION
from audiomarathon.tasks import BENCHMARKS
from audiomarathon.tasks import MMAR_BENCHMARK
from audiomarathon.tasks import Benchmark
from audiomarathon.tasks import Task

from .aggregations import breakdown_tables
from .aggregations import folder_of
from .aggregations import get_aggregation
from .aggregations import group_row
from .aggregations import random_guess_accuracy
from .airbench_rules import official_letter
from .extraction import extract_answer
from .mmar_rules import official_match
from .mmar_rules import official_words
from .score_inputs import Item
from .score_inputs import ScoreSettings
from .score_inputs import TaskResult
from .stats import bootstrap_counts
from .stats import percentile_ci
from .stats import poisson_binomial_sf


@dataclass(frozen=True)
class ItemRead:
    """What a reading made of one reply: the letter it read (None: none), the step that decided,
    whether the item counts in the denominator, whether it is correct, and whether the reading
    found an answer at all (``invalid_rate`` counts the replies where it did not)."""

    parsed: str | None
    rule: str
    scored: bool
    correct: bool
    valid: bool


def strict_read(item: Item, reply: str) -> ItemRead:
    if item.missing:
        return ItemRead(None, "missing", True, False, False)
    ex = extract_answer(reply, item.choices, item.task)
    return ItemRead(ex.letter, ex.rule, True, ex.letter == item.reference, ex.letter is not None)


def _airbench_paper(item: Item, reply: str) -> ItemRead:
    # A letter beyond the item's options (C/D on a two-option item) is counted wrong, as there.
    letter, step = official_letter(None if item.missing else reply)
    return ItemRead(letter, step, letter is not None, letter == item.reference, letter is not None)


def _mmar_paper(item: Item, reply: str) -> ItemRead:
    if item.missing:  # the script skips an item without a prediction
        return ItemRead(None, "missing", False, False, False)
    answer = item.choices[LETTERS.index(item.reference)]
    right = official_match(answer, reply, item.choices)
    # The match only says right or wrong; a reply without a word is the one it cannot read.
    return ItemRead(item.reference if right else None, "word_match" if right else "no_word_match", True, right,
                    bool(official_words(reply)))


@dataclass(frozen=True)
class PaperRule:
    read: Callable[[Item, str], ItemRead]
    script: str  # the official script, as its repository names it
    figure: str


# Paper mode's reading per benchmark (Benchmark.name); a benchmark listed here is scored by accuracy.
PAPER_READERS: dict[str, PaperRule] = {
    MMAR_BENCHMARK: PaperRule(_mmar_paper, "ddlBoJack/MMAR code/evaluation.py",
                              "accuracy of the bag-of-words match; items without a reply skipped"),
    AIRBENCH_FOUNDATION: PaperRule(_airbench_paper, "OFA-Sys/AIR-Bench score_foundation.py",
                                   "accuracy over the replies whose letter is read; failures left out"),
}


def scored_by_accuracy(task: Task) -> bool:
    return task.benchmark in PAPER_READERS


def _meta_defaults(task: Task) -> dict:
    """What an item's meta says of a Foundation task in any case: its task_name, and the
    dataset_name where the task has one folder only (so tables need no meta for those)."""
    if not task.dataset_names:
        return {}
    out = {"task_name": task.name}
    if len(task.dataset_names) == 1:
        out["dataset_name"] = task.dataset_names[0]
    return out


def score_accuracy(task: Task, items: Sequence[Item], replies: Sequence[str], settings: ScoreSettings) -> TaskResult:
    """One task's accuracy (0-100) in the settings' mode, with its CI, test against guessing and
    per-item records (which carry what the benchmark's tables need)."""
    paper = settings.mode == "paper"
    rule = PAPER_READERS[task.benchmark]
    read = rule.read if paper else strict_read
    reads = [read(it, replies[it.index]) for it in items]
    n = len(items)
    scored = np.array([r.scored for r in reads], dtype=bool)
    correct = np.array([r.correct for r in reads], dtype=bool) & scored
    unread = np.array([not r.valid for r in reads], dtype=bool)
    n_choices = np.array([len(it.choices) for it in items])
    chance = 1.0 / n_choices
    n_scored = int(scored.sum())
    steps: dict[str, int] = {}
    for r in reads:
        steps[r.rule] = steps.get(r.rule, 0) + 1
    summary = {"score": None, "n": n, "n_scored": n_scored, "n_invalid": int(unread.sum()),
               "accuracy": None, "invalid_rate": 100.0 * float(unread.mean()) if n else 0.0,
               "chance_accuracy": random_guess_accuracy(n_choices), "ci95": None, "p_value": None,
               "rules": dict(sorted(steps.items()))}
    if paper:
        summary.update(figure=rule.figure, script=rule.script, n_dropped=n - n_scored)
    replicates = np.empty(0)
    if n_scored:
        accuracy = 100.0 * float(correct.sum()) / n_scored
        summary.update(score=accuracy, accuracy=accuracy,
                       p_value=poisson_binomial_sf(int(correct.sum()), chance[scored]))
        if settings.n_bootstrap > 0:
            # Items are resampled; a replicate is over the items it drew that the sample counts.
            counts = bootstrap_counts(n, settings.n_bootstrap, settings.rng(task)) * scored[None, :]
            drawn = counts.sum(axis=1)
            replicates = 100.0 * (counts @ correct.astype(float)) / np.maximum(drawn, 1)
            summary["ci95"] = percentile_ci(replicates)
    defaults = _meta_defaults(task)
    samples = [
        {"index": it.index, "id": it.id, "task": task.name, "parsed": r.parsed, "rule": r.rule,
         "reference": it.reference, "correct": bool(r.correct), "scored": bool(r.scored),
         "n_choices": len(it.choices), "meta": {**defaults, **it.meta} if defaults else it.meta}
        for it, r in zip(items, reads)
    ]
    return TaskResult(summary, replicates, samples)


def benchmark_section(benchmark: Benchmark, results: dict[str, TaskResult], n_bootstrap: int) -> dict:
    """A benchmark's part of the result: its aggregate (as its leaderboard publishes it), the tasks
    missing or unscored, the random-guess baseline aggregated the same way, and its tables."""
    aggregation = get_aggregation(benchmark.aggregation)
    own = {t.name: results[t.name] for t in benchmark.tasks if t.name in results}
    scores = {name: r.summary["score"] for name, r in own.items() if r.summary["score"] is not None}
    weights = {name: r.summary.get("n_scored", r.summary["n"]) for name, r in own.items()}
    categories, average = aggregation.combine(benchmark, scores, weights)
    reps = {name: own[name].replicates for name in scores}
    average_ci = None
    if n_bootstrap > 0 and scores and all(r.size for r in reps.values()):
        average_ci = percentile_ci(aggregation.combine(benchmark, reps, weights)[1])
    out = {
        "name": benchmark.name,
        "aggregation": aggregation.name,
        "average": average,
        "average_ci95": average_ci,
        "categories": categories,
        "n_tasks": len(scores),
        "complete": len(scores) == len(benchmark.tasks),
        "missing_tasks": [t.name for t in benchmark.tasks if t.name not in own],
        "unscored_tasks": [name for name, r in own.items() if r.summary["score"] is None],
        "n": sum(r.summary["n"] for r in own.values()),
    }
    chances = {name: r.summary["chance_accuracy"] for name, r in own.items()
               if r.summary.get("chance_accuracy") is not None}
    if chances:
        all_items = {name: r.summary["n"] for name, r in own.items()}
        guess_categories, guess_average = aggregation.combine(benchmark, chances, all_items)
        out["random_guess"] = {"average": guess_average, "categories": guess_categories}
    samples = [s for r in own.values() for s in r.samples if "scored" in s and "meta" in s]
    if samples and benchmark.breakdowns:
        out["tables"] = breakdown_tables(benchmark.breakdowns, samples)
        out.setdefault("random_guess", {})["tables"] = {key: {value: row["random_guess"] for value, row in table.items()}
                                         for key, table in out["tables"].items()}
    if aggregation.folder_table and samples:
        folders: dict[str, list] = {}
        tasks = {t.name: t for t in benchmark.tasks}
        for r in own.values():
            for s in r.samples:
                task = tasks[s["task"]]
                folders.setdefault(folder_of(task.name, s["meta"] or {}, task.dataset_names), []).append(s)
        out["folders"] = {name: group_row(group) for name, group in folders.items()}
    return out


def benchmarks_of(results: dict[str, TaskResult]) -> list[Benchmark]:
    """The benchmarks the scored tasks belong to, in registry order."""
    present = {name for name in results}
    return [b for b in BENCHMARKS.values() if any(t.name in present for t in b.tasks)]
