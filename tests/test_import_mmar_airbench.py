"""Importing MMAR and AIR-Bench Foundation releases laid out as their authors publish them, and
loading them back with `datasets`.

The expectations are read from the synthetic releases' own metadata files with the authors' rules
typed out here: MMAR's letter is the position of ``answer`` in ``choices``; Foundation's is the
first of choice_a..choice_d equal to ``answer_gt`` (score_foundation.py); Foundation audio is
``<task_name>_<dataset_name>/<path>`` with ``path[:-3] + 'flac'`` for Audio_Grounding
(Inference_Foundation.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile as sf
import yaml

from audiomarathon.schema import FEATURES
from audiomarathon_dataset.audio_io import to_mono_16k
from audiomarathon_dataset.release import ImportFailed, import_release
from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_foundation, write_synthetic_mmar
from audiomarathon_dataset.synthetic_release import write_synthetic_release

FOUNDATION_TASKS = (
    "Speech_Grounding", "Spoken_Language_Identification", "Speaker_Gender_Recognition", "Speaker_Emotion_Recontion",
    "Speaker_Age_Prediction", "Speech_Entity_Reconition", "Speaker_Intent_Classification",
    "Speaker_Number_Verification", "Synthesized_Voice_Detection", "Audio_Grounding", "vocal_sound_classification",
    "Acoustic_Scene_Classification", "Sound_AQA", "Music_Instruments_Classfication", "Music_Genre_Recognition",
    "Music_Midi_Pitch_Analysis", "Music_Midi_Velocity_Analysis", "Music_AQA", "Music_Mood_Recognition",
)
FOUNDATION_FOLDERS = 25


def _load(out, config):
    return datasets.load_dataset(str(out), config, split="test")


def _foundation_letter(record: dict) -> str:
    """score_foundation.py: the first option equal to answer_gt."""
    for letter, key in zip("ABCD", ("choice_a", "choice_b", "choice_c", "choice_d")):
        if record["answer_gt"] == record.get(key):
            return letter
    raise AssertionError(f"no option equals answer_gt in {record}")


def _foundation_audio(record: dict) -> str:
    """Inference_Foundation.py's audio path, relative to the Foundation folder."""
    path = f"{record['task_name']}_{record['dataset_name']}/{record['path']}"
    return path[:-3] + "flac" if record["task_name"] == "Audio_Grounding" else path


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mmar_json(tmp_path_factory):
    return write_synthetic_mmar(tmp_path_factory.mktemp("mmar") / "BoJack-MMAR", n=24, seed=1)


@pytest.fixture(scope="module")
def mmar_jsonl_tarball(tmp_path_factory):
    return write_synthetic_mmar(tmp_path_factory.mktemp("mmarl") / "MMAR", n=24, seed=1, jsonl=True, tarball=True)


@pytest.fixture(scope="module")
def foundation(tmp_path_factory):
    return write_synthetic_foundation(tmp_path_factory.mktemp("air") / "AIR-Bench-Dataset", n_per_folder=4, seed=2)


