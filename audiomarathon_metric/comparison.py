"""`compare(...)`: paired tests between two runs on the same items.

Accuracy: exact McNemar on the discordant pairs. Macro-F1 (ASR: score = 100 - WER): paired
bootstrap — the same resampled items for both runs — giving a CI and a two-sided p-value for
the difference A - B. Differences are in points on the 0-100 scale. Strict mode compares every
item (an invalid reply scored as its least favourable wrong answer); paper mode only the items both runs
answered validly (ASR: non-empty transcripts in both), so ``n`` can be smaller than ``n_total``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from audiomarathon.tasks import BENCHMARKS
from audiomarathon.tasks import MCQ
from audiomarathon.tasks import WER

from .accuracy_scoring import PAPER_READERS
from .accuracy_scoring import benchmarks_of
from .aggregations import get_aggregation
from .extraction import clean_transcript
from .normalizers import get_normalizer
from .score_inputs import ScoreSettings
from .score_inputs import ScoringInputError
from .score_inputs import prepare_items
from .scoring import encode_classes
from .scoring import extract_all
from .scoring import group_by_task
from .stats import bootstrap_counts
from .stats import bootstrap_indices
from .stats import bootstrap_p_value
from .stats import f1_scores
from .stats import least_favourable
from .stats import mcnemar_exact
from .stats import percentile_ci
from .stats import word_errors

# The settings a comparison uses, and takes as keyword arguments.
COMPARE_SETTINGS = ("mode", "normalizer", "n_bootstrap", "seed")


def _unscored(n_total: int) -> dict:
    return {"n": 0, "n_total": n_total, "score_a": None, "score_b": None, "score_diff": None, "ci95": None,
            "p_value": None}


def _compare_mcq(task, items, replies_a, replies_b, settings):
    letters_a = [ex.letter for ex in extract_all(items, replies_a)]
    letters_b = [ex.letter for ex in extract_all(items, replies_b)]
    y_true, (pa, pb), k, wrong = encode_classes(items, letters_a, letters_b)
    # paper: only items both runs answered validly; strict: all, an invalid reply scored as its least
    # favourable wrong answer (chosen per run).
    keep = (pa < k) & (pb < k) if settings.mode == "paper" else np.ones(len(items), dtype=bool)
    if not keep.any():
        out = _unscored(len(items))
        out.update(accuracy_a=None, accuracy_b=None, only_a_correct=0, only_b_correct=0, mcnemar_p=None)
        return out, np.empty(0)
    wrong = [w for w, kept in zip(wrong, keep) if kept]
    y_true, pa, pb = y_true[keep], pa[keep], pb[keep]
    pa, pb = least_favourable(y_true, pa, k, wrong), least_favourable(y_true, pb, k, wrong)
    right_a, right_b = pa == y_true, pb == y_true
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    fa, fb = f1_scores(y_true, pa, k), f1_scores(y_true, pb, k)
    reps = np.empty(0)
    if settings.n_bootstrap > 0:
        counts = bootstrap_counts(y_true.size, settings.n_bootstrap, settings.rng(task, stream=1))
        reps = 100.0 * (f1_scores(y_true, pa, k, counts).macro_f1
                        - f1_scores(y_true, pb, k, counts).macro_f1)
    return {
        "n": int(y_true.size),
        "n_total": len(items),
        "accuracy_a": 100.0 * float(fa.accuracy),
        "accuracy_b": 100.0 * float(fb.accuracy),
        "only_a_correct": only_a,
        "only_b_correct": only_b,
        "mcnemar_p": mcnemar_exact(only_a, only_b),
        "score_a": 100.0 * float(fa.macro_f1),
        "score_b": 100.0 * float(fb.macro_f1),
        "score_diff": 100.0 * float(fa.macro_f1 - fb.macro_f1),
        "ci95": percentile_ci(reps),
        "p_value": bootstrap_p_value(reps),
    }, reps


def _compare_asr(task, items, replies_a, replies_b, settings):
    normalize = get_normalizer(settings.normalizer)
    err = np.empty((2, len(items)))
    words = np.empty(len(items))
    empty = np.zeros((2, len(items)), dtype=bool)
    for j, it in enumerate(items):
        ref = normalize(it.reference)
        if not ref.split():
            raise ScoringInputError(f"references[{it.index}] ({task.name}) is empty after normalization")
        for r, replies in enumerate((replies_a, replies_b)):
            hyp = normalize(clean_transcript(replies[it.index], task))
            empty[r, j] = not hyp.split()
            err[r, j], words[j] = word_errors(ref, hyp)
    keep = ~empty.any(axis=0) if settings.mode == "paper" else np.ones(len(items), dtype=bool)
    if not keep.any():
        out = _unscored(len(items))
        out.update(wer_a=None, wer_b=None)
        return out, np.empty(0)
    per_utt = 100.0 * err[:, keep] / words[keep]
    score = np.clip(100.0 - per_utt.mean(axis=1), 0.0, 100.0)
    reps = np.empty(0)
    if settings.n_bootstrap > 0:
        idx = bootstrap_indices(int(keep.sum()), settings.n_bootstrap, settings.rng(task, stream=1))
        s = np.clip(100.0 - per_utt[:, idx].mean(axis=2), 0.0, 100.0)
        reps = s[0] - s[1]
    return {
        "n": int(keep.sum()),
        "n_total": len(items),
        "wer_a": float(per_utt[0].mean()),
        "wer_b": float(per_utt[1].mean()),
        "score_a": float(score[0]),
        "score_b": float(score[1]),
        "score_diff": float(score[0] - score[1]),
        "ci95": percentile_ci(reps),
        "p_value": bootstrap_p_value(reps),
    }, reps


def _compare_accuracy(task, items, replies_a, replies_b, settings):
    """MMAR / AIR-Bench Foundation: their score is accuracy. Both runs read by this metric's
    extraction (a missing reply is invalid); strict keeps every item, an invalid reply wrong; paper
    keeps the items both runs answered validly."""
    from .accuracy_scoring import strict_read

    reads = [[strict_read(it, replies[it.index]) for it in items] for replies in (replies_a, replies_b)]
    valid = np.array([[r.valid for r in run] for run in reads], dtype=bool)
    right = np.array([[r.correct for r in run] for run in reads], dtype=bool)
    keep = valid.all(axis=0) if settings.mode == "paper" else np.ones(len(items), dtype=bool)
    if not keep.any():
        out = _unscored(len(items))
        out.update(accuracy_a=None, accuracy_b=None, only_a_correct=0, only_b_correct=0, mcnemar_p=None)
        return out, np.empty(0)
    ra, rb = right[0, keep], right[1, keep]
    only_a, only_b = int((ra & ~rb).sum()), int((~ra & rb).sum())
    acc_a, acc_b = 100.0 * float(ra.mean()), 100.0 * float(rb.mean())
    reps = np.empty(0)
    if settings.n_bootstrap > 0:
        counts = bootstrap_counts(ra.size, settings.n_bootstrap, settings.rng(task, stream=1))
        reps = 100.0 * (counts @ (ra.astype(float) - rb.astype(float))) / ra.size
    return {
        "n": int(ra.size), "n_total": len(items), "accuracy_a": acc_a, "accuracy_b": acc_b,
        "only_a_correct": only_a, "only_b_correct": only_b, "mcnemar_p": mcnemar_exact(only_a, only_b),
        "score_a": acc_a, "score_b": acc_b, "score_diff": acc_a - acc_b,
        "ci95": percentile_ci(reps), "p_value": bootstrap_p_value(reps),
    }, reps


COMPARERS = {MCQ: _compare_mcq, WER: _compare_asr}


def _comparer(task):
    return _compare_accuracy if task.benchmark in PAPER_READERS else COMPARERS[task.metric]


def _benchmark_averages(out_tasks: dict, reps: dict, n_bootstrap: int) -> dict:
    """Per benchmark key: both runs' averages and their difference, combined the benchmark's way
    (over the tasks compared; linear, so the replicates of the difference combine the same way)."""
    sections = {}
    for bench in benchmarks_of(out_tasks):
        agg = get_aggregation(bench.aggregation)
        names = [t.name for t in bench.tasks if t.name in out_tasks and out_tasks[t.name]["score_diff"] is not None]
        weights = {name: out_tasks[name]["n"] for name in names}
        value = {}
        for side in ("a", "b"):
            value[side] = agg.combine(bench, {name: out_tasks[name][f"score_{side}"] for name in names}, weights)[1]
        diff_reps = [reps[name] for name in names]
        ci = None
        if n_bootstrap > 0 and names and all(r.size for r in diff_reps):
            ci = percentile_ci(agg.combine(bench, {name: reps[name] for name in names}, weights)[1])
        sections[bench.key] = {"average_a": value["a"], "average_b": value["b"],
                               "average_diff": None if value["a"] is None else value["a"] - value["b"],
                               "average_diff_ci95": ci, "n_tasks": len(names)}
    return sections


def compare(
    predictions_a: Sequence[str],
    predictions_b: Sequence[str],
    references: Sequence[str],
    tasks: Sequence[str] | str,
    choices: Sequence[Sequence[str]] | None = None,
    ids: Sequence[str] | None = None,
    *,
    settings: ScoreSettings | None = None,
    **options,
) -> dict:
    """Paired comparison of run A and run B on the same items (same order).

    How: ``settings`` (a ScoreSettings; a comparison uses its mode, normalizer, n_bootstrap and
    seed) or those four as keyword arguments, which override ``settings`` when both are given.
    Returns ``{"tasks": {config: {...}}, "average_diff": float, "average_diff_ci95": [lo, hi], ...}``
    where per task: n, accuracy_a/b, only_a_correct, only_b_correct, mcnemar_p (MCQ),
    score_a/b, score_diff (= A - B), ci95 and p_value from the paired bootstrap.
    """
    settings = ScoreSettings.of(settings, options, "compare()", accepted=COMPARE_SETTINGS)
    if settings.family is not None:
        raise ScoringInputError(f"family={settings.family!r}: compare() reads both runs by this metric's rules in "
                                f"either mode (paper mode keeps the items both answered validly); family applies "
                                f"to score()")
    replies_a, items = prepare_items(predictions_a, references, tasks, choices, ids)
    replies_b = list(predictions_b) if not isinstance(predictions_b, str) else predictions_b
    if isinstance(replies_b, str) or len(replies_b) != len(replies_a):
        raise ScoringInputError(
            f"predictions_b must be a list as long as predictions_a ({len(replies_a)}), "
            f"got {len(replies_b) if not isinstance(replies_b, str) else 'a string'}"
        )
    for i, v in enumerate(replies_b):
        if not isinstance(v, str):
            raise ScoringInputError(f"predictions_b[{i}] must be a string, got {type(v).__name__}: {v!r}")
    out_tasks, task_reps = {}, {}
    for name, group in group_by_task(items).items():
        task = group[0].task
        out_tasks[name], task_reps[name] = _comparer(task)(task, group, replies_a, replies_b, settings)
    # A task with no item to compare (paper mode: none valid in both runs) is named, not averaged.
    unscored = [name for name, t in out_tasks.items() if t["score_diff"] is None]
    others = [b for b in benchmarks_of(out_tasks) if b.name != "AudioMarathon"]
    sections = _benchmark_averages(out_tasks, task_reps, settings.n_bootstrap) if others else {}
    audiomarathon = [n for n in out_tasks if n in BENCHMARKS["AudioMarathon"].task_names]
    if not audiomarathon and len(others) == 1:  # one other benchmark: its average, its way
        top = {k: sections[others[0].key][k] for k in ("average_a", "average_b", "average_diff", "average_diff_ci95")}
    elif not audiomarathon and others:  # benchmarks whose averages do not combine: see "benchmarks"
        top = {"average_a": None, "average_b": None, "average_diff": None, "average_diff_ci95": None}
    else:  # AudioMarathon's tasks: the plain mean over them, as before
        diffs = [out_tasks[n]["score_diff"] for n in audiomarathon if out_tasks[n]["score_diff"] is not None]
        reps = [task_reps[n] for n in audiomarathon if task_reps[n].size]
        have_reps = settings.n_bootstrap > 0 and reps and len(reps) == len(diffs)
        # Each run's average over the same tasks as the difference (their common items).
        scored = [out_tasks[n] for n in audiomarathon if out_tasks[n]["score_diff"] is not None]
        top = {"average_a": float(np.mean([t["score_a"] for t in scored])) if scored else None,
               "average_b": float(np.mean([t["score_b"] for t in scored])) if scored else None,
               "average_diff": float(np.mean(diffs)) if diffs else None,
               "average_diff_ci95": percentile_ci(np.mean(reps, axis=0)) if have_reps else None}
    out = {
        "tasks": out_tasks,
        **top,
        "unscored_tasks": unscored,
        "mode": settings.mode,
        "n_bootstrap": settings.n_bootstrap,
        "seed": settings.seed,
    }
    if sections:
        out["benchmarks"] = sections
    return out
