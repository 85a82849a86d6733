"""Writes the distribution layout: OUT/<config>/test-NNNNN-of-MMMMM.parquet + OUT/README.md.

Everything goes to a temporary sibling directory that is renamed into place only when the
whole dataset was written, so an interrupted or failed run leaves OUT as it was.
Output bytes depend only on the rows: no timestamps, no host names.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from audiomarathon.fingerprint import VERSION_FILE, dataset_fingerprint
from audiomarathon.schema import COLUMNS
from audiomarathon.tasks import Task


SPLIT = "test"
DEFAULT_ROWS_PER_GROUP = 4  # small row groups keep streaming's first row cheap
DEFAULT_MAX_SHARD_BYTES = 512 * 1024 * 1024


@dataclass
class Row:
    """One instance, ready to write. ``audio`` holds FLAC bytes at 16 kHz."""

    id: str
    task: str
    audio: bytes
    duration: float
    question: str
    choices: list[str]
    answer: str
    answer_text: str
    segments: list[dict]
    meta: dict = field(default_factory=dict)

    def to_record(self) -> dict:
        return {
            "id": self.id,
            "task": self.task,
            "audio": {"bytes": self.audio, "path": f"{self.id}.flac"},
            "duration": float(self.duration),
            "question": self.question,
            "choices": list(self.choices),
            "answer": self.answer,
            "answer_text": self.answer_text,
            "segments": [
                {"source_id": str(s["source_id"]), "start": float(s["start"]), "end": float(s["end"]),
                 "evidence": None if s.get("evidence") is None else bool(s["evidence"])}
                for s in self.segments
            ],
            # sort_keys: the same meta always serializes to the same bytes
            "meta": json.dumps(self.meta, sort_keys=True, ensure_ascii=False),
        }


class WriteError(OSError):
    """The output could not be written (disk full, quota, read-only); OUT was left as it was."""

    def __init__(self, out: Path, exc: OSError):
        reason = exc.strerror or str(exc)
        super().__init__(exc.errno, f"cannot write the dataset to {out}: {reason}; nothing was written "
                                    f"and {out} was left as it was")

    def __str__(self) -> str:
        return self.strerror


@dataclass
class TaskStats:
    task: str
    n: int = 0
    total_seconds: float = 0.0
    min_seconds: float = float("inf")
    max_seconds: float = 0.0
    num_bytes: int = 0
    shards: list[str] = field(default_factory=list)

    def add(self, duration: float) -> None:
        self.n += 1
        self.total_seconds += duration
        self.min_seconds = min(self.min_seconds, duration)
        self.max_seconds = max(self.max_seconds, duration)

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.n if self.n else 0.0


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        str(path),
        schema,
        compression={c: ("none" if c == "audio" else "zstd") for c in COLUMNS},
        use_dictionary=["task", "question"],
        write_statistics=["id", "duration"],
    )


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class DatasetWriter:
    """Context manager writing one dataset directory atomically.

    >>> with DatasetWriter(out) as w:
    ...     w.write_task(task, rows)
    ...     w.write_file("import_report.json", text)
    ...     w.commit()
    """

    def __init__(
        self,
        out: str | os.PathLike,
        rows_per_group: int = DEFAULT_ROWS_PER_GROUP,
        max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
        overwrite: bool = True,
    ):
        self.out = Path(out).resolve()
        self.rows_per_group = rows_per_group
        self.max_shard_bytes = max_shard_bytes
        self.overwrite = overwrite
        self.stats: dict[str, TaskStats] = {}
        self._key_rows: list[dict] = []  # answer-key columns of every row, for the fingerprint
        self._tmp: Path | None = None
        self._committed = False
        from audiomarathon.schema import FEATURES  # imports datasets: only where files are written

        self._schema = FEATURES.arrow_schema

    def __enter__(self) -> "DatasetWriter":
        if self.out.exists():
            if not self.out.is_dir():
                raise FileExistsError(f"output path {self.out} exists and is not a directory")
            if any(self.out.iterdir()) and not is_dataset_folder(self.out):
                raise FileExistsError(
                    f"output directory {self.out} is not empty and holds no AudioMarathon dataset; "
                    "choose an empty or new directory"
                )
            if not self.overwrite:
                raise FileExistsError(f"output directory {self.out} exists (pass overwrite=True to replace it)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(self.out)
        with self._writing():
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-{os.getpid()}-", dir=self.out.parent))
        return self

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Where this writer's own writes fail (a full disk, a quota, a read-only file system):
        one WriteError naming OUT. OUT itself is only ever replaced by a finished folder."""
        try:
            yield
        except WriteError:
            raise
        except OSError as exc:
            raise WriteError(self.out, exc) from None

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._tmp is not None and self._tmp.exists():
            shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def tmp(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("DatasetWriter must be used as a context manager")
        return self._tmp

    def write_task(self, task: Task, rows: Iterable[Row]) -> TaskStats:
        """Stream rows of one task into shards; returns its statistics."""
        stats = TaskStats(task.name)
        task_dir = self.tmp / task.name
        with self._writing():
            task_dir.mkdir()
        parts: list[Path] = []
        writer: pq.ParquetWriter | None = None
        shard_bytes = 0
        try:
            for batch in _batches(rows, self.rows_per_group):
                if writer is None or shard_bytes >= self.max_shard_bytes:
                    with self._writing():
                        if writer is not None:
                            writer.close()
                        parts.append(task_dir / f".part-{len(parts):05d}")
                        writer = _parquet_writer(parts[-1], self._schema)
                    shard_bytes = 0
                for row in batch:
                    if row.task != task.name:
                        raise ValueError(f"row {row.id} belongs to {row.task}, not {task.name}")
                    stats.add(row.duration)
                    self._key_rows.append({"id": row.id, "task": row.task, "answer": row.answer,
                                           "answer_text": row.answer_text, "choices": row.choices})
                    shard_bytes += len(row.audio)
                table = pa.Table.from_pylist([r.to_record() for r in batch], schema=self._schema)
                with self._writing():
                    writer.write_table(table, row_group_size=self.rows_per_group)
        finally:
            if writer is not None:
                with self._writing():
                    writer.close()
        if not parts:
            task_dir.rmdir()
            return stats
        for i, part in enumerate(parts):
            final = task_dir / f"{SPLIT}-{i:05d}-of-{len(parts):05d}.parquet"
            with self._writing():
                part.rename(final)
            stats.num_bytes += final.stat().st_size
            stats.shards.append(final.name)
        self.stats[task.name] = stats
        return stats

    def write_file(self, name: str, text: str) -> None:
        with self._writing():
            (self.tmp / name).write_text(text, encoding="utf-8")

    def commit(self, title: str = "AudioMarathon", extra_card_text: str = "") -> Path:
        """Write the dataset card and move the finished directory into place."""
        if not self.stats:
            raise ValueError("no instance was written for any task; nothing to commit")
        from .card import write_card

        with self._writing():
            write_card(self.tmp / "README.md", self.stats, fingerprint=dataset_fingerprint(self._key_rows),
                       title=title, extra_text=extra_card_text)
            backup = None
            if self.out.exists():
                backup = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
                self.out.rename(backup)
            try:
                self.tmp.rename(self.out)
            except OSError:
                if backup is not None:  # put the previous dataset back
                    backup.rename(self.out)
                raise
        self._tmp = None
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        self._committed = True
        return self.out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temps(out: Path) -> None:
    """Clean up after a writer of the same OUT that was killed (its pid is gone).

    A backup whose OUT is missing means the kill fell between the two renames of commit():
    the backup is the last complete dataset, so it is put back rather than deleted.
    """
    for kind in ("old", "tmp"):
        for path in sorted(out.parent.glob(f".{out.name}.{kind}-*")):
            pid = path.name[len(f".{out.name}.{kind}-"):].split("-")[0]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not out.exists():
                path.rename(out)
            else:
                shutil.rmtree(path, ignore_errors=True)


def is_dataset_folder(path: Path) -> bool:
    """Whether ``path`` holds a dataset this package wrote: a card plus our version file (or,
    for copies written before it existed, the card's old format marker)."""
    card = path / "README.md"
    if not card.is_file():
        return False
    return (path / VERSION_FILE).is_file() or "audiomarathon_format" in card.read_text(encoding="utf-8", errors="ignore")
