"""Importing a release in every official shape and loading it back with `datasets`."""

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
import yaml

from audiomarathon import TASKS, get_task
from audiomarathon.schema import FEATURES
from audiomarathon_dataset.audio_io import to_mono_16k
from audiomarathon_dataset.release import import_release

import official_texts as official


def _load(out, config, **kw):
    return datasets.load_dataset(str(out), config, split="test", **kw)


def _source_audio(release: Path, rel: str) -> np.ndarray:
    data, rate = sf.read(release / rel, dtype="float32", always_2d=True)
    return to_mono_16k(data, rate)


def test_every_config_is_listed_and_loads(imported_dataset):
    names = datasets.get_dataset_config_names(str(imported_dataset))
    assert names == [t.name for t in TASKS] + ["all"] + [t.abbrev for t in TASKS]
    everything = _load(imported_dataset, "all")
    assert everything.num_rows == 30
    assert sorted(set(everything["task"])) == sorted(t.name for t in TASKS)
    assert everything.features == FEATURES


def test_unknown_config_lists_valid_ones(imported_dataset):
    with pytest.raises(ValueError, match="BuilderConfig 'NOPE' not found.*TAU"):
        _load(imported_dataset, "NOPE")


def test_flat_shape_fields_match_the_metadata(imported_dataset, synthetic_release):
    meta = json.loads((synthetic_release / "TAU" / "tau_meta.json").read_text())
    ds = _load(imported_dataset, "TAU")
    assert ds["id"] == [f"TAU-{i:05d}" for i in range(len(meta))]
    for row, src in zip(ds, meta):
        choices = [src[f"choice_{c}"] for c in "abcd"]
        assert row["task"] == "TAU"
        assert row["question"] == src["question"]
        assert row["choices"] == choices
        assert row["answer"] == src["answer_gt"]
        assert row["answer_text"] == choices["ABCD".index(src["answer_gt"])]
        assert row["answer_text"] == official.TAU_OPTIONS[src["scene_label"]]
        extra = json.loads(row["meta"])
        assert extra["scene_label"] == src["scene_label"] and extra["uniq_id"] == src["uniq_id"]
        assert extra["source_sampling_rate"] == 44100 and extra["source_channels"] == 2
        # audio: decoded by datasets at 16 kHz, equal to our own resampling of the source file
        audio = row["audio"]
        array = audio["array"]
        assert audio["sampling_rate"] == 16000 and array.ndim == 1
        expected = _source_audio(synthetic_release, f"TAU/{src['path']}")
        assert len(array) == len(expected)
        assert np.abs(array - expected).max() < 2e-4  # 16-bit FLAC quantization only
        assert row["duration"] == pytest.approx(len(array) / 16000, abs=1e-3)
        assert row["duration"] == pytest.approx(src["duration_seconds"], abs=0.01)
        assert row["segments"] == [
            {"source_id": f"TAU/{src['path']}", "start": 0.0, "end": pytest.approx(row["duration"], abs=1e-3),
             "evidence": None}  # a release has no clip-level annotation: evidence unknown, never guessed
        ]


@pytest.mark.parametrize("config", ["VoxGender", "VoxAge"])
def test_text_answers_become_letters(imported_dataset, synthetic_release, config):
    meta = json.loads((synthetic_release / config / f"{config.lower()}_meta.json").read_text())
    ds = _load(imported_dataset, config)
    task = get_task(config)
    for row, src in zip(ds, meta):
        assert src["answer_gt"] in task.labels  # the release gives the option text...
        assert row["answer"] == "ABCDE"[row["choices"].index(src["answer_gt"])]  # ...we store the letter
        assert row["answer_text"] == src["answer_gt"]
        assert len(row["choices"]) == len(task.labels)


def test_wrapped_samples_shape_and_formats(imported_dataset):
    gtzan = _load(imported_dataset, "GTZAN")  # {"samples": [...]} with 22.05 kHz FLAC
    vesus = _load(imported_dataset, "VESUS")  # MP3 44.1 kHz
    slue = _load(imported_dataset, "SLUE")  # OGG Vorbis
    for ds, rate in ((gtzan, 22050), (vesus, 44100), (slue, 16000)):
        assert ds.num_rows == 3
        for row in ds:
            assert json.loads(row["meta"])["source_sampling_rate"] == rate
            assert row["audio"]["sampling_rate"] == 16000
            assert 1.5 < row["duration"] < 4.5
    assert json.loads(slue[0]["meta"])["entity_types"] == ["GPE", "ORG"]


