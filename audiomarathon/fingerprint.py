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
    """The fingerprint a dataset's card declares (written by import-release/build), or None.

    ``data`` is a local dataset folder or a Hub repo id; for a repo only README.md is fetched.
    """
    import os

    import yaml

    path = os.path.join(data, "README.md")
    if not os.path.isdir(data):
        try:
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(data, "README.md", repo_type="dataset")
        except Exception:  # offline, private or not a repo: the caller falls back
            return None
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        front = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
    except (OSError, IndexError, yaml.YAMLError):
        return None
    value = front.get("audiomarathon_fingerprint") if isinstance(front, dict) else None
    return str(value) if value else None