@pytest.fixture(scope="module")
def imported_mmar(mmar_json, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "mmar"
    report = import_release(mmar_json, out, progress=False)
    assert report.ok, report.issues
    return out


@pytest.fixture(scope="module")
def imported_foundation(foundation, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "air"
    report = import_release(foundation, out, progress=False)
    assert report.ok, report.issues
    return out


# ---------------------------------------------------------------------------------------- MMAR

def test_mmar_imports_and_loads_with_the_release_options(imported_mmar, mmar_json):
    meta = json.loads((mmar_json / "MMAR-meta.json").read_text())
    assert datasets.get_dataset_config_names(str(imported_mmar)) == ["MMAR"]
    ds = _load(imported_mmar, "MMAR")
    assert ds.features == FEATURES and ds.num_rows == len(meta) == 24
    for row, src in zip(ds, meta):
        assert row["task"] == "MMAR"
        assert row["question"] == src["question"]
        assert row["choices"] == src["choices"]  # exactly the release's, never padded
        assert row["answer"] == "ABCDEF"[src["choices"].index(src["answer"])]
        assert row["answer_text"] == src["answer"]
        extra = json.loads(row["meta"])
        for key in ("id", "modality", "category", "sub-category", "language", "source", "url", "timestamp"):
            assert extra[key] == src[key]
        assert extra["source_file"] == src["audio_path"].removeprefix("./")
        assert row["duration"] == pytest.approx(0.5, abs=1e-3)  # seconds; no 90-300 s range applies
        source, rate = sf.read(mmar_json / src["audio_path"], dtype="float32", always_2d=True)
        np.testing.assert_allclose(row["audio"]["array"], to_mono_16k(source, rate), atol=1e-4)
    assert sorted({len(c) for c in ds["choices"]}) == [2, 3, 4, 5, 6]


def test_mmar_keeps_swapped_word_options_apart(imported_mmar):
    ds = _load(imported_mmar, "MMAR")
    swapped = [r for r in ds if "From near to far" in r["choices"]]
    assert swapped, "the synthetic release holds an order-swapped pair"
    for row in swapped:
        assert {"From near to far", "From far to near"} <= set(row["choices"])
        assert row["choices"]["ABCDEF".index(row["answer"])] == row["answer_text"]
    assert any("Ratio is 1:3" in r["choices"] for r in ds)


def test_mmar_github_jsonl_inside_a_tarball(mmar_jsonl_tarball, imported_mmar, tmp_path):
    assert not (mmar_jsonl_tarball / "audio").exists() and (mmar_jsonl_tarball / "mmar-audio.tar.gz").is_file()
    out = tmp_path / "out"
    report = import_release(mmar_jsonl_tarball, out, progress=False)
    assert report.ok, report.issues
    assert [(a["path"], a["files"]) for a in report.archives] == [("mmar-audio.tar.gz", 24)]
    rows = [json.loads(line) for line in (mmar_jsonl_tarball / "MMAR-meta.jsonl").read_text().splitlines()]
    ds = _load(out, "MMAR")
    assert ds["choices"] == [r["choices"] for r in rows]
    assert ds["answer"] == ["ABCDEF"[r["choices"].index(r["answer"])] for r in rows]
    extra = json.loads(ds[0]["meta"])
    assert extra["rubric"] == rows[0]["rubric"] and extra["cue"] == rows[0]["cue"] and extra["thinking"]
    # the same items as the JSON copy (same seed): ids, options and answers agree
    plain = _load(imported_mmar, "MMAR")
    assert ds["choices"] == plain["choices"] and ds["answer"] == plain["answer"]


def test_mmar_answer_must_equal_an_option_exactly(mmar_json, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(mmar_json, release)
    meta = json.loads((release / "MMAR-meta.json").read_text())
    meta[2]["answer"] = meta[2]["answer"].upper()  # another case: not the option
    meta[5]["answer"] = "B"  # a letter: MMAR's answers are option texts
    meta[7]["choices"] = ["only one"]
    (release / "MMAR-meta.json").write_text(json.dumps(meta))
    report = import_release(release, tmp_path / "out", progress=False)
    found = {i.record: i for i in report.issues}
    first = found[f"#2 (id={meta[2]['id']})"]
    assert first.file == "MMAR-meta.json" and first.kind == "answer_not_in_options" and "case or spacing" in first.message
    assert found[f"#5 (id={meta[5]['id']})"].kind == "answer_not_in_options"
    assert "at least 2" in found[f"#7 (id={meta[7]['id']})"].message
    assert _load(tmp_path / "out", "MMAR").num_rows == len(meta) - 3
    with pytest.raises(ImportFailed, match=r"MMAR-meta.json #2"):
        import_release(release, tmp_path / "strict", strict=True, progress=False)
    assert not (tmp_path / "strict").exists()


def test_mmar_jsonl_bad_line_is_reported_by_line(mmar_json, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(mmar_json, release)
    rows = json.loads((release / "MMAR-meta.json").read_text())
    (release / "MMAR-meta.json").unlink()
    lines = [json.dumps(r) for r in rows]
    lines[3] = lines[3][:-5]  # cut: not JSON
    (release / "MMAR-meta.jsonl").write_text("\n".join(lines) + "\n\n")
    report = import_release(release, tmp_path / "out", progress=False)
    assert [(i.file, i.record, i.kind) for i in report.issues] == [("MMAR-meta.jsonl", "line 4", "malformed_json")]
    assert _load(tmp_path / "out", "MMAR").num_rows == len(rows) - 1


# ---------------------------------------------------------------------------------- Foundation

def test_foundation_layout_has_every_quirk(foundation):
    meta = json.loads((foundation / "Foundation" / "Foundation_meta.json").read_text())
    assert [t for t in FOUNDATION_TASKS if t in {r["task_name"] for r in meta}] == list(FOUNDATION_TASKS)
    assert len({(r["task_name"], r["dataset_name"]) for r in meta}) == FOUNDATION_FOLDERS
    assert {p.suffix for p in (foundation / "Foundation").rglob("*") if p.is_file()} == {".json", ".wav", ".flac", ".mp3"}
    assert {len([k for k in r if k.startswith("choice_")]) for r in meta} == {2, 3, 4}
    grounding = [r for r in meta if r["task_name"] == "Audio_Grounding"]
    assert all(r["path"].endswith(".wav") for r in grounding)
    assert all((foundation / "Foundation" / _foundation_audio(r)).is_file() for r in grounding)
    assert not any((foundation / "Foundation" / f"Audio_Grounding_{r['dataset_name']}" / r["path"]).exists()
                   for r in grounding)


def test_foundation_imports_every_task_and_loads(imported_foundation, foundation):
    meta = json.loads((foundation / "Foundation" / "Foundation_meta.json").read_text())
    names = datasets.get_dataset_config_names(str(imported_foundation))
    assert names == [*FOUNDATION_TASKS, "foundation"]
    everything = _load(imported_foundation, "foundation")
    assert everything.num_rows == len(meta) == FOUNDATION_FOLDERS * 4
    by_uid = {r["uniq_id"]: r for r in meta}
    for row in everything:
        extra = json.loads(row["meta"])
        src = by_uid[extra["uniq_id"]]
        assert row["task"] == src["task_name"] == extra["task_name"] and extra["dataset_name"] == src["dataset_name"]
        options = [src[k] for k in ("choice_a", "choice_b", "choice_c", "choice_d") if k in src]
        assert row["choices"] == options  # 2, 3 or 4: never padded with "None"
        assert row["answer"] == _foundation_letter(src) and row["answer_text"] == src["answer_gt"]
        assert row["question"] == src["question"]
        assert extra["source_file"] == "Foundation/" + _foundation_audio(src)
        assert row["duration"] == pytest.approx(0.5, abs=0.06)  # mp3 frames pad a little
    per_task = _load(imported_foundation, "Speaker_Emotion_Recontion")
    assert per_task.num_rows == 8 and set(per_task["task"]) == {"Speaker_Emotion_Recontion"}
    assert {json.loads(m)["dataset_name"] for m in per_task["meta"]} == {"iemocap", "meld"}


def test_foundation_audio_is_the_listed_file(imported_foundation, foundation):
    ds = _load(imported_foundation, "Audio_Grounding")
    meta = {r["uniq_id"]: r for r in json.loads((foundation / "Foundation" / "Foundation_meta.json").read_text())}
    for row in ds:
        src = meta[json.loads(row["meta"])["uniq_id"]]
        data, rate = sf.read(foundation / "Foundation" / _foundation_audio(src), dtype="float32", always_2d=True)
        np.testing.assert_allclose(row["audio"]["array"], to_mono_16k(data, rate), atol=1e-4)


def test_the_card_declares_every_config(imported_foundation):
    front = yaml.safe_load((imported_foundation / "README.md").read_text().split("---\n")[1])
    configs = {c["config_name"]: c["data_files"][0]["path"] for c in front["configs"]}
    assert configs["foundation"] == [f"{t}/test-*.parquet" for t in FOUNDATION_TASKS]
    assert configs["Music_Instruments_Classfication"] == "Music_Instruments_Classfication/test-*.parquet"
    assert "all" not in configs  # "all" is AudioMarathon's ten
    assert {i["config_name"]: i["splits"][0]["num_examples"] for i in front["dataset_info"]}["foundation"] == 100


def test_foundation_record_errors_name_file_and_record(foundation, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(foundation, release)
    path = release / "Foundation" / "Foundation_meta.json"
    meta = json.loads(path.read_text())
    meta[0]["answer_gt"] = "A"  # a letter, not the option text
    meta[1]["dataset_name"] = "librispeech_other"
    meta[2].pop("choice_c", None)
    meta[2]["choice_c"], meta[2]["choice_d"] = "", "late option"  # d given, c empty
    meta[3]["task_name"] = "Speech_Recognition"  # no such Foundation task
    path.write_text(json.dumps(meta))
    report = import_release(release, tmp_path / "out", progress=False)
    found = {i.record: i for i in report.issues}
    assert set(found) == {f"#{i} (uniq_id={meta[i]['uniq_id']})" for i in (0, 1, 2)} | {"#3"}
    assert all(i.file == "Foundation/Foundation_meta.json" for i in report.issues)
    assert found[f"#0 (uniq_id={meta[0]['uniq_id']})"].kind == "answer_not_in_options"
    assert "librispeech_other" in found[f"#1 (uniq_id={meta[1]['uniq_id']})"].message
    assert "choice_c is empty" in found[f"#2 (uniq_id={meta[2]['uniq_id']})"].message
    assert "Speech_Recognition" in found["#3"].message
    assert _load(tmp_path / "out", "foundation").num_rows == len(meta) - 4


def test_missing_audio_names_the_flac_the_release_ships(foundation, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(foundation, release)
    meta = json.loads((release / "Foundation" / "Foundation_meta.json").read_text())
    gone = next(r for r in meta if r["task_name"] == "Audio_Grounding")
    (release / "Foundation" / _foundation_audio(gone)).unlink()
    report = import_release(release, tmp_path / "out", tasks="Audio_Grounding", progress=False)
    [issue] = report.issues
    assert issue.record == f"#{meta.index(gone)} (uniq_id={gone['uniq_id']})"
    assert "Foundation/" + _foundation_audio(gone) in issue.message


def test_cli_imports_with_tasks_foundation(foundation, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "audiomarathon", "import-release", str(foundation), "--out", str(out),
                           "--tasks", "foundation", "--no-progress", "--strict"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "100 of 100 records written across 19 task(s)" in done.stdout
    assert "AIR-Bench Foundation layout" in done.stdout


# ----------------------------------------------------------- a task name both releases use

def test_audiomarathon_and_foundation_side_by_side(foundation, tmp_path):
    """AudioMarathon's authors' layout names TAU's records Acoustic_Scene_Classification too; each
    release's records go to its own benchmark, by their dataset_name."""
    root = tmp_path / "downloads"
    write_synthetic_release(root / "AudioMarathon", per_task=2, seed=0, tasks=["TAU", "GTZAN"], layout="authors")
    shutil.copytree(foundation, root / "AIR-Bench-Dataset")
    tau_meta = json.loads(next((root / "AudioMarathon").rglob("acoustic_scene_task_meta.json")).read_text())
    assert {r["task_name"] for r in tau_meta} == {"Acoustic_Scene_Classification"}
    out = tmp_path / "out"
    report = import_release(root, out, progress=False)
    assert report.ok, report.issues
    names = datasets.get_dataset_config_names(str(out))
    assert names[:2] == ["TAU", "GTZAN"] and "Acoustic_Scene_Classification" in names and "foundation" in names
    assert "all" in names and "ASC" in names
    tau = _load(out, "TAU")
    assert tau.num_rows == len(tau_meta) and set(tau["choices"][0]) <= {
        "Airport - airport", "Traveling by a bus - bus", "Traveling by an underground metro - metro",
        "Metro station - metro_station", "Urban park - park", "Public square - public_square",
        "Indoor shopping mall - shopping_mall", "Pedestrian street - street_pedestrian",
        "Street with medium level of traffic - street_traffic", "Traveling by a tram - tram"}
    air = _load(out, "Acoustic_Scene_Classification")
    assert {json.loads(m)["dataset_name"] for m in air["meta"]} == {"CochlScene", "TUT2017"}
    assert _load(out, "all").num_rows == tau.num_rows + _load(out, "GTZAN").num_rows


def test_a_file_mixing_both_releases_is_refused(foundation, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(foundation, release)
    path = release / "Foundation" / "Foundation_meta.json"
    meta = json.loads(path.read_text())
    meta.append({"path": "x.wav", "question": "q", "choice_a": "a", "choice_b": "b", "answer_gt": "A",
                 "task_name": "Acoustic_Scene_Classification", "dataset_name": "TAU_Urban_Acoustic_Scenes"})
    path.write_text(json.dumps(meta))
    with pytest.raises(ImportFailed, match=r"Foundation/Foundation_meta.json.*AIR-Bench Foundation, AudioMarathon"):
        import_release(release, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- synthetic releases

def test_synthetic_releases_are_byte_identical_for_a_seed(tmp_path):
    for make in (lambda p, s: write_synthetic_mmar(p, n=12, seed=s, jsonl=True, tarball=True),
                 lambda p, s: write_synthetic_foundation(p, n_per_folder=1, seed=s)):
        a, b, c = (make(tmp_path / name, seed) for name, seed in (("a", 3), ("b", 3), ("c", 4)))
        assert _tree_digest(a) == _tree_digest(b) != _tree_digest(c)
        shutil.rmtree(a), shutil.rmtree(b), shutil.rmtree(c)