def test_desed_and_race_shapes(imported_dataset, synthetic_release):
    desed_src = json.loads((synthetic_release / "DESED" / "desed_tasks.json").read_text())["tasks"]
    desed = _load(imported_dataset, "DESED")
    for row, src in zip(desed, desed_src):
        assert row["choices"] == [src["choices"][k] for k in "ABCD"]
        assert row["answer"] == src["answer_gt"]
        assert json.loads(row["meta"])["primary_event"] == src["primary_event"]
    race_src = json.loads((synthetic_release / "RACE" / "race_audio_qa.json").read_text())
    race = _load(imported_dataset, "RACE")
    assert race.num_rows == len(race_src)
    for row, src in zip(race, race_src):
        assert row["choices"] == src["options"] and row["answer"] == src["answer"]
        assert row["answer_text"] == src["options"]["ABCD".index(src["answer"])]
        assert json.loads(row["meta"])["article_id"] == src["article_id"]
    # questions sharing one article share the audio
    shared = [r for r, s in zip(race, race_src) if s["audio_path"] == race_src[0]["audio_path"]]
    assert len(shared) >= 2
    assert all(np.array_equal(shared[0]["audio"]["array"], r["audio"]["array"]) for r in shared)


def test_folder_shapes_had_and_librispeech(imported_dataset, synthetic_release):
    had = _load(imported_dataset, "HAD")
    for row in had:
        folder = json.loads(row["meta"])["label_folder"]
        assert row["choices"] == ["Real", "Fake"]
        assert (row["answer"], row["answer_text"]) == (("A", "Real") if folder == "real" else ("B", "Fake"))
        assert row["question"] == get_task("HAD").question
    libri = _load(imported_dataset, "LibriSpeech")
    assert libri.num_rows == 3
    for row in libri:
        meta = json.loads(row["meta"])
        base = meta["utterance"]
        folder = synthetic_release / "LibriSpeech" / "test-clean" / meta["speaker"] / meta["chapter"]
        own = folder / f"{base}.txt"
        if own.exists():
            expected = own.read_text().strip()
        else:
            lines = (folder / f"{meta['speaker']}-{meta['chapter']}.trans.txt").read_text().splitlines()
            expected = next(line.split(" ", 1)[1] for line in lines if line.startswith(base + " "))
        assert row["answer_text"] == expected and row["choices"] == [] and row["answer"] == ""
    libri_root = synthetic_release / "LibriSpeech"
    assert list(libri_root.rglob("*.trans.txt"))  # both transcript styles were exercised
    assert [p for p in libri_root.rglob("*.txt") if not p.name.endswith(".trans.txt")]


def test_streaming(imported_dataset):
    stream = _load(imported_dataset, "TAU", streaming=True)
    first = next(iter(stream))
    assert first["id"] == "TAU-00000"
    assert first["audio"]["sampling_rate"] == 16000 and len(first["audio"]["array"]) > 16000


