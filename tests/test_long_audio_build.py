"""Evidence marks and controlled builds, checked against the source corpora's own annotation files
(the DESED label table, the SLUE NER column, the HAD segment labels), not the builder's metadata."""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import datasets
import pytest

from audiomarathon_dataset.build import build_benchmark
from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

SHORT = {"min_duration": 8.0, "max_duration": 16.0}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return write_synthetic_sources(tmp_path_factory.mktemp("lsrc") / "src", seed=0, speech=False,
                                   corpora=["desed", "slue", "had", "tau"], group_seconds=40.0)


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("lbuilt") / "am"
    build_benchmark(sources, out, tasks="DESED,SLUE,HAD,TAU", seed=0, progress=False, **SHORT)
    return out


def _rows(out, config):
    return list(datasets.load_dataset(str(out), config, split="test").remove_columns("audio"))


def _desed_events(sources) -> dict[str, list[tuple[str, float, float]]]:
    events: dict[str, list] = {}
    with (sources / "DESED/metadata/validation/validation.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["event_label"]:
                events.setdefault(row["filename"], []).append(
                    (row["event_label"], float(row["onset"]), float(row["offset"])))
    return events


def _slue_entities(sources) -> dict[str, set[str]]:
    out = {}
    with (sources / "slue-voxpopuli/slue-voxpopuli_dev.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            text = row["raw_text"]
            out[row["id"]] = {text[s:s + n] for _, s, n in ast.literal_eval(row["raw_ner"])}
    return out


def _had_fake(sources) -> dict[str, list[tuple[float, float]]]:
    out = {}
    for line in (sources / "HAD/HAD_test/HAD_test_label.txt").read_text().split("\n"):
        if line.strip():
            name, segs, _ = line.split()
            out[name] = [(float(a), float(b)) for a, b, flag in (p.split("-") for p in segs.split("/")) if flag == "F"]
    return out


def test_desed_marks_the_clips_where_the_asked_event_is_heard(sources, built):
    events = _desed_events(sources)
    rows = _rows(built, "DESED")
    assert rows
    for row in rows:
        asked = json.loads(row["meta"])["primary_event"]
        for seg in row["segments"]:
            kept = seg["end"] - seg["start"]  # DESED clips are used from their first second
            heard = any(lab == asked and min(off, kept) > on for lab, on, off in events.get(Path(seg["source_id"]).name, []))
            assert seg["evidence"] is heard, (row["id"], seg)
        assert any(seg["evidence"] for seg in row["segments"])


def test_slue_marks_the_utterances_naming_the_entity(sources, built):
    entities = _slue_entities(sources)
    rows = _rows(built, "SLUE")
    assert rows
    for row in rows:
        for seg in row["segments"]:
            assert seg["evidence"] is (row["answer_text"] in entities[Path(seg["source_id"]).stem]), (row["id"], seg)
        assert any(seg["evidence"] for seg in row["segments"])


def test_had_marks_fake_parts_and_real_instances_have_none(sources, built):
    fake = _had_fake(sources)
    rows = _rows(built, "HAD")
    assert {r["answer_text"] for r in rows} == {"Real", "Fake"}
    for row in rows:
        for seg in row["segments"]:
            kept = seg["end"] - seg["start"]
            expected = any(min(b, kept) > a for a, b in fake[Path(seg["source_id"]).stem])
            assert seg["evidence"] is expected
        assert any(s["evidence"] for s in row["segments"]) is (row["answer_text"] == "Fake")


def test_tasks_without_localized_evidence_carry_none(built):
    assert all(seg["evidence"] is None for row in _rows(built, "TAU") for seg in row["segments"])


def test_score_reads_evidence_positions_from_a_built_dataset(built, tmp_path):
    from audiomarathon.cli import main

    recs = []
    expected_n = 0
    for config in ("DESED", "SLUE", "HAD", "TAU"):
        for row in _rows(built, config):
            recs.append({"id": row["id"], "task": config, "reply": "A", "reference": row["answer"],
                         "choices": row["choices"]})
            expected_n += any(s["evidence"] for s in row["segments"])
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert main(["score", str(path), "--data", str(built), "--n-bootstrap", "0", "--out", str(tmp_path / "s.json")]) == 0
    ev = json.loads((tmp_path / "s.json").read_text())["by_evidence_position"]
    assert ev["available"] and set(ev["tasks"]) == {"DESED", "SLUE", "HAD"}
    assert "TAU" in ev["unavailable"]
    assert sum(r["n"] for t in ev["tasks"].values() for r in t["bins"]) == expected_n


# ---------------------------------------------------------------- controlled builds

def _controlled(sources, tmp_path_factory, name, **kwargs):
    out = tmp_path_factory.mktemp(name) / "am"
    build_benchmark(sources, out, tasks="DESED,SLUE", seed=0, progress=False, min_duration=10, max_duration=20,
                    **kwargs)
    return out


@pytest.mark.parametrize("position", ["start", "middle", "end"])
def test_evidence_position_is_exact(sources, tmp_path_factory, position):
    import numpy as np

    from audiomarathon_dataset.audio_io import decode_bytes, decode_file, to_mono_16k

    out = _controlled(sources, tmp_path_factory, f"pos-{position}", evidence_position=position)
    events, entities = _desed_events(sources), _slue_entities(sources)
    n = 0
    for config in ("DESED", "SLUE"):
        ds = datasets.load_dataset(str(out), config, split="test").cast_column("audio", datasets.Audio(decode=False))
        for row in ds:
            info = json.loads(row["meta"])["controlled"]
            marked = [k for k, s in enumerate(row["segments"]) if s["evidence"]]
            assert len(marked) == 1, row["id"]  # only the placed clip holds the asked event / entity
            k = marked[0]
            seg = row["segments"][k]
            assert seg["source_id"] == info["evidence_source_id"] and info["evidence_position"] == position
            # from the corpus' own annotations: the asked thing is in that clip and in no other
            name = Path(seg["source_id"])
            holds = (lambda sid: row["answer_text"] in {e[0] for e in events.get(Path(sid).name, [])}) if config == "DESED" \
                else (lambda sid: row["answer_text"] in entities[Path(sid).stem])
            assert holds(seg["source_id"])
            assert not any(holds(s["source_id"]) for j, s in enumerate(row["segments"]) if j != k)
            duration = row["duration"]
            if position == "start":
                assert k == 0 and seg["start"] == 0.0
            elif position == "end":
                assert k == len(row["segments"]) - 1 and seg["end"] == pytest.approx(duration, abs=2e-3)
            else:
                assert (seg["start"] + seg["end"]) / 2 == pytest.approx(duration / 2, abs=2e-3)
            # the audio there is the source clip itself
            audio, rate = decode_bytes(row["audio"]["bytes"])
            src = decode_file(str(sources / name)).samples
            # segment times are stored to 0.1 ms (1.6 samples): look within two samples
            a = int(round(seg["start"] * 16000))
            m = int(round((seg["end"] - seg["start"]) * 16000)) - 4
            err = min(np.abs(audio[a + o:a + o + m] - src[:m]).max() for o in range(-2, 3) if a + o >= 0)
            assert err < 1e-3
            n += 1
    assert n >= 4


def test_durations_share_question_evidence_and_distractors(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("durs") / "am"
    build_benchmark(sources, out, tasks="DESED,SLUE,TAU", seed=0, progress=False, durations=[10, 20, 30])
    for config in ("DESED", "SLUE", "TAU"):
        by_base: dict[str, list] = {}
        for row in _rows(out, config):
            by_base.setdefault(json.loads(row["meta"])["controlled"]["base"], []).append(row)
        assert by_base, config
        for base, rows in by_base.items():
            infos = [json.loads(r["meta"])["controlled"] for r in rows]
            assert sorted(i["duration_target"] for i in infos) == [10.0, 20.0, 30.0]
            for r, i in zip(rows, infos):
                assert r["duration"] == pytest.approx(i["duration_target"], abs=2e-3)
            assert len({(r["question"], tuple(r["choices"]), r["answer"]) for r in rows}) == 1, base
            assert len({i["evidence_source_id"] for i in infos}) == 1
            if config != "TAU":
                assert all([s["source_id"] for s in r["segments"] if s["evidence"]] == [infos[0]["evidence_source_id"]]
                           for r in rows)
            # shorter versions use (a prefix of) the same distractor material
            sources_of = [{s["source_id"] for s in r["segments"]} for r in sorted(rows, key=lambda r: r["duration"])]
            assert sources_of[0] <= sources_of[1] <= sources_of[2]


def test_controlled_build_is_byte_reproducible_and_refuses_unsupported(sources, tmp_path):
    def files(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    kwargs = dict(tasks="DESED,TAU", seed=3, progress=False, durations=[10, 20], evidence_position="end")
    with pytest.raises(ValueError, match="TAU: --evidence-position needs evidence held by one clip"):
        build_benchmark(sources, tmp_path / "x", **kwargs)
    kwargs["tasks"] = "DESED"
    build_benchmark(sources, tmp_path / "a", **kwargs)
    build_benchmark(sources, tmp_path / "b", num_proc=2, **kwargs)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    with pytest.raises(ValueError, match="durations must be distinct positive"):
        build_benchmark(sources, tmp_path / "y", tasks="DESED", durations=[10, -5], progress=False)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_controlled_build_cli(sources, tmp_path, capsys):
    from audiomarathon.cli import main

    assert main(["build", "--sources", str(sources), "--out", str(tmp_path / "o"), "--tasks", "SLUE",
                 "--durations", "10,20", "--evidence-position", "start", "--no-progress"]) == 0
    rows = _rows(tmp_path / "o", "SLUE")
    assert {json.loads(r["meta"])["controlled"]["duration_target"] for r in rows} == {10.0, 20.0}
    assert main(["build", "--sources", str(sources), "--out", str(tmp_path / "p"), "--tasks", "ASR",
                 "--durations", "10,20"]) == 1
    assert "no controlled build" in capsys.readouterr().err


def test_generator_based_builder_makes_the_same_controlled_rows(sources, tmp_path):
    from audiomarathon_dataset.audiomarathon import AudioMarathon

    build_benchmark(sources, tmp_path / "cli", tasks="DESED", seed=0, progress=False, durations=[10, 20],
                    evidence_position="start")
    want = _rows(tmp_path / "cli", "DESED")
    builder = AudioMarathon(config_name="DESED", data_dir=str(sources), cache_dir=str(tmp_path / "cache"),
                            durations=(10.0, 20.0), evidence_position="start")
    builder.download_and_prepare()
    got = list(builder.as_dataset(split="test").remove_columns("audio"))
    assert [(r["id"], r["question"], r["choices"], r["segments"], r["meta"]) for r in got] == \
        [(r["id"], r["question"], r["choices"], r["segments"], r["meta"]) for r in want]
    with pytest.raises(ValueError, match="needs evidence held by one clip"):
        AudioMarathon(config_name="TAU", data_dir=str(sources), cache_dir=str(tmp_path / "c2"),
                      evidence_position="end").download_and_prepare()
