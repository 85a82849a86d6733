"""Statistics for the metric: F1 from label arrays (vectorized over bootstrap replicates),
percentile bootstrap CIs, the exact Poisson-binomial test against guessing, Bonferroni,
exact McNemar and the paired bootstrap.

Label arrays: ``y_true`` holds class ids in [0, K); ``y_pred`` holds class ids in [0, K] where
K means *invalid* (an unparsable reply). An invalid prediction is a false negative for its true
class and a false positive for no class, and "invalid" is never a class of its own: the same as
``sklearn.metrics.f1_score(labels=<the K classes>)``. Classes that appear in neither array of a
sample are left out of the macro mean (sklearn's behaviour on the observed label set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom


@dataclass(frozen=True)
class F1:
    accuracy: np.ndarray  # fractions in [0, 1]; scalar arrays for one sample, (B,) for replicates
    macro_f1: np.ndarray
    weighted_f1: np.ndarray


def f1_from_labels(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> F1:
    """Accuracy, macro-F1 and weighted F1. Arrays may be 1-D (one sample) or 2-D (B replicates x n)."""
    y_true = np.atleast_2d(np.asarray(y_true, dtype=np.int64))
    y_pred = np.atleast_2d(np.asarray(y_pred, dtype=np.int64))
    n_rep, n = y_true.shape
    k = n_classes
    if n == 0:
        zero = np.zeros(n_rep)
        return F1(zero, zero, zero)
    offset = (np.arange(n_rep, dtype=np.int64) * (k + 1))[:, None]
    size = n_rep * (k + 1)
    true_count = np.bincount((y_true + offset).ravel(), minlength=size).reshape(n_rep, k + 1)[:, :k]
    pred_count = np.bincount((y_pred + offset).ravel(), minlength=size).reshape(n_rep, k + 1)[:, :k]
    hit = y_true == y_pred
    tp = np.bincount((y_true + offset)[hit], minlength=size).reshape(n_rep, k + 1)[:, :k]
    denom = true_count + pred_count
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (#true + #predicted)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(denom.shape), where=denom > 0)
    present = denom > 0
    macro = (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    weighted = (f1 * true_count).sum(axis=1) / np.maximum(true_count.sum(axis=1), 1)
    accuracy = hit.mean(axis=1)
    squeeze = (lambda a: a[0]) if n_rep == 1 else (lambda a: a)
    return F1(squeeze(accuracy), squeeze(macro), squeeze(weighted))


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
    """Two-sided bootstrap p-value for "difference = 0": twice the smaller tail mass at 0."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        return None
    tail = min((diffs <= 0).mean(), (diffs >= 0).mean())
    return float(min(1.0, 2.0 * tail))
