"""`--data` that names nothing is an error, never a stale cached dataset; `score`/`compare` refuse
bad input with one clean line.

``datasets.load_dataset(NAME)`` serves whatever it once cached under NAME when NAME is neither a
folder nor reachable on the Hub. Every test here starts from a real populated cache: a dataset
folder is built, loaded once, then renamed away, and the real command (the installed
``audiomarathon`` entry point) is run with the same name from the same folder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import dataset_version

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "audiomarathon")
NOT_A_FOLDER = "no such dataset folder (and not a Hub id, which has the form ORG/NAME)"
CACHE_FALLBACK = "Using the latest cached version"  # what datasets logs when it falls back


@pytest.fixture(scope="module")
def stale(tmp_path_factory) -> dict:
    """A work folder whose am_data/ was loaded once (so the datasets cache holds it) and then
    renamed to am_data.moved/; the cache also holds it under the Hub id org/am_data, where
    datasets would look for a copy of that repo."""
    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    work = tmp_path_factory.mktemp("work")
    rel = write_synthetic_release(work / "release", per_task=2, seed=3, tasks=["TAU", "GTZAN"])
    import_release(rel, work / "am_data", progress=False)
    env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_DATASETS_CACHE": str(work / "hf" / "datasets"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    load = ("import datasets, sys\n"
            "for config in ('TAU', 'GTZAN'):\n"
            "    print(datasets.load_dataset(sys.argv[1], config, split='test').num_rows)\n")
    done = subprocess.run([sys.executable, "-c", load, "am_data"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.split() == ["2", "2"], done.stderr
    (work / "am_data").rename(work / "am_data.moved")
    cache = work / "hf" / "datasets"
    shutil.copytree(cache / "am_data", cache / "org___am_data")  # datasets' cache folder for org/am_data
    # the cache really would serve both names now: the fallback the commands must not take
    for name in ("am_data", "org/am_data"):
        again = subprocess.run([sys.executable, "-c", load, name], cwd=work, env=env, capture_output=True,
                               text=True, timeout=300)
        assert again.returncode == 0 and CACHE_FALLBACK in again.stderr, again.stderr
    rows = dataset_version.rows(work / "am_data.moved", ["TAU"])
    (work / "preds.jsonl").write_text("".join(
        json.dumps({"id": r["id"], "task": "TAU", "reply": r["answer"], "reference": r["answer"],
                    "choices": list(r["choices"])}) + "\n" for r in rows))
    return {"work": work, "env": env, "tau_fingerprint": dataset_version.fingerprint(rows)}


def _cli(stale: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], cwd=stale["work"], env={**stale["env"], **env}, capture_output=True,
                          text=True, timeout=300)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name", ["am_data", "./am_data/", "{work}/am_data"])
def test_a_missing_folder_is_refused_in_run_and_score_not_served_from_the_cache(stale, name):
    name = name.format(work=stale["work"])
    for command, args in (("run", ["--model", "org/some-model", "--tasks", "TAU", "--out", "runs/x"]),
                          ("score", ["preds.jsonl"])):
        proc = _cli(stale, command, *args, "--data", name)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stderr == f"audiomarathon {command}: error: --data {name}: {NOT_A_FOLDER}; a cached copy of " \
                              "an earlier folder of that name is never used in its place\n"
        assert CACHE_FALLBACK not in proc.stderr
    assert not (stale["work"] / "runs").exists()


def test_an_unreachable_hub_id_is_an_error_unless_offline(stale):
    online = {"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0", "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    for command, args in (("run", ["--model", "org/some-model", "--tasks", "TAU", "--out", "runs/x"]),
                          ("score", ["preds.jsonl"])):
        proc = _cli(stale, command, *args, "--data", "org/am_data", **online)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"audiomarathon {command}: error: --data org/am_data: no such folder here, "
                                      "and the Hub cannot be reached (")
        assert "set HF_HUB_OFFLINE=1 to use a copy in the local datasets cache" in proc.stderr
        assert CACHE_FALLBACK not in proc.stderr
    assert not (stale["work"] / "runs").exists()


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])
def test_offline_mode_uses_the_cache_and_prints_its_version_first(stale, variable):
    # the other variable off, and a Hub that is down: nothing may wait on it
    others = {v: "0" for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if v != variable}
    others["HF_ENDPOINT"] = f"http://127.0.0.1:{_closed_port()}"
    notice = (f"--data org/am_data: {variable} is set, so the copy in the local datasets cache is used (not "
              f"checked against the Hub): dataset version {stale['tau_fingerprint']}, 2 item(s)")
    scored = _cli(stale, "score", "preds.jsonl", "--data", "org/am_data", "--json", **{variable: "1"}, **others)
    assert scored.returncode == 0, scored.stderr
    assert notice in scored.stderr.splitlines()
    assert json.loads(scored.stdout)["tasks"]["TAU"]["score"] == 100.0
    if variable != "HF_HUB_OFFLINE":
        return  # with the Hub itself not offline, transformers retries the model lookup for half a minute
    # run prints it before the model is even looked for (this model exists nowhere: the run stops there)
    ran = _cli(stale, "run", "--model", "org/no-such-model", "--tasks", "TAU", "--data", "org/am_data",
               "--out", "runs/offline", **{variable: "1"}, **others)
    lines = ran.stderr.splitlines()
    assert ran.returncode == 1 and notice in lines, ran.stderr
    error = next(i for i, line in enumerate(lines) if line.startswith("audiomarathon run: error: "))
    assert "org/no-such-model" in lines[error] and lines.index(notice) < error


def test_score_with_a_missing_data_path_is_one_clean_line(stale):
    for command, args in (("score", ["preds.jsonl"]), ("compare", ["preds.jsonl", "preds.jsonl"])):
        proc = _cli(stale, command, *args, "--data", "/nonexistent/am_data")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"audiomarathon {command}: error: --data /nonexistent/am_data: {NOT_A_FOLDER}")
        assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("bad", [float("nan"), -5.0, "120", None])
def test_compare_refuses_the_durations_score_refuses_with_the_same_error(tmp_path, bad):
    """A NaN, a negative, a string, or a record without a duration among records with one."""
    records = [{"id": f"TAU-{i:05d}", "task": "TAU", "reply": "A", "reference": "AB"[i % 2],
                "choices": ["w", "x", "y", "z"], "duration": 100.0 + i} for i in range(6)]
    records[3]["duration"] = bad
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    scored = subprocess.run([CLI, "score", "a/predictions.jsonl"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    compared = subprocess.run([CLI, "compare", "a", "b"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    prefix_s, prefix_c = "audiomarathon score: error: ", "audiomarathon compare: error: "
    assert scored.returncode == 1 and scored.stderr.startswith(prefix_s), scored.stderr
    assert compared.returncode == 1 and compared.stderr.startswith(prefix_c), compared.stdout + compared.stderr
    assert compared.stderr[len(prefix_c):] == scored.stderr[len(prefix_s):]
    expected = ("record 'TAU-00003' has no 'duration' while others do" if bad is None
                else f"durations[3] must be a finite number of seconds >= 0, got {bad!r}")
    assert scored.stderr[len(prefix_s):].startswith(f"a/predictions.jsonl: {expected}")
