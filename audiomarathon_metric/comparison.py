"""`compare(...)`: paired tests between two runs on the same items.

Accuracy: exact McNemar on the discordant pairs. Macro-F1 (ASR: score = 100 - WER): paired
bootstrap — the same resampled items for both runs — giving a CI and a two-sided p-value for
the difference A - B. Differences are in points on the 0-100 scale.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from audiomarathon.tasks import MCQ
from audiomarathon.tasks import WER

from .normalizers import get_normalizer
from .scoring import ScoringInputError
from .scoring import Settings
from .scoring import _check_settings
from .scoring import _rng
from .scoring import clean_transcript
from .scoring import group_by_task
from .scoring import encode_classes
from .scoring import extract_all
from .scoring import prepare_items
from .scoring import word_errors
from .stats import bootstrap_indices
from .stats import bootstrap_p_value
from .stats import f1_from_labels
from .stats import mcnemar_exact
from .stats import percentile_ci


def _compare_mcq(task, items, replies_a, replies_b, settings):
    letters_a = [ex.letter for ex in extract_all(items, replies_a)]
    letters_b = [ex.letter for ex in extract_all(items, replies_b)]
    y_true, (pa, pb), k = encode_classes(items, letters_a, letters_b)
    keep = (pa < k) & (pb < k) if settings.mode == "paper" else np.ones(len(items), dtype=bool)
    y_true, pa, pb = y_true[keep], pa[keep], pb[keep]
    right_a, right_b = pa == y_true, pb == y_true
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    fa, fb = f1_from_labels(y_true, pa, k), f1_from_labels(y_true, pb, k)
    diff = 100.0 * float(fa.macro_f1 - fb.macro_f1)
    reps = np.empty(0)
    if settings.n_bootstrap > 0 and y_true.size:
        idx = bootstrap_indices(y_true.size, settings.n_bootstrap, _rng(settings, task, stream=1))
        reps = 100.0 * (f1_from_labels(y_true[idx], pa[idx], k).macro_f1 - f1_from_labels(y_true[idx], pb[idx], k).macro_f1)
    return {
        "n": int(y_true.size),
        "accuracy_a": 100.0 * float(fa.accuracy),
        "accuracy_b": 100.0 * float(fb.accuracy),
        "only_a_correct": only_a,
        "only_b_correct": only_b,
        "mcnemar_p": mcnemar_exact(only_a, only_b),
        "score_a": 100.0 * float(fa.macro_f1),
        "score_b": 100.0 * float(fb.macro_f1),
        "score_diff": diff,
        "ci95": percentile_ci(reps),
        "p_value": bootstrap_p_value(reps),
    }, reps


def _compare_asr(task, items, replies_a, replies_b, settings):
    normalize = get_normalizer(settings.normalizer)
    err = np.empty((2, len(items)))
    words = np.empty(len(items))
    for j, it in enumerate(items):
        ref = normalize(it.reference)
        if not ref.split():
            raise ScoringInputError(f"references[{it.index}] ({task.name}) is empty after normalization")
        for r, replies in enumerate((replies_a, replies_b)):
            err[r, j], words[j] = word_errors(ref, normalize(clean_transcript(replies[it.index], task)))
    per_utt = 100.0 * err / words
    score = np.clip(100.0 - per_utt.mean(axis=1), 0.0, 100.0)
    reps = np.empty(0)
    if settings.n_bootstrap > 0:
        idx = bootstrap_indices(len(items), settings.n_bootstrap, _rng(settings, task, stream=1))
        s = np.clip(100.0 - per_utt[:, idx].mean(axis=2), 0.0, 100.0)
        reps = s[0] - s[1]
    return {
        "n": len(items),
        "wer_a": float(per_utt[0].mean()),
        "wer_b": float(per_utt[1].mean()),
        "score_a": float(score[0]),
        "score_b": float(score[1]),
        "score_diff": float(score[0] - score[1]),
        "ci95": percentile_ci(reps),
        "p_value": bootstrap_p_value(reps),
    }, reps


COMPARERS = {MCQ: _compare_mcq, WER: _compare_asr}


def compare(
    predictions_a: Sequence[str],
    predictions_b: Sequence[str],
    references: Sequence[str],
    tasks: Sequence[str] | str,
    choices: Sequence[Sequence[str]] | None = None,
    ids: Sequence[str] | None = None,
    mode: str = "strict",
    normalizer: str | Callable[[str], str] = "benchmark",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict:
    """Paired comparison of run A and run B on the same items (same order).

    Returns ``{"tasks": {config: {...}}, "average_diff": float, "average_diff_ci95": [lo, hi], ...}``
    where per task: n, accuracy_a/b, only_a_correct, only_b_correct, mcnemar_p (MCQ),
    score_a/b, score_diff (= A - B), ci95 and p_value from the paired bootstrap.
    """
    settings = Settings(mode, normalizer, n_bootstrap, seed)
    _check_settings(settings)
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
    out_tasks, reps = {}, []
    for name, group in group_by_task(items).items():
        task = group[0].task
        out_tasks[name], r = COMPARERS[task.metric](task, group, replies_a, replies_b, settings)
        reps.append(r)
    diffs = [t["score_diff"] for t in out_tasks.values()]
    have_reps = n_bootstrap > 0 and reps and all(r.size for r in reps)
    return {
        "tasks": out_tasks,
        "average_diff": float(np.mean(diffs)) if diffs else None,
        "average_diff_ci95": percentile_ci(np.mean(reps, axis=0)) if have_reps else None,
        "mode": mode,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
    }
