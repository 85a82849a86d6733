"""Statistics for the metric: the wrong answer an invalid reply is scored as, accuracy and F1
(vectorized over bootstrap replicates), percentile bootstrap CIs, the exact Poisson-binomial test
against guessing, Bonferroni, exact McNemar and the paired bootstrap; word errors of a transcript.

Label arrays: ``y_true`` holds class ids in [0, K); ``y_pred`` holds class ids in [0, K] where K
means *invalid* (an unparsable reply). Before F1 is computed, ``least_favourable`` replaces every
invalid reply by one of its item's wrong options: the assignment, over all invalid replies of the
task jointly, that gives the lowest macro-F1. An invalid reply is then a wrong answer in every
respect (accuracy, macro-F1, weighted F1), and no choice of wrong answers could have scored lower,
so replacing wrong answers by refusals can never raise a score. F1 is then sklearn's ``f1_score``
of that run (the macro mean over the classes in its references or predictions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import binom


@dataclass(frozen=True)
class F1:
    accuracy: np.ndarray  # fractions in [0, 1]; floats for one sample, (B,) for replicates
    macro_f1: np.ndarray
    weighted_f1: np.ndarray


def _f1_sum(tp: float, denom: float) -> float:
    return 2.0 * tp / denom if denom > 0 else 0.0


def least_favourable(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
                     wrong: Sequence[Sequence[int]], weighted: bool = False) -> np.ndarray:
    """``y_pred`` with every invalid entry (== n_classes) replaced by a wrong option of its item
    (``wrong[i]``: class ids), chosen jointly so that sklearn's macro-F1 of the result (the mean
    over the classes in ``y_true`` or the result) is the lowest any such run can score; with
    ``weighted=True``, the lowest weighted F1 (the sum of per-class F1 weighted by true counts).

    Macro-F1 is S / P: S the sum of per-class F1, P the number of classes present. An invalid reply
    sent to a class nothing else names adds 1 to P and nothing to S; sent to a class with hits it
    lowers S. Which is worse depends on the final ratio, so the ratio is minimised exactly by
    Dinkelbach's method: for a trial value r, minimise S - r*P (below), set r to the ratio of the
    minimiser, and repeat until no assignment goes below r. After the first round each value of P
    (at most K) is met at most once, so this ends within K + 2 rounds; where no invalid reply can
    name a class nothing else names, one round does (P cannot change).
    An item with no wrong option stays invalid.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    out = np.array(y_pred, dtype=np.int64)
    k = n_classes
    todo = [int(i) for i in np.flatnonzero(out == k) if len(wrong[i])]
    if not todo:
        return out
    valid = out < k
    tp = np.bincount(y_true[valid & (y_true == out)], minlength=k).astype(float)
    true_count = np.bincount(y_true, minlength=k).astype(float)
    denom = true_count + np.bincount(out[valid], minlength=k)
    if weighted:
        tp = tp * true_count  # the weights of weighted F1; a class with no true item weighs nothing
    items = [(i, sorted(set(int(c) for c in wrong[i]))) for i in todo]
    absent = denom == 0  # classes only an invalid reply could bring into the macro mean
    if weighted or not any(absent[c] for _, cs in items for c in cs):
        _min_cost_assignment(items, tp, denom, np.zeros(k), out)
        return out
    ratio = np.inf
    best = None
    penalty = np.zeros(k)
    while True:
        trial = out.copy()
        extra = _min_cost_assignment(items, tp, denom, penalty, trial)
        d = denom + extra
        s = float(np.sum(np.divide(2.0 * tp, d, out=np.zeros(k), where=d > 0)))
        p = int(np.count_nonzero(d))
        if best is not None and s - ratio * p >= -1e-12 * max(1.0, p):
            return best
        ratio, best = s / p, trial
        penalty = np.where(absent, ratio, 0.0)


