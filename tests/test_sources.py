"""Source-corpus readers: official layouts, grouping rules, bad records reported, missing corpora."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from audiomarathon.tasks import TASKS, get_task
from audiomarathon_dataset.recipes import RECIPES
from audiomarathon_dataset.report import BAD_RECORD, Issue
from audiomarathon_dataset.sources import (
    CORPORA,
    Group,
    MissingCorpusError,
    expected_layouts,
)
from audiomarathon_dataset.sources.had import parse_segments
from audiomarathon_dataset.sources.slue import parse_ner
from audiomarathon_dataset.sources.voxceleb import age_bins, age_label
from audiomarathon_dataset.synthetic_sources import write_synthetic_sources


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return write_synthetic_sources(tmp_path_factory.mktemp("sources") / "src", seed=0, speech=False)


def _read(sources: Path, task_name: str):
    task = get_task(task_name)
    recipe = RECIPES[task.name]
    corpus = CORPORA[recipe.corpus]
    items = list(corpus.groups(corpus.locate(sources), sources, task, **recipe.reader_options))
    return [g for g in items if isinstance(g, Group)], [i for i in items if isinstance(i, Issue)]


def test_every_task_has_a_recipe_and_a_registered_corpus():
    assert set(RECIPES) == {t.name for t in TASKS}
    assert {r.corpus for r in RECIPES.values()} == set(CORPORA)
    assert len(CORPORA) == 9


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_reader_yields_groups_of_existing_files(sources, task):
    groups, issues = _read(sources, task)
    assert groups, f"no group read for {task}"
    keys = [g.key for g in groups]
    assert len(keys) == len(set(keys)), "group keys must be unique"
    t = get_task(task)
    for g in groups:
        assert g.clips
        for clip in g.clips:
            assert Path(clip.path).is_file() or clip.tts_text
            assert not Path(clip.source_id).is_absolute() and (sources / clip.source_id).exists()
        if t.labels and task != "DESED":
            assert g.label in t.labels
    # the synthetic VoxCeleb meta lists one speaker without audio; nothing else is a problem
    assert [i for i in issues if i.kind != BAD_RECORD] == []


def test_groups_follow_the_task_rules(sources):
    tau, _ = _read(sources, "TAU")
    for g in tau:  # same scene + recording location, one device per segment (device a kept)
        scene, ident = g.key.split("/")
        names = [Path(c.path).name for c in g.clips]
        assert all(n.startswith(f"{scene}-{ident}-") for n in names)
        assert all(n.endswith("-a.wav") for n in names)
    libri, _ = _read(sources, "LibriSpeech")
    for g in libri:  # reading order inside one chapter, with transcripts
        assert [c.path for c in g.clips] == sorted(c.path for c in g.clips)
        assert all(c.text for c in g.clips)
    had, _ = _read(sources, "HAD")
    pools = {g.key: g for g in had}
    assert set(pools) == {"real", "fake"}
    assert all(any(s.label == "fake" for s in c.spans) for c in pools["fake"].clips)
    assert all(all(s.label == "real" for s in c.spans) for c in pools["real"].clips)
    race, _ = _read(sources, "RACE")
    assert all(len(g.clips) == 1 and g.meta["questions"] for g in race)
    desed, _ = _read(sources, "DESED")
    assert any(c.labels for g in desed for c in g.clips) and any(not c.labels for g in desed for c in g.clips)
    slue, _ = _read(sources, "SLUE")
    assert all(c.entities for g in slue for c in g.clips)


def test_voxceleb_tasks_share_speakers_and_report_unlabelled(sources):
    gender, g_issues = _read(sources, "VoxGender")
    age, _ = _read(sources, "VoxAge")
    assert [g.key for g in gender] == [g.key for g in age]
    assert [c.path for c in gender[0].clips] == [c.path for c in age[0].clips]
    assert {g.label for g in gender} <= set(get_task("VoxGender").labels)
    assert {g.label for g in age} <= set(get_task("VoxAge").labels)
    assert not any("have no gender label" in i.message for i in g_issues)


def test_age_groups_come_from_the_registry_labels():
    bins = age_bins(get_task("VoxAge").labels)
    labels = get_task("VoxAge").labels
    assert age_label(18, bins) == labels[0] and age_label(30, bins) == labels[0]
    assert age_label(31, bins) == labels[1] and age_label(50.5, bins) == labels[2]
    assert age_label(70, bins) == labels[3] and age_label(95, bins) == labels[4]
    assert age_label(12, bins) is None


def test_had_segment_parser():
    spans = parse_segments("0.00-1.94-T/1.94-2.57-F/2.57-3.93-T")
    assert [(s.label, s.onset, s.offset) for s in spans] == [("real", 0.0, 1.94), ("fake", 1.94, 2.57), ("real", 2.57, 3.93)]
    with pytest.raises(ValueError):
        parse_segments("0.00-1.94-X")


def test_slue_ner_parser():
    text = "the council met in brussels today"
    assert parse_ner("[['ORG', 0, 11], ['GPE', 19, 8]]", text) == [("the council", "ORG"), ("brussels", "GPE")]
    assert parse_ner("None", text) == [] and parse_ner("", text) == []
    with pytest.raises(ValueError):
        parse_ner("[['ORG', 100, 5]]", text)


@pytest.mark.parametrize("name", list(CORPORA))
def test_missing_corpus_names_its_layout(tmp_path, name):
    corpus = CORPORA[name]
    with pytest.raises(MissingCorpusError) as err:
        corpus.locate(tmp_path)
    message = str(err.value)
    assert corpus.title in message and "Expected layout" in message
    assert corpus.layout.strip().splitlines()[0].strip() in message
    assert corpus.title in expected_layouts()


def test_bad_records_are_reported_with_file_and_line(tmp_path):
    root = write_synthetic_sources(tmp_path / "src", seed=0, speech=False, corpora=["tau", "had", "librispeech"])
    meta = root / "TAU-urban-acoustic-scenes-2020-mobile-development" / "meta.csv"
    meta.write_text(meta.read_text() + "audio/x.wav\tnot_a_scene\tbarcelona-9\ta\n")
    label = root / "HAD" / "HAD_test" / "HAD_test_label.txt"
    label.write_text(label.read_text() + "HAD_test_fake_bad 0.00-1.00-Q\nHAD_test_missing 0.00-1.00-T 1\n")
    trans = next((root / "LibriSpeech").rglob("*.trans.txt"))
    lines = trans.read_text().splitlines()
    trans.write_text("\n".join(lines[1:]) + "\n")  # first utterance loses its transcript
    _, tau_issues = _read(root, "TAU")
    assert any(i.kind == BAD_RECORD and i.file.endswith("meta.csv") and i.record.startswith("line ") and
               "not_a_scene" in i.message for i in tau_issues)
    _, had_issues = _read(root, "HAD")
    assert any(i.kind == BAD_RECORD and "-Q" in i.message for i in had_issues)
    assert any(i.kind == "missing_audio" and "HAD_test_missing" in i.message for i in had_issues)
    _, libri_issues = _read(root, "LibriSpeech")
    first = lines[0].split()[0]
    assert any(i.kind == BAD_RECORD and first in i.file for i in libri_issues)


def test_vesus_key_overrides_folder_labels(tmp_path):
    root = write_synthetic_sources(tmp_path / "src", seed=0, speech=False, corpora=["vesus"])
    key = root / "VESUS" / "VESUS_Key.csv"
    rows = key.read_text().splitlines()
    rel, _, actor = rows[1].split(",")
    rows[1] = f"{rel},Sad,{actor}"
    key.write_text("\n".join(rows) + "\n")
    groups, _ = _read(root, "VESUS")
    sad = [g for g in groups if g.label == "sad" and any(c.path.endswith(rel) for c in g.clips)]
    assert sad and len(sad[0].clips) == 1


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_synthetic_sources_are_deterministic(tmp_path):
    a = write_synthetic_sources(tmp_path / "a", seed=3, speech=False, corpora=["gtzan", "desed"])
    b = write_synthetic_sources(tmp_path / "b", seed=3, speech=False, corpora=["gtzan", "desed"])
    c = write_synthetic_sources(tmp_path / "c", seed=4, speech=False, corpora=["gtzan", "desed"])
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    with pytest.raises(ValueError, match="unknown corpus"):
        write_synthetic_sources(tmp_path / "d", corpora=["nope"])


def test_synthetic_trees_at_the_documented_size_build_full_length_instances(tmp_path):
    """The generator's help promises full-length (90-300 s) builds at its --group-seconds; SLUE
    used to fail there (one speaker's instance named every entity of the corpus: no distractors)."""
    import re

    from audiomarathon_dataset.build import build_benchmark

    script = (Path(__file__).resolve().parent.parent / "builder_scripts" / "make_synthetic_sources.py").read_text()
    seconds = float(re.search(r"--group-seconds (\d+) for trees that build full-length", script).group(1))
    root = write_synthetic_sources(tmp_path / "src", seed=0, groups=2, group_seconds=seconds, speech=False,
                                   corpora=["slue"])
    report = build_benchmark(root, tmp_path / "out", tasks="SLUE", progress=False)
    assert report.ok, report.issues
    task, built = get_task("SLUE"), report.tasks["SLUE"]
    assert built.instances >= 2 and task.min_duration <= built.output_seconds / built.audio_files <= task.max_duration
