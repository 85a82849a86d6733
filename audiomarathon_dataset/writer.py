"""Writes the distribution layout: OUT/<config>/test-NNNNN-of-MMMMM.parquet + OUT/README.md.

Everything goes to a temporary sibling directory first; only when the whole dataset was written
are its files renamed into OUT, so an interrupted or failed run leaves OUT as it was. Into an
existing dataset folder only what this command writes is replaced: the shards of the configs it
wrote, the card, the version file and its report. Other configs stay (the card lists every config
present and the fingerprint covers them all), and so does every other file (notes, run folders).
Output bytes depend only on the rows: no timestamps, no host names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from audiomarathon.fingerprint import KEY_COLUMNS, VERSION_FILE, dataset_fingerprint
from audiomarathon.schema import COLUMNS
from audiomarathon.tasks import ALL_TASKS, Task

from .task_stats import TaskStats

SPLIT = "test"
DEFAULT_ROWS_PER_GROUP = 4  # small row groups keep streaming's first row cheap
DEFAULT_MAX_SHARD_BYTES = 512 * 1024 * 1024
SHARD_NAME = re.compile(rf"{SPLIT}-\d{{5}}-of-\d{{5}}\.parquet")
CARD = "README.md"
IMPORT_REPORT = "import_report.json"
BUILD_REPORT = "build_report.json"
REPORTS = (IMPORT_REPORT, BUILD_REPORT)  # one per command; each describes the configs it wrote
FORMAT_VERSION = 1  # in the version file, beside the dataset's fingerprint
_PLAN = "plan.json"  # in a commit's backup folder: what it moves, to undo a commit killed midway


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


@dataclass
class _Existing:
    """A config already in OUT: what the card needs to list it when this command keeps it."""

    shards: list[str]  # paths relative to OUT
    stats: TaskStats | None = None
    keys: list[dict] = field(default_factory=list)  # answer-key columns, for the fingerprint
    error: str = ""  # why its shards cannot be read (only a problem if it is kept)


def _existing_configs(out: Path) -> dict[str, _Existing]:
    """The configs of the dataset folder ``out``, read without their audio."""
    found: dict[str, _Existing] = {}
    for task in ALL_TASKS:
        folder = out / task.name
        if not folder.is_dir() or folder.is_symlink():
            continue
        shards = sorted(p for p in folder.iterdir() if SHARD_NAME.fullmatch(p.name) and p.is_file())
        if not shards:
            continue
        entry = found[task.name] = _Existing([f"{task.name}/{p.name}" for p in shards], TaskStats(task.name))
        for shard in shards:
            try:
                rows = pq.read_table(shard, columns=["duration", *KEY_COLUMNS]).to_pylist()
                size = shard.stat().st_size
            except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
                entry.stats, entry.keys, entry.error = None, [], f"{shard}: {exc}"
                break
            for row in rows:
                entry.stats.add(float(row["duration"]))
                entry.keys.append({k: row[k] for k in KEY_COLUMNS})
            entry.stats.num_bytes += size
            entry.stats.shards.append(shard.name)
    return found


def check_output(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output folder that is, or holds, one of the command's inputs (the release, the
    source corpora): the dataset would be written over, or pushed with, what it is read from."""
    target = Path(out).resolve()
    for given in inputs:
        source = Path(given).resolve()
        if source == target or target in source.parents:
            relation = "is" if source == target else "holds"
            raise FileExistsError(f"output folder {target} {relation} the input {source}; choose an output folder "
                                  "outside it (nothing was written)")