def _min_cost_assignment(items: list[tuple[int, list[int]]], tp: np.ndarray, denom: np.ndarray,
                         penalty: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Writes into ``out`` the assignment of each (item, wrong classes) that minimises
    sum_c [2 tp_c / (denom_c + m_c) - penalty_c * (m_c > 0)], m_c the items sent to c; returns m.

    A min-cost flow: items -> their wrong classes -> sink, where the m-th unit into class c costs
    cost_c(m) - cost_c(m - 1), non-decreasing in m because 2 tp / (denom + m) is convex in m and
    the penalty is paid once, by the first unit. Items are added one at a time along the cheapest
    augmenting path (the new item to a class, possibly moving earlier items between their wrong
    classes); with convex unit costs and no negative cycle at the start this keeps the flow
    optimal. Moving an item only shifts a unit between classes, so a path's cost is that of the
    class at its end.
    """
    k = tp.size
    extra = [0] * k  # units assigned to each class so far

    def step_cost(c: int) -> float:
        d = denom[c] + extra[c]
        first = penalty[c] if extra[c] == 0 else 0.0
        return _f1_sum(tp[c], d + 1) - _f1_sum(tp[c], d) - first

    holders: list[dict[int, int]] = [dict() for _ in range(k)]  # class -> {wrong mask: items held there}
    reach = [0] * k  # class -> OR of the masks held there: where its items could move
    placed: dict[tuple[int, int], list[int]] = {}  # (class, mask) -> items

    def hold(c: int, m: int, delta: int) -> None:
        left = holders[c].get(m, 0) + delta
        if left:
            holders[c][m] = left
        else:
            del holders[c][m]
        reach[c] = 0
        for held in holders[c]:
            reach[c] |= held

    for i, classes in items:
        mask = sum(1 << c for c in classes)
        # Breadth-first over classes: from class c an item held there can move to any of its other
        # wrong classes, so the new item can end up adding a unit to any reachable class.
        parent: dict[int, int | None] = {c: None for c in classes}
        frontier = list(parent)
        while frontier:
            nxt = []
            for c in frontier:
                for c2 in range(k):
                    if reach[c] >> c2 & 1 and c2 not in parent:
                        parent[c2] = c
                        nxt.append(c2)
            frontier = nxt
        best = min(parent, key=lambda c: (step_cost(c), c))
        extra[best] += 1
        # Walk the path back: each hop moves one item whose wrong options cover the next class.
        c = best
        while parent[c] is not None:
            prev = parent[c]
            m = next(held for held in holders[prev] if held >> c & 1)
            moved = placed[(prev, m)].pop()
            hold(prev, m, -1)
            hold(c, m, +1)
            placed.setdefault((c, m), []).append(moved)
            c = prev
        hold(c, mask, +1)
        placed.setdefault((c, mask), []).append(i)
    for (c, _), held_items in placed.items():
        out[held_items] = c
    return np.array(extra, dtype=float)


def f1_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, counts: np.ndarray | None = None) -> F1:
    """Accuracy, macro-F1 and weighted F1 of one sample (``counts=None``) or of B bootstrap
    replicates, where ``counts`` (B x n) says how often each item was drawn in each replicate.
    ``y_pred == n_classes`` is a reply that counts as wrong for no class. The macro mean is over
    the classes with a true item or a prediction (in the replicate), as sklearn's is."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    n, k = y_true.size, n_classes
    single = counts is None
    w = np.ones((1, n)) if single else np.asarray(counts, dtype=float)
    if n == 0 or k == 0:
        zero = np.zeros(w.shape[0])
        return F1(*(zero[0] if single else zero,) * 3)
    onehot_true = np.zeros((n, k))
    onehot_true[np.arange(n), y_true] = 1.0
    onehot_pred = np.zeros((n, k + 1))
    onehot_pred[np.arange(n), y_pred] = 1.0
    true_count = w @ onehot_true  # (B, K)
    pred_count = (w @ onehot_pred)[:, :k]
    tp = w @ (onehot_true * onehot_pred[:, :k])
    denom = true_count + pred_count
    present = denom > 0
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (#true + #predicted)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(denom.shape), where=denom > 0)
    macro = f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    total = true_count.sum(axis=1)
    weighted = (f1 * true_count).sum(axis=1) / np.maximum(total, 1)
    accuracy = tp.sum(axis=1) / np.maximum(total, 1)
    if single:
        return F1(accuracy[0], macro[0], weighted[0])
    return F1(accuracy, macro, weighted)


def bootstrap_counts(n: int, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """(n_bootstrap, n) draw counts of each item per replicate (the same draws as
    ``bootstrap_indices``, folded into counts)."""
    idx = bootstrap_indices(n, n_bootstrap, rng)
    offset = (np.arange(n_bootstrap, dtype=np.int64) * n)[:, None]
    return np.bincount((idx + offset).ravel(), minlength=n_bootstrap * n).reshape(n_bootstrap, n)


def bootstrap_indices(n: int, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """(n_bootstrap, n) row indices drawn with replacement."""
    return rng.integers(0, n, size=(n_bootstrap, n)) if n else np.zeros((n_bootstrap, 0), dtype=np.int64)


def percentile_ci(replicates: np.ndarray, level: float = 0.95) -> list[float] | None:
    """Percentile interval of bootstrap replicates (None without replicates)."""
    replicates = np.asarray(replicates, dtype=float)
    if replicates.size == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(replicates, [tail, 100.0 - tail])
    return [float(lo), float(hi)]


def poisson_binomial_pmf(probs: np.ndarray) -> np.ndarray:
    """P(X = k), k = 0..n, for a sum of independent Bernoulli(p_i).

    Items share few distinct p (1/2, 1/4, 1/5), so each group is an exact binomial and the
    groups are convolved: O(n * groups) instead of the O(n^2) item-by-item recursion.
    """
    probs = np.asarray(probs, dtype=float)
    pmf = np.ones(1)
    values, counts = np.unique(probs, return_counts=True)
    for p, m in zip(values, counts):
        pmf = np.convolve(pmf, binom.pmf(np.arange(m + 1), m, p))
    return pmf


def poisson_binomial_sf(k: int, probs: np.ndarray) -> float:
    """One-sided exact p-value P(X >= k) for X ~ Poisson-binomial(probs)."""
    pmf = poisson_binomial_pmf(probs)
    if k <= 0:
        return 1.0
    if k >= pmf.size:
        return 0.0
    return float(min(1.0, pmf[k:].sum()))


def bonferroni(p_value: float, n_tests: int) -> float:
    return float(min(1.0, p_value * max(n_tests, 1)))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (A right & B wrong, and vice
    versa): a binomial test of only_a ~ Binomial(only_a + only_b, 1/2)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(only_a, only_b), n, 0.5)))


def bootstrap_p_value(diffs: np.ndarray) -> float | None:
    """Two-sided bootstrap p-value for "difference = 0": twice the smaller tail, counted as
    (k + 1) / (B + 1) so that B replicates can never claim p = 0 (the smallest is 2 / (B + 1))."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        return None
    k = min(int((diffs <= 0).sum()), int((diffs >= 0).sum()))
    return float(min(1.0, 2.0 * (k + 1) / (diffs.size + 1)))


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors = S + D + I, reference words) between two normalized transcripts."""
    import jiwer

    ref_words = len(reference.split())
    if not hypothesis.split():
        return ref_words, ref_words
    out = jiwer.process_words(reference, hypothesis)
    return out.substitutions + out.deletions + out.insertions, ref_words
