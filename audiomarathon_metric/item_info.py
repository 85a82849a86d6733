"""Per-item durations and evidence positions for the long-audio tables, read from a dataset.

``audiomarathon score --data PATH`` uses this when a predictions file carries no ``duration``
(for instance one written by another harness): the dataset (a built/imported folder or a Hub id)
is read without its audio, and each record is matched by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from audiomarathon.tasks import resolve_tasks

from .long_audio import evidence_centre


@dataclass(frozen=True)
class ItemInfo:
    duration: float
    evidence_position: float | None  # None: no evidence segment marked (or no segment data)


def load_item_info(data: str, tasks=None) -> dict[str, ItemInfo]:
    """``{id: ItemInfo}`` over the given tasks (default all) of dataset ``data``."""
    import datasets

    out: dict[str, ItemInfo] = {}
    for task in resolve_tasks(tasks):
        try:
            ds = datasets.load_dataset(str(data), task.name, split="test")
        except Exception as err:  # noqa: BLE001 - datasets raises many types for an unreadable folder
            raise FileNotFoundError(f"cannot read config {task.name!r} of dataset {data!r}: {err}") from None
        ds = ds.select_columns(["id", "duration", "segments"])
        for row in ds:
            duration = float(row["duration"] or 0.0)
            out[row["id"]] = ItemInfo(duration, evidence_centre(row["segments"], duration))
    return out
