"""The server's own answer key: reference, choices and task for every id of one dataset version.

Submissions are re-scored against this key only; the references and scores a submission carries
are never read. A key is built from a dataset folder (or Hub repo id) with `datasets.load_dataset`
and stored in the leaderboard database, keyed by its fingerprint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from audiomarathon.fingerprint import KEY_COLUMNS, dataset_fingerprint, reference_of
from audiomarathon.tasks import ALL, TASK_NAMES, get_task

# One definition, in core: the runner writes the same fingerprint into results.json.
answer_key_fingerprint = dataset_fingerprint


@dataclass(frozen=True)
class KeyItem:
    task: str
    reference: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class AnswerKey:
    fingerprint: str
    items: dict[str, KeyItem]  # id -> item, in dataset order
    source: str = ""  # where it was built from, for display only

    @property
    def num_ids(self) -> int:
        return len(self.items)

    def task_counts(self) -> dict[str, int]:
        counts = {name: 0 for name in TASK_NAMES}
        for item in self.items.values():
            counts[item.task] += 1
        return {k: v for k, v in counts.items() if v}

    def to_json(self) -> str:
        return json.dumps(
            {
                "fingerprint": self.fingerprint,
                "source": self.source,
                "items": [[i, it.task, it.reference, list(it.choices)] for i, it in self.items.items()],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "AnswerKey":
        obj = json.loads(text)
        items = {i: KeyItem(t, ref, tuple(ch)) for i, t, ref, ch in obj["items"]}
        return cls(obj["fingerprint"], items, obj.get("source", ""))

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping], source: str = "") -> "AnswerKey":
        rows = list(rows)
        items: dict[str, KeyItem] = {}
        for r in rows:
            ident = str(r["id"])
            if ident in items:
                raise ValueError(f"dataset {source or '(rows)'}: id {ident!r} appears twice")
            task = get_task(r["task"]).name
            items[ident] = KeyItem(task, reference_of(r), tuple(str(c) for c in (r.get("choices") or [])))
        return cls(answer_key_fingerprint(rows), items, source)


def build_answer_key(dataset: str | Path, split: str = "test") -> AnswerKey:
    """Read every config of a dataset folder (or Hub repo id) into an answer key; audio is not decoded."""
    import datasets

    path = str(dataset)
    try:
        configs = datasets.get_dataset_config_names(path)
    except Exception as exc:  # datasets raises several types for a missing/unreadable path
        raise ValueError(f"cannot read dataset {path!r}: {exc}") from exc
    # The "all" config holds every task; reading it once is faster than ten configs.
    wanted = [ALL] if ALL in configs else [c for c in configs if c in TASK_NAMES]
    if not wanted:
        raise ValueError(f"dataset {path!r} has none of the AudioMarathon configs (found {configs})")
    rows: list[dict] = []
    for config in wanted:
        ds = datasets.load_dataset(path, config, split=split)
        rows.extend(ds.select_columns(list(KEY_COLUMNS)).to_list())
    return AnswerKey.from_rows(rows, source=path)
