"""`audiomarathon score predictions.jsonl`: the CLI over score()."""

from __future__ import annotations

import json

from audiomarathon.cli import main
from audiomarathon_metric import score

RECORDS = [
    {"id": "GTZAN-0", "task": "GTZAN", "prediction": "ANSWER: C", "reference": "C", "choices": ["jazz", "metal", "rock", "pop"]},
    {"id": "VoxGender-0", "task": "SGR", "reply": "b", "answer": "B"},
    {"id": "LibriSpeech-0", "task": "LibriSpeech", "response": "Spoken Content: hello world", "reference": "Hello world."},
]


def write_jsonl(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_score_command_writes_the_score_result(tmp_path, capsys):
    src = write_jsonl(tmp_path / "predictions.jsonl", RECORDS)
    out = tmp_path / "res" / "scores.json"
    assert main(["score", str(src), "--out", str(out), "--n-bootstrap", "20", "--per-sample"]) == 0
    got = json.loads(out.read_text())
    expected = score(["ANSWER: C", "b", "Spoken Content: hello world"], ["C", "B", "Hello world."],
                     ["GTZAN", "SGR", "LibriSpeech"], choices=[RECORDS[0]["choices"], [], []],
                     ids=[r["id"] for r in RECORDS], n_bootstrap=20, per_sample=True)
    assert got == json.loads(json.dumps(expected))
    assert "average 100.0 over 3 tasks" in capsys.readouterr().err


def test_score_command_errors_name_the_line_or_index(tmp_path, capsys):
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text(json.dumps(RECORDS[0]) + "\n{oops\n")
    assert main(["score", str(bad_json)]) == 1
    assert "bad.jsonl line 2: malformed JSON" in capsys.readouterr().err
    missing = write_jsonl(tmp_path / "missing.jsonl", [{"task": "HAD", "prediction": "a"}])
    assert main(["score", str(missing)]) == 1
    assert "missing.jsonl line 1: missing field 'reference'" in capsys.readouterr().err
    bad_task = write_jsonl(tmp_path / "task.jsonl", [RECORDS[1], {**RECORDS[1], "id": "x", "task": "Nope"}])
    assert main(["score", str(bad_task)]) == 1
    assert "tasks[1]: unknown task 'Nope'" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "absent.jsonl")]) == 1
    assert "absent.jsonl: no such run folder or predictions file" in capsys.readouterr().err
