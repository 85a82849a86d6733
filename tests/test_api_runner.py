"""The OpenAI-compatible API backend against a real HTTP server on 127.0.0.1 (tests/openai_server.py).

The server decodes the input_audio parts and answers through the same tiny transformers model a
local run loads, so the API run's replies, token counts and scores are checked against the local
runner's own output on the same data.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from openai_server import ChatServer
from run_process import audiomarathon, stop_part_way

from audiomarathon.cli import main
from audiomarathon.records import read_predictions as read_records
from audiomarathon.tasks import get_task
from audiomarathon_runner.adapters import Qwen2AudioAdapter
from audiomarathon_runner.samples import load_samples
from audiomarathon_runner.tiny import save_tiny_model

TASKS = "TAU,HAD,LibriSpeech"
CAP = 8  # max new tokens, for speed; the same cap for the local and the API run


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("api-model") / "qwen2_audio")


@pytest.fixture(scope="module")
def model_server(tiny_model):
    with ChatServer(tiny_model, timeout_fault_s=2.5) as server:
        yield server


@pytest.fixture(scope="module")
def local_run(tiny_model, imported_dataset, tmp_path_factory):
    """The local run of the tiny model the server answers with: the reference for API runs."""
    local = tmp_path_factory.mktemp("local") / "run"
    assert main(["run", "--model", str(tiny_model), "--data", str(imported_dataset), "--out", str(local), "--tasks",
                 TASKS, "--limit", "2", "--max-new-tokens", str(CAP), "--dtype", "fp32", "--device", "cpu",
                 "--no-progress"]) == 0
    return local


@pytest.fixture()
def echo_server():
    with ChatServer(None, reply="A") as server:
        yield server


def _api(base, *extra) -> list[str]:
    urls = [base] if isinstance(base, str) else base
    return [a for url in urls for a in ("--api-base", url)] + ["--retry-backoff", "0.01", "--no-progress", *map(str, extra)]


def _served(base, *extra) -> list[str]:
    """Options for the server that answers with the tiny model: --family names its family, so the
    API run sends the system turn a local run of that model renders."""
    return _api(base, "--family", Qwen2AudioAdapter.family, *extra)


def _sha(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()[:16]


def _by_id(path: Path) -> dict:
    return {r["id"]: r for r in read_records(path)}


def test_api_run_equals_local_run_through_faults(local_run, model_server, imported_dataset, tmp_path, capsys):
    local = local_run
    model_server.log.clear()
    # One of each transient fault, taken by the first requests in order: all retried.
    model_server.inject("429", "500", "timeout", "malformed", "no-content", "drop", "503")
    api = tmp_path / "api"
    assert main(["run", "--model", "tiny-served", "--data", str(imported_dataset), "--out", str(api), "--tasks",
                 TASKS, "--limit", "2", "--max-new-tokens", str(CAP),
                 *_served(model_server.base_url, "--concurrency", 3, "--request-timeout", 1.5,
                       "--price-in", 2.5, "--price-out", 10)]) == 0
    printed = capsys.readouterr().out
    want, got = _by_id(local / "predictions.jsonl"), _by_id(api / "predictions.jsonl")
    assert sorted(got) == sorted(want) and len(read_records(api / "predictions.jsonl")) == 6
    for sid, rec in got.items():
        assert rec["error"] is None, rec["error"]
        assert rec["reply"] == want[sid]["reply"] and rec["parsed"] == want[sid]["parsed"]
        # The server's finish_reason "length" is the local run's reply at the cap.
        assert rec["hit_cap"] is want[sid]["hit_cap"]
        t = rec["timings"]
        # Tokens as the server reports them = what the local model consumed and produced.
        assert t["input_tokens"] == want[sid]["timings"]["input_tokens"]
        assert t["output_tokens"] == want[sid]["timings"]["output_tokens"]
        assert t["latency_ms"] > 0 and t["total_ms"] >= t["latency_ms"]
        assert rec["api"]["model"] == "tiny-served" and rec["api"]["system_fingerprint"] == "fp_tiny_0"
        assert rec["api"]["cost_usd"] == pytest.approx((t["input_tokens"] * 2.5 + t["output_tokens"] * 10) / 1e6)
    retried = sorted(why for r in got.values() for why in r["api"]["retried"])
    assert len(retried) == 7 and sum(r["api"]["attempts"] for r in got.values()) == 6 + 7
    assert {"HTTP 429", "HTTP 500", "HTTP 503", "timeout"} <= set(retried)
    assert sum("malformed" in w for w in retried) == 2 and sum("connection" in w for w in retried) == 1
    # What went over the wire: the exact samples of each clip, greedy, the registry's max tokens.
    samples = {s.id: s for s in load_samples(imported_dataset, TASKS, limit=2)}
    answered = [e for e in model_server.log if "audio_sha" in e]
    assert {e["audio_sha"] for e in answered} == {_sha(s.load_audio()) for s in samples.values()}
    for e in answered:
        sample = next(s for s in samples.values() if _sha(s.load_audio()) == e["audio_sha"])
        assert e["prompt"] == sample.prompt() and e["temperature"] == 0 and e["formats"] == ["wav"]
        assert e["system"] == Qwen2AudioAdapter.system_prompt == "You are a helpful assistant."
        assert e["max_tokens"] == min(get_task(sample.task).max_new_tokens, CAP)
        assert e["auth"] == "Bearer " + (os.environ.get("OPENAI_API_KEY") or "EMPTY")
    res_local = json.loads((local / "results.json").read_text())
    res = json.loads((api / "results.json").read_text())
    assert res["scores"] == res_local["scores"]
    backend = res["config"]["backend"]
    assert res_local["config"]["backend"] == {"kind": "transformers"}
    assert backend["kind"] == "openai-chat" and backend["served_models"] == ["tiny-served"]
    assert backend["input_tokens"] == sum(r["timings"]["input_tokens"] for r in want.values())
    assert backend["cost_usd"] == pytest.approx(sum(r["api"]["cost_usd"] for r in got.values()))
    assert "api_key" not in json.dumps(res).replace("api_key_env", "")
    n_in, n_out = backend["input_tokens"], backend["output_tokens"]
    assert f"API: 6 requests (13 attempts), tokens in {n_in} / out {n_out}, cost ${backend['cost_usd']:.4f}" in printed
    # Same command again: resumes with nothing to do, sends nothing.
    before, sent = (api / "predictions.jsonl").read_bytes(), len(model_server.log)
    assert main(["run", "--model", "tiny-served", "--data", str(imported_dataset), "--out", str(api), "--tasks",
                 TASKS, "--limit", "2", "--max-new-tokens", str(CAP), *_served(model_server.base_url)]) == 0
    assert (api / "predictions.jsonl").read_bytes() == before and len(model_server.log) == sent


def test_split_sends_every_sample_in_parts_and_refuse_names_the_sample(local_run, model_server, imported_dataset,
                                                                       tmp_path):
    samples = load_samples(imported_dataset, "TAU", limit=2)
    common = ["--model", "tiny-served", "--data", str(imported_dataset), "--tasks", "TAU", "--limit", "2",
              "--max-new-tokens", str(CAP), "--max-audio-seconds", "1.5"]
    assert main(["run", *common, "--out", str(tmp_path / "refuse"), *_served(model_server.base_url)]) == 0
    for s in samples:
        err = _by_id(tmp_path / "refuse" / "predictions.jsonl")[s.id]["error"]
        assert s.id in err and "--max-audio-seconds" in err and "1.5 s" in err
    model_server.log.clear()
    assert main(["run", *common, "--out", str(tmp_path / "split"), *_served(model_server.base_url),
                 "--on-too-long", "split"]) == 0
    recs = _by_id(tmp_path / "split" / "predictions.jsonl")
    for s in samples:
        audio = s.load_audio()
        entry = next(e for e in model_server.log if e.get("audio_sha") == _sha(audio))
        # Consecutive parts, none over the limit, nothing cut: the server joins them back exactly.
        assert len(entry["formats"]) == math.ceil(audio.size / 16000 / 1.5) == recs[s.id]["api"]["audio_parts"]
        assert entry["audio_samples"] == audio.size
    # The joined parts are the clip the local model hears: same replies as a local run.
    want = _by_id(local_run / "predictions.jsonl")
    assert {i: r["reply"] for i, r in recs.items()} == {i: want[i]["reply"] for i in recs}


def test_authors_profile_sends_the_authors_system_prompt_words_and_audio(echo_server, imported_dataset, tmp_path):
    """--profile authors over the API: the messages a local run renders for the named family (system
    turn, instruction prefix, reply cap) and the peak-normalised clip where their script normalises."""
    from authors_prompts import QWEN

    out = tmp_path / "authors"
    assert main(["run", "--model", "qwen-omni-served", "--data", str(imported_dataset), "--out", str(out),
                 "--tasks", "TAU,VoxGender", "--limit", "1", "--profile", "authors",
                 *_api(echo_server.base_url, "--family", "Qwen2.5-Omni", "--concurrency", 1)]) == 0
    samples = {s.task: s for s in load_samples(imported_dataset, "TAU,VoxGender", limit=1)}
    assert len(echo_server.log) == 2
    for task, sample in samples.items():
        script = QWEN[task]
        entry = next(e for e in echo_server.log if e["prompt"] == script.user(sample.question, sample.choices))
        assert entry["system"] == script.system and entry["max_tokens"] == script.max_new_tokens
        clip_peak = float(np.max(np.abs(sample.load_audio())))
        assert clip_peak < 0.9  # so that normalisation shows
        # 16-bit WAV on the wire: a peak of 1.0 arrives as 32767/32768
        assert entry["audio_peak"] == pytest.approx(32767 / 32768 if script.peak_normalize else clip_peak, abs=1e-4)
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["family"] == "Qwen2.5-Omni" and res["identity"]["backend"]["family"] == "Qwen2.5-Omni"
    assert res["identity"]["profile"] == "authors"


def test_request_size_limit_splits_transcription_and_refuses_questions(echo_server, imported_dataset, tmp_path):
    asr = load_samples(imported_dataset, "LibriSpeech", limit=1)[0]
    common = ["--model", "m", "--data", str(imported_dataset), "--tasks", "LibriSpeech,TAU", "--limit", "1",
              *_api(echo_server.base_url, "--max-request-mb", 0.05)]
    assert main(["run", *common, "--out", str(tmp_path / "r")]) == 0
    for sid, rec in _by_id(tmp_path / "r" / "predictions.jsonl").items():
        assert sid in rec["error"] and "--max-request-mb" in rec["error"]
    echo_server.log.clear()
    assert main(["run", *common, "--out", str(tmp_path / "s"), "--on-too-long", "split"]) == 0
    recs = _by_id(tmp_path / "s" / "predictions.jsonl")
    tau = next(i for i in recs if i.startswith("TAU"))
    assert "multiple-choice" in recs[tau]["error"] and tau in recs[tau]["error"]
    rec = recs[asr.id]
    assert rec["error"] is None and rec["api"]["requests"] >= 2
    assert all(e["bytes"] <= 50_000 for e in echo_server.log)
    # Every sample of the clip went out exactly once, in order.
    assert sum(e["audio_samples"] for e in echo_server.log) == asr.load_audio().size
    assert rec["reply"] == " ".join(["A"] * rec["api"]["requests"])


@pytest.mark.parametrize("fmt", ["flac", "mp3"])
def test_other_audio_formats_decode_on_the_server(fmt, echo_server, imported_dataset, tmp_path):
    sample = load_samples(imported_dataset, "TAU", limit=1)[0]
    assert main(["run", "--model", "m", "--data", str(imported_dataset), "--tasks", "TAU", "--limit", "1",
                 "--out", str(tmp_path / fmt), *_api(echo_server.base_url, "--audio-format", fmt)]) == 0
    (entry,) = echo_server.log
    assert entry["formats"] == [fmt]
    if fmt == "flac":  # lossless: the exact samples
        assert entry["audio_sha"] == _sha(sample.load_audio())
    else:  # lossy, and the decoder may pad a frame: same length within one MP3 frame
        assert abs(entry["audio_samples"] - sample.load_audio().size) <= 1152


def test_concurrency_spreads_over_servers(imported_dataset, tmp_path):
    with ChatServer(None, delay_s=0.3) as a, ChatServer(None, delay_s=0.3) as b:
        assert main(["run", "--model", "m", "--data", str(imported_dataset), "--tasks", "TAU,GTZAN,HAD",
                     "--out", str(tmp_path / "o"), *_api([a.base_url, b.base_url], "--concurrency", 4)]) == 0
        assert len(a.log) + len(b.log) == 9 and min(len(a.log), len(b.log)) >= 3
        assert a.max_in_flight == b.max_in_flight == 2
    assert len(read_records(tmp_path / "o" / "predictions.jsonl")) == 9


def test_client_errors_name_the_sample(echo_server, imported_dataset, tmp_path, capsys):
    common = ["--model", "m", "--data", str(imported_dataset), "--tasks", "TAU", "--limit", "3",
              *_api(echo_server.base_url, "--concurrency", 1)]
    echo_server.inject("400")
    assert main(["run", *common, "--out", str(tmp_path / "a")]) == 0
    recs = read_records(tmp_path / "a" / "predictions.jsonl")
    assert recs[0]["error"].startswith("RequestFailed: sample TAU-00000: HTTP 400 from http://127.0.0.1")
    assert "injected 400" in recs[0]["error"] and [r["error"] for r in recs[1:]] == [None, None]
    res = json.loads((tmp_path / "a" / "results.json").read_text())
    assert list(res["samples"]["failed"]) == ["TAU-00000"]
    # A bad key fails every request the same way: the run stops with the reason, nothing recorded.
    echo_server.inject("401")
    assert main(["run", *common, "--out", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "sample TAU-00000: HTTP 401" in err and "injected 401" in err
    assert read_records(tmp_path / "b" / "predictions.jsonl") == []
    # Retries exhausted: a sample error naming the sample and every failed attempt.
    echo_server.inject("500", "500", "500")
    assert main(["run", *common, "--out", str(tmp_path / "c"), "--max-retries", "2"]) == 0
    first = read_records(tmp_path / "c" / "predictions.jsonl")[0]
    assert first["error"].startswith("RequestFailed: sample TAU-00000: gave up after 3 attempts (HTTP 500, HTTP 500, HTTP 500)")


def test_missing_key_variable_and_bad_options_are_clear(imported_dataset, tmp_path, capsys):
    base = ["run", "--model", "m", "--data", str(imported_dataset), "--out", str(tmp_path / "o"),
            "--api-base", "http://127.0.0.1:9/v1"]
    assert main([*base, "--api-key-env", "AM_SURELY_UNSET_KEY"]) == 1
    assert "--api-key-env AM_SURELY_UNSET_KEY: that environment variable is not set" in capsys.readouterr().err
    assert main([*base, "--method", "fastv", "--ratio", "0.5"]) == 1
    assert "only method none" in capsys.readouterr().err
    assert main([*base, "--concurrency", "0"]) == 1
    assert "--concurrency must be >= 1" in capsys.readouterr().err


def test_sweep_runs_method_none_over_the_api(echo_server, imported_dataset, tmp_path):
    assert main(["sweep", "--model", "m", "--data", str(imported_dataset), "--tasks", "TAU", "--limit", "2",
                 "--out", str(tmp_path / "sw"), "--methods", "none", *_api(echo_server.base_url)]) == 0
    assert len(read_records(tmp_path / "sw" / "none" / "predictions.jsonl")) == 2 == len(echo_server.log)


def test_sigkill_then_resume_asks_only_for_the_rest_and_equals_the_local_run(local_run, model_server,
                                                                            imported_dataset, tmp_path):
    out = tmp_path / "killed"
    model_server.log.clear()
    args = audiomarathon("run", "--model", "tiny", "--data", imported_dataset, "--tasks", TASKS, "--limit", "2",
                         "--max-new-tokens", CAP, "--out", out, *_served(model_server.base_url, "--concurrency", 2))
    path = out / "predictions.jsonl"
    stop_part_way(args, path)
    done_before = {r["id"] for r in read_records(path)}
    assert 2 <= len(done_before) < 6, "the run must be killed part-way"
    time.sleep(0.5)  # let the server finish answering requests the killed client left behind
    sent_before = len(model_server.log)
    assert subprocess.run(args, capture_output=True).returncode == 0
    recs = read_records(path)
    assert len(recs) == len({r["id"] for r in recs}) == 6
    # The resumed run asked only for what was not recorded; at most the 2 in flight were lost.
    assert len(model_server.log) - sent_before == 6 - len(done_before)
    assert sent_before - len(done_before) <= 2
    want = _by_id(local_run / "predictions.jsonl")
    assert {r["id"]: r["reply"] for r in recs} == {i: r["reply"] for i, r in want.items()}
    res = json.loads((out / "results.json").read_text())
    assert res["scores"] == json.loads((local_run / "results.json").read_text())["scores"]


@pytest.mark.parametrize("weights", ["closed", "open"])
def test_api_runs_submit_to_the_space_marked_closed_or_open(weights, echo_server, imported_dataset, tmp_path):
    from space.service import submit_run_dir

    out = tmp_path / "run"
    assert main(["run", "--model", "gpt-4o-audio-preview", "--data", str(imported_dataset), "--out", str(out),
                 *_api(echo_server.base_url, "--concurrency", 8, "--weights", weights)]) == 0
    assert json.loads((out / "results.json").read_text())["config"]["weights"] == weights
    entry = submit_run_dir(out, tmp_path / "board.sqlite", [imported_dataset], show=False)
    assert entry.model == "gpt-4o-audio-preview" and entry.weights == weights
    assert entry.size_b is None and entry.method == "none"


def test_a_stopped_run_does_not_wait_for_requests_in_flight(imported_dataset, tmp_path):
    """A fatal reply while other requests hang: the process exits at once (a resume re-asks them)."""
    with ChatServer(None, delay_s=120) as server:
        server.inject("401")
        args = audiomarathon("run", "--model", "m", "--data", imported_dataset, "--tasks", "TAU", "--out",
                             tmp_path / "o", *_api(server.base_url, "--concurrency", 3))
        proc = subprocess.run(args, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 1 and "HTTP 401" in proc.stderr
    assert 1 <= len(server.log) <= 3  # at most the 3 in flight; nothing started after the fatal reply


# --- MMAR and AIR-Bench Foundation -------------------------------------------------------------------

def _rows(dataset, config: str) -> list[dict]:
    import datasets

    return datasets.load_dataset(str(dataset), config, split="test").remove_columns("audio").to_list()


def _and(letters: str) -> str:  # AIR-Bench's "A, B, C, and D" ("A and B" for two)
    return " and ".join(letters) if len(letters) <= 2 else ", ".join(letters[:-1]) + ", and " + letters[-1]


def foundation_prompt(question: str, choices: list[str], padded: bool) -> str:
    """Inference_Foundation.py's prompt; ``padded``: as its script prints it, four options with
    "None" for the missing ones; otherwise only the options the item has, the letters named to match."""
    options = choices + ["None"] * (4 - len(choices)) if padded else choices
    letters = "ABCD"[: len(options)]
    return (f"Choose the most suitable answer from options {_and(letters)} to respond the question in next line, "
            f"you may only choose {' or '.join(letters)}.\n{question}\n"
            + "\n".join(f"{x}. {text}" for x, text in zip(letters, options)))


def test_api_runs_of_mmar_and_foundation_send_the_authors_prompts(echo_server, benchmark_datasets, tmp_path):
    """The echo server answers "A": strict scoring reads it as the first option (MMAR's options are
    unlettered; a bare letter names that position), so each score is the share of items whose answer is A."""
    from audiomarathon.tasks import get_task

    mmar = benchmark_datasets["mmar"]
    assert main(["run", "--model", "gpt-audio", "--data", str(mmar), "--out", str(tmp_path / "mmar"),
                 "--tasks", "MMAR", *_api(echo_server.base_url)]) == 0
    rows = _rows(mmar, "MMAR")
    sent = sorted(e["prompt"] for e in echo_server.log)
    assert sent == sorted(f"{r['question']}\nSelect one option from the provided choices:\n" + "\n".join(r["choices"])
                          for r in rows)
    assert {e["max_tokens"] for e in echo_server.log} == {get_task("MMAR").max_new_tokens}
    res = json.loads((tmp_path / "mmar" / "results.json").read_text())
    assert res["scores"]["benchmarks"]["mmar"]["average"] == pytest.approx(
        100 * sum(r["answer"] == "A" for r in rows) / len(rows))

    foundation = benchmark_datasets["airbench-foundation"]
    rows = _rows(foundation, "foundation")
    assert {2, 4} <= {len(r["choices"]) for r in rows}  # two-option items: padded under authors only
    for profile, padded in (("card", False), ("authors", True)):
        echo_server.log.clear()
        out = tmp_path / f"foundation-{profile}"
        assert main(["run", "--model", "gpt-audio", "--data", str(foundation), "--out", str(out), "--tasks",
                     "foundation", "--profile", profile, *_api(echo_server.base_url)]) == 0
        assert sorted(e["prompt"] for e in echo_server.log) == sorted(
            foundation_prompt(r["question"], r["choices"], padded) for r in rows)
        res = json.loads((out / "results.json").read_text())
        records = read_records(out / "predictions.jsonl")
        assert sorted(r["choices"] for r in records) == sorted(r["choices"] for r in rows)  # never padded
        tasks = res["scores"]["tasks"]
        for r in rows:  # one or two items per task: each task's accuracy counted here
            mine = [x for x in rows if x["task"] == r["task"]]
            assert tasks[r["task"]]["score"] == pytest.approx(100 * sum(x["answer"] == "A" for x in mine) / len(mine))
    # The two profiles are two runs (their prompts differ): two run ids.
    ids = {json.loads((tmp_path / f"foundation-{p}" / "results.json").read_text())["config"]["config_hash"]
           for p in ("card", "authors")}
    assert len(ids) == 2
