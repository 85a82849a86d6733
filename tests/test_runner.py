"""The evaluation runner end to end with a tiny Qwen2-Audio over the imported synthetic benchmark."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from run_process import audiomarathon, stop_part_way

from audiomarathon.cli import main
from audiomarathon.records import read_predictions as read_records
from audiomarathon_runner.run import RunConfig, run_evaluation
from audiomarathon_runner.samples import Sample, apply_audio_control, fingerprint, load_samples
from audiomarathon_runner.tiny import save_tiny_model

PY = sys.executable


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("runner-model") / "qwen2_audio")


def _cli(*args) -> list[str]:
    return ["run", *map(str, args), "--dtype", "fp32", "--device", "cpu", "--no-progress"]


def test_run_writes_predictions_and_results(tiny_model, imported_dataset, tmp_path):
    out = tmp_path / "run"
    assert main(_cli("--model", tiny_model, "--data", imported_dataset, "--out", out, "--tasks", "TAU,HAD,RACE",
                     "--limit", "2")) == 0
    recs = read_records(out / "predictions.jsonl")
    assert sorted(r["id"] for r in recs) == ["HAD-00000", "HAD-00001", "RACE-00000", "RACE-00001", "TAU-00000", "TAU-00001"]
    for r in recs:
        assert set(r) >= {"id", "task", "reply", "parsed", "rule", "reference", "choices", "timings", "config_hash", "error"}
        assert r["error"] is None and isinstance(r["reply"], str)
        t = r["timings"]
        assert t["prefill_ms"] > 0 and t["decode_ms"] >= 0 and t["encoder_ms"] > 0
        assert t["total_ms"] >= t["prefill_ms"] >= t["encoder_ms"] * 0.5
        assert 1 <= t["output_tokens"] <= 128 and t["input_tokens"] > t["audio_tokens"] > 0
        assert t["kv_cache_bytes"] > 0 and t["peak_memory_bytes"] > 0
    assert sum(r["timings"]["warmup"] for r in recs) == 1
    res = json.loads((out / "results.json").read_text())
    cfg = res["config"]
    assert cfg["model_id"] == str(tiny_model) and cfg["method"] == "none" and cfg["dtype"] == "fp32"
    assert cfg["decoding"]["do_sample"] is False and cfg["decoding"]["max_new_tokens"]["HAD"] == 128
    assert res["versions"]["transformers"] and res["versions"]["torch"]
    samples = load_samples(imported_dataset, "TAU,HAD,RACE", limit=2)
    # A partial run declares the dataset's version (from its card) and fingerprints what it evaluated.
    from audiomarathon.fingerprint import card_fingerprint

    assert res["dataset"] == {"path": str(imported_dataset), "fingerprint": card_fingerprint(str(imported_dataset)),
                              "evaluated_fingerprint": fingerprint(samples), "num_ids": 6}
    assert res["dataset"]["fingerprint"] != res["dataset"]["evaluated_fingerprint"]
    assert res["samples"]["original"] == {"TAU": 2, "HAD": 2, "RACE": 2} == res["samples"]["effective"]
    # Scores are the metric's own output on the recorded replies.
    from audiomarathon_metric import score

    by_id = {r["id"]: r for r in recs}
    expected = score([by_id[s.id]["reply"] for s in samples], [s.reference for s in samples],
                     [s.task for s in samples], choices=[s.choices for s in samples], ids=[s.id for s in samples])
    assert res["scores"]["average"] == pytest.approx(expected["average"])
    # Each record carries its item's duration; results.json carries the duration table.
    assert {r["id"]: r["duration"] for r in recs} == pytest.approx({s.id: s.duration for s in samples})
    assert set(res["scores"]["by_duration"]["tasks"]) == {"TAU", "HAD", "RACE"}
    assert res["scores"]["by_evidence_position"]["available"] is False  # an imported release marks no evidence
    assert res["timing"]["warmup_excluded"] == 1 and res["timing"]["samples"] == 5
    # The prompt is the registry's: the HAD prompt asks for 'a' or 'b'.
    had = next(s for s in samples if s.task == "HAD")
    assert "answer with only 'a' or 'b'" in had.prompt().lower()

    # Same command again: nothing new is written.
    before = (out / "predictions.jsonl").read_bytes()
    assert main(_cli("--model", tiny_model, "--data", imported_dataset, "--out", out, "--tasks", "TAU,HAD,RACE",
                     "--limit", "2")) == 0
    assert (out / "predictions.jsonl").read_bytes() == before


def test_torn_last_line_is_repaired_on_resume(tiny_model, imported_dataset, tmp_path):
    out = tmp_path / "torn"
    cfg = RunConfig(model=str(tiny_model), data=str(imported_dataset), out=str(out), tasks="TAU", limit=3,
                    dtype="fp32", device="cpu", progress=False)
    run_evaluation(cfg)
    path = out / "predictions.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # kill mid-write
    assert len(read_records(path)) == 2
    run_evaluation(cfg)
    recs = read_records(path)
    assert sorted(r["id"] for r in recs) == ["TAU-00000", "TAU-00001", "TAU-00002"]
    assert path.read_bytes().count(b"\n") == 3


def test_kill_mid_run_then_resume_never_duplicates(tiny_model, imported_dataset, tmp_path):
    out = tmp_path / "killed"
    args = audiomarathon(*_cli("--model", tiny_model, "--data", imported_dataset, "--out", out,
                               "--tasks", "TAU,GTZAN,VESUS"))
    path = out / "predictions.jsonl"
    stop_part_way(args, path)
    done_before = len(read_records(path))
    assert 2 <= done_before < 9, "the run must be killed part-way"
    assert subprocess.run(args, capture_output=True).returncode == 0
    ids = [r["id"] for r in read_records(path)]
    assert len(ids) == len(set(ids)) == 9
    assert json.loads((out / "results.json").read_text())["samples"]["effective"] == {"TAU": 3, "GTZAN": 3, "VESUS": 3}


def test_failing_sample_is_recorded_and_run_continues(tiny_model, imported_dataset, tmp_path):
    good = load_samples(imported_dataset, "GTZAN", limit=2)
    bad = Sample(id="GTZAN-99999", task="GTZAN", question="q", choices=["rock", "pop", "jazz", "blues"],
                 answer="A", answer_text="rock", audio_array=np.zeros(0, np.float32))
    cfg = RunConfig(model=str(tiny_model), data="in-memory", out=str(tmp_path / "f"), tasks="GTZAN",
                    dtype="fp32", device="cpu", progress=False)
    res = run_evaluation(cfg, samples=[good[0], bad, good[1]])
    recs = {r["id"]: r for r in read_records(tmp_path / "f" / "predictions.jsonl")}
    assert "audio is empty" in recs["GTZAN-99999"]["error"] and recs["GTZAN-99999"]["reply"] is None
    assert recs[good[1].id]["error"] is None
    assert res["samples"]["failed"] == {"GTZAN-99999": recs["GTZAN-99999"]["error"]}
    assert res["samples"]["original"] == {"GTZAN": 3} and res["samples"]["effective"] == {"GTZAN": 2}
    assert res["scores"]["tasks"]["GTZAN"]["n"] == 3  # strict: counted, as an invalid reply


def test_audio_controls_keep_length_and_change_config_hash(tiny_model, imported_dataset, tmp_path):
    audio = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)
    noise = apply_audio_control(audio, "noise", "TAU-00000", seed=0)
    assert noise.shape == audio.shape and not np.allclose(noise, audio)
    assert np.array_equal(noise, apply_audio_control(audio, "noise", "TAU-00000", seed=0))
    assert not np.any(apply_audio_control(audio, "silence", "TAU-00000"))
    out = tmp_path / "ctl"
    assert main(_cli("--model", tiny_model, "--data", imported_dataset, "--out", out, "--tasks", "TAU",
                     "--limit", "1", "--audio-control", "silence")) == 0
    assert main(_cli("--model", tiny_model, "--data", imported_dataset, "--out", tmp_path / "plain", "--tasks", "TAU",
                     "--limit", "1")) == 0
    silent, plain = read_records(out / "predictions.jsonl"), read_records(tmp_path / "plain" / "predictions.jsonl")
    assert len(silent) == len(plain) == 1 and silent[0]["config_hash"] != plain[0]["config_hash"]


def test_a_second_configuration_into_one_folder_is_refused_naming_what_differs(tiny_model, imported_dataset,
                                                                               tmp_path, capsys):
    """One run per folder: another configuration would overwrite results.json (and its records
    would sit beside the first run's); it is refused before anything runs, naming the setting."""
    out = tmp_path / "one"
    common = _cli("--model", tiny_model, "--data", imported_dataset, "--out", out, "--tasks", "TAU", "--limit", "1",
                  "--max-new-tokens", "2")
    assert main(common) == 0
    files = lambda: {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".audiomarathon.lock"}  # noqa: E731
    before = files()
    capsys.readouterr()
    assert main([*common, "--audio-control", "silence"]) == 1
    err = capsys.readouterr().err
    rid = json.loads(before["results.json"])["config"]["config_hash"]
    assert f"--out {out} holds another run: {rid} (1 record)" in err
    assert "audio_control: null in the folder, silence now" in err and "give another --out" in err
    assert files() == before  # nothing written
    # Only what decides the outputs counts: another --prefetch is the same run, resumed.
    assert main([*common, "--prefetch", "1"]) == 0
    assert (out / "predictions.jsonl").read_bytes() == before["predictions.jsonl"]


def test_a_folder_of_an_older_spelling_resumes_as_the_same_run(tiny_model, imported_dataset, tmp_path):
    """A folder written when the identity kept '--dtype float32' as typed holds the same run as
    '--dtype fp32' now: its records are relabeled with today's run id, nothing is run again."""
    from audiomarathon.records import write_predictions, write_results
    from audiomarathon.run_identity import run_id

    out = tmp_path / "old"
    common = _cli("--model", tiny_model, "--data", imported_dataset, "--out", out, "--tasks", "TAU", "--limit", "2",
                  "--max-new-tokens", "2")
    assert main(common) == 0
    results = json.loads((out / "results.json").read_text())
    new = results["config"]["config_hash"]
    # As the toolkit before canonical identities wrote it (its run id hashes the identity as typed).
    identity = dict(results["identity"], dtype="float32")
    old = run_id(identity)
    assert old != new
    records = read_records(out / "predictions.jsonl")
    write_predictions(out / "predictions.jsonl", [dict(r, config_hash=old) for r in records])
    results["identity"], results["config"]["config_hash"], results["config"]["dtype"] = identity, old, "float32"
    write_results(out / "results.json", results)
    assert main([*common[:-5], "--dtype", "float32", "--device", "cpu", "--no-progress"]) == 0
    again = read_records(out / "predictions.jsonl")
    assert [r["config_hash"] for r in again] == [new, new]
    assert [{k: v for k, v in r.items() if k != "config_hash"} for r in again] == \
        [{k: v for k, v in r.items() if k != "config_hash"} for r in records]  # the same records, none re-run


@pytest.mark.parametrize(
    "args,message",
    [
        (["--device", "cuda"], "CUDA is not available"),
        (["--tasks", "NOPE"], "unknown task 'NOPE'"),
        (["--batch-size", "4"], "only batch size 1"),
    ],
)
def test_cli_errors_are_clear(tiny_model, imported_dataset, tmp_path, capsys, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    base = ["run", "--model", str(tiny_model), "--data", str(imported_dataset), "--out", str(tmp_path / "e"),
            "--dtype", "fp32", "--no-progress", "--limit", "1", "--tasks", "TAU"]
    assert main(base + args) == 1
    assert message in capsys.readouterr().err


def test_unknown_model_cli_error(imported_dataset, tmp_path, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert main(["run", "--model", str(tmp_path / "m"), "--data", str(imported_dataset), "--out",
                 str(tmp_path / "o"), "--tasks", "TAU", "--limit", "1", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "no adapter for model_type 'bert'" in err and "qwen2_audio" in err


def test_sweep_loads_once_and_writes_summary(tiny_model, imported_dataset, tmp_path):
    out = tmp_path / "sweep"
    rc = main(["sweep", "--model", str(tiny_model), "--data", str(imported_dataset), "--out", str(out),
               "--tasks", "TAU", "--limit", "2", "--methods", "none,random,snapkv", "--ratios", "0.5",
               "--dtype", "fp32", "--device", "cpu", "--no-progress"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["none", "random-r0.5", "snapkv-r0.5"]
    rows = (out / "sweep_summary.csv").read_text().splitlines()
    assert rows[0].startswith("method,ratio,average,TAU,kept_audio_tokens_mean") and len(rows) == 4
    summary = json.loads((out / "sweep_summary.json").read_text())
    none, rnd = summary[0], summary[1]
    assert none["failed"] == rnd["failed"] == 0
    # random pruning at 0.5 keeps about half of the audio tokens at layer K.
    assert rnd["kept_audio_tokens_mean"] == pytest.approx(none["audio_tokens_mean"] / 2, abs=1)
    # Kept and total audio tokens are means over the same samples (the warm-up left out of both).
    assert none["kept_audio_tokens_mean"] == pytest.approx(none["audio_tokens_mean"])
    md = (out / "sweep_summary.md").read_text()
    assert "| random | 0.50 |" in md and "| snapkv | 0.50 |" in md
    res = json.loads((out / "random-r0.5" / "results.json").read_text())
    assert res["config"]["method"] == "random" and res["config"]["ratio"] == 0.5


def test_torchrun_two_cpu_ranks_shard_and_merge(tiny_model, imported_dataset, tmp_path):
    out = tmp_path / "dist"
    torchrun = Path(PY).with_name("torchrun")
    args = [str(torchrun), "--nproc-per-node", "2", "--master-port", str(29500 + os.getpid() % 1000),
            "-m", "audiomarathon_runner", *_cli("--model", tiny_model, "--data", imported_dataset, "--out", out,
                                                  "--tasks", "TAU,HAD", "--limit", "3")[1:]]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recs = read_records(out / "predictions.jsonl")
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)) == 6
    assert not list(out.glob("predictions.rank*.jsonl"))
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["world_size"] == 2 and res["samples"]["effective"] == {"TAU": 3, "HAD": 3}
    # Both ranks did work: each rank's first sample is its warm-up.
    assert sum(r["timings"]["warmup"] for r in recs) == 2


def test_demo_entry_scores_the_built_benchmark(imported_dataset, tmp_path):
    from audiomarathon_runner.demo import run_tiny_demo

    res = run_tiny_demo(imported_dataset, tmp_path / "demo", tasks="HAD,VoxGender,LibriSpeech", limit=1,
                        max_new_tokens=4, progress=False)
    assert set(res["scores"]["tasks"]) == {"HAD", "VoxGender", "LibriSpeech"}
    assert 0.0 <= res["scores"]["average"] <= 100.0


def test_cli_names_a_missing_model_folder(tmp_path, imported_dataset):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "audiomarathon", "run", "--model", str(tmp_path / "nope"),
                           "--data", str(imported_dataset), "--tasks", "TAU", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_serve_names_an_unreadable_dataset(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "audiomarathon", "serve", "--dataset", str(tmp_path / "nope"),
                           "--db", str(tmp_path / "lb.sqlite"), "--port", "0"], capture_output=True, text=True)
    assert proc.returncode == 1 and "nope" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "lb.sqlite").exists()  # nothing written before the dataset was read


def test_two_runners_on_one_folder_the_second_refuses_and_no_record_is_lost(tiny_model, imported_dataset, tmp_path):
    """Two real `audiomarathon run` processes on one --out: the first holds the folder's lock (here
    stopped mid-run with SIGSTOP, so it surely still holds it), the second refuses at once naming
    the folder and the first one's pid, writes nothing, and the first finishes with every record."""
    out = tmp_path / "shared"
    args = audiomarathon(*_cli("--model", tiny_model, "--data", imported_dataset, "--out", out,
                               "--tasks", "TAU,GTZAN,VESUS", "--max-new-tokens", "4"))
    path = out / "predictions.jsonl"
    first = stop_part_way(args, path, signal.SIGSTOP, stderr=subprocess.PIPE, text=True)
    try:
        held = path.read_bytes()
        assert 2 <= held.count(b"\n") < 9, "the first run must be stopped part-way"
        second = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert f"--out {out}: another run is writing to this folder (pid {first.pid} on " in second.stderr
        assert "Wait for it to finish, or give another --out" in second.stderr
        assert path.read_bytes() == held and not (out / "results.json").exists()
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=120) == 0, first.stderr.read()[-2000:]
    recs = read_records(path)
    assert len(recs) == len({r["id"] for r in recs}) == 9
    assert path.read_bytes().count(b"\n") == 9
    assert json.loads((out / "results.json").read_text())["samples"]["effective"] == {"TAU": 3, "GTZAN": 3, "VESUS": 3}
    # The first one gone, the folder is free again: the same command resumes with nothing to do.
    before = path.read_bytes()
    assert subprocess.run(args, capture_output=True).returncode == 0
    assert path.read_bytes() == before


def test_the_lock_names_its_holder_and_is_released_on_exit(tmp_path):
    from audiomarathon_runner.run_folder import RunFolderBusy, RunFolderLock

    with RunFolderLock(tmp_path).acquire("rid:abc"):
        # flock locks belong to open files: a second open of the lock file is a second runner.
        with pytest.raises(RunFolderBusy, match=rf"pid {os.getpid()} on .*, run id rid:abc\)"):
            RunFolderLock(tmp_path).acquire("rid:def")
    RunFolderLock(tmp_path).acquire("rid:def").release()  # released with the first


# --- MMAR and AIR-Bench Foundation -------------------------------------------------------------------

# The AIR-Bench README's Foundation leaderboard: 19 tasks, 9 speech, 4 sound, 6 music.
FOUNDATION_TASK_COUNT = 19


def _rows(dataset, config: str) -> dict[str, dict]:
    import datasets

    ds = datasets.load_dataset(str(dataset), config, split="test").remove_columns("audio")
    return {r["id"]: r for r in ds}


def test_mmar_run_keeps_the_release_options_scores_and_resumes(tiny_model, benchmark_datasets, tmp_path, capsys):
    from audiomarathon.tasks import get_task

    data, out = benchmark_datasets["mmar"], tmp_path / "mmar"
    args = _cli("--model", tiny_model, "--data", data, "--out", out, "--tasks", "mmar", "--limit", "6")
    assert main(args) == 0
    printed = capsys.readouterr().out
    rows = _rows(data, "MMAR")
    recs = read_records(out / "predictions.jsonl")
    assert len(recs) == 6 and all(r["error"] is None and r["task"] == "MMAR" for r in recs)
    for r in recs:  # the release's own options, 2 to 6 of them, never padded; durations in seconds
        row = rows[r["id"]]
        assert r["choices"] == row["choices"] and r["reference"] == row["answer"]
        assert r["duration"] == pytest.approx(row["duration"]) and 0 < r["duration"] < 10
    assert len({len(r["choices"]) for r in recs}) >= 3
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["decoding"]["max_new_tokens"] == {"MMAR": get_task("MMAR").max_new_tokens}
    assert res["samples"]["original"] == {"MMAR": 6} and res["samples"]["failed"] == {}
    section = res["scores"]["benchmarks"]["mmar"]
    # Random guessing: the expected accuracy mean(1 / number of options), over these items.
    assert section["random_guess"]["average"] == pytest.approx(100 * np.mean([1 / len(r["choices"]) for r in recs]))
    assert "MMAR:\naverage" in printed and f"random guessing would score {section['random_guess']['average']:.1f}" in printed
    # The same command again: the run resumes with nothing to do.
    records = read_records(out / "predictions.jsonl")
    assert main(args) == 0
    assert read_records(out / "predictions.jsonl") == records
    assert json.loads((out / "results.json").read_text())["identity"] == res["identity"]


def test_foundation_group_and_one_task_config_run(tiny_model, benchmark_datasets, tmp_path, capsys):
    data = benchmark_datasets["airbench-foundation"]
    out = tmp_path / "foundation"
    assert main(_cli("--model", tiny_model, "--data", data, "--out", out, "--tasks", "foundation", "--limit", "1",
                     "--max-new-tokens", "4")) == 0
    printed = capsys.readouterr().out
    recs = read_records(out / "predictions.jsonl")
    assert len({r["task"] for r in recs}) == len(recs) == FOUNDATION_TASK_COUNT
    assert all(r["error"] is None for r in recs)
    res = json.loads((out / "results.json").read_text())
    section = res["scores"]["benchmarks"]["airbench-foundation"]
    assert section["complete"] and set(section["categories"]) == {"speech", "sound", "music"}
    # The leaderboard's average: the mean of the three category means.
    assert section["average"] == pytest.approx(np.mean(list(section["categories"].values())))
    assert "AIR-Bench Foundation:" in printed and "speech " in printed
    # One task's config: Audio_Grounding, whose metadata names .wav files shipped as .flac.
    one = tmp_path / "grounding"
    assert main(_cli("--model", tiny_model, "--data", data, "--out", one, "--tasks", "Audio_Grounding",
                     "--max-new-tokens", "4")) == 0
    [rec] = read_records(one / "predictions.jsonl")
    assert rec["task"] == "Audio_Grounding" and rec["error"] is None and rec["timings"]["audio_seconds"] > 0
