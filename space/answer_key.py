"""The server's own answer key: reference, choices and task for every id of one dataset version.

Submissions are re-scored against this key only; the references and scores a submission carries
are never read. A key is built from a dataset folder (or Hub repo id) with `datasets.load_dataset`
and stored in the leaderboard database, keyed by its fingerprint. A dataset may hold any benchmark's
configs (AudioMarathon, MMAR, AIR-Bench Foundation); each item keeps its ``meta`` (MMAR's modality,
Foundation's dataset name), which the scoring's breakdowns read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from audiomarathon.fingerprint import KEY_COLUMNS, dataset_fingerprint, reference_of
from audiomarathon.benchmarks import BENCHMARKS, all_tasks, benchmark_of
from audiomarathon.tasks import OPEN, get_task

# One definition, in core: the runner writes the same fingerprint into results.json.
answer_key_fingerprint = dataset_fingerprint


@dataclass(frozen=True)
class KeyItem:
    task: str
    reference: str
    choices: tuple[str, ...]
    meta: str = ""  # the dataset's meta column (a JSON object), "" where it has none


@dataclass(frozen=True)
class AnswerKey:
    fingerprint: str
    items: dict[str, KeyItem]  # id -> item, in dataset order
    source: str = ""  # where it was built from, for display only

    @property
    def num_ids(self) -> int:
        return len(self.items)

    @property
    def benchmarks(self) -> list[str]:
        """The keys of the benchmarks its items belong to, in registry order."""
        found = {benchmark_of(it.task).key for it in self.items.values()}
        return [b.key for b in BENCHMARKS.values() if b.key in found]

    def task_counts(self) -> dict[str, int]:
        counts = {t.name: 0 for t in all_tasks()}
        for item in self.items.values():
            counts[item.task] += 1
        return {k: v for k, v in counts.items() if v}

    def to_json(self) -> str:
        return json.dumps(
            {
                "fingerprint": self.fingerprint,
                "source": self.source,
                "items": [[i, it.task, it.reference, list(it.choices), *([it.meta] if it.meta else [])]
                          for i, it in self.items.items()],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "AnswerKey":
        obj = json.loads(text)
        items = {i: KeyItem(t, ref, tuple(ch), *meta) for i, t, ref, ch, *meta in obj["items"]}
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
            items[ident] = KeyItem(task, reference_of(r), tuple(str(c) for c in (r.get("choices") or [])),
                                   _key_meta(task, r))
        return cls(answer_key_fingerprint(rows), items, source)


def _key_meta(task: str, row: Mapping) -> str:
    """The item's meta as the key keeps it; an open-ended item's also holds its question, which the
    server needs to recompute the judge's message (AIR-Bench Chat: space.chat_submission)."""
    meta = str(row.get("meta") or "")
    if get_task(task).metric != OPEN or row.get("question") is None:
        return meta
    obj = json.loads(meta) if meta else {}
    return json.dumps({**obj, "question": row["question"]}, ensure_ascii=False)


def build_answer_key(dataset: str | Path, split: str = "test") -> AnswerKey:
    """Read every config of a dataset folder (or Hub repo id) into an answer key; audio is not decoded."""
    import datasets

    path = str(dataset)
    try:
        configs = datasets.get_dataset_config_names(path)
    except Exception as exc:  # datasets raises several types for a missing/unreadable path
        raise ValueError(f"cannot read dataset {path!r}: {exc}") from exc
    wanted = configs_to_read(configs)
    if not wanted:
        names = ", ".join(b.name for b in BENCHMARKS.values())
        raise ValueError(f"dataset {path!r} has none of the configs of {names} (found {configs})")
    rows: list[dict] = []
    for config in wanted:
        ds = datasets.load_dataset(path, config, split=split)
        rows.extend(ds.select_columns([c for c in (*KEY_COLUMNS, "meta", "question") if c in ds.column_names])
                    .to_list())
    return AnswerKey.from_rows(rows, source=path)


def configs_to_read(configs: list[str]) -> list[str]:
    """The configs that hold every item of ``configs`` once: per benchmark, a config grouping all its
    tasks where the dataset has one (AudioMarathon's "all", Foundation's "foundation": one read
    instead of ten or 19), else its task configs."""
    wanted: list[str] = []
    for bench in BENCHMARKS.values():
        whole = [g for g, members in bench.groups.items() if g in configs and set(members) == set(bench.task_names)]
        wanted += whole[:1] or [c for c in configs if c in bench.task_names]
    return wanted
