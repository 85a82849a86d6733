"""Long-audio analysis in the metric: scores by duration bin, the trend test, evidence positions.

References are independent: sklearn's F1 and logistic regression, jiwer's WER, subsets picked by
hand from the durations.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from audiomarathon_metric import ScoringInputError
from audiomarathon_metric import score
from audiomarathon_metric.long_audio import evidence_centre
from audiomarathon_metric.long_audio import linear_trend
from audiomarathon_metric.long_audio import logistic_trend

LETTERS4 = list("ABCD")


def _mcq_run(n, accuracy, seed, invalid=0.0):
    """RACE-style replies (letters are the F1 classes) with per-item accuracy ``accuracy(d)``."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(90, 300, n)
    refs = [str(x) for x in rng.choice(LETTERS4, n)]
    right = rng.random(n) < accuracy(d)
    bad = rng.random(n) < invalid
    preds = []
    for r, ok, b in zip(refs, right, bad):
        if b:
            preds.append("I cannot tell.")
        elif ok:
            preds.append(r)
        else:
            preds.append(str(rng.choice([x for x in LETTERS4 if x != r])))
    return d, refs, preds


def _sk_macro_f1(refs, preds):
    assert all(p in LETTERS4 for p in preds)  # sklearn's F1 is the metric's only without invalid replies
    return 100.0 * f1_score(refs, preds, average="macro", zero_division=0)


def test_binned_scores_with_invalid_replies_equal_the_subset_scored_alone():
    d, refs, preds = _mcq_run(400, lambda d: 0.8 - 0.2 * (d - 90) / 210, seed=1, invalid=0.1)
    out = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * len(refs), durations=list(d),
                duration_bins=(90, 150, 210, 300), n_bootstrap=0)
    for row, (lo, hi) in zip(out["by_duration"]["tasks"]["RACE"]["bins"], [(90, 150), (150, 210), (210, 300.0001)]):
        keep = [i for i in range(len(d)) if lo <= d[i] < hi]
        alone = score([preds[i] for i in keep], [refs[i] for i in keep], "RACE", choices=[["w", "x", "y", "z"]] * len(keep),
                      n_bootstrap=0)
        assert row["score"] == pytest.approx(alone["tasks"]["RACE"]["score"], abs=1e-9)


def test_binned_scores_equal_subset_scores():
    d, refs, preds = _mcq_run(400, lambda d: 0.8 - 0.2 * (d - 90) / 210, seed=1)
    out = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * len(refs), durations=list(d),
                duration_bins=(90, 150, 210, 300), n_bootstrap=200)
    rows = out["by_duration"]["tasks"]["RACE"]["bins"]
    assert [r["bin"] for r in rows] == ["90-150s", "150-210s", "210-300s"]
    for row, (lo, hi) in zip(rows, [(90, 150), (150, 210), (210, 300.0001)]):
        keep = [i for i in range(len(d)) if lo <= d[i] < hi]
        assert row["n"] == len(keep)
        expected = _sk_macro_f1([refs[i] for i in keep], [preds[i] for i in keep])
        assert row["score"] == pytest.approx(expected, abs=1e-9)
        lo_ci, hi_ci = row["ci95"]
        assert lo_ci <= row["score"] <= hi_ci
    # the average over one task is that task's bins
    assert [a["score"] for a in out["by_duration"]["average"]] == [r["score"] for r in rows]


