"""The Space's AIR-Bench Chat board takes submissions that carry their judgments: re-aggregated by
the server, refused when a judgment is not the official prompt's or does not say what it claims."""

from __future__ import annotations

import json

import pytest

from chat_runs import chat_run, fair_judge
from openai_server import ChatServer
from test_judge import judge


def _key(rows):
    from space.answer_key import AnswerKey

    return AnswerKey.from_rows([{"id": r["id"], "task": r["task"], "choices": [], "answer": "",
                                 "answer_text": r["answer_text"], "meta": r["meta"], "question": r["question"]}
                                for r in rows], source="chat")


def test_a_chat_submission_is_rescored_from_its_judgments_and_shown_on_the_chat_board(tmp_path):
    from audiomarathon.records import read_results, write_results
    from space.boards import board_frame, boards
    from space.chat_submission import validate_chat_submission
    from space.validation import SubmissionRejected

    run_dir, rows = chat_run(tmp_path, n_per_task=2)
    key = _key(rows)
    results = read_results(run_dir / "results.json")
    results["dataset"]["fingerprint"] = key.fingerprint
    write_results(run_dir / "results.json", results)
    with ChatServer(judge=fair_judge) as server:
        entry = judge(run_dir, server)
    files = [(run_dir / name).read_bytes() for name in ("predictions.jsonl", "results.json", "judgments.jsonl")]
    sub = validate_chat_submission(*files, [key])
    assert sub.entry.average == pytest.approx(entry["strict"]["average"])
    assert sub.entry.categories == pytest.approx(entry["strict"]["categories"])
    from space.store import OVERALL

    judged = sub.entry.details[OVERALL]
    assert judged["judge"]["position_bias"] == pytest.approx(entry["strict"]["position_bias"])
    (board,) = [b for b in boards() if b.benchmark == "airbench-chat"]
    frame = board_frame(board, [sub.entry])
    assert frame.iloc[0]["Speech"] == pytest.approx(entry["strict"]["categories"]["speech"])

    # A judgment under another prompt, or whose scores were edited, is refused.
    lines = [json.loads(x) for x in files[2].decode().splitlines()]
    asked = next(i for i, j in enumerate(lines) if j["failure"] is None)
    for change, why in ((dict(prompt_sha256="sha256:" + "0" * 64), "official"),
                        (dict(model_score=10, scores=[10, 10]), "raw judge reply")):
        bad = [dict(j, **change) if i == asked else j for i, j in enumerate(lines)]
        data = "".join(json.dumps(j) + "\n" for j in bad).encode()
        with pytest.raises(SubmissionRejected, match=why):
            validate_chat_submission(files[0], files[1], data, [key])
    # A reply changed after judging no longer matches its judgments.
    preds = [json.loads(x) for x in files[0].decode().splitlines()]
    target = next(p for p in preds if p["id"] == lines[asked]["id"])
    target["reply"] = "a better answer, written later"
    data = "".join(json.dumps(p) + "\n" for p in preds).encode()
    with pytest.raises(SubmissionRejected, match="message hash differs"):
        validate_chat_submission(data, files[1], files[2], [key])


def test_a_chat_run_without_its_judgments_is_refused_with_a_pointer(tmp_path):
    from audiomarathon.records import read_results, write_results
    from space.validation import SubmissionRejected, validate_submission

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    key = _key(rows)
    results = read_results(run_dir / "results.json")
    results["dataset"]["fingerprint"] = key.fingerprint
    write_results(run_dir / "results.json", results)
    with pytest.raises(SubmissionRejected, match="judgments.jsonl"):
        validate_submission((run_dir / "predictions.jsonl").read_bytes(), (run_dir / "results.json").read_bytes(), [key])


def test_the_service_stores_a_chat_submission_on_its_board(tmp_path):
    from audiomarathon.records import read_results, write_results
    from space.boards import board_frame, boards
    from space.service import Service

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    key = _key(rows)
    results = read_results(run_dir / "results.json")
    results["dataset"]["fingerprint"] = key.fingerprint
    write_results(run_dir / "results.json", results)
    with ChatServer(judge=fair_judge) as server:
        entry = judge(run_dir, server)
    service = Service.open(tmp_path / "lb.sqlite")
    service.store.put_answer_key(key)
    sub = service.submit(run_dir / "predictions.jsonl", run_dir / "results.json",
                         judgments_path=run_dir / "judgments.jsonl")
    (board,) = [b for b in boards() if b.benchmark == "airbench-chat"]
    frame = board_frame(board, service.entries(None))
    mine = frame[frame["Source"] != "paper"]
    assert len(mine) == 1 and mine.iloc[0]["Average"] == pytest.approx(entry["strict"]["average"])
    assert sub.entry.benchmark == "airbench-chat"
