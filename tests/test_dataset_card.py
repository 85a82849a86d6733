"""The dataset card: Hub metadata only (no custom YAML keys), sizes, sources, per-corpus terms
and gating, a duration claim computed from the data, and abbreviations as config names."""

from __future__ import annotations

import json
import re

import datasets
import pytest
import yaml

from audiomarathon import TASKS
from audiomarathon.fingerprint import KEY_COLUMNS, VERSION_FILE, card_fingerprint, dataset_fingerprint
from audiomarathon_dataset.card import render_card
from audiomarathon_dataset.writer import TaskStats, is_dataset_folder

# The dataset-card metadata keys the Hub documents (hub-docs, datasetcard.md), written out here
# rather than taken from the code under test.
HUB_KEYS = {
    "language", "language_details", "license", "license_name", "license_link", "license_details", "tags",
    "annotations_creators", "language_creators", "multilinguality", "size_categories", "source_datasets",
    "task_categories", "task_ids", "paperswithcode_id", "pretty_name", "train-eval-index", "config_names",
    "configs", "dataset_info", "viewer", "extra_gated_prompt", "extra_gated_fields", "extra_gated_heading",
    "extra_gated_button_content", "extra_gated_description",
}


def _front(folder) -> tuple[dict, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def test_every_abbreviation_loads_its_tasks_rows(imported_dataset):
    for task in TASKS:
        by_name = datasets.load_dataset(str(imported_dataset), task.name, split="test")
        by_abbrev = datasets.load_dataset(str(imported_dataset), task.abbrev, split="test")
        assert by_abbrev["id"] == by_name["id"] and set(by_abbrev["task"]) == {task.name}
        assert by_abbrev.features == by_name.features


def test_card_holds_only_hub_metadata(imported_dataset):
    front, body = _front(imported_dataset)
    assert set(front) <= HUB_KEYS, set(front) - HUB_KEYS
    assert front["size_categories"] == ["n<1K"]  # 30 instances
    assert "extended|openslr/librispeech_asr" in front["source_datasets"]
    assert "extended|other-voxceleb" in front["source_datasets"]
    assert front["language"] == ["en", "zh"]  # HAD is Mandarin (AISHELL-3)
    # non-commercial corpora and VoxCeleb's YouTube audio: access is gated behind their terms
    prompt = front["extra_gated_prompt"]
    assert "non-commercial" in prompt and "VoxCeleb" in prompt and "TAU Urban" in prompt
    assert any(v == "checkbox" for v in front["extra_gated_fields"].values())
    rows = {line.split("|")[1].strip(): line for line in body.splitlines() if line.count("|") == 5}
    assert "CC-BY-4.0" in rows["LibriSpeech"] and rows["LibriSpeech"].rstrip("| ").endswith("no")
    assert "YouTube" in rows["VoxGender"] and rows["VoxGender"].rstrip("| ").endswith("yes")


def test_duration_claim_is_computed_from_the_data(imported_dataset):
    _, body = _front(imported_dataset)
    durations = datasets.load_dataset(str(imported_dataset), "all", split="test")["duration"]
    low, high = map(float, re.search(r"last ([\d.]+)–([\d.]+) s", body).groups())
    assert low == pytest.approx(min(durations), abs=0.06) and high == pytest.approx(max(durations), abs=0.06)
    assert "90–300" not in body and high < 90  # the synthetic release is short


def test_fingerprint_lives_in_the_version_file(imported_dataset, tmp_path):
    version = json.loads((imported_dataset / VERSION_FILE).read_text())
    rows = datasets.load_dataset(str(imported_dataset), "all", split="test").select_columns(list(KEY_COLUMNS))
    assert version["fingerprint"] == dataset_fingerprint(rows.to_list()) == card_fingerprint(str(imported_dataset))
    # a copy written before the version file existed still declares its fingerprint in the card
    old = tmp_path / "old"
    old.mkdir()
    (old / "README.md").write_text("---\naudiomarathon_format: 1\naudiomarathon_fingerprint: sha256:abc\n---\n")
    assert card_fingerprint(str(old)) == "sha256:abc" and is_dataset_folder(old)


def _stats(**durations) -> dict[str, TaskStats]:
    stats = {}
    for name, values in durations.items():
        s = stats[name] = TaskStats(name)
        for v in values:
            s.add(v)
    return stats


def test_unrestricted_corpora_are_not_gated_and_sizes_follow_counts():
    front = yaml.safe_load(render_card(_stats(LibriSpeech=[100.0] * 3, SLUE=[120.0]), "sha256:0").split("---\n")[1])
    assert not [k for k in front if k.startswith("extra_gated")]
    assert front["language"] == ["en"]
    assert front["source_datasets"] == ["extended|openslr/librispeech_asr", "extended|asapp/slue"]
    big = yaml.safe_load(render_card(_stats(TAU=[100.0] * 1200), "sha256:0").split("---\n")[1])
    assert big["size_categories"] == ["1K<n<10K"] and "extra_gated_prompt" in big