def test_binned_asr_and_average_over_tasks():
    import jiwer

    rng = np.random.default_rng(3)
    n = 60
    refs = ["the cat sat on the mat today"] * n
    hyps = ["the cat sat on the mat today" if rng.random() < 0.5 else "the dog sat on a mat" for _ in range(n)]
    d_asr = rng.uniform(90, 300, n)
    d2, refs2, preds2 = _mcq_run(80, lambda d: np.full(d.shape, 0.6), seed=4)
    preds = hyps + preds2
    out = score(preds, refs + refs2, ["LibriSpeech"] * n + ["RACE"] * 80,
                choices=[[]] * n + [["w", "x", "y", "z"]] * 80, durations=list(d_asr) + list(d2), n_bootstrap=100)
    by = out["by_duration"]
    edges = [(90, 150), (150, 210), (210, 300.0001)]
    for row, (lo, hi) in zip(by["tasks"]["LibriSpeech"]["bins"], edges):
        keep = [i for i in range(n) if lo <= d_asr[i] < hi]
        wer = np.mean([100.0 * jiwer.wer(refs[i], hyps[i]) for i in keep])
        assert row["score"] == pytest.approx(100.0 - wer)
        assert row["n"] == len(keep)
    for avg, asr, race in zip(by["average"], by["tasks"]["LibriSpeech"]["bins"], by["tasks"]["RACE"]["bins"]):
        assert avg["score"] == pytest.approx((asr["score"] + race["score"]) / 2)
        assert avg["n"] == asr["n"] + race["n"] and avg["n_tasks"] == 2
    assert by["tasks"]["LibriSpeech"]["trend"]["method"] == "least_squares"


def test_items_outside_the_bins_are_kept_in_open_bins():
    out = score(["A", "B", "A"], ["A", "B", "B"], "RACE", choices=[["w", "x", "y", "z"]] * 3,
                durations=[30.0, 100.0, 400.0], n_bootstrap=0)
    rows = out["by_duration"]["tasks"]["RACE"]["bins"]
    assert [(r["bin"], r["n"]) for r in rows] == [("<90s", 1), ("90-150s", 1), (">300s", 1)]
    assert sum(r["n"] for r in rows) == 3


def test_trend_detects_a_20_point_decline_and_not_a_flat_run():
    n = 1000
    d, refs, preds = _mcq_run(n, lambda d: 0.8 - 0.2 * (d - 90) / 210, seed=10)
    trend = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * n, durations=list(d),
                  n_bootstrap=0)["by_duration"]["tasks"]["RACE"]["trend"]
    assert trend["p_value"] < 0.01 and trend["slope_per_minute"] < 0
    # 20 points over 3.5 minutes is about -5.7 points per minute
    assert -9.0 < trend["points_per_minute"] < -3.0
    d, refs, preds = _mcq_run(n, lambda d: np.full(d.shape, 0.7), seed=12)
    flat = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * n, durations=list(d),
                 n_bootstrap=0)["by_duration"]["tasks"]["RACE"]["trend"]
    assert flat["p_value"] > 0.01


def test_trend_test_power_and_size_over_many_runs():
    """At alpha = 0.01 on n = 1000: the decline is found in most runs (the expected power of a
    20-point fall at accuracy ~0.7 is about 0.92: z ~ 4), a flat run in about 1 %."""
    rng = np.random.default_rng(5)
    hits = false = 0
    runs = 200
    for _ in range(runs):
        d = rng.uniform(90, 300, 1000)
        hits += logistic_trend(d / 60, rng.random(1000) < 0.8 - 0.2 * (d - 90) / 210)["p_value"] < 0.01
        false += logistic_trend(d / 60, rng.random(1000) < 0.7)["p_value"] < 0.01
    assert hits / runs >= 0.85
    assert false / runs <= 0.03


def test_logistic_slope_matches_sklearn():
    rng = np.random.default_rng(8)
    x = rng.uniform(1.5, 5, 500)
    y = rng.random(500) < 1 / (1 + np.exp(-(2 - 0.5 * x)))
    ours = logistic_trend(x, y)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    assert ours["slope_per_minute"] == pytest.approx(ref.coef_[0][0], rel=1e-4)


def test_linear_trend_matches_scipy_linregress():
    from scipy.stats import linregress

    rng = np.random.default_rng(9)
    x = rng.uniform(1.5, 5, 200)
    y = 90 - 3 * x + rng.normal(0, 10, 200)
    ours, ref = linear_trend(x, y), linregress(x, y)
    assert ours["slope_per_minute"] == pytest.approx(ref.slope)
    assert ours["p_value"] == pytest.approx(ref.pvalue)


def test_trend_degenerate_cases():
    assert logistic_trend(np.array([2.0, 2.0, 2.0]), np.array([1, 0, 1]))["p_value"] is None
    same = logistic_trend(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4))
    assert same["p_value"] == 1.0 and same["slope_per_minute"] == 0.0


