"""judgments.jsonl: one judge verdict per line, beside a run's predictions.jsonl.

Each line is one (item, order) judged under one set of judge settings (``settings``: their hash,
see the runner's ``JudgeSettings``). A line is appended and fsync'd as its verdict arrives, so a
killed judge loses at most the requests in flight; a torn last line (the kill came mid-write) is
ignored on reading and cut off before the next append. The latest line per key wins: a request
that failed for lack of an answer (``failure == "request"``) is asked again by the next run and
its new line replaces the old.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, NotRequired, TypedDict

JUDGMENTS_FILE = "judgments.jsonl"
# failure kinds: the judge answered but not with a verdict (after the bounded retries), the request
# got no answer at all (retries exhausted, a 4xx), the model under test gave no reply to judge.
PARSE_FAILURE, REQUEST_FAILURE, NO_REPLY = "parse", "request", "no-reply"
FAILURES = (PARSE_FAILURE, REQUEST_FAILURE, NO_REPLY)


class Judgment(TypedDict):
    id: str
    task: str
    order: str  # prompt.REFERENCE_FIRST or prompt.MODEL_FIRST
    settings: str  # hash of the judge settings the verdict was asked under
    prompt_sha256: str  # the template's hash (prompt.prompt_sha256)
    message_sha256: str  # the whole message sent (item, order and template)
    reply_sha256: str | None  # the model reply judged (a changed reply is judged again)
    judge_model: str  # as asked for
    served_model: str | None  # as the server named it
    system_fingerprint: str | None
    temperature: float
    seed: int | None
    raw: str | None  # the judge's last reply, as sent
    retried: list  # earlier replies that were no verdict: {"raw", "problem"}
    scores: list[int] | None  # [Assistant 1, Assistant 2]
    model_score: int | None
    reference_score: int | None
    failure: str | None  # one of FAILURES, None for a verdict
    error: str | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    http_attempts: NotRequired[int]


def sha256_text(text: str | None) -> str | None:
    return None if text is None else "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def judgment_key(record: dict) -> tuple[str, str, str]:
    return (str(record["id"]), str(record["order"]), str(record["settings"]))


def read_judgments(path: str | Path) -> list[dict]:
    """Every complete line of ``path`` (none when it does not exist), the latest per key, in file
    order. A line that is not a JSON object is an error naming the file and the line, except a torn
    last line without its newline."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] and not data.endswith(b"\n"):
        lines = lines[:-1]  # torn by a kill mid-write: never acknowledged, asked again
    latest: dict[tuple, dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}:{number}: not a JSON line") from None
        if not isinstance(record, dict) or any(k not in record for k in ("id", "order", "settings")):
            raise ValueError(f"{path}:{number}: not a judgment (needs id, order, settings)")
        key = judgment_key(record)
        latest.pop(key, None)
        latest[key] = record
    return list(latest.values())


class JudgmentLog:
    """Appends judgments to ``path``, each line flushed and fsync'd before the next."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):  # a torn line from a killed run
                with open(self.path, "r+b") as fh:
                    fh.truncate(data.rfind(b"\n") + 1)
        self._fh = open(self.path, "ab")

    def append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        self._fh.write(line)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JudgmentLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def settings_of(records: Iterable[dict], settings: str) -> list[dict]:
    return [r for r in records if r.get("settings") == settings]
