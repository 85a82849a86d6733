"""The builder end to end: all 10 configs from synthetic sources, determinism (bytes),
parallel == serial, bad input, atomic output, the GeneratorBasedBuilder and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest

from audiomarathon.cli import main as cli_main
from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS, get_task
from audiomarathon_dataset.audio_io import decode_bytes
from audiomarathon_dataset.build import REPORT_NAME, BuildFailed, build_benchmark
from audiomarathon_dataset.sources import MissingCorpusError
from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

import official_texts as official

SHORT = {"min_duration": 8.0, "max_duration": 16.0}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return write_synthetic_sources(tmp_path_factory.mktemp("bsrc") / "src", seed=0, speech=False)


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "am"
    report = build_benchmark(sources, out, seed=0, progress=False, **SHORT)
    return out, report


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_builds_all_ten_configs_readable_by_load_dataset(built):
    out, report = built
    assert report.ok, report.issues
    for task in TASKS:
        ds = datasets.load_dataset(str(out), task.name, split="test")
        assert len(ds) >= 1, task.name
        rows = ds.remove_columns("audio")
        for i, row in enumerate(rows):
            assert row["id"] == f"{task.name}-{i:05d}" and row["task"] == task.name
            assert SHORT["min_duration"] - 0.01 <= row["duration"] <= SHORT["max_duration"] + 0.01
            segs = row["segments"]
            assert segs[0]["start"] == 0.0 and abs(segs[-1]["end"] - row["duration"]) < 1e-3
            assert all(abs(a["end"] - b["start"]) < 1e-3 for a, b in zip(segs, segs[1:])), "back to back"
            if task.is_mcq:
                assert len(row["choices"]) == task.n_choices == len(set(row["choices"]))
                assert row["answer"] in LETTERS[: task.n_choices]
                assert row["choices"][LETTERS.index(row["answer"])] == row["answer_text"]
            else:
                assert row["choices"] == [] and row["answer"] == "" and row["answer_text"]
            meta = json.loads(row["meta"])
            assert meta["seed"] == 0 and meta["num_clips"] == len(segs)
        audio = ds[0]["audio"].get_all_samples()
        assert audio.sample_rate == 16000 and audio.data.shape[0] == 1
        assert abs(audio.data.shape[1] / 16000 - ds[0]["duration"]) < 1e-3
    card = (out / "README.md").read_text()
    assert all(f"config_name: {t.name}" in card for t in TASKS) and "How this copy was built" in card
    saved = json.loads((out / REPORT_NAME).read_text())
    assert saved["options"]["seed"] == 0 and set(saved["tasks"]) == {t.name for t in TASKS}


def test_questions_follow_the_registry(built):
    out, _ = built

    def rows(name):
        return pq.read_table(next((out / name).glob("*.parquet"))).drop(["audio"]).to_pylist()

    # the official form: question and "Display - label" options as the authors wrote them
    for name, question, table, field in (("TAU", official.TAU_QUESTION, official.TAU_OPTIONS, "scene_label"),
                                         ("GTZAN", official.GTZAN_QUESTION, official.GTZAN_OPTIONS, "genre_label")):
        for r in rows(name):
            assert r["question"] == question
            assert len(r["choices"]) == 4 == len(set(r["choices"])) and set(r["choices"]) <= set(table.values())
            assert r["answer_text"] == table[json.loads(r["meta"])[field]]
            assert r["choices"][ord(r["answer"]) - ord("A")] == r["answer_text"]
    for r in rows("VESUS"):  # correct label + distractors from the label set
        assert set(r["choices"]) <= set(get_task("VESUS").labels)
        assert r["answer_text"] == json.loads(r["meta"])["emotion_label"]
    for name, question, options in (("HAD", official.HAD_QUESTION, official.HAD_OPTIONS),
                                    ("VoxGender", official.VOXGENDER_QUESTION, official.VOXGENDER_OPTIONS)):
        assert all(r["question"] == question and r["choices"] == options for r in rows(name))
    assert all(r["choices"] == list(get_task("VoxAge").labels) for r in rows("VoxAge"))  # fixed order
    for r in rows("HAD"):
        meta = json.loads(r["meta"])
        assert (r["answer_text"] == "Fake") == (meta["pool"] == "fake") == (meta["fake_seconds"] > 0)
    for r in rows("DESED"):  # asked event heard, distractors absent from the whole instance
        meta = json.loads(r["meta"])
        heard = {e["label"] for e in meta["events"]}
        assert r["answer_text"] in heard
        assert not heard & (set(r["choices"]) - {r["answer_text"]})
        assert all(0 <= e["onset"] < e["offset"] <= r["duration"] + 1e-3 for e in meta["events"])
    for r in rows("SLUE"):  # the entity is spoken, the distractors are not
        meta = json.loads(r["meta"])
        spoken = meta["transcript"].lower()
        assert r["answer_text"].lower() in spoken
        assert all(c.lower() not in spoken for c in r["choices"] if c != r["answer_text"])
    race = rows("RACE")  # own options; two questions share one article's audio
    assert len({json.loads(r["meta"])["article_id"] for r in race}) * 2 == len(race)
    libri = rows("LibriSpeech")
    for r in libri:
        n_utts = len(json.loads(r["meta"])["utterances"])
        assert n_utts == len(r["segments"]) and len(r["answer_text"].split()) >= n_utts


def test_same_seed_same_bytes_parallel_too_and_other_seed_differs(sources, built, tmp_path):
    out, _ = built
    again = tmp_path / "again"
    build_benchmark(sources, again, seed=0, num_proc=2, progress=False, **SHORT)
    assert _files(out) == _files(again), "num_proc=2 must write the same bytes as the serial build"
    other = tmp_path / "other"
    build_benchmark(sources, other, seed=1, progress=False, **SHORT)
    for task in TASKS:
        a = pq.read_table(next((out / task.name).glob("*.parquet")))
        b = pq.read_table(next((other / task.name).glob("*.parquet")))
        if task.name == "RACE":  # one article = one instance: nothing to compose differently
            continue
        assert a.column("segments").to_pylist() != b.column("segments").to_pylist(), task.name


def test_same_seed_serial_rebuild_is_byte_identical(sources, built, tmp_path):
    out, _ = built
    again = tmp_path / "serial"
    build_benchmark(sources, again, seed=0, progress=False, tasks="TAU,HAD,SLUE", **SHORT)
    files = _files(again)
    for name in ("TAU", "HAD", "SLUE"):
        shard = f"{name}/test-00000-of-00001.parquet"
        assert files[shard] == (out / shard).read_bytes()


def test_limit_and_task_selection(sources, tmp_path):
    out = tmp_path / "lim"
    report = build_benchmark(sources, out, tasks="ASC,RACE", limit=1, progress=False, **SHORT)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["RACE", "TAU"]
    assert report.counts["TAU"]["written"] == 1 and report.counts["RACE"]["written"] == 1


def _copy(sources: Path, tmp_path: Path, corpora: list[str]) -> Path:
    dst = tmp_path / "src"
    for name in corpora:
        shutil.copytree(sources / name, dst / name)
    return dst


def test_corrupt_clip_is_skipped_and_reported_by_file(sources, tmp_path):
    src = _copy(sources, tmp_path, ["GTZAN"])
    clips = sorted((src / "GTZAN" / "genres").rglob("*.wav"))
    clips[0].write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    data = clips[1].read_bytes()
    clips[1].write_bytes(data[: len(data) // 2])  # truncated
    report = build_benchmark(src, tmp_path / "out", tasks="GTZAN", progress=False, **SHORT)
    bad = {i.file: i for i in report.issues}
    for clip in clips[:2]:
        rel = clip.relative_to(src).as_posix()
        assert rel in bad and bad[rel].kind in ("undecodable_audio", "truncated_audio"), report.issues
    rows = pq.read_table(next((tmp_path / "out" / "GTZAN").glob("*.parquet"))).to_pylist()
    used = {s["source_id"] for r in rows for s in r["segments"]}
    assert not used & set(bad)
    saved = json.loads((tmp_path / "out" / REPORT_NAME).read_text())
    assert {i["file"] for i in saved["issues"]} >= set(bad)


def test_corrupt_data_found_only_when_decoding_is_skipped(sources, tmp_path):
    """A FLAC whose header is fine but whose frames are garbage fails in the worker."""
    src = _copy(sources, tmp_path, ["LibriSpeech"])
    flac = sorted((src / "LibriSpeech").rglob("*.flac"))[1]
    data = bytearray(flac.read_bytes())
    data[200:] = bytes(len(data) - 200)
    flac.write_bytes(bytes(data))
    report = build_benchmark(src, tmp_path / "out", tasks="LibriSpeech", progress=False, **SHORT)
    rel = flac.relative_to(src).as_posix()
    assert any(i.file == rel for i in report.issues), report.issues
    rows = pq.read_table(next((tmp_path / "out" / "LibriSpeech").glob("*.parquet"))).to_pylist()
    assert rel not in {s["source_id"] for r in rows for s in r["segments"]}


def test_too_short_group_is_reported_and_produces_no_instance(sources, tmp_path):
    src = _copy(sources, tmp_path, ["VoxCeleb"])
    speaker = sorted((src / "VoxCeleb" / "vox1" / "wav").iterdir())[0]
    for clip in sorted(speaker.rglob("*.wav"))[1:]:
        clip.unlink()  # a single short utterance left
    report = build_benchmark(src, tmp_path / "out", tasks="VoxGender", progress=False, **SHORT)
    short = [i for i in report.issues if i.kind == "group_too_short"]
    assert len(short) == 1 and short[0].record == f"group={speaker.name}" and speaker.name in short[0].file
    rows = pq.read_table(next((tmp_path / "out" / "VoxGender").glob("*.parquet"))).to_pylist()
    assert speaker.name not in {json.loads(r["meta"])["speaker_id"] for r in rows}
    assert report.counts["VoxGender"] == {"records": 2, "written": 1, "skipped": 1}


def test_missing_corpus_names_layout_and_writes_nothing(sources, built, tmp_path):
    out, _ = built
    before = _files(out)
    src = _copy(sources, tmp_path, ["GTZAN"])
    with pytest.raises(MissingCorpusError) as err:
        build_benchmark(src, out, tasks="GTZAN,TAU", progress=False, **SHORT)
    assert "meta.csv" in str(err.value) and "TAU" in str(err.value)
    assert _files(out) == before


def test_failure_midway_leaves_previous_output_untouched(sources, built, tmp_path):
    out, _ = built
    before = _files(out)
    src = _copy(sources, tmp_path, ["GTZAN"])
    with pytest.raises(BuildFailed):  # every group too short: nothing to write
        build_benchmark(src, out, tasks="GTZAN", progress=False, min_duration=500, max_duration=600)
    assert _files(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".am.tmp")]
    with pytest.raises(ValueError, match="min duration"):
        build_benchmark(src, out, tasks="GTZAN", progress=False, min_duration=20, max_duration=10)


def test_race_article_without_recording_is_rendered_or_reported(sources, tmp_path):
    from audiomarathon_dataset.sources import tts

    src = _copy(sources, tmp_path, ["RACE"])
    audio = sorted((src / "RACE" / "audio").rglob("*.wav"))[0]
    audio.unlink()
    rel = audio.relative_to(src).as_posix()
    report = build_benchmark(src, tmp_path / "off", tasks="RACE", progress=False, render_speech=False, **SHORT)
    assert any(i.kind == "missing_audio" and i.file == rel and "espeak-ng" in i.message for i in report.issues)
    if not tts.available():
        pytest.skip("espeak-ng not installed: the rendering half of this test needs it")
    report = build_benchmark(src, tmp_path / "on", tasks="RACE", progress=False, min_duration=1, max_duration=120)
    assert report.ok, report.issues
    rows = pq.read_table(next((tmp_path / "on" / "RACE").glob("*.parquet"))).to_pylist()
    rendered = [r for r in rows if r["segments"][0]["source_id"] == rel]
    assert rendered and rendered[0]["duration"] > 1


def test_loudness_and_crossfade_options(sources, tmp_path):
    import pyloudnorm

    src = _copy(sources, tmp_path, ["GTZAN"])
    build_benchmark(src, tmp_path / "plain", tasks="GTZAN", progress=False, **SHORT)
    build_benchmark(src, tmp_path / "norm", tasks="GTZAN", progress=False, loudness=-23.0, crossfade=0.05, **SHORT)
    plain = pq.read_table(next((tmp_path / "plain" / "GTZAN").glob("*.parquet"))).to_pylist()
    norm = pq.read_table(next((tmp_path / "norm" / "GTZAN").glob("*.parquet"))).to_pylist()
    row = norm[0]
    x, rate = decode_bytes(row["audio"]["bytes"])
    first = row["segments"][0]
    clip = x[: int((first["end"] - 0.05) * rate)]
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(clip.astype(np.float64)) + 23.0) < 0.5
    segs = row["segments"]
    assert all(abs((a["end"] - b["start"]) - 0.05) < 1e-3 for a, b in zip(segs, segs[1:])), "50 ms overlaps"
    assert plain[0]["segments"] != norm[0]["segments"] or plain[0]["audio"] != norm[0]["audio"]


def test_generator_based_builder_matches_build_benchmark(sources, built, tmp_path):
    from audiomarathon_dataset.audiomarathon import (
        MANUAL_DOWNLOAD_INSTRUCTIONS,
        AudioMarathon,
    )

    out, _ = built
    assert [c.name for c in AudioMarathon.BUILDER_CONFIGS] == [t.name for t in TASKS]
    builder = AudioMarathon(config_name="TAU", data_dir=str(sources), cache_dir=str(tmp_path / "cache"), **SHORT)
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test")
    expected = pq.read_table(next((out / "TAU").glob("*.parquet"))).to_pylist()
    got = ds.cast_column("audio", datasets.Audio(decode=False)).to_list()
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    assert [r["audio"]["bytes"] for r in got] == [r["audio"]["bytes"] for r in expected]
    assert [r["choices"] for r in got] == [r["choices"] for r in expected]
    assert builder.build_report.ok
    for t in ("LibriSpeech", "TAU-urban-acoustic-scenes-2020-mobile-development", "GTZAN", "DESED", "VESUS",
              "HAD", "VoxCeleb", "slue-voxpopuli", "RACE"):
        assert t in MANUAL_DOWNLOAD_INSTRUCTIONS
    with pytest.raises(FileNotFoundError, match="data_dir"):
        AudioMarathon(config_name="GTZAN", cache_dir=str(tmp_path / "c2")).download_and_prepare()
    with pytest.raises(MissingCorpusError, match="genres"):
        AudioMarathon(config_name="GTZAN", data_dir=str(tmp_path), cache_dir=str(tmp_path / "c3")).download_and_prepare()


def test_cli_build(sources, tmp_path, capsys):
    src = _copy(sources, tmp_path, ["DESED", "HAD"])
    rc = cli_main(["build", "--sources", str(src), "--out", str(tmp_path / "o"), "--tasks", "SED,SD",
                   "--min-duration", "8", "--max-duration", "16", "--num-proc", "2", "--no-progress"])
    assert rc == 0
    assert "records written across 2 task(s)" in capsys.readouterr().out
    ds = datasets.load_dataset(str(tmp_path / "o"), "HAD", split="test")
    assert len(ds) >= 1
    rc = cli_main(["build", "--sources", str(src), "--out", str(tmp_path / "o2"), "--tasks", "TAU", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and "meta.csv" in err and not (tmp_path / "o2").exists()


def test_voxceleb2_m4a_speakers_and_comma_separated_meta(sources, tmp_path):
    """VoxCeleb2 ships AAC in .m4a: lengths come from the container header (FFmpeg), audio via torchcodec."""
    torch = pytest.importorskip("torch")
    from torchcodec.encoders import AudioEncoder

    src = _copy(sources, tmp_path, ["VoxCeleb"])
    t = torch.arange(16000 * 4) / 16000
    for k in range(3):
        path = src / "VoxCeleb" / "vox2" / "aac" / "id00012" / "2DLq_Kkc1r8" / f"{k + 1:05d}.m4a"
        path.parent.mkdir(parents=True, exist_ok=True)
        AudioEncoder((0.3 * torch.sin(2 * torch.pi * (220 + 50 * k) * t)).unsqueeze(0), sample_rate=16000).to_file(str(path))
    (src / "VoxCeleb" / "vox2_meta.csv").write_text("VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \nid00012 ,n000012 ,f ,dev \n")
    report = build_benchmark(src, tmp_path / "out", tasks="VoxGender", progress=False, **SHORT)
    rows = pq.read_table(next((tmp_path / "out" / "VoxGender").glob("*.parquet"))).drop(["audio"]).to_pylist()
    vox2 = [r for r in rows if json.loads(r["meta"])["speaker_id"] == "id00012"]
    assert len(vox2) == 1 and vox2[0]["answer_text"] == "Female", report.issues
    assert all(s["source_id"].endswith(".m4a") for s in vox2[0]["segments"])
    assert SHORT["min_duration"] <= vox2[0]["duration"] <= SHORT["max_duration"]