def test_paper_mode_trend_uses_the_pairs_the_authors_count():
    d, refs, preds = _mcq_run(300, lambda d: np.full(d.shape, 0.7), seed=2, invalid=0.3)
    # The authors' RACE script reads the first A-D character of a reply: "I cannot tell." is C and
    # counts, "I'm not sure." holds none and is left out.
    preds = ["I'm not sure." if p == "I cannot tell." and i % 2 else p for i, p in enumerate(preds)]
    out = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * 300, durations=list(d), mode="paper",
                n_bootstrap=0)
    counted = sum(any(ch in "ABCD" for ch in p.upper()) for p in preds)
    assert sum(p in LETTERS4 for p in preds) < counted < 300
    assert out["by_duration"]["tasks"]["RACE"]["trend"]["n"] == counted


@pytest.mark.parametrize("kwargs, message", [
    ({"durations": [100.0]}, "durations has 1 entries"),
    ({"durations": [100.0, float("nan")]}, "durations[1]"),
    ({"durations": [100.0, "x"]}, "durations[1]"),
    ({"durations": [100.0, 120.0], "duration_bins": (90, 80)}, "duration_bins"),
    ({"evidence": [0.5, 1.5]}, "evidence[1]"),
    ({"evidence": [0.5, None], "evidence_bins": (0, 2)}, "evidence_bins"),
])
def test_bad_long_audio_inputs_are_named(kwargs, message):
    with pytest.raises(ScoringInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        score(["A", "B"], ["A", "B"], "RACE", choices=[["w", "x", "y", "z"]] * 2, **kwargs)


def test_evidence_position_bins_and_unavailable():
    rng = np.random.default_rng(6)
    n = 90
    refs = [str(x) for x in rng.choice(LETTERS4, n)]
    pos = [None if i % 3 == 0 else float(rng.random()) for i in range(n)]
    preds = [r if rng.random() < 0.6 else "A" for r in refs]
    out = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * n, evidence=pos, n_bootstrap=50)
    ev = out["by_evidence_position"]
    assert ev["available"]
    rows = ev["tasks"]["RACE"]["bins"]
    assert [r["bin"] for r in rows] == ["first third", "middle third", "last third"]
    for row, (lo, hi) in zip(rows, [(0, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 1.01)]):
        keep = [i for i in range(n) if pos[i] is not None and lo <= pos[i] < hi]
        assert row["n"] == len(keep)
        assert row["score"] == pytest.approx(_sk_macro_f1([refs[i] for i in keep], [preds[i] for i in keep]))
    none = score(preds, refs, "RACE", choices=[["w", "x", "y", "z"]] * n, evidence=[None] * n, n_bootstrap=0)
    assert none["by_evidence_position"]["available"] is False


def test_evidence_centre_from_segments():
    segs = [{"source_id": "a", "start": 0.0, "end": 10.0, "evidence": False},
            {"source_id": "b", "start": 10.0, "end": 20.0, "evidence": True},
            {"source_id": "c", "start": 20.0, "end": 40.0, "evidence": True}]
    # midpoints 15 (length 10) and 30 (length 20): weighted centre 25 of 100 s
    assert evidence_centre(segs, 100.0) == pytest.approx(0.25)
    assert evidence_centre([{"source_id": "a", "start": 0.0, "end": 10.0}], 100.0) is None  # unmarked: unknown
    assert evidence_centre([], 100.0) is None


EXPORTED_LOAD = r"""
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("audiomarathon", "audiomarathon_metric"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import evaluate
args = json.loads(sys.argv[3])
metric = evaluate.load(sys.argv[1], "RACE", cache_dir=sys.argv[2])
print(json.dumps(metric.compute(**args)))
"""


