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
            heard = any(lab == asked and min(off, kept) > on for lab, on, off in events[Path(seg["source_id"]).name])
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
