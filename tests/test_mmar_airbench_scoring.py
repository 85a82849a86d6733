"""MMAR and AIR-Bench Foundation scoring: paper mode against the official rules typed out here (a
second implementation, read from the authors' scripts: ddlBoJack/MMAR code/evaluation.py and
OFA-Sys/AIR-Bench score_foundation.py), strict mode's fixes, the leaderboards' aggregation (the
published Qwen-Audio-Turbo row), the random-guess baseline, compare and the score command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from audiomarathon.cli import main
from audiomarathon.tasks import BENCHMARKS
from audiomarathon.tasks import FOUNDATION_TASKS
from audiomarathon_metric import compare
from audiomarathon_metric import score
from audiomarathon_metric.aggregations import AGGREGATIONS
from audiomarathon_metric.aggregations import random_guess_accuracy

FOUNDATION = BENCHMARKS["AIR-Bench Foundation"]
MMAR = BENCHMARKS["MMAR"]
LETTER = "ABCDEF"


# ------------------------------------------------------------------ the official rules, typed out

def airbench_reference(rows):
    """score_foundation.py: per task_name_dataset_name folder, (correct, counted); and the failures.
    rows: dicts with response, the options (list), answer_gt (the option text), task_name, dataset_name."""
    counted, correct, failures = {}, {}, 0
    for row in rows:
        folder = row["task_name"] + "_" + row["dataset_name"]
        predict = row["response"].strip().replace("\n", "")
        if predict == "None" or predict == "":
            failures += 1
            continue
        if predict[0] in ("A", "B", "C", "D"):
            said = predict[0]
        elif len(predict) > 1 and predict[-2] in ("A", "B", "C", "D"):
            said = predict[-2]
        else:
            failures += 1
            continue
        options = row["options"] + [None] * (4 - len(row["options"]))
        truth = None
        for letter, option in zip("ABCD", options):
            if row["answer_gt"] == option:
                truth = letter
                break
        counted[folder] = counted.get(folder, 0) + 1
        correct[folder] = correct.get(folder, 0) + (said == truth)
    return {f: (correct[f], counted[f]) for f in counted}, failures


def mmar_words(text):
    return set(re.findall(r"\b\w+\b", text.lower()))


def mmar_reference(rows):
    """evaluation.py: rows without a prediction skipped; a match needs every answer word in the
    reply and no word that a non-answer option (one whose word set differs from the answer's) has
    beyond the answer's words. Returns (correct, total) overall and per modality/category/sub-category."""
    tally = {"all": [0, 0]}
    for row in rows:
        if row["answer_prediction"] is None:
            continue
        reply_words = mmar_words(row["answer_prediction"])
        answer_words = mmar_words(row["answer"])
        banned = set()
        for choice in row["choices"]:
            w = mmar_words(choice)
            if w != answer_words:
                banned |= {x for x in w if x not in answer_words}
        ok = bool(reply_words) and answer_words <= reply_words and not (reply_words & banned)
        for key in ("all", "m:" + row["modality"], "c:" + row["category"], "s:" + row["sub-category"]):
            tally.setdefault(key, [0, 0])
            tally[key][0] += ok
            tally[key][1] += 1
    return tally


# ------------------------------------------------------------------ AIR-Bench Foundation, paper mode

FOUR = ["dog", "cat", "bird", "horse"]
TWO = ["yes", "no"]
# (reply, options, answer letter, branch it hits)
AIR_CASES = [
    ("A", FOUR, "A", "first character"),
    ("B.", FOUR, "A", "first character, wrong"),
    ("  \n C \n", FOUR, "C", "strip first"),
    ("The answer is D.", FOUR, "D", "second-to-last character"),
    ("the answer is (A)", FOUR, "A", "second-to-last before a parenthesis"),
    ("Answer: D", FOUR, "D", "first character A of 'Answer' decides"),
    ("Based on the audio, the answer is C.", FOUR, "C", "first character B of 'Based' decides"),
    ("Certainly, it sounds like a dog", FOUR, "A", "first character C of 'Certainly' decides"),
    ("It is\nB.", FOUR, "B", "inner newline removed, then second-to-last"),
    ("It is b.", FOUR, "B", "lowercase: failure"),
    ("dog", FOUR, "A", "no letter: failure"),
    ("x", FOUR, "A", "one character, no letter: failure"),
    ("", FOUR, "B", "empty: failure"),
    ("   \n ", FOUR, "B", "whitespace only: failure"),
    ("None", FOUR, "B", "the text None: failure"),
    ("D", TWO, "B", "a letter beyond a two-option item's options: counted wrong"),
    ("B", TWO, "B", "two options"),
    ("答案是B。", TWO, "B", "second-to-last after a Chinese reply"),
]


def _foundation_items(cases, task_name="Acoustic_Scene_Classification", datasets=("CochlScene", "TUT2017")):
    rows = []
    for i, (reply, options, answer, _) in enumerate(cases):
        rows.append({"response": reply, "options": options, "answer_gt": options[LETTER.index(answer)],
                     "task_name": task_name, "dataset_name": datasets[i % len(datasets)], "answer": answer})
    return rows


def _score_rows(rows, **kw):
    return score([r["response"] for r in rows], [r["answer"] for r in rows], [r["task_name"] for r in rows],
                 choices=[r["options"] for r in rows], meta=[{"task_name": r["task_name"], "dataset_name": r["dataset_name"]}
                                                            for r in rows], n_bootstrap=0, per_sample=True, **kw)


def test_airbench_paper_mode_is_the_official_rule_on_every_branch():
    rows = _foundation_items(AIR_CASES)
    folders, failures = airbench_reference(rows)
    out = _score_rows(rows, mode="paper")
    task = out["tasks"]["Acoustic_Scene_Classification"]
    assert task["n"] == len(rows) and task["n_dropped"] == failures == task["n"] - task["n_scored"]
    assert task["n_scored"] == sum(n for _, n in folders.values())
    # The task pools its folders; each folder is the official script's figure.
    assert task["accuracy"] == pytest.approx(100 * sum(c for c, _ in folders.values()) / task["n_scored"])
    section = out["benchmarks"]["airbench-foundation"]
    got = {name: (row["accuracy"], row["n"]) for name, row in section["folders"].items()}
    assert got == {name: (pytest.approx(100 * c / n), n) for name, (c, n) in folders.items()}
    # The per-item reading agrees with the script's branch for every case.
    for s, (reply, options, answer, why) in zip(out["per_sample"], AIR_CASES):
        ref_folder, _ = airbench_reference([{**rows[s["index"]], "dataset_name": "x"}])
        counted = bool(ref_folder)
        assert s["scored"] == counted, why
        if counted:
            assert s["correct"] == bool(ref_folder[rows[s["index"]]["task_name"] + "_x"][0]), why


def test_airbench_paper_counts_are_family_independent():
    rows = _foundation_items(AIR_CASES)
    base = _score_rows(rows, mode="paper")
    other = _score_rows(rows, mode="paper", family="Phi-4-multimodal")
    assert other["tasks"] == base["tasks"]


def test_airbench_strict_mode_fixes_the_first_character_and_the_denominator():
    rows = _foundation_items(AIR_CASES)
    strict = _score_rows(rows)
    parsed = [s["parsed"] for s in strict["per_sample"]]
    # Read by what the reply states, not by its first or second-to-last character; a letter beyond
    # a two-option item's options, a lowercase letter in a sentence, "None" and nothing are unread.
    assert parsed == ["A", "B", "C", "D", "A", "D", "C", "A", "B", None, "A", None, None, None, None, None, "B", "B"]
    # Every item stays in the denominator; an unread reply is wrong.
    task = strict["tasks"]["Acoustic_Scene_Classification"]
    assert task["n_scored"] == task["n"] == len(rows)
    right = sum(p == case[2] for p, case in zip(parsed, AIR_CASES))
    assert task["accuracy"] == pytest.approx(100 * right / len(rows))
    unread = [p for p in parsed if p is None]
    assert task["invalid_rate"] == pytest.approx(100 * len(unread) / len(rows))


def test_declining_never_pays_in_strict_mode_but_does_in_paper_mode():
    options = [FOUR] * 10
    answers = ["A"] * 10
    wrong = ["B"] * 5 + ["A"] * 5
    declined = ["I cannot tell from this audio."] * 5 + ["A"] * 5  # the five wrong ones declined
    tasks = "Sound_AQA"
    for mode, pays in (("strict", False), ("paper", True)):
        a = score(wrong, answers, tasks, choices=options, n_bootstrap=0, mode=mode)["tasks"][tasks]["score"]
        b = score(declined, answers, tasks, choices=options, n_bootstrap=0, mode=mode)["tasks"][tasks]["score"]
        assert (b > a) is pays, mode
    assert a == 50.0 and b == 100.0  # paper: five of five counted replies are right


# ------------------------------------------------------------------ MMAR, paper mode

ORDER = ["From far to near", "From near to far", "It stays in place", "It circles around"]
RATIO = ["Ratio is 3:1", "Ratio is 1:3"]
PETS = ["Dog", "Dog and cat", "Open grassland"]
# (reply or None, options, answer letter, modality, category, sub-category, what it checks)
MMAR_CASES = [
    ("From far to near", ORDER, "A", "sound", "Signal Layer", "Spatial", "the answer"),
    ("From near to far", ORDER, "A", "sound", "Signal Layer", "Spatial", "swapped order: credited (flaw)"),
    ("It is moving from far to near.", ORDER, "A", "sound", "Signal Layer", "Spatial", "answer in a sentence"),
    ("B", ORDER, "B", "sound", "Signal Layer", "Spatial", "bare letter: 0 (flaw)"),
    ("Ratio is 1:3", RATIO, "A", "music", "Perception Layer", "Counting", "swapped ratio: credited (flaw)"),
    ("The ratio is 1:3", RATIO, "B", "music", "Perception Layer", "Counting", "extra non-option word"),
    ("Dog", PETS, "A", "speech", "Semantic Layer", "Content", "answer"),
    ("Dog and cat", PETS, "A", "speech", "Semantic Layer", "Content", "another option's extra words: wrong"),
    ("Dog", PETS, "B", "speech", "Semantic Layer", "Content", "missing answer words: wrong"),
    ("OPEN Grassland!!", PETS, "C", "mix-sound-speech", "Cultural Layer", "Content", "case and punctuation"),
    ("", PETS, "C", "mix-sound-speech", "Cultural Layer", "Content", "empty: counted wrong"),
    ("...", PETS, "C", "mix-sound-speech", "Cultural Layer", "Content", "no word: counted wrong"),
    (None, PETS, "C", "mix-sound-speech", "Cultural Layer", "Content", "no reply: skipped"),
    (None, ORDER, "A", "sound", "Signal Layer", "Spatial", "no reply: skipped"),
]


def _mmar_score(cases, **kw):
    return score([c[0] for c in cases], [c[2] for c in cases], "MMAR", choices=[c[1] for c in cases],
                 meta=[json.dumps({"modality": c[3], "category": c[4], "sub-category": c[5]}) for c in cases],
                 n_bootstrap=0, per_sample=True, **kw)


def _mmar_rows(cases):
    return [{"answer_prediction": c[0], "choices": c[1], "answer": c[1][LETTER.index(c[2])], "modality": c[3],
             "category": c[4], "sub-category": c[5]} for c in cases]


def test_mmar_paper_mode_is_the_official_rule_with_its_tables():
    tally = mmar_reference(_mmar_rows(MMAR_CASES))
    out = _mmar_score(MMAR_CASES, mode="paper")
    task = out["tasks"]["MMAR"]
    correct, total = tally["all"]
    assert (task["n_scored"], task["n_dropped"]) == (total, 2)
    assert task["accuracy"] == pytest.approx(100 * correct / total)
    section = out["benchmarks"]["mmar"]
    assert section["average"] == pytest.approx(100 * correct / total) == out["average"]
    for table, prefix in (("modality", "m:"), ("category", "c:"), ("sub-category", "s:")):
        got = {value: (row["accuracy"], row["n"]) for value, row in section["tables"][table].items()}
        want = {k[2:]: (pytest.approx(100 * c / n), n) for k, (c, n) in tally.items() if k.startswith(prefix)}
        assert got == want, table
    # Branch by branch.
    by_case = {i: s for i, s in enumerate(out["per_sample"])}
    for i, case in enumerate(MMAR_CASES):
        ref = mmar_reference(_mmar_rows([case]))["all"]
        assert by_case[i]["scored"] == (ref[1] == 1), case[-1]
        assert by_case[i]["correct"] == (ref[0] == 1), case[-1]
    flaws = {c[-1]: by_case[i]["correct"] for i, c in enumerate(MMAR_CASES)}
    assert flaws["swapped order: credited (flaw)"] and flaws["swapped ratio: credited (flaw)"]
    assert not flaws["bare letter: 0 (flaw)"]


def test_mmar_strict_mode_reads_the_option_stated():
    out = _mmar_score(MMAR_CASES)
    parsed = {i: s["parsed"] for i, s in enumerate(out["per_sample"])}
    text = {c[-1]: (parsed[i], c) for i, c in enumerate(MMAR_CASES)}
    assert text["swapped order: credited (flaw)"][0] == "B"  # the option it states, not the answer
    assert text["swapped ratio: credited (flaw)"][0] == "B"
    assert text["extra non-option word"][0] == "B"
    assert text["bare letter: 0 (flaw)"][0] == "B"  # the option at that position
    assert text["answer in a sentence"][0] == "A"
    assert text["case and punctuation"][0] == "C"
    assert text["another option's extra words: wrong"][0] == "B"  # "Dog and cat" is option B, not A
    task = out["tasks"]["MMAR"]
    assert task["n_scored"] == task["n"] == len(MMAR_CASES)  # no reply is in the denominator, wrong
    right = sum(parsed[i] == c[2] for i, c in enumerate(MMAR_CASES))
    assert task["accuracy"] == pytest.approx(100 * right / len(MMAR_CASES))


@pytest.mark.parametrize("reply,options,expected", [
    ("B", ["B", "A", "C", "D"], None),  # "B" is option A's text: ambiguous
    ("b", ["C", "B", "A"], "B"),  # the option at B's position is itself "B"
    ("(c)", ORDER, "C"),
    ("B. From near to far", ORDER, "B"),
    ("B. From far to near", ORDER, None),  # the letter and the text disagree
    ("From far to near or from near to far", ORDER, None),  # two options named
    ("Answer: C", ORDER, None),  # letters in a sentence are not read for unlettered options
    ("I'd go with C.", ORDER, None),
    ('{"answer": "It circles around"}', ORDER, "D"),
    ("It does not stay in place; it circles around.", ORDER, "D"),
    ("From far to near\nFrom near to far\nIt stays in place\nIt circles around", ORDER, None),  # echoed options
])
def test_mmar_strict_reading_of_letters_and_texts(reply, options, expected):
    out = score([reply], ["A"], "MMAR", choices=[options], n_bootstrap=0, per_sample=True)
    assert out["per_sample"][0]["parsed"] == expected


MMAR_CORPUS = Path(__file__).resolve().parent / "data" / "mmar_replies.jsonl"


def test_mmar_strict_reading_never_misreads_the_graded_corpus():
    # Replies to unlettered options, each graded by hand with the option it asserts (or none).
    # Strict mode reads each as graded, except replies naming only part of an option and a hedge
    # settled afterwards, which it leaves unread (invalid, scored wrong) -- never another option.
    rows = [json.loads(line) for line in MMAR_CORPUS.read_text(encoding="utf-8").splitlines()]
    out = score([r["reply"] for r in rows], ["A"] * len(rows), "MMAR", choices=[r["choices"] for r in rows],
                n_bootstrap=0, per_sample=True)
    unread_styles = set()
    for row, s in zip(rows, out["per_sample"]):
        if s["parsed"] != row["grade"]:
            assert s["parsed"] is None, row
            unread_styles.add(row["style"])
    assert unread_styles == {"partial", "hedge_then_answer"}


# ------------------------------------------------------------------ aggregation

# The AIR-Bench README's Foundation leaderboard, Qwen-Audio-Turbo column, keyed by the release's
# task_name (the README's row titles mapped by hand).
QWEN_AUDIO_TURBO = {
    "Speech_Grounding": 45.4, "Spoken_Language_Identification": 95.9, "Speaker_Gender_Recognition": 82.5,
    "Speaker_Emotion_Recontion": 60.0, "Speaker_Age_Prediction": 58.8, "Speech_Entity_Reconition": 48.1,
    "Speaker_Intent_Classification": 56.4, "Speaker_Number_Verification": 54.3, "Synthesized_Voice_Detection": 69.3,
    "Audio_Grounding": 41.6, "vocal_sound_classification": 78.1, "Acoustic_Scene_Classification": 61.3,
    "Sound_AQA": 62.8,
    "Music_Instruments_Classfication": 59.6, "Music_Genre_Recognition": 77.1, "Music_Midi_Pitch_Analysis": 30.1,
    "Music_Midi_Velocity_Analysis": 25.1, "Music_AQA": 62.5, "Music_Mood_Recognition": 39.0,
}


def test_published_qwen_audio_turbo_row_reproduces():
    agg = AGGREGATIONS[FOUNDATION.aggregation]
    assert set(QWEN_AUDIO_TURBO) == {t.name for t in FOUNDATION_TASKS}
    categories, average = agg.combine(FOUNDATION, QWEN_AUDIO_TURBO, {k: 1 for k in QWEN_AUDIO_TURBO})
    assert {k: round(v, 1) for k, v in categories.items()} == {"speech": 63.4, "sound": 61.0, "music": 48.9}
    assert round(average, 1) == 57.8
    assert round(sum(QWEN_AUDIO_TURBO.values()) / 19, 1) == 58.3  # the plain task mean would not reproduce it


def test_foundation_run_aggregates_tasks_pooled_over_folders():
    # Sound_AQA: 3 of 4 right in avqa, 0 of 1 in clothoaqa -> pooled 60 (a mean of folders would be 37.5).
    replies, refs, tasks, metas = [], [], [], []

    def add(task, dataset, right):
        replies.append("A" if right else "B")
        refs.append("A")
        tasks.append(task)
        metas.append({"task_name": task, "dataset_name": dataset})

    for r in (1, 1, 1, 0):
        add("Sound_AQA", "avqa", r)
    add("Sound_AQA", "clothoaqa", 0)
    for r in (1, 0):
        add("Audio_Grounding", "AudioGrounding", r)
    add("Speech_Grounding", "librispeech", 1)
    add("Music_AQA", "music_avqa", 0)
    out = score(replies, refs, tasks, choices=[FOUR] * len(replies), meta=metas, n_bootstrap=20)
    section = out["benchmarks"]["airbench-foundation"]
    assert out["tasks"]["Sound_AQA"]["score"] == pytest.approx(60.0)
    assert section["categories"] == {"speech": pytest.approx(100.0), "sound": pytest.approx((60 + 50) / 2),
                                     "music": pytest.approx(0.0)}
    assert section["average"] == pytest.approx((100 + 55 + 0) / 3) == out["average"]
    assert section["folders"]["Sound_AQA_avqa"] == {"n_items": 4, "n": 4, "accuracy": 75.0, "random_guess": 25.0}
    assert not section["complete"] and len(section["missing_tasks"]) == 15
    assert section["average_ci95"] is not None
    assert section["random_guess"]["average"] == pytest.approx(25.0)


def test_mixed_run_keeps_audiomarathons_output_and_keys_the_others():
    genres = ["jazz", "rock", "pop", "metal"]
    am = score(["A", "B"], ["A", "A"], "GTZAN", choices=[genres] * 2, n_bootstrap=0)
    mixed = score(["A", "B", "From far to near"], ["A", "A", "A"], ["GTZAN", "GTZAN", "MMAR"],
                  choices=[genres, genres, ORDER], n_bootstrap=0)
    assert "benchmarks" not in am
    for key in ("categories", "average", "complete", "missing_tasks", "n_tasks"):
        assert mixed[key] == am[key], key
    # The same figures; Bonferroni corrects over every test of the call (here two tasks).
    differ = {"p_value_bonferroni", "significant"}
    assert {k: v for k, v in mixed["tasks"]["GTZAN"].items() if k not in differ} == \
        {k: v for k, v in am["tasks"]["GTZAN"].items() if k not in differ}
    assert mixed["bonferroni_tests"] == 2
    assert set(mixed["benchmarks"]) == {"audiomarathon", "mmar"}
    assert mixed["benchmarks"]["mmar"]["average"] == 100.0
    assert mixed["benchmarks"]["audiomarathon"]["average"] == am["average"]


# ------------------------------------------------------------------ random guessing

def test_random_guess_is_mmars_published_row():
    # MMAR's option counts (815 items with 4, 171 with 2, 10 with 3, 3 with 5, 1 with 6): the README's
    # "Random Guess" average is 29.3.
    counts = [4] * 815 + [2] * 171 + [3] * 10 + [5] * 3 + [6]
    assert round(random_guess_accuracy(counts), 1) == 29.3


def test_random_guess_baseline_of_any_run():
    cases = [(ORDER, "A"), (RATIO, "B"), (PETS, "C"), (ORDER[:2] + ["x", "y", "z"], "A")]
    out = score(["no idea"] * 4, [c[1] for c in cases], "MMAR", choices=[c[0] for c in cases], n_bootstrap=0,
                meta=[{"modality": m} for m in ("sound", "sound", "music", "music")])
    want = 100 * sum(1 / len(c[0]) for c in cases) / 4
    assert out["tasks"]["MMAR"]["chance_accuracy"] == pytest.approx(want)
    guess = out["benchmarks"]["mmar"]["random_guess"]
    assert guess["average"] == pytest.approx(want)
    assert guess["tables"]["modality"] == {"sound": pytest.approx(100 * (1 / 4 + 1 / 2) / 2),
                                           "music": pytest.approx(100 * (1 / 3 + 1 / 5) / 2)}
    foundation = score(["A", "A", "A"], ["A", "B", "A"], ["Sound_AQA", "Sound_AQA", "Music_AQA"],
                       choices=[FOUR, TWO, ["a", "b", "c"]], n_bootstrap=0)
    guess = foundation["benchmarks"]["airbench-foundation"]["random_guess"]
    assert guess["categories"] == {"sound": pytest.approx(100 * (1 / 4 + 1 / 2) / 2), "music": pytest.approx(100 / 3)}
    assert guess["average"] == pytest.approx((100 * 3 / 8 + 100 / 3) / 2)


# ------------------------------------------------------------------ compare, the evaluate module, the command

def test_compare_scores_accuracy_with_mcnemar():
    answers = ["A"] * 6
    a = ["From far to near"] * 6
    b = ["From far to near"] * 2 + ["From near to far"] * 4
    out = compare(a, b, answers, "MMAR", choices=[ORDER] * 6, n_bootstrap=50)
    t = out["tasks"]["MMAR"]
    assert (t["score_a"], t["score_b"], t["only_a_correct"], t["only_b_correct"]) == (100.0, pytest.approx(100 / 3), 4, 0)
    assert t["mcnemar_p"] == pytest.approx(2 * 0.5 ** 4)
    assert out["average_diff"] == pytest.approx(200 / 3) == out["benchmarks"]["mmar"]["average_diff"]


def test_evaluate_module_takes_meta_and_benchmark_configs(tmp_path, monkeypatch):
    import evaluate

    # evaluate copies module scripts into HF_MODULES_CACHE; keep them out of the user's cache.
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path))
    folder = Path(__file__).resolve().parent.parent / "audiomarathon_metric"
    metric = evaluate.load(str(folder), "foundation", cache_dir=str(tmp_path))
    out = metric.compute(predictions=["A", "Based on the audio"], references=["A", "B"],
                         tasks=["Sound_AQA", "Music_AQA"], choices=[FOUR, FOUR],
                         meta=[{"dataset_name": "avqa"}, {"dataset_name": "music_avqa"}], n_bootstrap=0, mode="paper")
    assert out["tasks"]["Music_AQA"]["n_scored"] == 1 and out["tasks"]["Music_AQA"]["accuracy"] == 100.0
    assert set(out["benchmarks"]["airbench-foundation"]["folders"]) == {"Sound_AQA_avqa", "Music_AQA_music_avqa"}
    with pytest.raises(ValueError, match="pass tasks="):
        metric.compute(predictions=["A"], references=["A"], choices=[FOUR])
    mmar = evaluate.load(str(folder), "mmar", cache_dir=str(tmp_path))
    out = mmar.compute(predictions=["From far to near"], references=["A"], choices=[ORDER], n_bootstrap=0)
    assert out["average"] == 100.0


