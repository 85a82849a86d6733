"""Per-item durations and evidence positions for the long-audio tables, read from a dataset.

``audiomarathon score --data PATH`` uses this when a predictions file carries no ``duration``
(for instance one written by another harness): the dataset (a built/imported folder or a Hub id)
is read without its audio, and each record is matched by id. The same read gives each item's
``meta`` (MMAR's modality / layer / sub-category, AIR-Bench Foundation's task and dataset names)
for the benchmarks' breakdown tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field

from audiomarathon.fingerprint import KEY_COLUMNS, dataset_fingerprint
from audiomarathon.tasks import resolve_tasks

from .long_audio import evidence_centre


@dataclass(frozen=True)
class ItemInfo:
    duration: float
    evidence_position: float | None  # None: no evidence segment marked (or no segment data)
    meta: dict = field(default_factory=dict)  # the instance's meta column, parsed ({} where empty)


def _meta(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return {}


def load_item_info(data: str, tasks=None) -> dict[str, ItemInfo]:
    """``{id: ItemInfo}`` over the given tasks (default all) of dataset ``data``.

    A name that is neither a folder nor a reachable Hub id raises DataNotFound (a
    FileNotFoundError and a ValueError) instead of loading a cached copy of that name; a Hub id
    served from the cache in offline mode has its version printed first.
    """
    import datasets

    from audiomarathon.data_source import DataNotFound, locate, print_notice

    source = locate(data)
    out: dict[str, ItemInfo] = {}
    keys: list[dict] = []
    for task in resolve_tasks(tasks):
        try:
            ds = datasets.load_dataset(source.path, task.name, split="test")
        except Exception as err:  # noqa: BLE001 - datasets raises many types for an unreadable folder
            raise DataNotFound(f"--data {data}: cannot read config {task.name!r} ({err}){source.load_hint()}") from None
        ds = ds.select_columns(list(dict.fromkeys(["id", "duration", "segments",
                                                   *(["meta"] if "meta" in ds.column_names else []),
                                                   *(KEY_COLUMNS if source.from_cache else ())])))
        for row in ds:
            duration = float(row["duration"] or 0.0)
            out[row["id"]] = ItemInfo(duration, evidence_centre(row["segments"], duration), _meta(row.get("meta")))
            if source.from_cache:
                keys.append({k: row[k] for k in KEY_COLUMNS})
    if source.from_cache:
        print_notice(source, dataset_fingerprint(keys), len(keys))
    return out
