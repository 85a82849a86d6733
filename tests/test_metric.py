"""score(): strict vs paper, ASR WER, aggregate vs the published leaderboard, bad input;
the evaluate module (real evaluate.load, repository folder and exported Space folder); the widget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jiwer
import pytest

import audiomarathon_metric
from audiomarathon.tasks import CATEGORIES, TASKS, get_task
from audiomarathon_metric import ScoreSettings, ScoringInputError, compare, score
from audiomarathon_metric.aggregate import aggregate  # the package name `aggregate` is also its submodule
from audiomarathon_metric.normalizers import benchmark, get_normalizer
from audiomarathon_metric.published import PUBLISHED, get_published, published_scores

METRIC_DIR = Path(audiomarathon_metric.__file__).parent
GENRES = ["jazz", "metal", "rock", "pop"]


# --------------------------------------------------------------------- MCQ scores

def test_strict_counts_invalid_as_wrong_paper_reads_as_the_authors_script():
    refs = ["A", "B", "C", "D", "A", "B"]
    preds = ["A", "B", "C", "I cannot tell", "rock", "B"]  # one invalid, one wrong (rock = C)
    strict = score(preds, refs, "MC", choices=[GENRES] * 6, n_bootstrap=0)["tasks"]["GTZAN"]
    paper = score(preds, refs, "MC", choices=[GENRES] * 6, mode="paper", n_bootstrap=0)["tasks"]["GTZAN"]
    assert strict["accuracy"] == pytest.approx(100 * 4 / 6)
    assert strict["n"] == paper["n"] == 6 and strict["n_scored"] == 6
    assert strict["invalid_rate"] == pytest.approx(100 / 6) and strict["n_invalid"] == 1
    # The authors' GTZAN script falls through to the first A-D character: "I CANNOT tell" and
    # "ROCK" are both C, so nothing is dropped; its F1 is the macro over the letters A-D:
    # A 2*1/(2+1), B 1, C 2*1/(1+3), D 0.
    assert paper["n_scored"] == 6 and paper["invalid_rate"] == 0.0
    assert paper["score"] == pytest.approx(100 * (2 / 3 + 1 + 1 / 2 + 0) / 4)
    # A reply without any A-D character is dropped from the authors' pairs.
    dropped = score(preds[:3] + ["I'm not sure"] + preds[4:], refs, "MC", choices=[GENRES] * 6, mode="paper",
                    n_bootstrap=0)["tasks"]["GTZAN"]
    assert dropped["n_scored"] == 5 and dropped["n_invalid"] == 1 and dropped["accuracy"] == pytest.approx(80.0)
    # Macro-F1 by hand (classes = option texts, F1 = 2TP / (#true + #predicted)), valid replies:
    # jazz true {0,4} predicted {0} -> 2/3; metal 1; rock true {2} predicted {2,4} -> 2/3; pop -> 0.
    # The refusal (true pop) is scored as the wrong answer that costs most: jazz -> 2/4 (-1/6),
    # metal -> 4/5 (-1/5), rock -> 2/4 (-1/6); so metal.
    assert strict["macro_f1"] == pytest.approx(100 * (2 / 3 + 4 / 5 + 2 / 3 + 0) / 4)
    assert strict["score"] == strict["macro_f1"]
    # Weighted by support (jazz 2, metal 2, rock 1, pop 1): metal costs 2 * 1/5, jazz 2 * 1/6, rock 1/6.
    assert strict["weighted_f1"] == pytest.approx(100 * (2 * 2 / 3 + 2 * 4 / 5 + 2 / 3 + 0) / 6)
    assert strict["rules"] == {"bare_letter": 4, "option_text": 1, "refusal": 1}


def test_label_tasks_score_by_text_content_tasks_by_letter():
    # Same label at different letters: one F1 class for TAU (labels), two for RACE (letters).
    choices = [["park", "bus", "tram", "metro"], ["bus", "park", "tram", "metro"]]
    tau = score(["A", "B"], ["A", "B"], "TAU", choices=choices, n_bootstrap=0)["tasks"]["TAU"]
    preds, refs = ["A", "A"], ["A", "B"]
    tau_wrong = score(preds, refs, "TAU", choices=choices, n_bootstrap=0)["tasks"]["TAU"]
    race_wrong = score(preds, refs, "RACE", choices=choices, n_bootstrap=0)["tasks"]["RACE"]
    assert tau["macro_f1"] == 100
    # TAU: item 2 (true "park") predicted "bus": park true 2 / predicted 1 / TP 1 -> 2/3; bus -> 0.
    assert tau_wrong["macro_f1"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    # RACE: letters A (true 1, pred 2, tp 1 -> 2/3) and B (true 1, pred 0 -> 0).
    assert race_wrong["macro_f1"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert get_task("TAU").f1_classes == "labels" and get_task("RACE").f1_classes == "letters"


def test_two_choice_tasks_take_fixed_options_and_label_words():
    out = score(["a", "female", "The speaker is male.", "It is REAL", "b"], ["A", "B", "A", "A", "B"],
                ["SGR", "SGR", "SGR", "SD", "SD"], per_sample=True, n_bootstrap=0)
    assert out["tasks"]["VoxGender"]["accuracy"] == 100 and out["tasks"]["HAD"]["accuracy"] == 100
    assert [s["parsed"] for s in out["per_sample"]] == ["A", "B", "A", "A", "B"]


def test_per_sample_records_in_input_order_with_ids():
    out = score(["B", "x", "Spoken Content: hi there"], ["B", "A", "hi there"], ["MC", "SD", "ASR"],
                choices=[GENRES, [], []], ids=["g1", "h1", "l1"], per_sample=True, n_bootstrap=0)
    recs = out["per_sample"]
    assert [r["id"] for r in recs] == ["g1", "h1", "l1"] and [r["index"] for r in recs] == [0, 1, 2]
    assert recs[0] == {"index": 0, "id": "g1", "task": "GTZAN", "parsed": "B", "rule": "bare_letter",
                       "reference": "B", "correct": True}
    assert recs[1]["parsed"] is None and recs[1]["correct"] is False and recs[1]["rule"] == "no_answer"
    assert recs[2]["parsed"] == "hi there" and recs[2]["wer"] == 0
    assert "per_sample" not in score(["B"], ["B"], "MC", choices=[GENRES], n_bootstrap=0)
    json.dumps(out)  # JSON-serializable as returned


def test_same_seed_same_bytes():
    args = (["A", "B", "b", "nope"] * 10, ["A", "B", "A", "B"] * 10, "SGR")
    a = json.dumps(score(*args, seed=3), sort_keys=True)
    assert a == json.dumps(score(*args, seed=3), sort_keys=True)


# --------------------------------------------------------------------- ASR

def test_asr_wer_mean_and_corpus_against_jiwer():
    refs = ["The cat sat on the mat.", "Hello world", "it's twenty-five past two"]
    preds = ["Spoken Content: the cat sat on a mat", "hello there world", "Spoken Content: its twentyfive past"]
    out = score(preds, refs, "ASR", n_bootstrap=100)["tasks"]["LibriSpeech"]
    norm_refs = [benchmark(r) for r in refs]
    norm_hyps = [benchmark(p.replace("Spoken Content:", "")) for p in preds]
    per_utt = [jiwer.wer(r, h) for r, h in zip(norm_refs, norm_hyps)]
    assert out["wer"] == pytest.approx(100 * sum(per_utt) / 3)
    assert out["corpus_wer"] == pytest.approx(100 * jiwer.wer(norm_refs, norm_hyps))
    assert out["score"] == pytest.approx(100 - out["wer"])
    assert out["ci95"][0] <= out["score"] <= out["ci95"][1]


def test_asr_score_is_clipped_and_empty_reply_is_all_deletions():
    out = score(["", "x y z w v u"], ["one two", "a"], "ASR", n_bootstrap=0)["tasks"]["LibriSpeech"]
    assert out["wer"] == pytest.approx((100 + 600) / 2) and out["score"] == 0.0


def test_benchmark_normalizer():
    assert benchmark("It's TWENTY-five, o'clock!  Yes…") == "its twentyfive oclock yes"
    assert benchmark("  a\tb\n") == "a b"


def test_whisper_normalizers_are_selectable_and_differ():
    refs = ["Mister Smith paid twenty five dollars."]
    preds = ["Mr. Smith paid $25."]
    bench = score(preds, refs, "ASR", n_bootstrap=0)["tasks"]["LibriSpeech"]
    whisper = score(preds, refs, "ASR", normalizer="whisper", n_bootstrap=0)["tasks"]["LibriSpeech"]
    basic = score(preds, refs, "ASR", normalizer="whisper_basic", n_bootstrap=0)["tasks"]["LibriSpeech"]
    assert whisper["wer"] == 0.0 and bench["wer"] > 0 and whisper["normalizer"] == "whisper"
    assert basic["normalizer"] == "whisper_basic"
    assert get_normalizer("whisper")("Mr. Smith") == "mister smith"
    custom = score(preds, refs, "ASR", normalizer=str.lower, n_bootstrap=0)
    assert custom["normalizer"] == "custom"
    with pytest.raises(ValueError, match="unknown normalizer 'nope'"):
        score(preds, refs, "ASR", normalizer="nope")


def test_whisper_spelling_mapping_from_file(tmp_path):
    from audiomarathon_metric.normalizers import whisper_english

    mapping = tmp_path / "normalizer.json"
    mapping.write_text(json.dumps({"colour": "color"}))
    assert whisper_english(mapping)("The colour") == "the color"
    assert whisper_english()("The colour") == "the colour"


# --------------------------------------------------------------------- aggregate / published

def _round_half_up(x: float) -> float:
    return float(Decimal(repr(round(x, 9))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def test_aggregate_reproduces_qwen_omni_7b_from_design_md():
    scores = {"SER": 26.3, "SCR": 85.1, "ASR": 98.1, "SED": 78.4, "MC": 100.0, "ASC": 72.2,
              "SD": 72.3, "ER": 53.4, "SAR": 21.4, "SGR": 98.0}
    out = aggregate(scores)
    assert _round_half_up(out["average"]) == 70.5 and out["complete"] and out["missing"] == []
    assert out["categories"]["Speech content extraction"] == pytest.approx((26.3 + 85.1 + 98.1) / 3)
    assert out["categories"]["Audio classification"] == pytest.approx((78.4 + 100.0 + 72.2) / 3)
    assert out["categories"]["Speaker information"] == pytest.approx((72.3 + 53.4 + 21.4 + 98.0) / 4)
    assert set(out["categories"]) == set(CATEGORIES)
    assert published_scores(get_published("Qwen2.5-Omni-7B")) == scores


@pytest.mark.parametrize("row", PUBLISHED, ids=[r.model for r in PUBLISHED])
def test_aggregate_reproduces_every_published_average(row):
    out = aggregate(published_scores(row))
    assert _round_half_up(out["average"]) == row.average
    assert out["complete"] == (row.group != "human")  # human listeners have no ASR score


def test_aggregate_partial_and_bad_keys():
    out = aggregate({"TAU": 50.0, "GTZAN": 70.0})
    assert out["average"] == 60.0 and not out["complete"] and out["n_tasks"] == 2
    assert list(out["categories"]) == ["Audio classification"] and "LibriSpeech" in out["missing"]
    with pytest.raises(ValueError, match="given twice"):
        aggregate({"TAU": 1.0, "ASC": 2.0})
    with pytest.raises(KeyError, match="unknown task 'XYZ'"):
        aggregate({"XYZ": 1.0})


def test_score_average_is_the_mean_of_task_scores_and_flags_completeness():
    preds, refs, tasks, choices = [], [], [], []
    for t in TASKS:
        tasks.append(t.name)
        if t.is_mcq:
            opts = list(t.labels) if t.fixed_choices else [f"{t.name} option {i}" for i in range(t.n_choices)]
            preds.append("A"), refs.append("A"), choices.append(opts)
        else:
            preds.append("hello world"), refs.append("hello there world"), choices.append([])
    out = score(preds, refs, tasks, choices=choices, n_bootstrap=0)
    assert out["complete"] and out["n_tasks"] == 10
    assert out["average"] == pytest.approx(sum(t["score"] for t in out["tasks"].values()) / 10)
    assert out["tasks"]["LibriSpeech"]["score"] == pytest.approx(100 - 100 / 3)


# --------------------------------------------------------------------- bad input names the index

@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(predictions=["A", "B"], references=["A"], tasks="SD"), "references has 1 entries but predictions has 2"),
        (dict(predictions=["A", "B"], references=["A", "B"], tasks=["SD"]), "tasks has 1 entries"),
        (dict(predictions=["A", "B"], references=["A", "B"], tasks=["SD", "Nope"]), r"tasks\[1\]: unknown task 'Nope'"),
        (dict(predictions=["A", "B"], references=["A", "B"], tasks="TAU"), r"choices\[0\] missing: TAU"),
        (dict(predictions=["A", "B"], references=["A", "B"], tasks="MC", choices=[GENRES, []]), r"choices\[1\] missing"),
        (dict(predictions=["A", 7], references=["A", "B"], tasks="SD"), r"predictions\[1\] must be a string, got int"),
        (dict(predictions=["A", None], references=["A", "B"], tasks="SD"), r"predictions\[1\] must be a string"),
        (dict(predictions=["A", "B"], references=["A", "Male"], tasks="SGR"), r"references\[1\] = 'Male' is not an option letter"),
        (dict(predictions=["A", "B"], references=["A", "E"], tasks="MC", choices=[GENRES] * 2), r"references\[1\]"),
        (dict(predictions=["A", "B"], references=["A", "B"], tasks="SD", ids=["x", "x"]), r"ids\[1\] = 'x' repeats ids\[0\]"),
        (dict(predictions=["A"], references=["A"], tasks="MC", choices=["jazz"]), r"choices\[0\] must be a list"),
        (dict(predictions=["x", "y"], references=["ok", "..."], tasks="ASR"), r"references\[1\] \(LibriSpeech\) is empty"),
        (dict(predictions="A", references=["A"], tasks="SD"), "predictions must be a sequence"),
        (dict(predictions=["A"], references=["A"], tasks="SD", mode="lenient"), "mode must be one of"),
        (dict(predictions=["A"], references=["A"], tasks="SD", seed=-1), r"seed must be an integer >= 0, got -1"),
        (dict(predictions=["A"], references=["A"], tasks="SD", seed=1.5), r"seed must be an integer"),
        (dict(predictions=["A"], references=["A"], tasks="SD", n_bootstrap=True), r"n_bootstrap must be an integer >= 0, got True"),
        (dict(predictions=["A"], references=["A"], tasks="SD", n_bootstrap=-3), r"n_bootstrap must be"),
        (dict(predictions=["A"], references=["A"], tasks="SD", alpha=True), r"alpha must be a number in \(0, 1\)"),
        (dict(predictions=["A"], references=["A"], tasks="SD", alpha=1.5), r"alpha must be"),
        (dict(predictions=["A"], references=["A"], tasks="SD", normalizer="nope"), r"normalizer: unknown normalizer 'nope'"),
        (dict(predictions=["A"], references=["A"], tasks="SD", choices=[["Fake", "Real"]]),
         r"choices\[0\] = \['Fake', 'Real'\]: HAD \(SD\) options are fixed"),
        (dict(predictions=["A"], references=["A"], tasks="SGR", choices=[["Female", "Male"]]), r"choices\[0\].*VoxGender"),
        (dict(predictions=["A"], references=["A"], tasks="SGR", choices=[["man", "woman"]]), r"choices\[0\]"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        score(**kwargs)


def test_two_way_tasks_accept_their_labels_in_order_in_any_case():
    out = score(["b", "a"], ["B", "A"], "SD", choices=[["real", "FAKE"], ["Real", "Fake"]], n_bootstrap=0)
    assert out["tasks"]["HAD"]["accuracy"] == 100.0


def test_compare_checks_its_arguments_too():
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0, got -1"):
        compare(["A"], ["A"], ["A"], "SD", seed=-1)
    with pytest.raises(ValueError, match=r"n_bootstrap must be an integer >= 0, got True"):
        compare(["A"], ["A"], ["A"], "SD", n_bootstrap=True)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(seed=-1), r"seed must be an integer >= 0, got -1"),
        (dict(mode="paper", family="nope"), r"family: no paper-mode rules for family 'nope'"),
        (dict(family="Voxtral"), r"family='Voxtral' chooses the authors' rules of paper mode"),
        (dict(mode="paper", normalizer="whisper"), r"normalizer='whisper': paper mode"),
        (dict(duration_bins=[300, 90]), r"duration_bins must be at least two finite, strictly increasing edges"),
        (dict(evidence_bins=[0, 0.5, 2]), r"evidence_bins are relative positions inside \[0, 1\]"),
    ],
)
def test_settings_are_checked_once_when_made_naming_the_argument(kwargs, message):
    with pytest.raises(ScoringInputError, match=message):
        ScoreSettings(**kwargs)
    with pytest.raises(ScoringInputError, match=message):  # the same check behind score()'s keywords
        score(["A"], ["A"], "SD", **kwargs)


def test_a_settings_object_and_keyword_arguments_score_alike():
    preds, refs = ["ANSWER: C", "b", "maybe", "rock"], ["C", "B", "A", "C"]
    kwargs = dict(choices=[GENRES] * 4, per_sample=True)
    paper = ScoreSettings(mode="paper", family="voxtral", n_bootstrap=50, seed=3, alpha=0.01)
    out = score(preds, refs, "MC", settings=paper, **kwargs)
    assert out == score(preds, refs, "MC", mode="paper", family="voxtral", n_bootstrap=50, seed=3, alpha=0.01,
                        **kwargs)
    assert (out["mode"], out["family"], out["n_bootstrap"], out["seed"], out["alpha"]) == (
        "paper", "Voxtral", 50, 3, 0.01)
    assert [s["rule"] for s in out["per_sample"]][0] == "answer_phrase"  # Voxtral's GTZAN reader
    # Keyword arguments override the settings' fields.
    assert score(preds, refs, "MC", settings=paper, seed=4, **kwargs) == score(
        preds, refs, "MC", mode="paper", family="voxtral", n_bootstrap=50, seed=4, alpha=0.01, **kwargs)
    a, b = ["C", "B", "?", "C"], ["C", "A", "A", "?"]
    assert compare(a, b, refs, "MC", choices=[GENRES] * 4, settings=ScoreSettings(mode="paper", seed=2)) == compare(
        a, b, refs, "MC", choices=[GENRES] * 4, mode="paper", seed=2)


def test_settings_a_call_cannot_use_are_refused_by_name():
    with pytest.raises(TypeError, match="'famly'"):
        score(["A"], ["A"], "SD", famly="Voxtral")
    with pytest.raises(TypeError, match="compare\\(\\) got an unexpected keyword argument 'alpha'"):
        compare(["A"], ["A"], ["A"], "SD", alpha=0.01)
    with pytest.raises(ScoringInputError, match="family='Voxtral': compare"):
        compare(["A"], ["A"], ["A"], "SD", settings=ScoreSettings(mode="paper", family="Voxtral"))
    with pytest.raises(ScoringInputError, match="settings must be a ScoreSettings, got dict"):
        score(["A"], ["A"], "SD", settings={"seed": 1})
    with pytest.raises(TypeError, match="positional"):
        score(["A"], ["A"], "SD", None, None, "paper")  # a setting is never positional
    with pytest.raises(AttributeError):
        ScoreSettings().seed = 1  # frozen: checked once, never changed after


# --------------------------------------------------------------------- nothing valid: named, not 0

def test_paper_mode_task_without_a_valid_reply_is_none_and_named():
    refs = ["A", "B", "C", "D", "A"]
    # "I'm not sure" holds no A-D character: the authors' RACE script reads nothing from it.
    out = score(["I'm not sure"] * 5 + ["a", "b"], refs + ["A", "B"], ["RACE"] * 5 + ["SD"] * 2,
                choices=[["w", "x", "y", "z"]] * 5 + [[], []], mode="paper")
    race = out["tasks"]["RACE"]
    assert race["score"] is None and race["n_scored"] == 0 and race["n"] == 5 and race["ci95"] is None
    assert race["p_value"] is None and race["significant"] is None and race["invalid_rate"] == 100.0
    assert out["unscored_tasks"] == ["RACE"] and out["average"] == out["tasks"]["HAD"]["score"] == 100.0
    assert out["n_tasks"] == 1 and not out["complete"] and out["bonferroni_tests"] == 1
    assert out["average_ci95"] is not None
    # Strict mode scores the same replies: every one an invalid = wrong answer.
    strict = score(["no idea"] * 5, refs, "RACE", choices=[["w", "x", "y", "z"]] * 5)
    assert strict["tasks"]["RACE"]["score"] == 0.0 and strict["unscored_tasks"] == []
    json.dumps(out)


def test_paper_mode_everything_invalid_has_no_average():
    out = score(["no idea"] * 3, ["A", "B", "A"], "SD", mode="paper")
    assert out["average"] is None and out["unscored_tasks"] == ["HAD"] and out["average_ci95"] is None


def test_compare_paper_mode_without_an_item_valid_in_both_runs():
    refs = ["A", "B", "A", "B"]
    a = ["a", "b", "?", "?"]
    b = ["?", "?", "a", "b"]
    out = compare(a + ["x"], b + ["x"], refs + ["x"], ["SD"] * 4 + ["ASR"], mode="paper", n_bootstrap=50)
    had = out["tasks"]["HAD"]
    assert had["n"] == 0 and had["n_total"] == 4 and had["score_diff"] is None and had["mcnemar_p"] is None
    assert out["unscored_tasks"] == ["HAD"]
    assert out["average_diff"] == out["tasks"]["LibriSpeech"]["score_diff"] == 0.0
    # Strict: all four items, refusals scored as wrong answers.
    strict = compare(a, b, refs, "SD", n_bootstrap=50)["tasks"]["HAD"]
    assert strict["n"] == 4 and strict["score_diff"] == 0.0 and strict["only_a_correct"] == 2


def test_asr_paper_mode_skips_empty_transcripts_strict_counts_them():
    refs = ["the cat sat", "hello world", "one two three four"]
    preds = ["the cat sat", "Spoken Content:", "one two three"]
    strict = score(preds, refs, "ASR", n_bootstrap=0)["tasks"]["LibriSpeech"]
    paper = score(preds, refs, "ASR", mode="paper", n_bootstrap=0)["tasks"]["LibriSpeech"]
    # Per-utterance WER by hand: 0, 100 (all deletions), 25.
    assert strict["wer"] == pytest.approx((0 + 100 + 25) / 3) and strict["n_scored"] == 3
    assert paper["wer"] == pytest.approx((0 + 25) / 2) and paper["n_scored"] == 2 and paper["n_empty"] == 1
    assert paper["corpus_wer"] == pytest.approx(100 * 1 / 7)
    none = score(["", "Spoken Content: "], refs[:2], "ASR", mode="paper")
    assert none["tasks"]["LibriSpeech"]["score"] is None and none["unscored_tasks"] == ["LibriSpeech"]


def test_input_errors_are_value_errors_subclass():
    assert issubclass(ScoringInputError, ValueError)


# --------------------------------------------------------------------- evaluate module

@pytest.fixture(scope="module")
def modules_cache(tmp_path_factory):
    # evaluate copies module scripts into HF_MODULES_CACHE; keep them out of the user's cache.
    return tmp_path_factory.mktemp("hf_modules")


def _load(path, config, cache):
    import evaluate

    return evaluate.load(str(path), config, cache_dir=str(cache))


def test_evaluate_load_repository_folder_matches_score(modules_cache, monkeypatch):
    import evaluate

    monkeypatch.setenv("HF_MODULES_CACHE", str(modules_cache))
    metric = _load(METRIC_DIR, "all", modules_cache)
    assert metric.name == "audiomarathon"
    preds = ["ANSWER: C", "b", "Spoken Content: hello world", "maybe"]
    refs = ["C", "B", "Hello, world!", "A"]
    kwargs = dict(tasks=["MC", "SGR", "ASR", "SD"], choices=[GENRES, [], [], []], n_bootstrap=50, seed=2)
    assert metric.compute(predictions=preds, references=refs, **kwargs) == score(preds, refs, **kwargs)
    settings = ScoreSettings(n_bootstrap=50, seed=2)
    assert metric.compute(predictions=preds, references=refs, tasks=kwargs["tasks"], choices=kwargs["choices"],
                          settings=settings) == score(preds, refs, **kwargs)
    # A task as config name: tasks may be omitted; abbreviations work.
    gtzan = _load(METRIC_DIR, "MC", modules_cache)
    out = gtzan.compute(predictions=["B", "ANSWER: C"], references=["B", "C"], choices=[GENRES] * 2, n_bootstrap=0)
    assert list(out["tasks"]) == ["GTZAN"] and out["tasks"]["GTZAN"]["accuracy"] == 100
    with pytest.raises(ValueError, match=r"predictions\[1\] must be a string"):
        gtzan.compute(predictions=["B", 3], references=["B", "C"], choices=[GENRES] * 2)
    with pytest.raises(ValueError, match="pass tasks="):
        metric.compute(predictions=["B"], references=["B"])
    with pytest.raises(KeyError, match="unknown task 'NOPE'"):
        _load(METRIC_DIR, "NOPE", modules_cache)
    assert "Poisson-binomial" in metric.info.description and "arXiv:2510.07293" in metric.info.citation
    assert isinstance(metric, evaluate.EvaluationModule)


def test_metric_script_has_one_import_per_line():
    # evaluate's dependency scan (get_imports) mis-reads `import a, b`.
    for line in (METRIC_DIR / "audiomarathon_metric.py").read_text().splitlines():
        if line.startswith("import "):
            assert "," not in line, line
    from evaluate.loading import get_imports

    libraries = {name for kind, name, _, _ in get_imports(str(METRIC_DIR / "audiomarathon_metric.py")) if kind == "library"}
    assert libraries == {"datasets", "evaluate", "audiomarathon", "audiomarathon_metric"}


BLOCKED_LOAD = r"""
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("audiomarathon", "audiomarathon_metric"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import evaluate
metric = evaluate.load(sys.argv[1], "all", cache_dir=sys.argv[2])
out = metric.compute(predictions=json.loads(sys.argv[3]), references=json.loads(sys.argv[4]),
                     tasks=json.loads(sys.argv[5]), choices=json.loads(sys.argv[6]), n_bootstrap=30, seed=1)
assert not [m for m in sys.modules if m.startswith("audiomarathon")]
print(json.dumps(out))
"""


def test_exported_folder_is_self_contained_for_evaluate_load(tmp_path):
    from audiomarathon_metric.export import export

    out = export(tmp_path / "space")
    names = sorted(p.name for p in out.iterdir())
    assert {"space.py", "README.md", "app.py", "requirements.txt", "am_scoring.py", "am_tasks.py"} <= set(names)
    assert not any(n in ("statistics.py", "tasks.py") for n in names)  # nothing that shadows a module
    preds = ["ANSWER: C", "b", "Spoken Content: hello world", "maybe"]
    refs = ["C", "B", "Hello, world!", "A"]
    tasks = ["MC", "SGR", "ASR", "SD"]
    choices = [GENRES, [], [], []]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED_LOAD, str(out), str(tmp_path / "cache"),  # evaluate.load(OUT)
         *(json.dumps(x) for x in (preds, refs, tasks, choices))],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == json.loads(json.dumps(score(preds, refs, tasks, choices=choices, n_bootstrap=30, seed=1)))
    # Refuses to overwrite, leaves the folder intact.
    with pytest.raises(FileExistsError):
        export(out)
    assert (out / "space.py").exists()


def test_export_command_line(tmp_path):
    from audiomarathon_metric.export import main

    assert main([str(tmp_path / "a")]) == 0
    assert main([str(tmp_path / "a")]) == 1
    assert main([str(tmp_path / "a"), "--force"]) == 0


# --------------------------------------------------------------------- Space widget

def test_widget_scores_the_table_through_the_evaluate_module(modules_cache, monkeypatch):
    import gradio as gr
    import pandas as pd

    monkeypatch.setenv("HF_MODULES_CACHE", str(modules_cache))
    from audiomarathon_metric import app

    metric = _load(METRIC_DIR, "all", modules_cache)
    demo = app.build_demo(metric)
    assert isinstance(demo, gr.Blocks)
    handler = app.make_handler(metric)
    table = pd.DataFrame(app.EXAMPLE + [["", "", "", ""]], columns=app.COLUMNS)
    summary, result = handler(table, "strict", "benchmark", 20, 0)
    expected = score([r[0] for r in app.EXAMPLE], [r[1] for r in app.EXAMPLE], [r[2] for r in app.EXAMPLE],
                     choices=[app.parse_choices(r[3]) for r in app.EXAMPLE], n_bootstrap=20, seed=0, per_sample=True)
    assert result == expected
    assert "| GTZAN |" in summary and "Average (4 of 10 tasks)" in summary
    with pytest.raises(gr.Error, match=r"tasks\[0\]: unknown task"):
        handler(pd.DataFrame([["A", "A", "nope", ""]], columns=app.COLUMNS), "strict", "benchmark", 0, 0)
    with pytest.raises(gr.Error, match="at least one row"):
        handler(pd.DataFrame([["", "", "", ""]], columns=app.COLUMNS), "strict", "benchmark", 0, 0)
    assert app.parse_choices('["a", "b"]') == ["a", "b"] and app.parse_choices("x | y") == ["x", "y"]


def test_widget_served_over_http(modules_cache, monkeypatch):
    # The real server and client: what a Space visitor's browser talks to.
    from gradio_client import Client

    monkeypatch.setenv("HF_MODULES_CACHE", str(modules_cache))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from audiomarathon_metric import app

    demo = app.build_demo(_load(METRIC_DIR, "all", modules_cache))
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        summary, result = Client(url, verbose=False).predict(
            {"headers": app.COLUMNS, "data": app.EXAMPLE}, "paper", "benchmark", 10, 0, api_name="/score")
    finally:
        demo.close()
    assert result["mode"] == "paper" and result["tasks"]["HAD"]["accuracy"] == 100.0
    assert "| HAD |" in summary


# --------------------------------------------------------------------- displayed figures

@pytest.mark.parametrize("value,shown", [(49.25, "49.3"), (70.45, "70.5"), (0.35, "0.4"), (72.25, "72.3"),
                                         (49.24999, "49.2"), (-0.05, "-0.1"), (100.0, "100.0"), (None, "n/a")])
def test_displayed_figures_round_half_up_as_the_paper(value, shown):
    from audiomarathon_metric.display import fmt1

    assert fmt1(value) == shown
    if value is not None and shown != f"{value:.1f}":
        assert value in (49.25, 70.45, 72.25, 0.35)  # where Python's own formatting rounds half to even


def test_add_batch_and_add_take_the_per_item_columns(modules_cache, monkeypatch):
    """evaluate's incremental API with tasks/choices given alongside the replies scores exactly what
    score() gives on the concatenated inputs; inconsistent columns are refused, naming the column."""
    monkeypatch.setenv("HF_MODULES_CACHE", str(modules_cache))
    metric = _load(METRIC_DIR, "all", modules_cache)
    metric.compute(predictions=["B"], references=["B"], tasks=["TAU"], choices=[["park", "bus", "tram", "metro"]])
    metric.add_batch(predictions=["ANSWER: C", "b"], references=["C", "B"], tasks=["MC", "SGR"], choices=[GENRES, []])
    metric.add(prediction="maybe", reference="A", task="SD", choices=[])
    got = metric.compute(n_bootstrap=20, seed=1)
    want = score(["ANSWER: C", "b", "maybe"], ["C", "B", "A"], ["MC", "SGR", "SD"], choices=[GENRES, [], []],
                 n_bootstrap=20, seed=1)
    assert got == want
    # The kept columns were consumed: the next round starts clean.
    metric.add_batch(predictions=["b"], references=["B"], tasks=["SGR"])
    assert metric.compute(n_bootstrap=0)["tasks"]["VoxGender"]["accuracy"] == 100.0
    with pytest.raises(ValueError, match="tasks: 1 values for 2 predictions"):
        metric.add_batch(predictions=["a", "b"], references=["A", "B"], tasks=["SD"])
    metric = _load(METRIC_DIR, "all", modules_cache)
    metric.add_batch(predictions=["a"], references=["A"], tasks=["SD"])
    with pytest.raises(ValueError, match="tasks given with the items added before but not with these"):
        metric.add_batch(predictions=["a"], references=["A"])
