"""Bad input: every problem is reported by file and record, skipped, and never half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest

from audiomarathon_dataset.release import REPORT_NAME, ImportFailed, import_release
from audiomarathon_dataset.synthetic_release import write_synthetic_release


@pytest.fixture()
def release(tmp_path):
    return write_synthetic_release(tmp_path / "rel", per_task=3, tasks=["TAU", "DESED", "RACE", "HAD"])


def _meta(release: Path) -> tuple[Path, list]:
    path = release / "TAU" / "tau_meta.json"
    return path, json.loads(path.read_text())


def _import(release, out, **kw):
    report = import_release(release, out, progress=False, **kw)
    saved = json.loads((Path(out) / REPORT_NAME).read_text())
    assert saved["summary"] == report.summary_line()
    return report, saved


def _only_issue(saved, kind):
    issues = [i for i in saved["issues"] if i["kind"] == kind]
    assert len(issues) == 1, saved["issues"]
    return issues[0]


def _ids(out, config):
    return datasets.load_dataset(str(out), config, split="test")["id"]


def test_missing_audio(release, tmp_path):
    (release / "TAU" / "audio" / "tau_001.wav").unlink()
    report, saved = _import(release, tmp_path / "out")
    issue = _only_issue(saved, "missing_audio")
    assert issue["file"] == "TAU/tau_meta.json" and issue["record"] == "#1 (uniq_id=tau_001)"
    assert "TAU/audio/tau_001.wav" in issue["message"]
    assert _ids(tmp_path / "out", "TAU") == ["TAU-00000", "TAU-00002"]  # others keep their ids
    assert saved["counts"]["TAU"] == {"records": 3, "written": 2, "skipped": 1}
    assert "1 problem(s) (missing_audio: 1)" in report.summary_line()


def test_truncated_wav(release, tmp_path):
    wav = release / "TAU" / "audio" / "tau_000.wav"
    data = wav.read_bytes()
    wav.write_bytes(data[: len(data) // 2])
    _, saved = _import(release, tmp_path / "out")
    issue = _only_issue(saved, "truncated_audio")
    assert issue["record"].startswith("#0") and "shorter than its header declares" in issue["message"]
    assert _ids(tmp_path / "out", "TAU") == ["TAU-00001", "TAU-00002"]


def test_truncated_flac_and_shorter_than_listed(tmp_path):
    rel = write_synthetic_release(tmp_path / "rel", per_task=2, tasks=["GTZAN"])
    flac = rel / "GTZAN" / "audio" / "gtzan_000.flac"
    flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    meta_path = rel / "GTZAN" / "gtzan_meta.json"
    meta = json.loads(meta_path.read_text())
    meta["samples"][1]["duration_seconds"] += 10  # metadata lists more audio than the file holds
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ImportFailed, match="no record could be imported"):
        import_release(rel, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    kinds = sorted(i.kind for i in _report_of(rel, tmp_path))
    assert kinds == ["truncated_audio", "truncated_audio"]


def _report_of(rel, tmp_path):
    try:
        import_release(rel, tmp_path / "again", progress=False)
    except ImportFailed as err:
        return err.report.issues
    raise AssertionError("expected failure")


def test_undecodable_and_empty_audio(release, tmp_path):
    (release / "TAU" / "audio" / "tau_000.wav").write_bytes(b"this is not audio at all" * 100)
    (release / "TAU" / "audio" / "tau_002.wav").write_bytes(b"")
    _, saved = _import(release, tmp_path / "out")
    assert _only_issue(saved, "undecodable_audio")["record"].startswith("#0")
    assert _only_issue(saved, "empty_audio")["record"].startswith("#2")
    assert _ids(tmp_path / "out", "TAU") == ["TAU-00001"]


def test_malformed_json(release, tmp_path):
    path, _ = _meta(release)
    path.write_text('[{"path": "audio/tau_000.wav",, }]')
    _, saved = _import(release, tmp_path / "out")
    issue = _only_issue(saved, "malformed_json")
    assert issue["file"] == "TAU/tau_meta.json" and issue["record"] == "line 1 col 31"
    assert "TAU" not in datasets.get_dataset_config_names(str(tmp_path / "out"))
    assert "DESED" in datasets.get_dataset_config_names(str(tmp_path / "out"))


def test_unknown_shape(release, tmp_path):
    (release / "TAU" / "extra.json").write_text(json.dumps({"rows": [{"file": "a.wav", "label": "x"}]}))
    _, saved = _import(release, tmp_path / "out")
    issue = _only_issue(saved, "unknown_shape")
    assert issue["file"] == "TAU/extra.json" and "no known release metadata shape" in issue["message"]
    assert len(_ids(tmp_path / "out", "TAU")) == 3  # the real metadata still imports


def test_answer_names_no_option(release, tmp_path):
    path, meta = _meta(release)
    meta[1]["answer_gt"] = "F"
    meta[2]["answer_gt"] = "submarine"
    path.write_text(json.dumps(meta))
    _, saved = _import(release, tmp_path / "out")
    bad = [i for i in saved["issues"] if i["kind"] == "answer_not_in_options"]
    assert [i["record"] for i in bad] == ["#1 (uniq_id=tau_001)", "#2 (uniq_id=tau_002)"]
    assert "'submarine'" in bad[1]["message"]
    assert _ids(tmp_path / "out", "TAU") == ["TAU-00000"]


def test_duplicate_ids(release, tmp_path):
    path, meta = _meta(release)
    meta.append(dict(meta[0]))
    path.write_text(json.dumps(meta))
    _, saved = _import(release, tmp_path / "out")
    issue = _only_issue(saved, "duplicate_id")
    assert issue["record"] == "#3 (uniq_id=tau_000)" and "duplicate of TAU/tau_meta.json #0" in issue["message"]
    assert _ids(tmp_path / "out", "TAU") == ["TAU-00000", "TAU-00001", "TAU-00002"]


def test_bad_record_fields(release, tmp_path):
    path, meta = _meta(release)
    del meta[0]["question"]
    meta[1] = "not an object"
    path.write_text(json.dumps(meta))
    (release / "misc").mkdir()  # folders carry no meaning: an empty one is nothing to report
    _, saved = _import(release, tmp_path / "out")
    bad = [i for i in saved["issues"] if i["kind"] == "bad_record"]
    assert [(i["record"], i["message"]) for i in bad] == [
        ("#0 (uniq_id=tau_000)", "missing field 'question'"), ("#1", "record is a str, not an object")]
    assert len(saved["issues"]) == 2


def test_strict_fails_and_keeps_previous_output(release, tmp_path):
    out = tmp_path / "out"
    import_release(release, out, progress=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (release / "HAD" / "fake" / "had_001.wav").write_bytes(b"garbage" * 50)  # found only while decoding
    with pytest.raises(ImportFailed, match=r"(?s)--strict: 1 problem.*HAD/fake/had_001.wav: cannot decode audio"):
        import_release(release, out, strict=True, progress=False)
    path, meta = _meta(release)
    meta[0]["answer_gt"] = "Z"  # found before any audio is decoded
    path.write_text(json.dumps(meta))
    with pytest.raises(ImportFailed, match="answer_not_in_options"):
        import_release(release, out, strict=True, progress=False)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert {p.name for p in tmp_path.iterdir()} == {"rel", "out"}  # no temp dirs left behind


def test_cli_strict_exit_code(release, tmp_path):
    (release / "TAU" / "audio" / "tau_000.wav").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "audiomarathon", "import-release", str(release), str(tmp_path / "out"),
         "--strict", "--no-progress"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "missing_audio" in proc.stderr and "TAU/tau_meta.json #0 (uniq_id=tau_000)" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_killed_import_leaves_nothing_half_written(tmp_path):
    rel = write_synthetic_release(tmp_path / "rel", per_task=40, duration=(20.0, 30.0), tasks=["TAU", "GTZAN"])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "audiomarathon", "import-release", str(rel), str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # wait until it is writing shards into its temporary directory, then kill it hard
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.tmp-*/*/.part-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.tmp-*/*/.part-*")), "import never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    # the next run cleans the dead run's temp dir and completes
    import_release(rel, out, tasks="TAU", progress=False)
    assert len(_ids(out, "TAU")) == 40
    assert not list(tmp_path.glob(".out.*"))


def test_push_to_local_hub_endpoint(imported_dataset, tmp_path, monkeypatch):
    # The suite runs offline; this test talks only to its own server on 127.0.0.1.
    import os

    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)
    from hub_server import LocalHub

    from audiomarathon_dataset.push import push_to_hub

    with LocalHub() as hub:
        url = push_to_hub(imported_dataset, "my-org/audiomarathon", endpoint=hub.endpoint, token="hf_test")
        proc = subprocess.run(
            [sys.executable, "-m", "audiomarathon", "push", str(imported_dataset), "--repo", "my-org/am2",
             "--endpoint", hub.endpoint, "--token", "hf_test"], capture_output=True, text=True,
            env={k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"})
    assert url.endswith("/datasets/my-org/audiomarathon")
    uploaded = hub.state.files["my-org/audiomarathon"]
    local = {p.relative_to(imported_dataset).as_posix(): p.read_bytes()
             for p in imported_dataset.rglob("*") if p.is_file()}
    assert uploaded == local  # every shard, the card and the report, byte for byte, in one commit
    assert [r for r in hub.state.requests if "/commit/" in r[1]] == [
        ("POST", "/api/datasets/my-org/audiomarathon/commit/main"),
        ("POST", "/api/datasets/my-org/am2/commit/main")]
    assert hub.state.validated[0]["configs"][0]["config_name"] == "LibriSpeech"
    assert proc.returncode == 0 and 'load_dataset("my-org/am2", "TAU")' in proc.stdout
    with pytest.raises(ValueError, match="holds no AudioMarathon dataset"):
        push_to_hub(tmp_path, "my-org/x", endpoint="http://127.0.0.1:9")


def test_push_offline_or_unreachable_is_one_clear_error(imported_dataset):
    import os
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    cases = [({"HF_HUB_OFFLINE": "1"}, [], "HF_HUB_OFFLINE is set"),
             ({"HF_HUB_OFFLINE": ""}, ["--endpoint", closed], "the Hub is unreachable")]
    for env, extra, reason in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "audiomarathon", "push", str(imported_dataset), "--repo", "my-org/x", *extra],
            capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("audiomarathon push: error: could not push to my-org/x") and reason in proc.stderr
        assert "nothing was committed" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status waits to be collected


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_sigkilled_parallel_import_leaves_no_worker_or_tracker_behind(tmp_path):
    rel = write_synthetic_release(tmp_path / "rel", per_task=40, duration=(20.0, 30.0), tasks=["TAU", "GTZAN"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "audiomarathon", "import-release", str(rel), str(tmp_path / "out"), "--num-proc", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.tmp-*/*/.part-*")):
        time.sleep(0.05)
    children = _children(proc.pid)  # the worker and multiprocessing's resource tracker
    assert len(children) >= 2, children
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    left = [c for c in children if _alive(c)]
    for pid in left:  # do not leave them running after a failure either
        os.kill(pid, signal.SIGKILL)
    assert not left, "orphaned: " + ", ".join(Path(f"/proc/{c}/cmdline").read_text() for c in left)
