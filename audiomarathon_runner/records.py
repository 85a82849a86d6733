"""predictions.jsonl: append-only, one fsync'd line per finished sample, safe to resume.

Killing the process at any moment loses at most the sample in flight: each record is written
with one ``write`` of a complete line, then flushed and fsync'd. A torn last line (killed during
the write) is cut off before the next append, so lines are never duplicated or merged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from audiomarathon.files import write_atomic


def read_records(path: str | Path) -> list[dict]:
    """Complete records of a predictions file; a torn (unterminated/unparsable) last line is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    data = path.read_bytes()
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # torn tail from a kill mid-write
                break
            raise ValueError(f"{path}: line {i + 1} is not valid JSON") from None
    return out


def repair_tail(path: str | Path) -> int:
    """Truncate a torn last line (no trailing newline). Returns the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return 0
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return 0
        # find the last newline
        pos = size
        block = 4096
        keep = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            pos = start
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
        return size - keep


class PredictionLog:
    """Appends records to a JSONL file durably (open in append mode, one write per line)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self._fh = open(self.path, "ab")

    def append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
        self._fh.write(line)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "PredictionLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def latest_by_key(records: Iterable[dict]) -> dict[tuple[str, str], dict]:
    """Last record per (id, config_hash): a retried sample replaces its earlier failure."""
    out: dict[tuple[str, str], dict] = {}
    for rec in records:
        out[(rec.get("id"), rec.get("config_hash"))] = rec
    return out


def write_jsonl_atomic(path: str | Path, records: Iterator[dict] | list[dict]) -> None:
    write_atomic(path, "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records))


def write_json_atomic(path: str | Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