def _run_folder(path: Path, records) -> Path:
    from audiomarathon.records import write_results

    path.mkdir(parents=True)
    lines = [{**r, "config_hash": "abc"} for r in records]
    (path / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    write_results(path / "results.json", {"schema": 2, "config": {"model": "m", "method": "none", "ratio": 0.0,
                                                                  "config_hash": "abc", "adapter": None},
                                          "dataset": {"fingerprint": "f"}})
    return path


def test_score_command_on_an_mmar_and_foundation_run(tmp_path, capsys):
    records = []
    for i, c in enumerate(MMAR_CASES):
        records.append({"id": f"mmar-{i}", "task": "MMAR", "reply": c[0], "reference": c[2], "choices": c[1],
                        "meta": json.dumps({"modality": c[3], "category": c[4], "sub-category": c[5]})})
    for i, (reply, options, answer, _) in enumerate(AIR_CASES):
        records.append({"id": f"air-{i}", "task": "Sound_AQA", "reply": reply, "reference": answer, "choices": options,
                        "meta": json.dumps({"task_name": "Sound_AQA", "dataset_name": "avqa"})})
    run = _run_folder(tmp_path / "run", records)
    tally = mmar_reference(_mmar_rows(MMAR_CASES))["all"]
    folders, _ = airbench_reference([{"response": r, "options": o, "answer_gt": o[LETTER.index(a)],
                                      "task_name": "Sound_AQA", "dataset_name": "avqa"} for r, o, a, _ in AIR_CASES])
    for mode in ("strict", "paper"):
        assert main(["score", str(run), "--json", "--n-bootstrap", "0", "--mode", mode]) == 0
        out = json.loads(capsys.readouterr().out)
        assert set(out["benchmarks"]) == {"mmar", "airbench-foundation"} and out["average"] is None
        if mode == "paper":
            assert out["tasks"]["MMAR"]["accuracy"] == pytest.approx(100 * tally[0] / tally[1])
            c, n = folders["Sound_AQA_avqa"]
            assert out["benchmarks"]["airbench-foundation"]["folders"]["Sound_AQA_avqa"]["accuracy"] == \
                pytest.approx(100 * c / n)
        else:
            assert out["tasks"]["MMAR"]["n_scored"] == len(MMAR_CASES)
    assert main(["score", str(run), "--n-bootstrap", "0"]) == 0
    table = capsys.readouterr().out
    assert "MMAR (mmar aggregate)" in table and "by modality" in table and "by folder" in table
    assert "Sound_AQA_avqa" in table and "mix-sound-speech" in table


def test_score_with_data_takes_the_meta_from_the_dataset(tmp_path, capsys):
    import datasets

    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_mmar

    release = write_synthetic_mmar(tmp_path / "BoJack-MMAR", n=12, seed=3)
    out = tmp_path / "mmar"
    assert import_release(release, out, progress=False).ok
    rows = list(datasets.load_dataset(str(out), "MMAR", split="test"))
    # Predictions from another harness: no meta, no duration; every third reply is the answer text.
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "task": "MMAR", "reference": r["answer"], "choices": r["choices"],
                                         "prediction": r["answer_text"] if i % 3 == 0 else "no idea"}) + "\n"
                             for i, r in enumerate(rows)), encoding="utf-8")
    assert main(["score", str(preds), "--data", str(out), "--mode", "paper", "--json", "--n-bootstrap", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    tally = mmar_reference([{**json.loads(r["meta"]), "answer_prediction": r["answer_text"] if i % 3 == 0 else "no idea",
                             "choices": r["choices"], "answer": r["answer_text"]} for i, r in enumerate(rows)])
    got = {v: (row["accuracy"], row["n"]) for v, row in result["benchmarks"]["mmar"]["tables"]["modality"].items()}
    assert got == {k[2:]: (pytest.approx(100 * c / n), n) for k, (c, n) in tally.items() if k.startswith("m:")}
    assert "family" not in result  # the official MMAR script is the same for every family


@pytest.mark.parametrize("reply,official", [
    ("Based on the recording, it is hard to say.", "B"),
    ("Certainly! Let me listen to it again.", "C"),
    ("As the speaker says, the weather is nice", "A"),
    ("Definitely a sound from a CD.", "D"),
])
def test_airbench_leading_words_are_no_letter_in_strict_mode(reply, official):
    rows = _foundation_items([(reply, FOUR, "B", "")])
    assert airbench_reference([{**rows[0], "dataset_name": "x"}])[0]  # the official rule counts it ...
    paper = _score_rows(rows, mode="paper")["per_sample"][0]
    strict = _score_rows(rows)["per_sample"][0]
    assert paper["parsed"] == official and paper["scored"]
    assert strict["parsed"] is None and strict["scored"] and not strict["correct"]  # ... strict reads no answer


def test_compare_command_on_mmar_and_foundation_runs(tmp_path, capsys):
    def run(name, right):
        records = [{"id": f"m{i}", "task": "MMAR", "reply": c[1][LETTER.index(c[2])] if right else c[0],
                    "reference": c[2], "choices": c[1], "duration": 20.0 + i} for i, c in enumerate(MMAR_CASES)]
        records += [{"id": f"a{i}", "task": "Sound_AQA", "reply": a if right else r, "reference": a, "choices": o,
                     "duration": 12.0} for i, (r, o, a, _) in enumerate(AIR_CASES)]
        return _run_folder(tmp_path / name, records)

    a, b = run("a", False), run("b", True)
    assert main(["compare", str(a), str(b), "--json", "--n-bootstrap", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    pair = out["comparisons"][0]
    assert pair["by_duration"] is None  # duration bins are AudioMarathon's long-audio analysis
    assert set(pair["benchmarks"]) == {"mmar", "airbench-foundation"} and pair["average_diff"] is None
    mmar = out["runs"]["a"]["scores"]["tasks"]["MMAR"]["accuracy"]
    assert pair["benchmarks"]["mmar"]["average_diff"] == pytest.approx(mmar - 100.0)
    assert main(["compare", str(a), str(b), "--n-bootstrap", "0"]) == 0
    table = capsys.readouterr().out
    assert "| average (mmar) |" in table and "| average (airbench-foundation) |" in table
