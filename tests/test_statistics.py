"""Statistics checked against independent computations: scipy, sklearn, brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, f1_score

from hypothesis import given, settings
from hypothesis import strategies as st

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS, get_task
from audiomarathon_metric import compare, score
from audiomarathon_metric.stats import (
    bonferroni,
    bootstrap_p_value,
    bootstrap_counts,
    f1_scores,
    least_favourable,
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
def test_f1_without_invalid_replies_is_sklearn(seed):
    rng = np.random.default_rng(seed)
    k, n = 5, 300
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    got = f1_scores(y_true, y_pred, k)
    assert got.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert got.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert got.weighted_f1 == pytest.approx(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def test_vectorized_replicates_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, 50)
    y_pred = rng.integers(0, 4, 50)
    counts = bootstrap_counts(50, 20, np.random.default_rng(1))
    draws = np.random.default_rng(1).integers(0, 50, (20, 50))
    many = f1_scores(y_true, y_pred, 4, counts)
    for b in range(20):
        d = draws[b]
        assert many.macro_f1[b] == pytest.approx(f1_score(y_true[d], y_pred[d], average="macro", zero_division=0))
        assert many.weighted_f1[b] == pytest.approx(f1_score(y_true[d], y_pred[d], average="weighted", zero_division=0))


def hand_f1(y_true, y_pred):
    """Macro and weighted F1 from a confusion matrix written out by hand over the labels present in
    y_true or y_pred (sklearn's label set when labels=None): an independent reference."""
    classes = sorted(set(y_true) | set(y_pred))
    macro, weighted = 0.0, 0.0
    for c in classes:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == c and p != c)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        macro += f1
        weighted += f1 * sum(1 for t in y_true if t == c)
    return macro / len(classes), weighted / len(y_true)


def sk_f1(y_true, y_pred):
    return (f1_score(y_true, y_pred, average="macro", zero_division=0),
            f1_score(y_true, y_pred, average="weighted", zero_division=0))


def random_case(rng, max_invalid):
    """Items with references, some answered (right or wrong), up to max_invalid invalid; each item
    has its own set of wrong options (1 to k-1 classes), as label tasks with varying options do."""
    k = int(rng.integers(2, 7))
    n = int(rng.integers(1, 9))
    y_true = rng.integers(0, k, n)
    wrong = [[int(c) for c in rng.permutation(k) if c != t][: int(rng.integers(1, k))] for t in y_true]
    y_pred = np.array([t if rng.random() < 0.4 else (k if rng.random() < 0.6 else w[0])
                       for t, w in zip(y_true, wrong)])
    for i in np.flatnonzero(y_pred == k)[max_invalid:]:
        y_pred[i] = wrong[i][0]
    return k, y_true, y_pred, wrong


def every_wrong_answer_run(y_pred, k, wrong):
    invalid = np.flatnonzero(y_pred == k)
    for combo in itertools.product(*[wrong[i] for i in invalid]):
        filled = y_pred.copy()
        filled[invalid] = combo
        yield filled


@pytest.mark.parametrize("seed", range(30))
def test_invalid_reply_is_the_least_favourable_wrong_answer_by_sklearn_enumeration(seed):
    """Every real run in which each invalid reply names one of its item's wrong options, each scored
    by sklearn: the strict macro- and weighted F1 equal the lowest of them, accuracy is theirs."""
    rng = np.random.default_rng(seed)
    k, y_true, y_pred, wrong = random_case(rng, max_invalid=3)
    runs = [sk_f1(y_true, filled) for filled in every_wrong_answer_run(y_pred, k, wrong)]
    got = f1_scores(y_true, least_favourable(y_true, y_pred, k, wrong), k)
    got_w = f1_scores(y_true, least_favourable(y_true, y_pred, k, wrong, weighted=True), k)
    assert got.macro_f1 == pytest.approx(min(r[0] for r in runs), abs=1e-12)
    assert got_w.weighted_f1 == pytest.approx(min(r[1] for r in runs), abs=1e-12)
    assert got.accuracy == pytest.approx(np.mean(y_true == y_pred))


def test_least_favourable_equals_the_minimum_over_every_wrong_answer_run_on_many_cases():
    """300 small random cases, up to 5 invalid replies with 1 to 5 wrong options each (the best
    joint choice often moves an earlier item, or sends a reply to a class nothing else names):
    enumerated with the hand-written confusion matrix, and the chosen run re-scored by sklearn."""
    rng = np.random.default_rng(2024)
    new_class_cases = 0
    for _ in range(300):
        k, y_true, y_pred, wrong = random_case(rng, max_invalid=5)
        low_macro, low_weighted = np.inf, np.inf
        for filled in every_wrong_answer_run(y_pred, k, wrong):
            macro, weighted = hand_f1(list(y_true), list(filled))
            low_macro, low_weighted = min(low_macro, macro), min(low_weighted, weighted)
        invalid = y_pred == k
        filled = least_favourable(y_true, y_pred, k, wrong)
        filled_w = least_favourable(y_true, y_pred, k, wrong, weighted=True)
        for run in (filled, filled_w):
            assert all(run[i] in wrong[i] for i in np.flatnonzero(invalid))
            assert (run[~invalid] == y_pred[~invalid]).all()
        sk_macro = f1_score(y_true, filled, average="macro", zero_division=0)
        assert sk_macro == pytest.approx(low_macro, abs=1e-12)
        assert f1_score(y_true, filled_w, average="weighted", zero_division=0) == pytest.approx(low_weighted, abs=1e-12)
        assert float(f1_scores(y_true, filled, k).macro_f1) == pytest.approx(low_macro, abs=1e-12)
        new_class_cases += any(c not in set(y_true) | set(y_pred[~invalid]) for c in set(filled[invalid]))
    assert new_class_cases >= 25  # the cases the old rule got wrong are well represented


