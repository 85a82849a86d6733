"""The API backend against servers that misbehave (tests/openai_server.py, a real HTTP server on
127.0.0.1): a server that is down stops the run at once with a non-zero exit, a server that drips
its answer cannot outlast --request-timeout, an HTML page with status 200 is retried then recorded,
a 10 MB reply is stored cut with its length and hash, and a reply naming another model is recorded
and warned about."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openai_server import OTHER_MODEL, ChatServer

from audiomarathon.cli import main
from audiomarathon.records import REPLY_STORE_CHARS, read_predictions


def _run(base: str, data, out, *extra) -> list[str]:
    return ["run", "--model", "m", "--data", str(data), "--out", str(out), "--api-base", base, "--no-progress",
            "--retry-backoff", "0.01", *map(str, extra)]


def _records(out: Path) -> dict:
    return {r["id"]: r for r in read_predictions(out / "predictions.jsonl")}


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_is_down_stops_the_run_at_once(imported_dataset, tmp_path):
    """Connection refused: every request would fail alike, so the real process stops at the first
    one with the reason and exit status 1, recording no sample as failed and writing no score."""
    base = f"http://127.0.0.1:{_free_port()}/v1"
    out = tmp_path / "down"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "audiomarathon", *_run(base, imported_dataset, out, "--tasks",
                                                                        "TAU,GTZAN", "--concurrency", 2)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"cannot reach {base}: connection refused" in proc.stderr and "Traceback" not in proc.stderr
    assert read_predictions(out / "predictions.jsonl") == [] and not (out / "results.json").exists()
    assert time.monotonic() - t0 < 60


def test_a_dripping_server_cannot_outlast_the_request_timeout(imported_dataset, tmp_path):
    """A server sending one byte every 0.2 s never trips a per-read timeout of 1 s; the attempt's
    deadline ends it after 1 s, whether it drips the headers or only the body."""
    out = tmp_path / "drip"
    with ChatServer(None, reply="A", drip_s=0.2) as server:
        # Sample 1: two dripped attempts, then an answer; sample 2: dripped until retries run out.
        server.inject("drip", "drip-body", None, "drip", "drip-body", "drip")
        t0 = time.monotonic()
        assert main(_run(server.base_url, imported_dataset, out, "--tasks", "TAU", "--limit", 2, "--concurrency", 1,
                         "--request-timeout", 1, "--max-retries", 2)) == 0
        elapsed = time.monotonic() - t0
    first, second = _records(out).values()
    assert first["error"] is None and first["reply"] == "A" and first["api"]["retried"] == ["timeout", "timeout"]
    assert first["timings"]["total_ms"] < 4000
    assert second["error"] == (f"RequestFailed: sample {second['id']}: gave up after 3 attempts (timeout, timeout, "
                               f"timeout); last from {server.base_url}")
    # Five attempts of 1 s each; dripped to the end, one response alone would take a minute.
    assert elapsed < 15


def test_an_html_page_with_status_200_is_retried_then_recorded(imported_dataset, tmp_path, capsys):
    with ChatServer(None, reply="B") as server:
        server.inject("html")
        assert main(_run(server.base_url, imported_dataset, tmp_path / "once", "--tasks", "TAU", "--limit", 1)) == 0
        (rec,) = _records(tmp_path / "once").values()
        assert rec["error"] is None and rec["reply"] == "B"
        # The body's first 80 characters name what came back.
        assert rec["api"]["retried"] == ["malformed reply (HTTP 200 with a text/html body that is not JSON: "
                                         "'<html><head><title>502 Bad Gateway</title></head><body><h1>Bad "
                                         "Gateway</h1></bod...')"]
        server.inject("html", "html", "html")
        assert main(_run(server.base_url, imported_dataset, tmp_path / "always", "--tasks", "TAU", "--limit", 1,
                         "--max-retries", 2)) == 0
    (rec,) = _records(tmp_path / "always").values()
    assert rec["reply"] is None and "traceback" not in rec
    assert rec["error"].startswith(f"RequestFailed: sample {rec['id']}: gave up after 3 attempts (malformed reply "
                                   "(HTTP 200 with a text/html body that is not JSON: '<html>")
    assert "AttributeError" not in capsys.readouterr().err


def test_a_ten_megabyte_reply_is_stored_cut_with_its_length_and_hash(imported_dataset, tmp_path, capsys):
    out = tmp_path / "huge"
    with ChatServer(None, reply="C", huge_chars=10_000_000) as server:
        server.inject("huge")
        assert main(_run(server.base_url, imported_dataset, out, "--tasks", "TAU", "--limit", 2,
                         "--concurrency", 1)) == 0
        sent = next(e for e in server.log if e["fault"] == "huge")
    big, small = _records(out).values()
    assert sent["content_chars"] == 10_000_000
    assert big["reply_chars"] == 10_000_000 and big["reply_sha256"] == sent["content_sha256"]
    assert big["reply"] == ("C " + "x" * 10_000_000)[:REPLY_STORE_CHARS] and REPLY_STORE_CHARS == 65_536
    assert "reply_chars" not in small and small["reply"] == "C"
    assert (out / "predictions.jsonl").stat().st_size < 200_000
    err = capsys.readouterr().err
    assert f"sample {big['id']}: the reply is 10,000,000 characters; stored its first 65,536" in err
    # The stored reply is what every reader scores: the run's own score included.
    res = json.loads((out / "results.json").read_text())
    assert res["scores"]["tasks"]["TAU"]["n"] == 2


def test_a_reply_naming_another_model_is_recorded_and_warned_about(imported_dataset, tmp_path, capsys):
    out = tmp_path / "other"
    with ChatServer(None, reply="A") as server:
        server.inject("other-model", None, "other-model")
        assert main(_run(server.base_url, imported_dataset, out, "--tasks", "TAU", "--limit", 3,
                         "--concurrency", 1)) == 0
    recs = list(_records(out).values())
    assert [r["api"]["model"] for r in recs] == [OTHER_MODEL, "m", OTHER_MODEL]
    assert [r["api"]["model_mismatch"] for r in recs] == [True, False, True]
    captured = capsys.readouterr()
    # Said once, when first seen.
    assert captured.err.count(f"the server answered as model '{OTHER_MODEL}', not the requested 'm'") == 1
    backend = json.loads((out / "results.json").read_text())["config"]["backend"]
    assert backend["model_mismatches"] == 2 and backend["served_models"] == ["m", OTHER_MODEL]
    assert f"warning: 2 replies named another model than 'm' (served: m, {OTHER_MODEL}" in captured.out


@pytest.mark.parametrize("requested,served,same", [
    ("gpt-4o-audio-preview", "gpt-4o-audio-preview", True),
    ("gpt-4o-audio-preview", "gpt-4o-audio-preview-2024-12-17", True),  # a dated snapshot
    ("gpt-4", "gpt-4-0613", True),
    ("gemini-2.0-flash", "models/gemini-2.0-flash", True),
    ("Qwen/Qwen2-Audio-7B-Instruct", "qwen/qwen2-audio-7b-instruct", True),
    ("m", None, True),  # the server names no model: nothing to compare
    ("gpt-4o", "gpt-4o-mini-2024-07-18", False),
    ("gpt-4o-audio-preview", "gpt-4o-mini-audio-preview", False),
    ("Qwen/Qwen2-Audio-7B-Instruct", "Qwen/Qwen2.5-Omni-7B", False),
])
def test_which_served_names_are_the_requested_model(requested, served, same):
    from audiomarathon_runner.api import same_model

    assert same_model(requested, served) is same


def test_the_stored_reply_hash_is_of_the_whole_reply():
    from audiomarathon.records import stored_reply

    text = "é" * (REPLY_STORE_CHARS + 5)
    stored, whole = stored_reply(text)
    assert stored == "é" * REPLY_STORE_CHARS
    assert whole == {"reply_chars": REPLY_STORE_CHARS + 5,
                     "reply_sha256": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()}
    assert stored_reply("short") == ("short", {})
