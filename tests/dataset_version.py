"""The dataset version (fingerprint) as the toolkit defines it, typed out independently of
audiomarathon.fingerprint, so tests check the declared version against their own computation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ASR = "LibriSpeech"  # the one task whose reference is the transcript, not the letter


def fingerprint(rows) -> str:
    """sha256 over one JSON line per row, [id, task, reference, options], sorted; 32 hex digits."""
    digest = hashlib.sha256()
    items = sorted([str(r["id"]), str(r["task"]), str(r["answer_text"] if r["task"] == ASR else r["answer"]),
                    [str(c) for c in r["choices"] or []]] for r in rows)
    for item in items:
        digest.update(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return "sha256:" + digest.hexdigest()[:32]


def rows(folder: Path, configs=None) -> list[dict]:
    """The answer-key columns of every shard of a dataset folder, read with pyarrow alone."""
    import pyarrow.parquet as pq

    names = configs or sorted(p.name for p in folder.iterdir() if p.is_dir() and list(p.glob("test-*.parquet")))
    return [r for name in names for shard in sorted((folder / name).glob("test-*.parquet"))
            for r in pq.read_table(shard, columns=["id", "task", "answer", "answer_text", "choices"]).to_pylist()]