def test_one_right_one_refusal_scores_as_every_real_wrong_run():
    """4-option item pair, one right and one refused: every real wrong answer scores 33.3
    (sklearn), so the refusal does too (the old rule counted all four classes: 16.7)."""
    choices = [["w", "x", "y", "z"]] * 2
    runs = [score(["A", wrong], ["A", "B"], "RACE", choices=choices, n_bootstrap=0)["tasks"]["RACE"]
            for wrong in "ACD"]
    assert [r["score"] for r in runs] == pytest.approx([100 / 3] * 3)
    assert {round(100 * sk_f1(["A", "B"], ["A", w])[0], 9) for w in "ACD"} == {round(100 / 3, 9)}
    refused = score(["A", "I cannot tell."], ["A", "B"], "RACE", choices=choices, n_bootstrap=0)["tasks"]["RACE"]
    assert refused["score"] == pytest.approx(100 / 3)
    assert refused["weighted_f1"] == pytest.approx(min(r["weighted_f1"] for r in runs))


def test_strict_score_with_refusals_is_the_lowest_real_run_through_score():
    """Through score(): label-task items whose option sets differ (a refusal can name a genre no
    reference or answer names), checked against every real run scored by score() itself and sklearn."""
    rng = np.random.default_rng(5)
    genres = list(get_task("GTZAN").labels)
    for _ in range(25):
        n = int(rng.integers(2, 6))
        choices = [[str(g) for g in rng.choice(genres, 4, replace=False)] for _ in range(n)]
        refs = [str(rng.choice(list("ABCD"))) for _ in range(n)]
        preds = [r if rng.random() < 0.5 else ("no idea" if rng.random() < 0.6 else str(rng.choice(list("ABCD"))))
                 for r in refs]
        invalid = [i for i, p in enumerate(preds) if p == "no idea"][:3]
        preds = [p if p != "no idea" or i in invalid else refs[i] for i, p in enumerate(preds)]
        got = score(preds, refs, "GTZAN", choices=choices, n_bootstrap=0)["tasks"]["GTZAN"]
        lows = [np.inf, np.inf]
        for combo in itertools.product(*[[x for x in "ABCD" if x != refs[i]] for i in invalid]):
            run = list(preds)
            for i, x in zip(invalid, combo):
                run[i] = x
            truth = [choices[i]["ABCD".index(refs[i])] for i in range(n)]
            answer = [choices[i]["ABCD".index(run[i])] for i in range(n)]
            macro, weighted = sk_f1(truth, answer)
            lows = [min(lows[0], macro), min(lows[1], weighted)]
        assert got["score"] == pytest.approx(100 * lows[0], abs=1e-9)
        assert got["weighted_f1"] == pytest.approx(100 * lows[1], abs=1e-9)


def _race_example(refusal: str):
    refs = [letter for letter in "ABCD" for _ in range(25)]
    preds = []
    for j, ref in enumerate(refs):
        i = j % 25
        wrong = "ABCD"[("ABCD".index(ref) + 1 + i % 3) % 4]
        preds.append(ref if i < 12 else (refusal or wrong))
    out = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * 100, n_bootstrap=0)
    return out["tasks"]["RACE"]


def test_race_example_refusing_does_not_pay():
    """100 balanced RACE items, 48 right: the other 52 answered wrongly or refused score the same."""
    wrong, refused = _race_example(""), _race_example("I don't know.")
    assert wrong["score"] == pytest.approx(48.0)
    assert abs(refused["score"] - 48.0) <= 1.0
    assert refused["accuracy"] == wrong["accuracy"] == 48.0
    assert refused["n_invalid"] == 52 and refused["invalid_rate"] == 52.0


MCQ_TASKS = [t for t in TASKS if t.is_mcq]


@st.composite
def mcq_runs(draw):
    task = draw(st.sampled_from(MCQ_TASKS))
    n = draw(st.integers(2, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pool = list(task.labels) if task.labels else [f"text {i}" for i in range(30)]
    choices, refs, preds = [], [], []
    for _ in range(n):
        opts = list(task.labels) if task.fixed_choices else [str(x) for x in rng.choice(pool, task.n_choices, replace=False)]
        answer = int(rng.integers(task.n_choices))
        guess = answer if rng.random() < rng.random() else int(rng.integers(task.n_choices))
        choices.append(opts)
        refs.append(LETTERS[answer])
        preds.append(LETTERS[guess])
    refuse = [rng.random() < 0.5 for _ in range(n)]
    return task, choices, refs, preds, refuse


@settings(max_examples=60, deadline=None)
@given(mcq_runs())
def test_turning_wrong_answers_into_refusals_never_raises_a_score(run):
    task, choices, refs, preds, refuse = run
    refused = [("I cannot tell from this audio." if r and p != ref else p) for p, ref, r in zip(preds, refs, refuse)]
    before = score(preds, refs, task.name, choices=choices, n_bootstrap=0)["tasks"][task.name]
    after = score(refused, refs, task.name, choices=choices, n_bootstrap=0)["tasks"][task.name]
    for figure in ("score", "macro_f1", "weighted_f1"):
        assert after[figure] <= before[figure] + 1e-9, figure
    assert after["accuracy"] == pytest.approx(before["accuracy"])


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
    # (k + 1) / (B + 1), two-sided: one of 4 replicates at or below 0 -> 2 * 2 / 5.
    assert bootstrap_p_value(np.array([1.0, 2.0, 3.0, -1.0])) == pytest.approx(0.8)
    # Never 0: every replicate above 0 still gives 2 / (B + 1).
    assert bootstrap_p_value(np.ones(10)) == pytest.approx(2 / 11)
    assert bootstrap_p_value(np.empty(0)) is None


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
