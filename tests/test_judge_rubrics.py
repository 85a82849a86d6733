"""MMAR-Rubrics: the official procedure's message, rater replies read strictly, the gate, five
raters with the highest and lowest dropped; checked against rules typed out here."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from chat_runs import write_dataset
from openai_server import ChatServer

DATA = Path(__file__).parent / "data"
SYSTEM = ("You are a impartial and meticulous AI evaluator. Your task is to assess a model's response to a question "
          "by evaluating its reasoning and its final answer. You must strictly follow the provided ground truth "
          "information and the detailed scoring rubric.")
OWL_RUBRIC = [{"name": "Hears the owl", "scoring_point": "Award 1 point if the owl is identified.",
               "note": "n", "choices": [0, 1]},
              {"name": "Order", "scoring_point": "Award 1 point if the order of the calls is right.",
               "note": "n", "choices": [0, 1]}]


def test_the_message_is_built_as_the_official_script_builds_it():
    from audiomarathon_metric.judge.rubrics import RUBRIC_SYSTEM_PROMPT, rubric_message

    assert RUBRIC_SYSTEM_PROMPT == SYSTEM
    got = rubric_message("Which animal calls first?", "The owl", "An owl hoots, then a crow caws.", OWL_RUBRIC,
                         "I hear it.\n   Indented line.", "The owl")
    assert got == (DATA / "mmar_rubric_message.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("reply, score", [
    ('[{"name": "Hears the owl", "score": 1}, {"name": "Order", "score": 0}]', 0.5),
    ('Here:\n[\n{"name": "a", "score": 1, "justification": "x"},\n{"name": "b", "score": 1}\n]\nDone.', 1.0),
    ('[{"name": "Hears the owl", "score": 2}, {"name": "Order", "score": 0}]', None),  # not a choice
    ('[{"name": "Hears the owl", "score": 1}]', None),  # one item of two
    ('[{"name": "Hears the owl", "score": "1"}, {"name": "Order", "score": 0}]', None),  # text, not a number
    ('{"name": "Hears the owl", "score": 1}', None),  # not a list
    ("I give it 1 and 0", None),
])
def test_a_rater_reply_is_a_json_list_scoring_every_item_with_an_allowed_choice(reply, score):
    from audiomarathon_metric.judge.rubrics import RubricReplyError, rater_score

    if score is None:
        with pytest.raises(RubricReplyError):
            rater_score(reply, OWL_RUBRIC)
    else:
        assert rater_score(reply, OWL_RUBRIC) == score


# ------------------------------------------------------------------ end to end
def words(text):
    return set(re.findall(r"\b\w+\b", text.lower()))


def passes(answer, reply, choices):
    """The official gate, typed out: every answer word said, no word only another option has."""
    said = words(reply)
    if not said or not words(answer) <= said:
        return False
    other = set().union(*(words(c) - words(answer) for c in choices if words(c) != words(answer)))
    return not (said & other)


def points(message: str, seen: int) -> list[int]:
    """The test judge: rubric item i of a message gets 1 when a hash of (message, seen, i) is odd."""
    names = re.findall(r"### Criterion: (.*)", message)
    return [hashlib.sha256(f"{message}|{seen}|{i}".encode()).digest()[0] % 2 for i in range(len(names))]


def rater(message: str, seen: int) -> str:
    if "garbled" in message and seen == 0:
        return "Sorry, I cannot produce JSON."
    names = re.findall(r"### Criterion: (.*)", message)
    return json.dumps([{"name": n, "score": p, "justification": "j"} for n, p in zip(names, points(message, seen))])


def mmar_run(tmp: Path):
    from audiomarathon.records import write_results

    rows, replies = [], {}
    specs = [("The owl", ["The owl", "The crow"], "The owl calls first."),
             ("The crow", ["The owl", "The crow"], "It is the owl."),  # fails the gate
             ("Three", ["Two", "Three", "Four"], "Three speakers, garbled reasoning."),  # first rater reply unusable
             ("Rain", ["Rain", "Wind"], None)]  # no reply
    for n, (answer, choices, reply) in enumerate(specs):
        rubric = [dict(r, name=f"{r['name']} {n}") for r in OWL_RUBRIC] + [
            {"name": f"Extra {n}", "scoring_point": "p", "note": "n", "choices": [0, 1]}]
        rows.append({"id": f"MMAR-{n:05d}", "task": "MMAR", "question": f"Question {n}?", "answer_text": answer,
                     "choices": choices, "meta": json.dumps({"rubric": rubric, "thinking": f"Because {n}.",
                                                             "modality": "sound" if n % 2 else "music",
                                                             "category": "c", "sub-category": "s"}),
                     "reply": reply})
    data = write_dataset(tmp / "data", rows)
    run = tmp / "run"
    run.mkdir()
    with open(run / "predictions.jsonl", "w") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "task": "MMAR", "reply": r["reply"], "parsed": None, "rule": None,
                                 "reference": "A", "choices": r["choices"], "timings": {}, "compression": None,
                                 "config_hash": "mmarrun", "error": None if r["reply"] else "boom"}) + "\n")
    write_results(run / "results.json", {"schema": 2, "config": {"model": "m", "method": "none", "ratio": 0.0,
                                                                 "config_hash": "mmarrun"},
                                         "dataset": {"path": str(data), "fingerprint": "fp"}})
    return run, rows


def test_rubric_scores_follow_the_procedure(tmp_path):
    from audiomarathon_metric.judge.rubrics import rubric_message
    from audiomarathon_runner.api.config import ApiConfig
    from audiomarathon_runner.commands.judge import judge_run
    from audiomarathon_runner.judge.settings import JudgeSettings

    run, rows = mmar_run(tmp_path)
    api = ApiConfig(base_urls=("http://127.0.0.1:1/v1",), concurrency=4, backoff_s=0.01)
    with ChatServer(judge=rater) as server:
        api = ApiConfig(base_urls=(server.base_url,), concurrency=4, backoff_s=0.01)
        entry = judge_run(run, JudgeSettings.for_profile("judge"), api)
        log = list(server.log)
        again = judge_run(run, JudgeSettings.for_profile("judge"), api)
        assert len(server.log) == len(log)  # everything reused
    assert again["strict"] == entry["strict"]
    expected = {}
    for r in rows:
        meta = json.loads(r["meta"])
        if r["reply"] is None or not passes(r["answer_text"], r["reply"], r["choices"]):
            expected[r["id"]] = 0.0
            continue
        message = rubric_message(r["question"], r["answer_text"], meta["thinking"], meta["rubric"], "", r["reply"])
        first = 1 if "garbled" in message else 0  # the unusable first reply was asked again
        raters = sorted(sum(points(message, seen)) / len(meta["rubric"]) for seen in range(first, first + 5))
        expected[r["id"]] = sum(raters[1:-1]) / 3
    assert {i: v["score"] for i, v in entry["items"].items()} == pytest.approx(expected)
    assert entry["strict"]["score"] == pytest.approx(100 * sum(expected.values()) / len(expected))
    assert entry["strict"]["accuracy"] == pytest.approx(50.0)
    # Five raters for each of the two items through the gate, plus the one retry; a system turn each time.
    assert len(log) == 11 and {(e["temperature"], e["seed"]) for e in log} >= {(0, 42)}
    recs = [json.loads(x) for x in (run / "judgments.jsonl").read_text().splitlines()]
    assert sum(r["order"] == "gate" for r in recs) == 2 and sum(r["order"].startswith("rater") for r in recs) == 10
