"""AIR-Bench Chat end to end: the release imported by content, a tiny model's free-form replies
(the question alone as its prompt), and the judge's scores of that run."""

from __future__ import annotations

import json

import pytest

from chat_runs import TASKS, fair_judge, items, write_chat_release
from openai_server import ChatServer
from test_judge import expected, fair_sides, judge


@pytest.fixture(scope="module")
def chat_dataset(tmp_path_factory):
    from audiomarathon_dataset.release import import_release

    root = tmp_path_factory.mktemp("chat")
    rows = items(2)
    release = write_chat_release(root / "release", rows)
    report = import_release(release, root / "dataset", progress=False)
    return root / "dataset", rows, report


def test_the_chat_release_is_imported_by_content(chat_dataset):
    import pyarrow.parquet as pq

    dataset, rows, report = chat_dataset
    # The record of a task Chat does not have is reported and skipped; nothing else is.
    problems = [i for i in report.issues]
    assert len(problems) == 1 and "speech_summary_QA" in problems[0].message
    by_id = {}
    for task in TASKS:
        (shard,) = (dataset / task).glob("test-*.parquet")
        for row in pq.read_table(shard).to_pylist():
            by_id[(task, json.loads(row["meta"])["uniq_id"])] = row
    assert len(by_id) == len(rows)
    for r in rows:
        meta = json.loads(r["meta"])
        row = by_id[(r["task"], meta["uniq_id"])]
        got = json.loads(row["meta"])
        assert row["question"] == r["question"] and row["answer_text"] == r["answer_text"]
        assert row["choices"] == [] and row["answer"] == ""
        # meta_info exactly as released: the dialogue task's stays a JSON string.
        assert got["meta_info"] == meta["meta_info"] and isinstance(got["meta_info"], str)
        assert got["task_name"] == r["task"] and got["dataset_name"] == meta["dataset_name"]
        assert row["duration"] == pytest.approx(1.0)
    card = (dataset / "README.md").read_text()
    assert "config_name: speech_QA" in card


def test_a_tiny_model_answers_the_questions_and_the_judge_scores_its_run(chat_dataset, tmp_path):
    from audiomarathon.records import read_predictions, read_results
    from audiomarathon_runner.run import RunConfig, run_evaluation
    from audiomarathon_runner.tiny import save_tiny_model

    dataset, rows, _ = chat_dataset
    model = save_tiny_model("qwen2_audio", tmp_path / "tiny")
    out = tmp_path / "run"
    run_evaluation(RunConfig(model=str(model), data=str(dataset), tasks="chat", out=str(out), dtype="fp32",
                             device="cpu", max_new_tokens=4, progress=False))
    results = read_results(out / "results.json")
    assert results["scores"]["open_ended"]["tasks"] == sorted(TASKS)
    records = read_predictions(out / "predictions.jsonl")
    assert len(records) == len(rows) and {r["rule"] for r in records} == {"open-ended"}
    # The prompt is the question alone (Inference_Chat.py).
    procedure = results["config"]["procedure"]
    assert procedure  # recorded per task
    with ChatServer(judge=fair_judge) as server:
        entry = judge(out, server)
    # The figures the test judge gives the tiny model's replies against the release's references.
    texts = {r["id"]: r for r in records}
    import pyarrow.parquet as pq

    judged = []
    for task in TASKS:
        (shard,) = (dataset / task).glob("test-*.parquet")
        for row in pq.read_table(shard).to_pylist():
            rec = texts[row["id"]]
            judged.append({"id": row["id"], "task": task, "answer_text": row["answer_text"],
                           "reply": None if rec["error"] else rec["reply"]})
    model_side, ref_side = fair_sides(judged)
    assert entry["strict"]["average"] == pytest.approx(expected(judged, model_side, ref_side)[2])
    assert entry["strict"]["failures"]["total"] == 2 * sum(r["reply"] is None for r in judged)


def test_an_open_ended_question_is_never_answered_from_part_of_its_clip(chat_dataset, tmp_path):
    from audiomarathon.cli import main
    from audiomarathon.records import read_predictions

    dataset, rows, _ = chat_dataset
    with ChatServer(reply="A long answer.", decode=False) as server:
        code = main(["run", "--model", "m", "--data", str(dataset), "--tasks", "speech_QA", "--out", str(tmp_path / "r"),
                     "--api-base", server.base_url, "--max-request-mb", "0.01", "--on-too-long", "split"])
        assert code == 0 and server.log == []
    for rec in read_predictions(tmp_path / "r" / "predictions.jsonl"):
        assert "open-ended question" in rec["error"] and rec["reply"] is None
