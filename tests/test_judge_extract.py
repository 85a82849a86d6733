"""Judge-assisted answer extraction: the official align prompt with "None" allowed, strict reading of
the judge's letter, and the run scored again with the readings, as its own mode."""

from __future__ import annotations

import json
import re

import pytest

from chat_runs import write_dataset
from openai_server import ChatServer

# align_in_foundation.py's prompt typed out, its "choose one at random" replaced as the mode says.
OFFICIAL_HEAD = ('There is a question "QUESTION", and one response is "ANSWER". Among the following choices, which '
                 'option best matches this response? You may only response with the letter of the option. If the '
                 'letter of an option has already appeared in the Answer, then simply return that letter. If there '
                 'are no matching options, then choose one at random. The following lines are the options.')
OFFICIAL_REMINDER = "To reiterate, the response you provide to me must be a single letter, either A, B, C, or D."


def test_the_prompt_is_the_official_one_with_none_as_an_answer():
    from audiomarathon_metric.judge.extract import extract_message

    got = extract_message("What barks?", "It sounds like a cat.", ["dog", "cat", "bird"])
    want = (OFFICIAL_HEAD.replace("choose one at random", "respond with None")
            .replace("ANSWER", "It sounds like a cat.").replace("QUESTION", "What barks?")
            + "\nA. dog\nB. cat\nC. bird\n" + OFFICIAL_REMINDER[:-1] + ", or None.")
    assert got == want


@pytest.mark.parametrize("reply, read, letter", [
    ("B", True, "B"), (" C. ", True, "C"), ("None", True, None), ("none.", True, None),
    ("D", False, None), ("b", False, None), ("B or C", False, None), ("The answer is B", False, None), ("", False, None),
])
def test_the_judge_reply_is_one_letter_of_the_item_or_none(reply, read, letter):
    from audiomarathon_metric.judge.extract import read_extraction

    assert read_extraction(reply, 3) == (read, letter)


SOUNDS = {"meows": "cat", "chirps": "bird", "barks": "dog"}


def reader(message: str, seen: int) -> str:
    """The test judge: the option whose animal makes the sound the quoted reply names, else None;
    'muddled' replies get an unusable first answer."""
    reply = re.search(r'one response is "(.*)"\. Among', message, re.S).group(1)
    if "muddled" in reply.lower() and seen == 0:
        return "It is probably B"
    options = dict((text, letter) for letter, text in re.findall(r"\n([A-D])\. (.*)", message))
    named = [SOUNDS[w] for w in re.findall(r"\w+", reply) if w in SOUNDS]
    return options[named[0]] if named else "None"


def test_invalid_replies_are_read_by_the_judge_and_the_run_scored_again(tmp_path):
    from audiomarathon.records import read_results, write_results
    from audiomarathon_runner.api.config import ApiConfig
    from audiomarathon_runner.commands.judge import judge_run
    from audiomarathon_runner.judge.settings import JudgeSettings

    choices = ["dog", "cat", "bird"]
    # (reply, reference): valid under strict extraction, rescued, rescued wrongly, None, muddled, no reply
    specs = [("B", "B"), ("Something meows there.", "B"), ("Something chirps there.", "A"),
             ("Hmm, hard to tell.", "A"), ("Muddled: something barks there.", "A"), (None, "C")]
    rows = [{"id": f"Sound_AQA-{n:05d}", "task": "Sound_AQA", "question": "What is heard?", "answer_text": "x",
             "choices": choices, "meta": json.dumps({"task_name": "Sound_AQA", "dataset_name": "avqa"}),
             "reply": reply, "reference": ref} for n, (reply, ref) in enumerate(specs)]
    data = write_dataset(tmp_path / "data", rows)
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "predictions.jsonl", "w") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "task": r["task"], "reply": r["reply"], "parsed": None, "rule": None,
                                 "reference": r["reference"], "choices": choices, "timings": {}, "compression": None,
                                 "config_hash": "mcq", "error": None if r["reply"] else "boom"}) + "\n")
    write_results(run / "results.json", {"schema": 2, "config": {"model": "m", "method": "none", "ratio": 0.0,
                                                                 "config_hash": "mcq"},
                                         "dataset": {"path": str(data), "fingerprint": "fp"}})
    with ChatServer(judge=reader) as server:
        api = ApiConfig(base_urls=(server.base_url,), concurrency=2, backoff_s=0.01)
        entry = judge_run(run, JudgeSettings.for_profile("judge"), api, n_bootstrap=0, extract=True)
        asked = len(server.log)
        again = judge_run(run, JudgeSettings.for_profile("judge"), api, n_bootstrap=0, extract=True)
        assert len(server.log) == asked
    # Four replies invalid under strict extraction were asked (one twice); no reply is never asked.
    assert asked == 5
    assert entry["readings"] == {"invalid": 4, "rescued": 3, "none": 1, "unread": 0}
    # Correct: the valid B, the rescued cat (B); not the rescued bird (reference A), not None; the
    # muddled one's dog is A: correct. 3 of 6, where strict extraction gives 1 of 6.
    assert entry["scores"]["tasks"]["Sound_AQA"]["accuracy"] == pytest.approx(100 * 3 / 6)
    assert again["scores"]["tasks"]["Sound_AQA"]["accuracy"] == entry["scores"]["tasks"]["Sound_AQA"]["accuracy"]
    results = read_results(run / "results.json")
    assert results["judge"][entry["settings_key"]]["procedure"] == "judge-extraction"
    assert "scores" not in results  # the run's own strict scores are not touched
