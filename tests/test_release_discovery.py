"""Release discovery by content: the authors' own layout, each rule, each ambiguity error,
explicit --task-file assignments and paths that try to leave the release root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile as sf

from audiomarathon.tasks import TASKS, UnknownTaskError
from audiomarathon_dataset.release import REPORT_NAME, ImportFailed, import_release
from audiomarathon_dataset.release.discovery import discover
from audiomarathon_dataset.synthetic_release import write_synthetic_release

import official_texts as official

# Where the authors' evaluation scripts (src/*/Others/*.py) read each task, typed from them.
AUTHORS_SOURCES = {
    "TAU": ("subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json", "file name"),
    "GTZAN": ("subsetGTZAN/concatenated_audio/music_genre_classification_meta.json", "file name"),
    "VoxGender": ("subsetVoxCeleb/concatenated_audio/gender_id_task_meta.json", "file name"),
    "VoxAge": ("subsetVoxCeleb/concatenated_audio/age_classification_task_meta.json", "file name"),
    "DESED": ("subsetDESED/DESED_dataset/concatenated_audio/desed_sound_event_detection_task.json", "file name"),
    "RACE": ("subsetrace_audio/race_benchmark.json", "file name"),
    "SLUE": ("subsetSLUE/merged_audio_data.json", "file name"),
    "VESUS": ("subsetVESUS/audio_emotion_dataset.json", "file name"),
    "HAD": ("subsetHAD/concatenated_audio", "real/ + fake/ folders"),
    "LibriSpeech": ("subsetlibrispeech-long/test-clean", "<speaker>/<chapter>/ transcripts"),
}
KEYS = ("id", "question", "choices", "answer", "answer_text")


def _rows(out: Path, config: str) -> list[dict]:
    ds = datasets.load_dataset(str(out), config, split="test").remove_columns(["audio"])
    return [{k: r[k] for k in KEYS} | {"duration": round(r["duration"], 3)} for r in ds]


@pytest.fixture(scope="module")
def both_layouts(tmp_path_factory):
    base = tmp_path_factory.mktemp("layouts")
    out = {}
    for layout in ("task_folders", "authors"):
        rel = write_synthetic_release(base / layout, per_task=2, seed=3, layout=layout)
        report = import_release(rel, base / f"{layout}-out", progress=False)
        out[layout] = (base / f"{layout}-out", report)
    return out


def test_authors_layout_imports_like_the_task_folder_layout(both_layouts):
    (folders_out, folders_report), (authors_out, authors_report) = both_layouts["task_folders"], both_layouts["authors"]
    configs = set(datasets.get_dataset_config_names(str(authors_out)))
    assert configs == set(datasets.get_dataset_config_names(str(folders_out))) and {t.name for t in TASKS} < configs
    written = {t: c["written"] for t, c in authors_report.counts.items()}
    assert written == {t: c["written"] for t, c in folders_report.counts.items()} == {t.name: 2 for t in TASKS}
    for task in TASKS:
        assert _rows(authors_out, task.name) == _rows(folders_out, task.name), task.name
    # which file became which task, and by which rule
    assert {s["task"]: (s["path"], s["rule"]) for s in authors_report.sources} == AUTHORS_SOURCES
    assert {s["task"]: s["records"] for s in authors_report.sources} == {t.name: 3 if t.name == "VESUS" else 2
                                                                      for t in TASKS}
    # the one listed file the release does not ship is reported by name, nothing else
    assert [(i.kind, i.task, i.file, i.record) for i in authors_report.issues] == [
        ("missing_audio", "VESUS", "subsetVESUS/audio_emotion_dataset.json", "#2 (uniq_id=vesus_missing)")]
    assert "subsetVESUS/audio/vesus_missing.mp3" in authors_report.issues[0].message
    saved = json.loads((authors_out / REPORT_NAME).read_text())
    assert saved["sources"] == authors_report.sources


def test_imported_authors_instances_are_in_the_official_form(both_layouts):
    out, _ = both_layouts["authors"]
    for config, question, table in (("TAU", official.TAU_QUESTION, official.TAU_OPTIONS),
                                    ("GTZAN", official.GTZAN_QUESTION, official.GTZAN_OPTIONS)):
        for r in _rows(out, config):
            assert r["question"] == question and set(r["choices"]) <= set(table.values()) and len(r["choices"]) == 4
    assert all(r["question"] == official.HAD_QUESTION and r["choices"] == official.HAD_OPTIONS
               for r in _rows(out, "HAD"))
    assert all(r["question"] == official.VOXGENDER_QUESTION and r["choices"] == official.VOXGENDER_OPTIONS
               for r in _rows(out, "VoxGender"))


# ----------------------------------------------------------------------- one rule at a time

def _write(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def _flat(choices, answer="A", **extra):
    rec = {"path": "x.wav", "question": "q?", "answer_gt": answer, **extra}
    rec.update({f"choice_{'abcde'[i]}": c for i, c in enumerate(choices)})
    return [rec]


def _assigned(root: Path) -> dict[str, tuple[str, str]]:
    disc = discover(root)
    assert not disc.unrecognized and not disc.conflicts, (disc.unrecognized, disc.conflicts)
    return {task: tuple((disc.rel(s.path), s.rule) for s in found) for task, found in disc.sources.items()}


def test_each_rule_assigns_a_file_at_any_depth(tmp_path):
    entities = ["Brussels", "Greece", "the Council", "Strasbourg"]
    _write(tmp_path / "a/b/c/gender_id_task_meta.json", _flat(entities))  # the name decides, whatever it holds
    _write(tmp_path / "d/meta.json", _flat(entities, task_name="Music_Genre_Classification"))
    _write(tmp_path / "e/f/scenes.json", _flat(entities, scene_label="park"))
    _write(tmp_path / "g/list.json", _flat(["Young Adult (18-30)", "Early Career (31-40)", "Mid Career (41-50)",
                                            "Senior (51-70)", "Elderly (71+)"], answer="Senior (51-70)"))
    _write(tmp_path / "h/i/authentic.json", _flat(["real", "fake"], answer="fake"))
    _write(tmp_path / "j/tasks.json", {"tasks": [{"path": "x.wav", "question": "q?", "answer_gt": "A",
                                                  "choices": {"A": "a", "B": "b"}}]})
    _write(tmp_path / "k/l/m/n/qa.json", [{"audio_path": "x.wav", "question": "q?", "options": ["1", "2"],
                                           "answer": "B"}])
    _write(tmp_path / "SER/deep/down/entities.json", _flat(entities))
    (tmp_path / "o/p/q/real").mkdir(parents=True)
    (tmp_path / "o/p/q/fake").mkdir()
    chapter = tmp_path / "r/test-clean/84/121123"
    chapter.mkdir(parents=True)
    (chapter / "84-121123-0000.flac").write_bytes(b"")
    (chapter / "84-121123.trans.txt").write_text("84-121123-0000 HELLO\n")
    assert _assigned(tmp_path) == {
        "VoxGender": (("a/b/c/gender_id_task_meta.json", "file name"),),
        "GTZAN": (("d/meta.json", "task name"),),
        "TAU": (("e/f/scenes.json", "label field"),),
        "VoxAge": (("g/list.json", "answer set"),),
        "HAD": (("h/i/authentic.json", "answer set"), ("o/p/q", "real/ + fake/ folders")),
        "DESED": (("j/tasks.json", "shape"),),
        "RACE": (("k/l/m/n/qa.json", "shape"),),
        "SLUE": (("SER/deep/down/entities.json", "folder name"),),
        "LibriSpeech": (("r/test-clean", "<speaker>/<chapter>/ transcripts"),),
    }


def test_one_folder_holds_several_tasks(tmp_path):
    shared = tmp_path / "subsetVoxCeleb" / "concatenated_audio"
    _write(shared / "gender_id_task_meta.json", _flat(["Male", "Female"], answer="Male"))
    _write(shared / "age_classification_task_meta.json", _flat(["Young Adult (18-30)", "Elderly (71+)"]))
    _write(shared / "emotions.json", _flat(["angry", "sad"], emotion_label="sad"))
    assert {t: [r for _, r in v] for t, v in _assigned(tmp_path).items()} == {
        "VoxGender": ["file name"], "VoxAge": ["file name"], "VESUS": ["label field"]}


def test_non_metadata_json_is_reported_and_skipped(tmp_path):
    _write(tmp_path / "x/dataset_info.json", {"description": "not records"})
    _write(tmp_path / "TAU/tau.json", {"rows": []})
    disc = discover(tmp_path)
    assert [(i.kind, i.file, i.task) for i in disc.issues] == [
        ("unknown_shape", "TAU/tau.json", "TAU"), ("unknown_shape", "x/dataset_info.json", "")]
    assert not disc.sources and not disc.unrecognized


# ---------------------------------------------------------------- ambiguity is an error

def _wav(path: Path, seconds: float = 0.5, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, subtype="PCM_16")


def _tau_file(path: Path, audio: str = "a.wav") -> Path:
    return _write(path, _flat(list(official.TAU_OPTIONS.values())[:4], scene_label="airport", path=audio))


def test_two_files_claiming_one_task_name_both_and_import_nothing(tmp_path):
    _tau_file(tmp_path / "rel/one/scenes.json")
    _tau_file(tmp_path / "rel/two/deeper/acoustic_scene_task_meta.json")
    with pytest.raises(ImportFailed) as err:
        import_release(tmp_path / "rel", tmp_path / "out", progress=False)
    message = str(err.value)
    assert "2 sources claim TAU" in message and "nothing was imported" in message
    assert "one/scenes.json  (label field)" in message
    assert "two/deeper/acoustic_scene_task_meta.json  (file name)" in message
    assert "--task-file TAU=PATH" in message
    assert not (tmp_path / "out").exists()


def test_task_file_settles_an_ambiguity(tmp_path):
    root = tmp_path / "rel"
    _wav(root / "one/a.wav")
    _wav(root / "two/deeper/a.wav", seconds=0.75)
    _tau_file(root / "one/scenes.json")
    _tau_file(root / "two/deeper/acoustic_scene_task_meta.json")
    report = import_release(root, tmp_path / "out", progress=False, task_files=["TAU=two/deeper/acoustic_scene_task_meta.json"])
    assert report.ok and report.sources == [
        {"task": "TAU", "path": "two/deeper/acoustic_scene_task_meta.json", "rule": "--task-file", "records": 1}]
    row = datasets.load_dataset(str(tmp_path / "out"), "TAU", split="test")[0]
    assert row["duration"] == pytest.approx(0.75, abs=1e-3)  # the chosen file's audio, next to it


def test_a_file_no_rule_recognizes_is_an_error_until_assigned(tmp_path):
    root = tmp_path / "rel"
    _wav(root / "misc/x.wav")
    _write(root / "misc/mystery.json", _flat(["Brussels", "Greece", "the Council", "Strasbourg"]))
    with pytest.raises(ImportFailed, match=r"misc/mystery.json: metadata records no rule assigns.*"
                                           r"--task-file TASK=misc/mystery.json"):
        import_release(root, tmp_path / "out", progress=False)
    report = import_release(root, tmp_path / "out", progress=False, task_files={"SER": "misc/mystery.json"})
    assert report.counts == {"SLUE": {"records": 1, "written": 1, "skipped": 0}}


def test_a_file_whose_fields_name_two_tasks_is_an_error(tmp_path):
    _write(tmp_path / "rel/both.json", _flat(["x", "y"], scene_label="park", genre_label="rock"))
    with pytest.raises(ImportFailed, match=r"both.json: its label field names several tasks \(TAU, GTZAN\)"):
        import_release(tmp_path / "rel", tmp_path / "out", progress=False)


def test_two_librispeech_trees_are_ambiguous(tmp_path):
    for split in ("test-clean", "test-other"):
        chapter = tmp_path / "rel" / "ls" / split / "84" / "121123"
        chapter.mkdir(parents=True)
        (chapter / "84-121123.trans.txt").write_text("84-121123-0000 HI\n")
    with pytest.raises(ImportFailed, match=r"2 sources claim LibriSpeech:\n    ls/test-clean .*\n    ls/test-other"):
        import_release(tmp_path / "rel", tmp_path / "out", progress=False)


@pytest.mark.parametrize("spec,message", [
    ("TAU=../elsewhere.json", "outside the release root"),
    ("TAU=nothing/here.json", "no such file or folder"),
    ("TAU", "expects TASK=PATH"),
    ("TAU=empty", "neither real/ \\+ fake/ folders nor LibriSpeech transcripts"),
])
def test_bad_task_file_arguments(tmp_path, spec, message):
    root = tmp_path / "rel"
    (root / "empty").mkdir(parents=True)
    (tmp_path / "elsewhere.json").write_text("[]")
    with pytest.raises(ImportFailed, match=message):
        import_release(root, tmp_path / "out", progress=False, task_files=[spec])


def test_unknown_task_in_task_file(tmp_path):
    with pytest.raises(UnknownTaskError, match="NOPE"):
        import_release(tmp_path, tmp_path / "out", progress=False, task_files=["NOPE=x.json"])


# -------------------------------------------------------------------- audio path resolution

def test_paths_resolve_from_the_metadata_folder_then_wav_then_the_task_root(tmp_path):
    root = tmp_path / "rel"
    meta = root / "subsetTAU" / "meta" / "deeper" / "acoustic_scene_task_meta.json"
    _wav(meta.parent / "here.wav", 0.5)  # next to the metadata
    _wav(meta.parent / "wav" / "in_wav.wav", 0.75)  # in its wav/ folder, as the authors' scripts join
    _wav(root / "subsetTAU" / "audio" / "at_root.wav", 1.0)  # relative to the task root
    recs = [_flat(list(official.TAU_OPTIONS.values())[:4], path=p, uniq_id=i, scene_label="airport")[0]
            for i, p in enumerate(["here.wav", "in_wav.wav", "audio/at_root.wav"])]
    _write(meta, recs)
    report = import_release(root, tmp_path / "out", progress=False)
    assert report.ok, report.issues
    ds = datasets.load_dataset(str(tmp_path / "out"), "TAU", split="test")
    assert [round(d, 3) for d in ds["duration"]] == [0.5, 0.75, 1.0]
    assert [json.loads(m)["source_file"] for m in ds["meta"]] == [
        "subsetTAU/meta/deeper/here.wav", "subsetTAU/meta/deeper/wav/in_wav.wav", "subsetTAU/audio/at_root.wav"]


def test_paths_leaving_the_root_are_refused_and_never_read(tmp_path):
    root = tmp_path / "rel"
    outside = tmp_path / "secret.wav"
    _wav(outside)
    os.chmod(outside, 0)  # had it been opened, the report would say "undecodable", not "outside"
    (root / "TAU").mkdir(parents=True)
    os.symlink(outside, root / "TAU" / "link.wav")
    _wav(root / "TAU" / "ok.wav")
    paths = ["../../secret.wav", str(outside), "link.wav", "ok.wav", "sub/../../../secret.wav"]
    recs = [_flat(list(official.TAU_OPTIONS.values())[:4], path=p, uniq_id=i, scene_label="airport")[0]
            for i, p in enumerate(paths)]
    _write(root / "TAU" / "scenes.json", recs)
    try:
        report = import_release(root, tmp_path / "out", progress=False)
    finally:
        os.chmod(outside, 0o644)
    refused = [(i.kind, i.record) for i in report.issues]
    assert refused == [("path_outside_root", f"#{i} (uniq_id={i})") for i in (0, 1, 2, 4)]
    assert all("refused, not read" in i.message for i in report.issues)
    assert report.counts["TAU"] == {"records": 5, "written": 1, "skipped": 4}


def test_cli_prints_which_file_became_which_task(tmp_path):
    root = write_synthetic_release(tmp_path / "rel", per_task=1, tasks=["TAU", "VoxGender", "VoxAge"], layout="authors")
    run = subprocess.run([sys.executable, "-m", "audiomarathon", "import-release", str(root), str(tmp_path / "out"),
                          "--no-progress"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "TAU <- subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json (file name): 1 record(s)" in run.stdout
    assert "VoxAge <- subsetVoxCeleb/concatenated_audio/age_classification_task_meta.json (file name)" in run.stdout
    _tau_file(root / "copy" / "scenes.json")
    run = subprocess.run([sys.executable, "-m", "audiomarathon", "import-release", str(root), str(tmp_path / "out2"),
                          "--no-progress"], capture_output=True, text=True)
    assert run.returncode != 0 and "2 sources claim TAU" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "audiomarathon", "import-release", str(root), str(tmp_path / "out2"),
                          "--no-progress", "--task-file", "TAU=subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "TAU <- subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json (--task-file)" in run.stdout


def test_metadata_links_out_of_the_root_and_fifos_are_not_read(tmp_path):
    root = tmp_path / "rel"
    outside = _tau_file(tmp_path / "elsewhere" / "scenes.json")
    (root / "TAU").mkdir(parents=True)
    os.symlink(outside, root / "TAU" / "linked.json")
    os.mkfifo(root / "TAU" / "pipe.json")  # reading it would block the import forever
    disc = discover(root)
    assert [(i.kind, i.file) for i in disc.issues] == [
        ("path_outside_root", "TAU/linked.json"), ("malformed_json", "TAU/pipe.json")]
    assert not disc.sources and not disc.documents