def test_dataset_card(imported_dataset):
    text = (imported_dataset / "README.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["license"] == "cc-by-nc-4.0"
    configs = {c["config_name"]: c for c in front["configs"]}
    assert set(configs) == {t.name for t in TASKS} | {"all"} | {t.abbrev for t in TASKS}
    assert configs["TAU"]["data_files"] == [{"split": "test", "path": "TAU/test-*.parquet"}]
    infos = {i["config_name"]: i for i in front["dataset_info"]}
    assert infos["TAU"]["splits"][0]["num_examples"] == 3 and infos["all"]["splits"][0]["num_examples"] == 30
    assert datasets.Features._from_yaml_list(infos["TAU"]["features"]) == FEATURES
    assert "@article{he2025audiomarathon" in text and "&id" not in text
    # the statistics table is computed from the data
    tau = _load(imported_dataset, "TAU")
    durations = tau["duration"]
    row = next(line for line in text.splitlines() if line.startswith("| TAU |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == "3" and cells[4] == "1145"
    assert float(cells[6]) == pytest.approx(min(durations), abs=0.06)
    assert float(cells[8]) == pytest.approx(max(durations), abs=0.06)
    report = json.loads((imported_dataset / "import_report.json").read_text())
    assert report["issues"] == [] and report["counts"]["TAU"] == {"records": 3, "written": 3, "skipped": 0}


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reimport_is_byte_identical_and_parallel_matches_serial(synthetic_release, imported_dataset, tmp_path):
    again = tmp_path / "again"
    import_release(synthetic_release, again, progress=False)
    parallel = tmp_path / "parallel"
    import_release(synthetic_release, parallel, num_proc=2, progress=False)
    reference = _tree_bytes(imported_dataset)
    assert _tree_bytes(again) == reference
    assert _tree_bytes(parallel) == reference
    # re-importing into the same folder replaces it atomically with the same bytes
    import_release(synthetic_release, again, progress=False)
    assert _tree_bytes(again) == reference
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_task_selection_and_load_by_directory_name(synthetic_release, tmp_path, monkeypatch):
    out = tmp_path / "audiomarathon"
    import_release(synthetic_release, out, tasks="ASC,MC", progress=False)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["GTZAN", "TAU"]
    monkeypatch.chdir(tmp_path)  # the README's `load_dataset("audiomarathon", "TAU")`
    ds = datasets.load_dataset("audiomarathon", "TAU", split="test")
    assert ds.num_rows == 3
    assert datasets.get_dataset_config_names("audiomarathon") == ["TAU", "GTZAN", "all", "ASC", "MC"]


def test_cli_import_release(synthetic_release, tmp_path):
    out = tmp_path / "cli_out"
    proc = subprocess.run(
        [sys.executable, "-m", "audiomarathon", "import-release", str(synthetic_release), str(out),
         "--tasks", "SD,SGR", "--no-progress"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 of 6 records written across 2 task(s); no problems" in proc.stdout
    assert _load(out, "HAD").num_rows == 3 and _load(out, "VoxGender").num_rows == 3
    bad = subprocess.run(
        [sys.executable, "-m", "audiomarathon", "import-release", str(tmp_path / "nowhere"), str(out)],
        capture_output=True, text=True,
    )
    assert bad.returncode == 1 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "audiomarathon", "import-release", str(synthetic_release), str(out), "--tasks", "XYZ"],
        capture_output=True, text=True,
    )
    assert unknown.returncode == 1 and "unknown task 'XYZ'" in unknown.stderr
    assert os.path.isdir(out) and _load(out, "HAD").num_rows == 3  # failed runs left OUT untouched


def test_refuses_to_replace_a_foreign_directory(synthetic_release, tmp_path):
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="holds no AudioMarathon dataset"):
        import_release(synthetic_release, foreign, tasks="TAU", progress=False)
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_absolute_paths_resolve_by_suffix(tmp_path):
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    rel = write_synthetic_release(tmp_path / "rel", per_task=2, tasks=["TAU"])
    meta_path = rel / "TAU" / "tau_meta.json"
    meta = json.loads(meta_path.read_text())
    for m in meta:  # paths as written on the authors' machine
        m["path"] = "/data/users/someone/AudioMarathon/TAU/" + m["path"]
    meta_path.write_text(json.dumps(meta))
    report = import_release(rel, tmp_path / "out", progress=False)
    assert report.ok, report.issues
    assert _load(tmp_path / "out", "TAU").num_rows == 2
    assert json.loads(_load(tmp_path / "out", "TAU")[0]["meta"])["source_file"] == "TAU/audio/tau_000.wav"


def test_fixed_option_order_for_two_way_tasks(tmp_path):
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    rel = write_synthetic_release(tmp_path / "rel", per_task=3, tasks=["VoxGender"])
    meta_path = rel / "VoxGender" / "voxgender_meta.json"
    meta = json.loads(meta_path.read_text())
    meta[0].update(choice_a="Female", choice_b="Male", answer_gt="A")  # listed in the other order
    meta[1].update(choice_a="female", choice_b="male", answer_gt="male")
    meta[2].update(choice_a="Male", choice_b="Child")  # not the task's options
    meta_path.write_text(json.dumps(meta))
    report = import_release(rel, tmp_path / "out", progress=False)
    ds = _load(tmp_path / "out", "VoxGender")
    # the prompt says "male -> a": stored choices follow the registry's order, letters follow them
    assert [(r["choices"], r["answer"], r["answer_text"]) for r in ds] == [
        (["Male", "Female"], "B", "Female"), (["Male", "Female"], "A", "Male")]
    assert [(i.kind, i.record) for i in report.issues] == [("bad_record", "#2 (uniq_id=voxgender_002)")]


def test_card_declares_the_dataset_fingerprint(imported_dataset):
    from audiomarathon.fingerprint import KEY_COLUMNS, card_fingerprint, dataset_fingerprint

    rows = _load(imported_dataset, "all").select_columns(list(KEY_COLUMNS)).to_list()
    declared = card_fingerprint(str(imported_dataset))
    assert declared == dataset_fingerprint(rows) and declared.startswith("sha256:")
    tau = next(r for r in rows if r["task"] == "TAU")
    tau["answer"] = "B" if tau["answer"] != "B" else "A"  # any answer change is a new version
    assert dataset_fingerprint(rows) != declared
    asr = next(r for r in rows if r["task"] == "LibriSpeech")
    asr["answer_text"] += " extra"
    assert dataset_fingerprint(rows) != declared
    assert card_fingerprint("/nonexistent/folder") is None


def test_release_audio_in_every_format_the_corpora_ship(tmp_path):
    """A release's folder layouts take the audio formats the source corpora come in, GTZAN's .au
    and AIFF included, as a corpus reader does."""
    import pyarrow.parquet as pq

    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    rel = write_synthetic_release(tmp_path / "rel", per_task=2, tasks=["HAD"])
    tone = 0.1 * np.sin(np.linspace(0, 400 * np.pi, 16000 * 3)).astype(np.float32)
    for name, fmt in (("blues.00000.au", "AU"), ("take.aiff", "AIFF"), ("take2.AIF", "AIFF")):
        sf.write(rel / "HAD" / "fake" / name, tone, 16000, format=fmt, subtype="PCM_16")
    (rel / "HAD" / "fake" / "notes.txt").write_text("not audio")
    report = import_release(rel, tmp_path / "out", progress=False)
    assert not report.issues, report.issues
    rows = pq.read_table(next((tmp_path / "out" / "HAD").glob("*.parquet")), columns=["answer", "meta"]).to_pylist()
    fake = {json.loads(row["meta"])["source_file"] for row in rows if row["answer"] == "B"}
    assert {"HAD/fake/blues.00000.au", "HAD/fake/take.aiff", "HAD/fake/take2.AIF"} <= fake
    assert not any(f.endswith(".txt") for f in fake)
