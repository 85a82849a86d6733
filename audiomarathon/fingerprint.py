"""The dataset-version fingerprint shared by the runner (results.json) and the Space (answer keys).

sha256 over (id, task, reference, choices) of every row, sorted by id; the reference is the
answer letter for MCQ tasks and the transcript for ASR. Audio does not enter it, so every copy
of one release (local folder, Hub repo, re-encoded FLAC) has the same fingerprint, and changing
any id, answer or option gives a new one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Mapping

from .tasks import get_task

# Written beside a dataset's card by import-release/build: {"format": N, "fingerprint": "sha256:..."}.
VERSION_FILE = "audiomarathon.json"

# The columns the fingerprint reads: loading only these skips the audio entirely.
KEY_COLUMNS = ("id", "task", "choices", "answer", "answer_text")


def reference_of(row: Mapping) -> str:
    """What the metric compares a reply against: the letter for MCQ, the transcript for ASR."""
    task = get_task(row["task"])
    return str(row["answer"] if task.is_mcq else row["answer_text"])


def dataset_fingerprint(rows: Iterable[Mapping]) -> str:
    items = sorted(
        (str(r["id"]), str(r["task"]), reference_of(r), [str(c) for c in (r.get("choices") or [])])
        for r in rows
    )
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()[:32]


def card_fingerprint(data: str) -> str | None:
    """The fingerprint a dataset declares (written by import-release/build), or None.

    ``data`` is a local dataset folder or a Hub repo id; for a repo only the version file (or,
    for copies written before it existed, README.md) is fetched.
    """
    import os

    from .data_source import offline_variable

    for name in (VERSION_FILE, "README.md"):
        path = os.path.join(data, name)
        if not os.path.isdir(data):
            try:
                from huggingface_hub import hf_hub_download

                # HF_DATASETS_OFFLINE alone does not stop huggingface_hub from asking the Hub
                path = hf_hub_download(data, name, repo_type="dataset", local_files_only=offline_variable() is not None)
            except Exception:  # offline, private, not a repo or no such file: the caller falls back
                continue
        value = _declared(path)
        if value:
            return value
    return None


def _declared(path: str) -> str | None:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".json"):
            front = json.loads(text)
        else:  # older copies declared it in the card's YAML
            front = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
    except (OSError, IndexError, ValueError, yaml.YAMLError):
        return None
    if not isinstance(front, dict):
        return None
    value = front.get("fingerprint", front.get("audiomarathon_fingerprint"))
    return str(value) if value else None
