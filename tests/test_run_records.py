"""The run-record format and the run identity end to end: the runner writes, the Space and
`score` read, with the faults a real run produces (odd line separators in replies, failed
samples, retried samples, a record that lost only its newline) and the identity shared by
resume and the leaderboard's duplicate detection."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audiomarathon.cli import main
from audiomarathon.records import (
    PredictionLog,
    RecordError,
    read_predictions,
    read_results,
    write_predictions,
    write_results,
)
from audiomarathon.run_identity import normalize_model_name, run_id, run_identity
from runner_runs import set_replies

from space.service import Service
from space.store import VERIFIED
from space.validation import SubmissionRejected

ROOT = Path(__file__).resolve().parents[1]


SEPARATORS = "\u2028\u2029\u0085\r\x0b\x0c\x1c\x1d\x1e"


def _submit(service, run: Path):
    return service.submit(run / "predictions.jsonl", run / "results.json")


def _record(i: int, reply: str | None = "A", **extra) -> dict:
    return {"id": f"TAU-{i:05d}", "task": "TAU", "reply": reply, "parsed": None, "rule": None, "reference": "A",
            "choices": ["a", "b", "c", "d"], "timings": {}, "compression": None, "config_hash": "rid:x",
            "error": None, **extra}


# ------------------------------------------------------------------ the format itself
def test_reader_splits_on_newline_only_and_round_trips_every_separator(tmp_path):
    path = tmp_path / "p.jsonl"
    records = [_record(0, f"A{SEPARATORS}B"), _record(1, "line\nbreak"), _record(2, None, error="boom")]
    with PredictionLog(path) as log:
        for rec in records:
            log.append(rec)
    assert path.read_bytes().count(b"\n") == 3  # one line per record, whatever the reply holds
    assert read_predictions(path) == records
    # str.splitlines() (what readers used to do) would have seen more lines than records.
    assert len(path.read_text(encoding="utf-8").splitlines()) > 3


def test_writer_refuses_a_record_off_the_format_naming_the_field(tmp_path):
    with PredictionLog(tmp_path / "p.jsonl") as log, pytest.raises(RecordError, match=r"timings: expected an object"):
        log.append(_record(0, timings=[]))
    assert (tmp_path / "p.jsonl").read_bytes() == b""  # nothing half-written


def test_complete_last_record_missing_its_newline_is_kept(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [_record(0), _record(1)])
    path.write_bytes(path.read_bytes()[:-1])  # the newline of the last record lost, the record whole
    assert [r["id"] for r in read_predictions(path)] == ["TAU-00000", "TAU-00001"]
    with PredictionLog(path) as log:  # reopening for append must not cut it
        log.append(_record(2))
    assert [r["id"] for r in read_predictions(path)] == ["TAU-00000", "TAU-00001", "TAU-00002"]


def test_torn_last_record_is_cut_before_appending(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [_record(0), _record(1)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # killed mid-write
    assert [r["id"] for r in read_predictions(path)] == ["TAU-00000"]
    with PredictionLog(path) as log:
        log.append(_record(1))
    assert path.read_bytes() == data


def test_retried_record_replaces_the_failure_in_the_reader(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [_record(0, None, error="OOM"), _record(1), _record(0, "B")])
    assert [(r["id"], r["reply"]) for r in read_predictions(path)] == [("TAU-00000", "B"), ("TAU-00001", "A")]


def test_results_are_validated_on_write_naming_the_field(tmp_path, runner_runs):
    run = runner_runs.make(tmp_path / "run")
    results = read_results(run / "results.json")
    for path, value, message in [
        (("config", "ratio"), "0.5", "config.ratio: expected a number, found '0.5'"),
        (("dataset", "fingerprint"), None, "dataset.fingerprint: expected a string, found null"),
        (("samples", "missing"), "x", "samples.missing: expected a list"),
    ]:
        bad = copy.deepcopy(results)
        bad[path[0]][path[1]] = value
        before = (run / "results.json").read_bytes()
        with pytest.raises(RecordError, match=message):
            write_results(run / "results.json", bad)
        assert (run / "results.json").read_bytes() == before


# ------------------------------------------------------------------ what the runner writes
def test_runner_results_carry_identity_versions_and_commit(runner_runs, tmp_path):
    run = runner_runs.make(tmp_path / "run")
    results = read_results(run / "results.json")
    versions = results["versions"]
    assert versions["audiomarathon-hf"] and "audiomarathon" not in versions
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:  # a git checkout: the toolkit's own commit is recorded
        assert versions["audiomarathon_git_commit"].split("+")[0] == head.stdout.strip()
    identity = results["identity"]
    assert identity["model"] == "tiny-audio-1b" and identity["method"] == "none"
    assert identity["dataset_fingerprint"] == results["dataset"]["fingerprint"]
    assert not {"out", "data", "prefetch", "device", "world_size"} & set(identity)
    assert results["config"]["config_hash"] == run_id(identity)
    assert {r["config_hash"] for r in read_predictions(run / "predictions.jsonl")} == {run_id(identity)}


def test_failed_then_retried_sample_appears_once_and_both_states_are_accepted(runner_runs, imported_dataset,
                                                                              tmp_path):
    from audiomarathon_runner.run import RunConfig, run_evaluation

    samples = copy.deepcopy(runner_runs.samples)
    broken = next(s for s in samples if s.task == "HAD")
    good_audio, broken.audio_bytes = broken.audio_bytes, b"not audio"
    out = tmp_path / "run"
    config = RunConfig(model=str(runner_runs.model_dir), data=str(imported_dataset), out=str(out), dtype="fp32",
                       device="cpu", max_new_tokens=3, progress=False)
    results = run_evaluation(config, adapter=runner_runs.adapter, samples=samples)
    assert list(results["samples"]["failed"]) == [broken.id]
    failed = {r["id"]: r for r in read_predictions(out / "predictions.jsonl")}[broken.id]
    assert failed["reply"] is None and "cannot decode audio" in failed["error"]

    # The Space accepts a run with a failed sample (scored as an invalid reply) ...
    first = Service.open(tmp_path / "a.sqlite", [imported_dataset], seed=False)
    assert _submit(first, out).entry.scores
    # ... and so does `score`.
    assert main(["score", str(out / "predictions.jsonl"), "--out", str(tmp_path / "s.json"),
                 "--n-bootstrap", "10"]) == 0

    broken.audio_bytes = good_audio
    results = run_evaluation(RunConfig(**{**config.__dict__, "retry_failed": True}), adapter=runner_runs.adapter,
                             samples=samples)
    assert results["samples"]["failed"] == {}
    ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_bytes().split(b"\n") if line]
    assert ids.count(broken.id) == 1 and len(ids) == len(set(ids)) == len(samples)
    second = Service.open(tmp_path / "b.sqlite", [imported_dataset], seed=False)
    _submit(second, out)
    scored = json.loads((tmp_path / "s.json").read_text())
    assert main(["score", str(out / "predictions.jsonl"), "--out", str(tmp_path / "s2.json"),
                 "--n-bootstrap", "10"]) == 0
    assert json.loads((tmp_path / "s2.json").read_text())["tasks"]["HAD"]["n"] == scored["tasks"]["HAD"]["n"]


def test_replies_with_line_separators_reach_the_space_and_score(runner_runs, imported_dataset, tmp_path):
    run = runner_runs.make(tmp_path / "run")
    records = set_replies(run, lambda r: f"{SEPARATORS}{r['reply']}{SEPARATORS}")
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], seed=False)
    sub = _submit(service, run)
    assert service.store.count(VERIFIED) == 1 and sub.entry.average is not None
    assert main(["score", str(run / "predictions.jsonl"), "--out", str(tmp_path / "s.json"),
                 "--n-bootstrap", "10"]) == 0
    assert sum(t["n"] for t in json.loads((tmp_path / "s.json").read_text())["tasks"].values()) == len(records)


def test_resume_of_a_record_that_lost_its_newline_keeps_it_in_results(runner_runs, imported_dataset, tmp_path):
    from audiomarathon_runner.run import RunConfig, run_evaluation

    samples = [s for s in runner_runs.samples if s.task == "TAU"]
    out = tmp_path / "run"
    config = RunConfig(model=str(runner_runs.model_dir), data=str(imported_dataset), out=str(out), tasks="TAU",
                       dtype="fp32", device="cpu", max_new_tokens=3, progress=False)
    run_evaluation(config, adapter=runner_runs.adapter, samples=samples)
    path = out / "predictions.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    results = run_evaluation(config, adapter=runner_runs.adapter, samples=samples)
    assert path.read_bytes() == data  # the newline restored, nothing re-run, nothing cut
    assert results["samples"]["missing"] == [] and results["samples"]["effective"] == {"TAU": len(samples)}


# ------------------------------------------------------------------ one identity
def test_identity_ignores_where_and_how_fast_and_normalizes_the_model():
    base = {"model": "Qwen/Qwen2-Audio-7B-Instruct", "method": "none", "ratio": 0.0, "layer": 2, "seed": 0,
            "press_scope": "audio", "dtype": "bf16", "max_new_tokens": None}
    same = [
        {**base, "model": " qwen/QWEN2-Audio-7B-Instruct "},
        {**base, "out": "/elsewhere", "data": "/mnt/copy", "prefetch": 3, "device": "cuda:1", "world_size": 8},
        {**base, "layer": 5, "press_scope": "all", "seed": 9},  # no compression: these change nothing
        {**base, "junk": "x" * 1000},
    ]
    ids = {run_id(run_identity(c, "sha256:a")) for c in [base, *same]}
    assert len(ids) == 1
    different = [
        {**base, "method": "fastv", "ratio": 0.5},
        {**base, "dtype": "fp16"},
        {**base, "revision": "abc123"},
        {**base, "audio_control": "noise"},
        {**base, "max_new_tokens": 8},
    ]
    assert len({run_id(run_identity(c, "sha256:a")) for c in different} | ids) == len(different) + 1
    assert run_id(run_identity(base, "sha256:b")) not in ids  # another dataset version
    assert normalize_model_name("/data/models/Qwen2-Audio-7B-Instruct/") == "qwen2-audio-7b-instruct"


def test_same_run_from_another_folder_data_path_and_prefetch_is_one_entry(runner_runs, imported_dataset, tmp_path):
    first = runner_runs.make(tmp_path / "first")
    elsewhere = tmp_path / "copy-of-the-dataset"
    elsewhere.symlink_to(imported_dataset, target_is_directory=True)
    # A real second run: another output folder, another data path, prefetch on.
    second = runner_runs.run(tmp_path / "second", data=elsewhere, prefetch=1)
    a, b = read_results(first / "results.json"), read_results(second / "results.json")
    assert a["config"]["data"] != b["config"]["data"] and a["config"]["prefetch"] != b["config"]["prefetch"]
    assert a["config"]["config_hash"] == b["config"]["config_hash"]
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], seed=False)
    _submit(service, first)
    with pytest.raises(SubmissionRejected, match="already on the leaderboard"):
        _submit(service, second)
    # Resume recognizes it too: the first folder moved elsewhere and re-run from the other data path.
    moved = tmp_path / "moved"
    shutil.copytree(first, moved)
    before = (moved / "predictions.jsonl").read_bytes()
    from audiomarathon_runner.run import RunConfig, run_evaluation

    run_evaluation(RunConfig(model=str(runner_runs.model_dir), data=str(elsewhere), out=str(moved), dtype="fp32",
                             device="cpu", max_new_tokens=3, progress=False, prefetch=1),
                   adapter=runner_runs.adapter, samples=runner_runs.samples)
    assert (moved / "predictions.jsonl").read_bytes() == before


@pytest.mark.parametrize("change", ["trailing space", "case", "extra key", "local folder"])
def test_hand_edited_duplicates_are_still_duplicates(runner_runs, imported_dataset, tmp_path, change):
    # A Hub id, or for "local folder" the runner's own local model folder.
    run = runner_runs.make(tmp_path / "run", model="Tiny-Audio-1B" if change == "local folder" else "Org/Tiny-Audio-2B")
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], seed=False)
    _submit(service, run)
    results = json.loads((run / "results.json").read_text())
    if change == "trailing space":
        results["config"]["model"] += " "
    elif change == "case":
        results["config"]["model"] = results["config"]["model"].lower()
    elif change == "extra key":
        results["config"]["submitted_from"] = "my laptop"
    else:
        assert results["config"]["model"] != "/home/me/models/Tiny-Audio-1B/"
        results["config"]["model"] = "/home/me/models/Tiny-Audio-1B/"  # the same folder copied elsewhere
    (run / "results.json").write_text(json.dumps(results))
    with pytest.raises(SubmissionRejected, match="already on the leaderboard"):
        _submit(service, run)
    assert service.store.count(VERIFIED) == 1
