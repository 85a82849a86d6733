"""Paper mode's per-task scorers: a task scored as the authors' script for the family scores it.

``scorers(rule_set)`` gives the table ``score()`` dispatches on in paper mode (the same shape as
strict mode's ``SCORERS``, so the long-audio tables work in either mode). A task's ``score`` is
the figure the script reports (``figure`` names it); ``accuracy``, ``macro_f1`` and
``weighted_f1`` are over the pairs that figure counts.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import MCQ
from audiomarathon.tasks import WER
from audiomarathon.tasks import Task

from .paper_readers import authors_normalize
from .paper_readers import authors_transcript
from .paper_rules import Accuracy
from .paper_rules import AsrRule
from .paper_rules import Everything
from .paper_rules import Macro
from .paper_rules import RuleSet
from .paper_rules import TaskRule
from .paper_rules import Weighted
from .paper_rules import tally
from .score_inputs import Item
from .score_inputs import ScoreSettings
from .score_inputs import ScoringInputError
from .score_inputs import TaskResult
from .stats import bootstrap_counts
from .stats import bootstrap_indices
from .stats import percentile_ci
from .stats import poisson_binomial_sf
from .stats import word_errors


def _class_key(rule: TaskRule, item: Item, letter: str | None) -> str | None:
    """What the script compares: the letter, or the option text it stands for."""
    if letter is None or rule.classes == "letters":
        return letter
    i = LETTERS.index(letter)
    return item.choices[i] if i < len(item.choices) else None


def score_mcq(rules: RuleSet, task: Task, items: Sequence[Item], replies: Sequence[str], settings: ScoreSettings) -> TaskResult:
    rule: TaskRule = rules.tasks[task.name]
    reads = [rule.read(replies[it.index], it.choices) for it in items]
    true_keys = [_class_key(rule, it, it.reference) for it in items]
    pred_keys = [_class_key(rule, it, letter) for it, (letter, _) in zip(items, reads)]
    counted = rule.counts(true_keys, pred_keys)
    classes = sorted(set(true_keys) | {p for p in pred_keys if p is not None})
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    y_true = np.array([index[c] for c in true_keys], dtype=np.int64)
    y_pred = np.array([k if p is None else index[p] for p in pred_keys], dtype=np.int64)
    fixed = sorted(set(true_keys))  # the reference classes, for a figure over them
    n, n_scored = len(items), int(counted.sum())
    unread = np.array([letter is None for letter, _ in reads], dtype=bool)
    correct = (y_true == y_pred) & counted
    steps: dict[str, int] = {}
    for _, step in reads:
        steps[step] = steps.get(step, 0) + 1
    chance = np.array([1.0 / len(it.choices) for it in items])[counted]
    summary = {"score": None, "figure": rule.figure.name, "script": f"{rules.source}/{rule.script}",
               "n": n, "n_scored": n_scored, "n_dropped": n - n_scored, "n_invalid": int(unread.sum()),
               "accuracy": None, "macro_f1": None, "weighted_f1": None,
               "invalid_rate": 100.0 * float(unread.mean()) if n else 0.0,
               "chance_accuracy": 100.0 * float(chance.mean()) if n_scored else None,
               "ci95": None, "p_value": None, "rules": dict(sorted(steps.items()))}
    replicates = np.empty(0)
    if n_scored:
        t = tally(y_true, y_pred, k, counted[None, :].astype(float))
        figures = {"score": rule.figure, "accuracy": Accuracy()}
        if not isinstance(rule.counts, Everything):  # F1s over answered pairs only
            figures.update(macro_f1=Macro(), weighted_f1=Weighted())
        summary.update({name: 100.0 * float(f(t, classes, fixed)[0]) for name, f in figures.items()})
        summary["p_value"] = poisson_binomial_sf(int(correct.sum()), chance)
        if settings.n_bootstrap > 0:
            # Items are resampled; each replicate counts the pairs the full sample counts.
            counts = bootstrap_counts(n, settings.n_bootstrap, settings.rng(task)) * counted[None, :]
            replicates = 100.0 * rule.figure(tally(y_true, y_pred, k, counts), classes, fixed)
            summary["ci95"] = percentile_ci(replicates)
    samples = [
        {"index": it.index, "id": it.id, "task": task.name, "parsed": letter, "rule": step,
         "reference": it.reference, "correct": bool(right), "scored": bool(kept)}
        for it, (letter, step), right, kept in zip(items, reads, y_true == y_pred, counted)
    ]
    return TaskResult(summary, replicates, samples)


def _prepared(rule: AsrRule, reply: str) -> tuple[str | None, str]:
    """(the transcript the script scores, or None for a failed call; what decided)."""
    if rule.error_prefix and reply.startswith("ERROR"):
        return None, "error_prefix"
    if rule.after_assistant and "assistant\n" in reply:
        reply = reply[reply.rfind("assistant\n") + len("assistant\n"):].strip()
    return authors_transcript(reply), "transcript"


def score_asr(rules: RuleSet, task: Task, items: Sequence[Item], replies: Sequence[str], settings: ScoreSettings) -> TaskResult:
    rule: AsrRule = rules.tasks[task.name]
    errors, words = np.empty(len(items)), np.empty(len(items))
    empty = np.zeros(len(items), dtype=bool)
    samples = []
    for j, it in enumerate(items):
        hyp, step = _prepared(rule, replies[it.index])
        ref = authors_normalize(it.reference)
        if not ref:
            raise ScoringInputError(f"references[{it.index}] ({task.name}) is empty after normalization")
        empty[j] = not hyp
        # WER 100 where the normalised transcript is empty (the scripts' rule); word_errors counts
        # an empty hypothesis as all deletions, which is the same.
        errors[j], words[j] = word_errors(ref, authors_normalize(hyp or ""))
        samples.append({"index": it.index, "id": it.id, "task": task.name, "parsed": hyp, "rule": step,
                        "wer": 100.0 * errors[j] / words[j], "correct": None})
    scored = ~empty if rule.skip_empty else np.ones(len(items), dtype=bool)
    for s, kept in zip(samples, scored):
        s["scored"] = bool(kept)
    errors, words = errors[scored], words[scored]
    n_scored = int(scored.sum())
    summary = {"score": None, "figure": "100 - mean per-utterance WER", "script": f"{rules.source}/{rule.script}",
               "n": len(items), "n_scored": n_scored, "n_empty": int(empty.sum()), "wer": None, "corpus_wer": None,
               "ci95": None, "corpus_wer_ci95": None, "normalizer": "authors"}
    replicates = np.empty(0)
    if n_scored:
        per_utt = 100.0 * errors / words
        wer = float(per_utt.mean())
        if settings.n_bootstrap > 0:
            idx = bootstrap_indices(n_scored, settings.n_bootstrap, settings.rng(task))
            replicates = np.clip(100.0 - per_utt[idx].mean(axis=1), 0.0, 100.0)
            summary["corpus_wer_ci95"] = percentile_ci(100.0 * errors[idx].sum(axis=1) / words[idx].sum(axis=1))
        # The scripts print 100 - WER unclipped ("word accuracy"); the task score is clipped to 0-100
        # like every other, which differs only for a WER above 100.
        summary.update(score=float(np.clip(100.0 - wer, 0.0, 100.0)), wer=wer,
                       corpus_wer=float(100.0 * errors.sum() / words.sum()), ci95=percentile_ci(replicates))
    return TaskResult(summary, replicates, samples)


@functools.lru_cache(maxsize=None)
def scorers(rules: RuleSet) -> dict[str, Callable]:
    """score()'s per-metric table for one family's rules."""
    return {MCQ: functools.partial(score_mcq, rules), WER: functools.partial(score_asr, rules)}
