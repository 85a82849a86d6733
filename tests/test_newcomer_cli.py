"""What a new user meets on the command line: the run's default dtype and what it prints, tables
that read alike (CIs, by-duration bins, averages, plurals, decimals, units), one wording of the
ratio range, a required option shown as required, a Hub that cannot be reached, progress in a
log, a display name apart from the run identity, a sample release to import."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
TINY_MAX_NEW_TOKENS = "2"


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update(extra)
    return env


def _cli(*args, cwd=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiomarathon", *map(str, args)], capture_output=True, text=True,
                          env=_env(**env), cwd=cwd, timeout=600)


def _half_up(value: float) -> str:
    # The paper's rounding, typed out here: one decimal, halves away from zero.
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _one_spaced(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from audiomarathon_runner.tiny import save_tiny_model

    return save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("newcomer-model") / "tiny-qwen2-audio")


@pytest.fixture(scope="module")
def named_runs(tiny_model, imported_dataset, tmp_path_factory):
    """Two real runs that differ only in --name, with the dtype left to its default (in a log:
    stderr is a pipe), and their outputs."""
    root = tmp_path_factory.mktemp("named")
    out = {}
    for folder, name in (("a", "Tiny A (baseline)"), ("b", "Tiny B")):
        proc = _cli("run", "--model", tiny_model, "--data", imported_dataset, "--out", root / folder, "--tasks",
                    "TAU,HAD", "--limit", "2", "--device", "cpu", "--max-new-tokens", TINY_MAX_NEW_TOKENS,
                    "--name", name, HF_DATASETS_CACHE=str(root / f"cache-{folder}"))
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[folder] = proc
    return root, out


# ------------------------------------------------------------------ the default dtype
def test_the_default_dtype_is_fp32_on_the_cpu_and_bf16_on_an_accelerator():
    from audiomarathon_runner.adapters import default_dtype

    assert default_dtype("cpu") == "fp32"
    assert default_dtype("cuda") == default_dtype("cuda:1") == default_dtype("mps") == "bf16"
    assert default_dtype(None) == ("bf16" if torch.cuda.is_available() else "fp32")


def test_a_run_without_dtype_runs_fp32_on_the_cpu_says_so_and_is_the_fp32_run(named_runs, tiny_model,
                                                                               imported_dataset):
    root, procs = named_runs
    assert f"model {tiny_model}: cpu, fp32 (the default on the CPU; --dtype to change)" in procs["a"].stderr.splitlines()
    results = json.loads((root / "a" / "results.json").read_text())
    assert results["config"]["dtype"] == "fp32" and results["identity"]["dtype"] == "fp32"
    lines = (root / "a" / "predictions.jsonl").read_bytes()
    # Given explicitly, fp32 is the same run: the folder resumes with nothing left to do.
    again = _cli("run", "--model", tiny_model, "--data", imported_dataset, "--out", root / "a", "--tasks", "TAU,HAD",
                 "--limit", "2", "--device", "cpu", "--max-new-tokens", TINY_MAX_NEW_TOKENS, "--dtype", "float32",
                 "--name", "Tiny A (baseline)", "--no-progress")
    assert again.returncode == 0, again.stderr[-3000:]
    assert (root / "a" / "predictions.jsonl").read_bytes() == lines
    assert json.loads((root / "a" / "results.json").read_text())["config"]["config_hash"] == \
        results["config"]["config_hash"]
    # bf16 computes something else: another identity.
    from audiomarathon_runner.run import RunConfig

    fingerprint = results["dataset"]["fingerprint"]
    fp32 = RunConfig(model=str(tiny_model), dtype="fp32", max_new_tokens=2, tasks="TAU,HAD", device="cpu")
    assert fp32.run_id(fingerprint) == results["config"]["config_hash"]
    bf16 = RunConfig(model=str(tiny_model), dtype="bf16", max_new_tokens=2, tasks="TAU,HAD", device="cpu")
    assert bf16.run_id(fingerprint) != results["config"]["config_hash"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_default_dtype_is_bf16(tiny_model, imported_dataset, tmp_path):
    proc = _cli("run", "--model", tiny_model, "--data", imported_dataset, "--out", tmp_path / "gpu", "--tasks", "TAU",
                "--limit", "1", "--device", "cuda", "--max-new-tokens", TINY_MAX_NEW_TOKENS, "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(rf"^model {re.escape(str(tiny_model))}: cuda(:0)?, bf16 \(the default on an accelerator; "
                     r"--dtype to change\)$", proc.stderr, re.M), proc.stderr
    assert json.loads((tmp_path / "gpu" / "results.json").read_text())["config"]["dtype"] == "bf16"


# ------------------------------------------------------------------ a display name
def test_a_display_name_is_shown_and_never_part_of_the_identity(named_runs):
    root, _ = named_runs
    a, b = (json.loads((root / f / "results.json").read_text()) for f in ("a", "b"))
    assert a["config"]["name"] == "Tiny A (baseline)" and b["config"]["name"] == "Tiny B"
    assert a["identity"] == b["identity"] and a["config"]["config_hash"] == b["config"]["config_hash"]
    assert "name" not in a["identity"]
    proc = _cli("compare", root / "a", root / "b", "--n-bootstrap", "0")
    assert proc.returncode == 0, proc.stderr
    assert "## A = Tiny A (baseline), B = Tiny B (4 common items)" in proc.stdout


def test_names_are_checked_before_anything_loads(tiny_model, imported_dataset, tmp_path):
    for bad, why in (("  ", "empty name"), ("two\nlines", "one line"), ("x" * 81, "over the 80")):
        proc = _cli("run", "--model", tiny_model, "--data", imported_dataset, "--out", tmp_path / "x",
                    "--name", bad)
        assert proc.returncode == 1 and why in proc.stderr, proc.stderr
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ progress in a log
def test_a_run_in_a_log_writes_one_line_per_task_and_no_redraws(named_runs):
    _, procs = named_runs
    err = procs["b"].stderr
    assert "\r" not in err, err[-2000:]
    assert "Generating test split" not in err  # datasets' bars, first load of the folder in a fresh cache
    lines = [line for line in err.splitlines() if line.startswith("Tiny B ")]
    assert [re.sub(r" \(.*\)$", "", line) for line in lines] == ["Tiny B TAU: 2/2 samples", "Tiny B HAD: 2/2 samples"]


def test_the_tiny_model_is_saved_without_a_progress_bar(tmp_path):
    code = ("from audiomarathon_runner.tiny import save_tiny_model; import sys; "
            f"save_tiny_model('qwen2_audio', {str(tmp_path / 'm')!r})")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Writing model shards" not in proc.stderr + proc.stdout


# ------------------------------------------------------------------ tables
def test_the_run_summary_has_scores_cis_and_plurals_as_score_prints_them(named_runs):
    root, procs = named_runs
    results = json.loads((root / "a" / "results.json").read_text())
    summary = procs["a"].stdout
    for task, res in results["scores"]["tasks"].items():
        lo, hi = res["ci95"]
        row = next(line for line in summary.splitlines() if line.startswith(task + " "))
        assert f" {_half_up(res['score'])} " in row and f" {_half_up(lo)}-{_half_up(hi)} " in row, row
    timing = results["timing"]
    assert f"over {timing['samples']} sample{'s' if timing['samples'] != 1 else ''} " in summary


def test_format_summary_says_one_sample_and_one_task():
    from audiomarathon_runner.commands.run import format_summary

    results = {"scores": {"tasks": {"TAU": {"n": 1, "score": 25.25, "ci95": [0.05, 49.95], "invalid_rate": 0.0}},
                          "average": 25.25, "average_ci95": [0.05, 49.95], "complete": False, "n_tasks": 1},
               "timing": {"prefill_ms": {"median": 12.25}, "samples": 1, "warmup_excluded": 0},
               "config": {"out": "runs/x"}}
    text = format_summary(results)
    assert "over 1 sample " in text and "over 1 samples" not in text
    assert "prefill (TTFT) median 12.3 ms" in text  # one decimal, half up, like every score
    assert "TAU             1    25.3  0.1-50.0" in text


def _prediction_file(path: Path, replies: list[str], durations: list[float]) -> Path:
    choices = ["Airport - airport", "Urban park - park", "Traveling by a bus - bus", "Metro station - metro_station"]
    refs = ["A", "B", "C", "D", "A", "B", "C", "D"]
    with path.open("w") as f:
        for i, (reply, ref, dur) in enumerate(zip(replies, refs, durations)):
            f.write(json.dumps({"id": f"TAU-{i}", "task": "TAU", "prediction": reply, "reference": ref,
                                "choices": choices, "duration": dur}) + "\n")
    return path


def test_score_with_duration_bins_prints_the_table_by_duration(tmp_path):
    durations = [8.5, 9.0, 11.0, 12.5, 13.0, 15.0, 15.5, 14.0]
    path = _prediction_file(tmp_path / "p.jsonl", ["A", "B", "C", "A", "A", "B", "D", "D"], durations)
    plain = _cli("score", path, "--n-bootstrap", "50")
    binned = _cli("score", path, "--n-bootstrap", "50", "--duration-bins", "8,12,16")
    assert plain.returncode == binned.returncode == 0, binned.stderr
    assert binned.stdout != plain.stdout
    row = next(line for line in binned.stdout.splitlines() if line.startswith("TAU ") and "(n=" in line)
    # 3 items under 12 s, 5 from 12 to 16 s (counted here from the durations above)
    assert "(n=3)" in row and "(n=5)" in row
    assert "8-12s" in binned.stdout and "12-16s" in binned.stdout


def test_compare_average_row_has_both_runs_averages(tmp_path):
    from audiomarathon_metric import score

    durations = [8.5, 9.0, 11.0, 12.5, 13.0, 15.0, 15.5, 14.0]
    replies_a = ["A", "B", "C", "A", "A", "B", "D", "D"]
    replies_b = ["A", "A", "A", "A", "B", "B", "C", "D"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pa = _prediction_file(tmp_path / "a" / "predictions.jsonl", replies_a, durations)
    pb = _prediction_file(tmp_path / "b" / "predictions.jsonl", replies_b, durations)
    proc = _cli("compare", pa, pb, "--n-bootstrap", "0")
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| average |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    choices = [["Airport - airport", "Urban park - park", "Traveling by a bus - bus",
                "Metro station - metro_station"]] * 8
    refs = ["A", "B", "C", "D", "A", "B", "C", "D"]
    for replies, cell in ((replies_a, cells[2]), (replies_b, cells[3])):
        alone = score(replies, refs, ["TAU"] * 8, choices=choices, n_bootstrap=0)["average"]
        assert cell == _half_up(alone)


def test_sweep_summary_markdown_reads_like_the_run(tmp_path):
    from audiomarathon_runner.sweep import write_summary

    rows = [{"method": "snapkv", "ratio": 0.5, "average": 12.25, "TAU": 49.25, "kept_audio_tokens_mean": 40.25,
             "audio_tokens_mean": 80.5, "kv_cache_bytes_mean": 308777.51, "prefill_ms_median": 311.05,
             "failed": 0, "folder": "snapkv-r0.5"}]
    write_summary(tmp_path, rows, ["TAU"])
    md = (tmp_path / "sweep_summary.md").read_text()
    cells = [c.strip() for c in md.splitlines()[2].strip("|").split("|")]
    # 308777.51 bytes / 1024 = 301.54 KiB
    assert cells == ["snapkv", "0.50", "12.3", "49.3", "40.3", "80.5", "301.5 KiB", "311.1", "0", "snapkv-r0.5"]
    assert "KV cache" in md.splitlines()[0]


# ------------------------------------------------------------------ one wording of the ratio range
def _help(command: str) -> str:
    from audiomarathon.cli import build_parser

    parser, _ = build_parser(command)
    return _one_spaced(parser.format_help())


def test_the_ratio_range_reads_the_same_in_help_listing_and_errors():
    from argparse import Namespace

    from audiomarathon_runner.commands.checks import check_run, check_sweep

    # A method removes part of the audio tokens: (0, 1). A ratio as such may be 0, the uncompressed point: [0, 1).
    run_help = _help("run")
    ratio_help = run_help[run_help.index("--ratio RATIO fraction"):][:200]
    assert "(0, 1)" in ratio_help and "[0, 1)" not in ratio_help
    sweep_help = _help("sweep")
    ratios_help = sweep_help[sweep_help.index("--ratios R1,R2,... comma"):][:200]
    assert "[0, 1)" in ratios_help and "(0, 1)" not in ratios_help
    listing = _one_spaced(_cli("methods").stdout)
    assert "--ratio is the fraction of audio tokens removed, in (0, 1)" in listing
    assert "--ratios are each in [0, 1)" in listing

    def args(**kw):
        base = dict(dtype=None, device="cpu", tasks="TAU", limit=None, max_new_tokens=None, prefetch=None, layer=2,
                    batch_size=1, max_audio_seconds=600.0, model=str(ROOT), data=None, out=None, name=None,
                    method="none", ratio=None)
        return Namespace(**{**base, **kw})

    for ratio in (0.0, 1.0, 1.5, -0.1):  # the ranges are what the checks enforce
        with pytest.raises(ValueError, match=re.escape("(0, 1)")):
            check_run(args(method="fastv", ratio=ratio))
    check_run(args(method="fastv", ratio=0.999))
    check_run(args(method="none", ratio=0.0))
    check_sweep(args(), ["fastv"], [0.0, 0.5])
    for ratio in (1.0, -0.5):
        with pytest.raises(ValueError, match=re.escape("[0, 1)")):
            check_sweep(args(), ["fastv"], [ratio])


def test_a_required_option_is_shown_as_required_in_the_usage():
    from audiomarathon.cli import build_parser

    for command, option in (("import-release", "--out OUT"), ("push", "--data DATA")):
        usage = _one_spaced(build_parser(command)[0].format_usage())
        assert f" {option} " in usage and f"[{option}]" not in usage, usage
    # still optional to argparse: the older positional spelling gives it instead
    parser, _ = build_parser("import-release")
    assert parser.parse_args(["rel", "out"])._out_positional == "out"


# ------------------------------------------------------------------ no network
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: connections are refused


@pytest.mark.parametrize("option", ["--model", "--data"])
def test_without_the_hub_a_hub_id_fails_in_seconds_saying_what_to_do(option, imported_dataset, tiny_model, tmp_path):
    online = {"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
              "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    given = {"--model": ["--model", "Qwen/Qwen2-Audio-7B-Instruct", "--data", imported_dataset],
             "--data": ["--model", tiny_model, "--data", "Hezep/AudioMarathon"]}[option]
    started = time.perf_counter()
    proc = _cli("run", *given, "--tasks", "TAU", "--out", tmp_path / "r", **online)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 1, proc.stderr
    assert "Retrying" not in proc.stderr and "Traceback" not in proc.stderr
    name = given[given.index(option) + 1]
    assert proc.stderr.startswith(f"audiomarathon run: error: {option} {name}: no such folder here, and the Hub "
                                  f"cannot be reached ({online['HF_ENDPOINT']}: ")
    assert "folder" in proc.stderr and "HF_HUB_OFFLINE=1" in proc.stderr
    assert elapsed < 20, elapsed  # Python and torch start included; the Hub clients' retries took 30-48 s
    assert not (tmp_path / "r").exists()


def test_the_python_api_fails_fast_too(monkeypatch):
    from audiomarathon_runner.adapters import UnknownModelError, load_adapter

    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    started = time.perf_counter()
    with pytest.raises(UnknownModelError, match="the Hub cannot be reached"):
        load_adapter("org/not-here-either", "fp32", "cpu")
    assert time.perf_counter() - started < 10


def test_offline_without_a_cached_copy_says_so(monkeypatch, tmp_path):
    from audiomarathon_runner.adapters import UnknownModelError, load_adapter

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UnknownModelError, match="HF_HUB_OFFLINE is set, and the local Hub cache holds no copy"):
        load_adapter("org/never-downloaded", "fp32", "cpu")


# ------------------------------------------------------------------ a sample release
# The authors' file names, typed out from their scripts' paths (src/*/Others/*.py).
AUTHORS_FILES = {
    "TAU": "subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json",
    "GTZAN": "subsetGTZAN/concatenated_audio/music_genre_classification_meta.json",
    "VoxGender": "subsetVoxCeleb/concatenated_audio/gender_id_task_meta.json",
    "VoxAge": "subsetVoxCeleb/concatenated_audio/age_classification_task_meta.json",
    "DESED": "subsetDESED/DESED_dataset/concatenated_audio/desed_sound_event_detection_task.json",
    "RACE": "subsetrace_audio/race_benchmark.json",
    "SLUE": "subsetSLUE/merged_audio_data.json",
    "VESUS": "subsetVESUS/audio_emotion_dataset.json",
}


def test_make_sample_release_writes_the_authors_layout_that_import_release_reads(tmp_path):
    made = _cli("make-sample-release", "release", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for path in AUTHORS_FILES.values():
        assert (tmp_path / "release" / path).is_file(), path
    assert (tmp_path / "release" / "subsetHAD" / "concatenated_audio" / "real").is_dir()
    imported = _cli("import-release", "release", "--out", "am_data", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    report = json.loads((tmp_path / "am_data" / "import_report.json").read_text())
    by_task = {s["task"]: s["path"] for s in report["sources"]}
    assert {t: by_task[t] for t in AUTHORS_FILES} == AUTHORS_FILES
    assert len(by_task) == 10
    # the one VESUS record whose audio is missing, as in the public release
    assert [i["kind"] for i in report["issues"]] == ["missing_audio"]
    again = _cli("make-sample-release", "release", cwd=tmp_path)
    assert again.returncode == 1 and "not an empty folder" in again.stderr


# ------------------------------------------------------------------ a build of short sources
def test_a_build_of_short_sources_suggests_durations_that_work_and_writes_its_report(tmp_path):
    import soundfile as sf

    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

    src = write_synthetic_sources(tmp_path / "src", seed=0, speech=False, corpora=["tau", "gtzan"])
    out = tmp_path / "built"
    proc = _cli("build", "--sources", src, "--out", out, "--tasks", "TAU,GTZAN", "--no-progress")
    assert proc.returncode == 1, proc.stderr
    assert not out.exists()
    report = tmp_path / "built.build_report.json"
    assert f"the report, every group by file: {report}" in proc.stderr
    written = json.loads(report.read_text())
    assert set(written["issues_by_kind"]) == {"group_too_short"} and written["counts"]["TAU"]["written"] == 0
    # A GTZAN group is a genre: its audio is the sum of the genre folder's clips (summed here).
    genres = (src / "GTZAN" / "genres").iterdir()
    longest = max(sum(sf.info(str(p)).duration for p in g.glob("*.wav")) for g in genres)
    assert f"GTZAN {longest:.1f} s" in proc.stderr
    low, high = map(int, re.search(r"e\.g\. --min-duration (\d+) --max-duration (\d+)", proc.stderr).groups())
    # The suggestion works: every task is built with it, and a stale failure report is gone.
    built = _cli("build", "--sources", src, "--out", out, "--tasks", "TAU,GTZAN", "--no-progress",
                 "--min-duration", low, "--max-duration", high)
    assert built.returncode == 0, built.stderr
    counts = json.loads((out / "build_report.json").read_text())["counts"]
    assert counts["TAU"]["written"] > 0 and counts["GTZAN"]["written"] > 0
    assert not report.exists()


# ------------------------------------------------------------------ make test
def test_make_test_says_how_long_it_takes_and_shows_each_file():
    proc = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    pytest_line = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    announced = " ".join(lines[:pytest_line])
    assert re.search(r"about \d+ minutes on 2 CPU cores", announced), announced  # said before the tests start
    command = lines[pytest_line].split()
    assert "-q" not in command and "--quiet" not in command
    # what that command prints: each file's name as it runs (here on one small file)
    python = command[0] if Path(command[0]).is_absolute() else str(ROOT / command[0])
    shown = subprocess.run([python, *command[1:], "tests/test_tasks.py", "-k", "abbrev"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert re.search(r"^tests/test_tasks\.py \.+ +\[100%\]$", shown.stdout, re.M), shown.stdout