def test_exported_evaluate_module_reports_by_duration(tmp_path):
    """The exported metric folder (vendored modules only) computes the same by_duration and
    by_evidence_position as score()."""
    import json
    import os
    import subprocess
    import sys

    from audiomarathon_metric.export import export

    d, refs, preds = _mcq_run(60, lambda d: np.full(d.shape, 0.6), seed=7)
    args = {"predictions": preds, "references": refs, "choices": [["w", "x", "y", "z"]] * 60,
            "durations": [float(x) for x in d], "evidence": [None if i % 2 else i / 60 for i in range(60)],
            "n_bootstrap": 20, "seed": 3}
    out = export(tmp_path / "space")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    proc = subprocess.run([sys.executable, "-c", EXPORTED_LOAD, str(out), str(tmp_path / "cache"),
                           json.dumps(args)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    want = json.loads(json.dumps(score(tasks="RACE", **args)))
    assert got["by_duration"] == want["by_duration"]
    assert got["by_evidence_position"] == want["by_evidence_position"]


def test_score_command_takes_durations_from_records_or_data(tmp_path, imported_dataset, capsys):
    import json

    from audiomarathon.cli import main
    from audiomarathon_runner.samples import load_samples

    samples = load_samples(str(imported_dataset), "TAU,HAD,RACE", progress=False)
    replies = ["A" if i % 2 else "B" for i in range(len(samples))]
    recs = [{"id": s.id, "task": s.task, "reply": r, "reference": s.reference, "choices": s.choices}
            for s, r in zip(samples, replies)]
    expected = score(replies, [s.reference for s in samples], [s.task for s in samples],
                     choices=[s.choices for s in samples], ids=[s.id for s in samples], n_bootstrap=20,
                     durations=[s.duration for s in samples], duration_bins=(0, 60, 120, 400),
                     evidence=[None] * len(samples))
    expected = json.loads(json.dumps(expected))
    # from the dataset, matched by id
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = tmp_path / "a.json"
    assert main(["score", str(plain), "--data", str(imported_dataset), "--duration-bins", "0,60,120,400",
                 "--n-bootstrap", "20", "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["by_duration"] == expected["by_duration"]
    assert got["by_evidence_position"]["available"] is False
    # from the records' own fields (what the runner writes)
    own = tmp_path / "own.jsonl"
    own.write_text("".join(json.dumps({**r, "duration": s.duration, "evidence_position": None}) + "\n"
                           for r, s in zip(recs, samples)))
    assert main(["score", str(own), "--duration-bins", "0,60,120,400", "--n-bootstrap", "20",
                 "--out", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["by_duration"] == expected["by_duration"]
    # without either: no duration table; a partial one is refused by id
    assert main(["score", str(plain), "--n-bootstrap", "0", "--out", str(tmp_path / "c.json")]) == 0
    assert "by_duration" not in json.loads((tmp_path / "c.json").read_text())
    partial = tmp_path / "partial.jsonl"
    partial.write_text(json.dumps({**recs[0], "duration": 100.0}) + "\n" + json.dumps(recs[1]) + "\n")
    assert main(["score", str(partial)]) == 1
    assert f"record {recs[1]['id']!r} has no 'duration'" in capsys.readouterr().err
    assert main(["score", str(own), "--duration-bins", "5,1"]) == 1
    assert "duration_bins must be" in capsys.readouterr().err


def test_trend_under_complete_separation_reports_no_slope():
    out = logistic_trend(np.array([1.5, 2.0, 2.5, 3.5, 4.0, 4.5]), np.array([1, 1, 1, 0, 0, 0]))
    assert out["slope_per_minute"] is None and "unbounded" in out["note"] and out["p_value"] < 0.05


# ---------------------------------------------------------------- compare

def _write_run(folder, ids, tasks, refs, replies, durations, ratio=0.0, method="none", model="m"):
    import json

    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text("".join(
        json.dumps({"id": i, "task": t, "reply": r, "reference": ref, "choices": ["w", "x", "y", "z"],
                    "duration": d, "config_hash": "h"}) + "\n"
        for i, t, ref, r, d in zip(ids, tasks, refs, replies, durations)))
    (folder / "results.json").write_text(json.dumps({
        "schema": 2, "dataset": {"fingerprint": "sha256:d"},
        "config": {"model": model, "model_id": model, "method": method, "ratio": ratio, "config_hash": "h",
                   "compression": {"method": method, "ratio": ratio}}}))
    return folder


def test_compare_command_paired_tests_per_task_and_duration_bin(tmp_path, capsys):
    import json

    from scipy.stats import binomtest

    from audiomarathon.cli import main

    d, refs, good = _mcq_run(300, lambda d: np.full(d.shape, 0.8), seed=21)
    rng = np.random.default_rng(22)
    # B degrades with duration: a reply is replaced by a wrong letter with probability growing to 0.5
    bad = [g if rng.random() > 0.5 * (x - 90) / 210 else next(c for c in LETTERS4 if c != r)
           for g, r, x in zip(good, refs, d)]
    ids = [f"RACE-{i:05d}" for i in range(300)]
    a = _write_run(tmp_path / "full", ids, ["RACE"] * 300, refs, good, list(d))
    b = _write_run(tmp_path / "fastv50", ids, ["RACE"] * 300, refs, bad, list(d), ratio=0.5, method="fastv")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "--n-bootstrap", "200"]) == 0
    table = capsys.readouterr().out
    result = json.loads((out / "compare.json").read_text())
    c = result["comparisons"][0]
    right_a = np.array([g == r for g, r in zip(good, refs)])
    right_b = np.array([x == r for x, r in zip(bad, refs)])
    t = c["tasks"]["RACE"]
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    assert (t["only_a_correct"], t["only_b_correct"]) == (only_a, only_b)
    assert t["mcnemar_p"] == pytest.approx(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    assert t["score_a"] == pytest.approx(_sk_macro_f1(refs, good))
    assert t["score_diff"] == pytest.approx(_sk_macro_f1(refs, good) - _sk_macro_f1(refs, bad))
    for row, (lo, hi) in zip(c["by_duration"], [(90, 150), (150, 210), (210, 300.001)]):
        keep = (d >= lo) & (d < hi)
        oa, ob = int((right_a & ~right_b & keep).sum()), int((~right_a & right_b & keep).sum())
        bt = row["tasks"]["RACE"]
        assert row["n"] == int(keep.sum())
        assert bt["mcnemar_p"] == pytest.approx(binomtest(oa, oa + ob, 0.5).pvalue if oa + ob else 1.0)
        assert 0.0 <= bt["p_value"] <= 1.0
    # the loss grows with duration: the last bin's difference is the largest
    diffs = [row["tasks"]["RACE"]["score_diff"] for row in c["by_duration"]]
    assert diffs[-1] > diffs[0]
    assert "| RACE | 300 |" in table and "| 210-300s | RACE |" in table
    assert (out / "compare.md").read_text() == table
    for name in ("score_vs_duration.png", "score_vs_ratio_by_duration.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "score_vs_evidence_position.png").exists()  # no evidence marks: nothing to draw
    # each run's own scores carry the duration table
    assert result["runs"]["fastv50"]["scores"]["by_duration"]["tasks"]["RACE"]["trend"]["slope_per_minute"] < 0


def test_compare_command_errors(tmp_path, capsys):
    from audiomarathon.cli import main

    a = _write_run(tmp_path / "a", ["x1"], ["RACE"], ["A"], ["A"], [100.0])
    b = _write_run(tmp_path / "b", ["x1"], ["RACE"], ["B"], ["A"], [100.0])
    assert main(["compare", str(a)]) == 1
    assert "at least two runs" in capsys.readouterr().err
    assert main(["compare", str(a), str(b)]) == 1
    assert "different task or reference" in capsys.readouterr().err
    assert main(["compare", str(a), str(tmp_path / "nope")]) == 1
    assert "no such run folder" in capsys.readouterr().err


def test_asr_trend_in_paper_mode_skips_empty_transcripts():
    refs = ["the cat sat on the mat"] * 8
    hyps = ["the cat sat on the mat", "", "the cat sat", "", "the cat sat on a mat", "", "cat", "the cat"]
    out = score(hyps, refs, "ASR", durations=[100 + 20 * i for i in range(8)], mode="paper", n_bootstrap=0)
    assert out["by_duration"]["tasks"]["LibriSpeech"]["trend"]["n"] == 5