class DatasetWriter:
    """Context manager writing one dataset directory atomically.

    >>> with DatasetWriter(out) as w:
    ...     w.write_task(task, rows)
    ...     w.write_report(IMPORT_REPORT, text)
    ...     w.commit()

    ``kept`` lists, after ``commit``, the configs that were in OUT already and were not rewritten.
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
        self.kept: list[str] = []
        self._key_rows: list[dict] = []  # answer-key columns of every row, for the fingerprint
        self._files: dict[str, str] = {}  # OUT-level files: name -> text
        self._reports: dict[str, str] = {}
        self._existing: dict[str, _Existing] = {}
        self._tmp: Path | None = None
        self._committed = False
        from audiomarathon.schema import FEATURES  # imports datasets: only where files are written

        self._schema = FEATURES.arrow_schema

    def __enter__(self) -> "DatasetWriter":
        _remove_stale_temps(self.out)  # first: a commit killed midway leaves OUT looking foreign
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
        if self.out.is_dir():
            self._existing = _existing_configs(self.out)
        with self._writing():
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-{os.getpid()}-", dir=self.out.parent))
        return self

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Where this writer's own writes fail (a full disk, a quota, a read-only file system):
        one WriteError naming OUT. OUT itself is only ever changed by a finished commit."""
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
        """A file at OUT's top level, replacing one of that name."""
        self._files[name] = text

    def write_report(self, name: str, text: str) -> None:
        """This command's report (JSON of ``report.Report``), one of REPORTS. Into a folder keeping
        configs of earlier commands it is merged with their entries of the report found there."""
        if name not in REPORTS:
            raise ValueError(f"unknown report file {name!r}; expected one of {REPORTS}")
        self._reports[name] = text

    def commit(self, title: str = "AudioMarathon", extra_card_text: str = "") -> Path:
        """Write the dataset card and move the finished files into place."""
        if not self.stats:
            raise ValueError("no instance was written for any task; nothing to commit")
        from .card import render_card  # imports datasets (the card lists its features): only when committing

        kept = {name: e for name, e in self._existing.items() if name not in self.stats}
        broken = [e.error for e in kept.values() if e.error]
        if broken:
            raise FileExistsError(f"{self.out} holds config(s) this command does not rewrite and that cannot be read "
                                  f"({'; '.join(broken)}); rewrite them (--tasks) or move them away. Nothing was "
                                  "written")
        self.kept = [t.name for t in ALL_TASKS if t.name in kept]
        stats = {**{name: e.stats for name, e in kept.items()}, **self.stats}
        keys = [k for e in kept.values() for k in e.keys] + self._key_rows
        with self._writing():
            fingerprint = dataset_fingerprint(keys)
            card = render_card(stats, fingerprint, title, extra_card_text + _kept_note(self.kept))
            (self.tmp / CARD).write_text(card, encoding="utf-8")
            # The version file marks the folder as ours and declares its fingerprint (kept out of the
            # card's YAML, which holds only Hub metadata); ``is_dataset_folder`` reads it.
            version = {"format": FORMAT_VERSION, "fingerprint": fingerprint}
            (self.tmp / VERSION_FILE).write_text(json.dumps(version, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            for name, text in {**self._files, **self._report_texts()}.items():
                (self.tmp / name).write_text(text, encoding="utf-8")
            replaced = [rel for name in self.stats if name in self._existing for rel in self._existing[name].shards]
            self._install(replaced + [name for name in os.listdir(self.tmp) if (self.tmp / name).is_file()
                                      and os.path.lexists(self.out / name)])
        self._committed = True
        return self.out

    def _report_texts(self) -> dict[str, str]:
        """The report files to write: this command's (merged with the kept configs' entries of
        the one in OUT), and another command's report in OUT that describes configs this one
        rewrote (those entries dropped, the rest kept)."""
        from .report import merged_report

        out: dict[str, str] = {}
        kept = set(self.kept)
        for name in REPORTS:
            new, old = self._reports.get(name), _read_json(self.out / name)
            if new is not None and not kept:
                out[name] = new
            elif new is not None:
                merged = merged_report(json.loads(new), old, kept, {"kept_from_earlier": self.kept})
                out[name] = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
            elif old is not None:
                described = set(old.get("counts") or {})
                rewritten = sorted(described & set(self.stats))
                if rewritten:
                    earlier = set(old.get("rewritten_later") or [])
                    note = {"rewritten_later": sorted(earlier | set(rewritten))}
                    merged = merged_report(None, old, described - set(rewritten), note)
                    out[name] = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
        return out

    def _install(self, replaced: list[str]) -> None:
        """Move every finished file from the temporary folder into OUT, after moving the files it
        replaces (``replaced``, relative to OUT) into a backup folder; any failure moves all back.
        The plan is written first, so a commit killed midway is undone by the next writer."""
        new = sorted(p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*") if p.is_file())
        backup = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-{os.getpid()}-", dir=self.out.parent))
        moved_old: list[str] = []
        moved_new: list[str] = []
        made: list[Path] = []
        try:
            (backup / _PLAN).write_text(json.dumps({"tmp": self.tmp.name, "new": new, "old": replaced}),
                                        encoding="utf-8")
            for rel in replaced:
                (backup / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
                (self.out / rel).rename(backup / "files" / rel)
                moved_old.append(rel)
            for rel in new:
                target = self.out / rel
                for folder in reversed([target.parent, *target.parent.parents]):
                    if not folder.exists():
                        folder.mkdir()
                        made.append(folder)
                (self.tmp / rel).rename(target)
                moved_new.append(rel)
        except OSError:
            for rel in reversed(moved_new):
                (self.out / rel).rename(self.tmp / rel)
            for folder in reversed(made):
                folder.rmdir()
            for rel in reversed(moved_old):
                (backup / "files" / rel).rename(self.out / rel)
            shutil.rmtree(backup, ignore_errors=True)
            raise
        # the temporary folder goes first: a backup without it marks a finished commit
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._tmp = None
        shutil.rmtree(backup, ignore_errors=True)


def _kept_note(kept: list[str]) -> str:
    if not kept:
        return ""
    return (f"\nConfigs kept from an earlier import or build into this folder (not rewritten by the last one): "
            f"{', '.join(kept)}. Their figures above are read from their shards; the report files say how each "
            "config was made.\n")


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


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

    A commit's backup holds its plan: with the commit's temporary folder still there, the kill
    fell while files were being moved, and the move is undone (the new files it had moved in
    leave, the replaced ones come back); without it the commit had finished. A backup with no
    plan is an older writer's whole previous folder: put back when OUT is missing.
    """
    for kind in ("old", "tmp"):
        for path in sorted(out.parent.glob(f".{out.name}.{kind}-*")):
            pid = path.name[len(f".{out.name}.{kind}-"):].split("-")[0]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            plan = _read_json(path / _PLAN) if kind == "old" else None
            if plan is not None:
                _undo(out, path, plan)
            elif kind == "old" and not out.exists():
                path.rename(out)
            shutil.rmtree(path, ignore_errors=True)


def _undo(out: Path, backup: Path, plan: dict) -> None:
    tmp = out.parent / str(plan.get("tmp", ""))
    if not plan.get("tmp") or not tmp.is_dir():
        return  # the commit finished
    for rel in plan.get("new", []):
        if not (tmp / rel).exists() and (out / rel).is_file():
            (out / rel).unlink()  # moved in by the killed commit
            if (out / rel).parent != out and not any((out / rel).parent.iterdir()):
                (out / rel).parent.rmdir()
    for rel in plan.get("old", []):
        if (backup / "files" / rel).exists():
            (backup / "files" / rel).rename(out / rel)


def is_dataset_folder(path: Path) -> bool:
    """Whether ``path`` holds a dataset this package wrote: a card plus our version file (or,
    for copies written before it existed, the card's old format marker)."""
    card = path / "README.md"
    if not card.is_file():
        return False
    return (path / VERSION_FILE).is_file() or "audiomarathon_format" in card.read_text(encoding="utf-8", errors="ignore")
