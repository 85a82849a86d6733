"""Statistics checked against independent computations: scipy, sklearn, brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, f1_score

from audiomarathon_metric import compare, score
from audiomarathon_metric.stats import (
    bonferroni,
    bootstrap_p_value,
    f1_from_labels,
    mcnemar_exact,
    percentile_ci,
    poisson_binomial_pmf,
    poisson_binomial_sf,
)


def brute_force_sf(k: int, probs: list[float]) -> float:
    """P(X >= k) by enumerating all 2^n outcomes."""
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=len(probs)):
        if sum(outcome) >= k:
            total += np.prod([p if o else 1 - p for o, p in zip(outcome, probs)])
    return total


@pytest.mark.parametrize("probs", [[0.5] * 6, [0.25, 0.5, 0.2, 0.25, 0.5, 0.2, 0.25], [0.2] * 3 + [0.5] * 4 + [0.1] * 3])
def test_poisson_binomial_matches_brute_force(probs):
    for k in range(len(probs) + 2):
        assert poisson_binomial_sf(k, np.array(probs)) == pytest.approx(brute_force_sf(k, probs), abs=1e-12)
    assert poisson_binomial_pmf(np.array(probs)).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("n,p,k", [(1145, 0.25, 330), (1614, 0.5, 850), (959, 0.2, 205), (120, 0.25, 120), (50, 0.25, 0)])
def test_poisson_binomial_with_equal_probabilities_is_scipy_binomtest(n, p, k):
    expected = binomtest(k, n, p, alternative="greater").pvalue
    assert poisson_binomial_sf(k, np.full(n, p)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_score_p_value_and_bonferroni_agree_with_binomtest():
    rng = np.random.default_rng(1)
    n = 200
    genres = ["jazz", "metal", "rock", "pop"]
    refs = list(rng.choice(list("ABCD"), n))
    preds = [r if rng.random() < 0.4 else "A" for r in refs]  # above chance (25%)
    sd_refs = list(rng.choice(list("AB"), n))
    sd_preds = list(rng.choice(list("AB"), n))  # at chance
    out = score(preds + sd_preds, refs + sd_refs, ["MC"] * n + ["SD"] * n,
                choices=[genres] * n + [[]] * n, n_bootstrap=0)
    for name, p_pred, p_ref, chance in (("GTZAN", preds, refs, 0.25), ("HAD", sd_preds, sd_refs, 0.5)):
        correct = sum(a == b for a, b in zip(p_pred, p_ref))
        expected = binomtest(correct, n, chance, alternative="greater").pvalue
        task = out["tasks"][name]
        assert task["p_value"] == pytest.approx(expected, rel=1e-9)
        assert task["p_value_bonferroni"] == pytest.approx(min(1.0, 2 * expected), rel=1e-9)
        assert task["significant"] == (min(1.0, 2 * expected) < 0.001)
    assert out["tasks"]["GTZAN"]["significant"] and not out["tasks"]["HAD"]["significant"]
    assert out["bonferroni_tests"] == 2
    assert bonferroni(0.3, 5) == 1.0 and bonferroni(1e-4, 3) == pytest.approx(3e-4)


def test_mixed_choice_counts_use_per_item_chance():
    # Two items with 2 options, three with 4 and 5 options: the test must use each item's 1/n.
    choices = [["x", "y"], ["x", "y"], ["p", "q", "r", "s"], ["p", "q", "r", "s", "t"], ["p", "q", "r", "s", "t"]]
    out = score(["A", "A", "A", "A", "B"], ["A", "A", "A", "A", "A"], "SER", choices=choices, n_bootstrap=0)
    assert out["tasks"]["SLUE"]["p_value"] == pytest.approx(brute_force_sf(4, [0.5, 0.5, 0.25, 0.2, 0.2]))


@pytest.mark.parametrize("seed", range(5))
def test_f1_matches_sklearn_with_invalid_excluded_from_labels(seed):
    rng = np.random.default_rng(seed)
    k, n = 5, 300
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k + 1, n))  # k = invalid
    got = f1_from_labels(y_true, y_pred, k)
    labels = sorted(set(y_true) | set(y_pred[y_pred < k]))
    assert got.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert got.macro_f1 == pytest.approx(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))
    assert got.weighted_f1 == pytest.approx(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0))


def test_vectorized_replicates_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, 50)
    y_pred = rng.integers(0, 5, 50)
    idx = rng.integers(0, 50, (20, 50))
    many = f1_from_labels(y_true[idx], y_pred[idx], 4)
    for b in range(20):
        one = f1_from_labels(y_true[idx[b]], y_pred[idx[b]], 4)
        labels = sorted(set(y_true[idx[b]]) | set(y_pred[idx[b]][y_pred[idx[b]] < 4]))
        ref = f1_score(y_true[idx[b]], y_pred[idx[b]], labels=labels, average="macro", zero_division=0)
        assert many.macro_f1[b] == pytest.approx(one.macro_f1) == pytest.approx(ref)


@pytest.mark.parametrize("only_a,only_b", [(0, 0), (3, 9), (10, 10), (25, 7), (0, 12)])
def test_mcnemar_exact_is_a_two_sided_binomial_test(only_a, only_b):
    expected = 1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b, 0.5).pvalue
    assert mcnemar_exact(only_a, only_b) == pytest.approx(expected, rel=1e-9)


def test_bootstrap_ci_matches_a_plain_loop_and_is_seeded():
    rng = np.random.default_rng(0)
    n = 60
    refs = list(rng.choice(list("ABCD"), n))
    preds = [r if rng.random() < 0.7 else "B" for r in refs]
    choices = [["red", "green", "blue", "grey"]] * n
    out = score(preds, refs, "SCR", choices=choices, n_bootstrap=200, seed=7)
    again = score(preds, refs, "SCR", choices=choices, n_bootstrap=200, seed=7)
    other = score(preds, refs, "SCR", choices=choices, n_bootstrap=200, seed=8)
    assert out == again and out["tasks"]["RACE"]["ci95"] != other["tasks"]["RACE"]["ci95"]
    # The same draws, one replicate at a time through sklearn.
    draws = np.random.default_rng([7, 1, 0]).integers(0, n, size=(200, n))  # stream of RACE (registry index 1)
    codes = {c: i for i, c in enumerate("ABCD")}
    y_true = np.array([codes[r] for r in refs])
    y_pred = np.array([codes[p] for p in preds])
    reps = [100 * f1_score(y_true[d], y_pred[d], average="macro", zero_division=0) for d in draws]
    lo, hi = np.percentile(reps, [2.5, 97.5])
    assert out["tasks"]["RACE"]["ci95"] == pytest.approx([lo, hi])
    assert lo <= out["tasks"]["RACE"]["score"] <= hi


def test_task_ci_does_not_depend_on_other_tasks_in_the_call():
    refs = ["A", "B", "A", "B", "A", "A", "B", "B"]
    preds = ["A", "B", "B", "B", "A", "x", "B", "A"]
    alone = score(preds, refs, "SGR", n_bootstrap=100)
    together = score(preds + ["C"], refs + ["C"], ["SGR"] * 8 + ["MC"], choices=[[]] * 8 + [["a", "b", "c", "d"]],
                     n_bootstrap=100)
    assert alone["tasks"]["VoxGender"]["ci95"] == together["tasks"]["VoxGender"]["ci95"]


def test_overall_ci_brackets_the_average():
    refs = ["A", "B"] * 30
    preds = ["A", "B", "B", "B", "A", "A"] * 10
    out = score(preds * 2, refs * 2, ["SGR"] * 60 + ["SD"] * 60, n_bootstrap=300)
    lo, hi = out["average_ci95"]
    assert lo <= out["average"] <= hi and hi - lo > 0


def test_percentile_ci_and_bootstrap_p_value():
    assert percentile_ci(np.arange(101.0)) == pytest.approx([2.5, 97.5])
    assert percentile_ci(np.empty(0)) is None
    assert bootstrap_p_value(np.array([1.0, 2.0, 3.0, -1.0])) == pytest.approx(0.5)
    assert bootstrap_p_value(np.ones(10)) == 0.0


def test_compare_paired_tests():
    rng = np.random.default_rng(5)
    n = 150
    genres = ["jazz", "metal", "rock", "pop"]
    refs = list(rng.choice(list("ABCD"), n))
    good = [r if rng.random() < 0.8 else "A" for r in refs]
    bad = [r if rng.random() < 0.4 else "D" for r in refs]
    out = compare(good, bad, refs, "MC", choices=[genres] * n, n_bootstrap=300, seed=1)
    task = out["tasks"]["GTZAN"]
    right_a = np.array([g == r for g, r in zip(good, refs)])
    right_b = np.array([b == r for b, r in zip(bad, refs)])
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    assert (task["only_a_correct"], task["only_b_correct"]) == (only_a, only_b)
    assert task["mcnemar_p"] == pytest.approx(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    single_a = score(good, refs, "MC", choices=[genres] * n, n_bootstrap=0)["tasks"]["GTZAN"]
    single_b = score(bad, refs, "MC", choices=[genres] * n, n_bootstrap=0)["tasks"]["GTZAN"]
    assert task["score_diff"] == pytest.approx(single_a["score"] - single_b["score"])
    assert task["accuracy_a"] == pytest.approx(single_a["accuracy"])
    lo, hi = task["ci95"]
    assert 0 < lo <= task["score_diff"] <= hi and task["p_value"] < 0.01
    # Identical runs: no difference, nothing significant.
    same = compare(good, good, refs, "MC", choices=[genres] * n, n_bootstrap=100)["tasks"]["GTZAN"]
    assert same["score_diff"] == 0 and same["mcnemar_p"] == 1.0 and same["ci95"] == [0.0, 0.0]


def test_compare_asr_and_length_errors():
    refs = ["the cat sat on the mat", "a b c d"]
    out = compare(["the cat sat on the mat", "a b c d"], ["the cat sat", "a b x d"], refs, "ASR", n_bootstrap=50)
    task = out["tasks"]["LibriSpeech"]
    assert task["wer_a"] == 0 and task["wer_b"] == pytest.approx(100 * (3 / 6 + 1 / 4) / 2)
    assert task["score_diff"] == pytest.approx(task["wer_b"])
    with pytest.raises(ValueError, match="predictions_b"):
        compare(["A"], ["A", "B"], ["A"], "SD")
    with pytest.raises(ValueError, match=r"predictions_b\[0\]"):
        compare(["A"], [None], ["A"], "SD")
