"""`audiomarathon import-release SRC OUT`: the official release folders -> parquet + card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from audiomarathon.tasks import TASKS, Task, resolve_tasks, task_for_folder

from .. import report as rp
from ..audio_io import AudioError, decode_file, encode_flac
from ..parallel import Executor
from ..progress import TaskProgress
from ..report import Issue, Report
from ..writer import DatasetWriter, Row
from .shapes import Context, SourceRecord, detect_folder_shape, detect_json_shape

REPORT_NAME = "import_report.json"


class ImportFailed(RuntimeError):
    """Raised by a strict import that met a problem, or when nothing could be imported."""

    def __init__(self, message: str, report: Report):
        super().__init__(message)
        self.report = report


@dataclass
class _Group:
    """Records sharing one audio file: decoded and encoded once."""

    audio: Path
    rel_audio: str
    records: list[tuple[str, SourceRecord]]  # (instance id, record)


def find_task_folders(src: Path, report: Report) -> dict[str, Path]:
    """Map task names to their release folders; unknown folders are reported."""
    found: dict[str, Path] = {}
    for child in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")):
        task = task_for_folder(child.name)
        if task is None:
            report.add(Issue(rp.UNKNOWN_FOLDER, "", child.name, "", "folder matches no task name or abbreviation; skipped"))
        elif task.name in found:
            report.add(
                Issue(rp.UNKNOWN_FOLDER, task.name, child.name, "",
                      f"a second folder for {task.name} (already read {found[task.name].name}); skipped")
            )
        else:
            found[task.name] = child
    return found


def collect_records(ctx: Context) -> tuple[list[SourceRecord], list[Issue]]:
    """Read every metadata file (or folder layout) of one task folder."""
    records: list[SourceRecord] = []
    issues: list[Issue] = []
    json_files = sorted(ctx.task_dir.glob("*.json"))

    def take(items: Iterable[SourceRecord | Issue]) -> None:
        for item in items:
            (issues if isinstance(item, Issue) else records).append(item)

    for path in json_files:
        rel = ctx.rel(path)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            issues.append(ctx.issue(rp.MALFORMED_JSON, rel, "", f"not UTF-8 text: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            issues.append(ctx.issue(rp.MALFORMED_JSON, rel, f"line {exc.lineno} col {exc.colno}", exc.msg))
            continue
        shape = detect_json_shape(obj)
        if shape is None:
            issues.append(ctx.issue(rp.UNKNOWN_SHAPE, rel, "", "JSON matches no known release metadata shape"))
            continue
        take(shape.records(obj, ctx, rel))
    if not json_files:
        shape = detect_folder_shape(ctx.task_dir)
        if shape is None:
            issues.append(
                ctx.issue(rp.UNKNOWN_SHAPE, ctx.rel(ctx.task_dir), "",
                          "no metadata JSON, real/ + fake/ folders, or LibriSpeech transcripts found")
            )
        else:
            take(shape.records(ctx.task_dir, ctx))
    return records, issues


def assign_ids(task: Task, records: Sequence[SourceRecord], issues: list[Issue]) -> list[tuple[str, SourceRecord]]:
    """Ids follow the record's position in the release, so skipping one never renumbers others."""
    seen: dict[str, SourceRecord] = {}
    kept = []
    for index, rec in enumerate(records):
        first = seen.get(rec.key)
        if first is not None:
            issues.append(
                Issue(rp.DUPLICATE_ID, task.name, rec.file, rec.record,
                      f"duplicate of {first.file} {first.record} (key {rec.key!r}); skipped")
            )
            continue
        seen[rec.key] = rec
        kept.append((f"{task.name}-{index:05d}", rec))
    return kept


def group_by_audio(ctx: Context, records: list[tuple[str, SourceRecord]]) -> list[_Group]:
    groups: dict[Path, _Group] = {}
    for ident, rec in records:
        g = groups.get(rec.audio)
        if g is None:
            g = groups[rec.audio] = _Group(rec.audio, ctx.rel(rec.audio), [])
        g.records.append((ident, rec))
    return list(groups.values())


def _process_group(group: _Group) -> tuple[list[Row], list[Issue]]:
    """Decode one audio file once and emit a row per record (runs in worker processes)."""
    expected = max((r.expected_duration or 0.0) for _, r in group.records) or None
    try:
        decoded = decode_file(str(group.audio), expected_duration=expected)
    except AudioError as err:
        return [], [
            Issue(err.kind, rec.task, rec.file, rec.record,
                  err.message if rec.file == group.rel_audio else f"{group.rel_audio}: {err.message}")
            for _, rec in group.records
        ]
    flac = encode_flac(decoded.samples)
    rows = []
    for ident, rec in group.records:
        meta = dict(rec.meta)
        meta["source_file"] = group.rel_audio
        meta["source_sampling_rate"] = decoded.source_rate
        meta["source_channels"] = decoded.source_channels
        rows.append(
            Row(
                id=ident, task=rec.task, audio=flac, duration=round(decoded.duration, 4),
                question=rec.question, choices=rec.choices, answer=rec.answer,
                answer_text=rec.answer_text,
                segments=[{"source_id": group.rel_audio, "start": 0.0, "end": decoded.duration}],
                meta=meta,
            )
        )
    return rows, []


def import_release(
    src: str | Path,
    out: str | Path,
    tasks: str | Sequence[str] | None = None,
    strict: bool = False,
    num_proc: int = 1,
    progress: bool = True,
) -> Report:
    """Import an official AudioMarathon release into the parquet layout at ``out``.

    Every problem is recorded in the returned report (also written to OUT/import_report.json);
    affected records are skipped. With ``strict=True`` any problem raises ImportFailed and
    ``out`` is left untouched.
    """
    src = Path(src).resolve()
    if not src.is_dir():
        raise FileNotFoundError(f"release folder {src} does not exist or is not a directory")
    report = Report()
    folders = find_task_folders(src, report)
    selected = resolve_tasks(tasks) if tasks is not None else [t for t in TASKS if t.name in folders]
    missing = [t.name for t in selected if t.name not in folders]
    if tasks is not None and missing:
        raise FileNotFoundError(
            f"no folder for task(s) {', '.join(missing)} in {src}; folders are matched by config name "
            f"or abbreviation (e.g. {src}/TAU or {src}/ASC)"
        )
    if not selected:
        expected = ", ".join(f"{t.name}/" for t in TASKS)
        raise ImportFailed(f"no task folder found in {src}; expected some of: {expected}", report)

    prepared = []
    for task in selected:
        ctx = Context(task, folders[task.name], src)
        records, issues = collect_records(ctx)
        report.extend(issues)
        kept = assign_ids(task, records, report.issues)
        prepared.append((task, ctx, len(records) + len(issues), kept))
    if strict and report.issues:
        raise ImportFailed(_strict_message(report), report)

    def jobs() -> Iterator[tuple[_Group | None, str]]:
        # one stream across all tasks, so the workers never wait at a task boundary; the
        # leading (None, name) puts every task in the stream, even one with nothing to decode
        for task, ctx, _, kept in prepared:
            yield None, task.name
            for group in group_by_audio(ctx, kept):
                yield group, task.name

    with Executor(num_proc, preload=_process_group.__module__) as executor:
        results = executor.map_ordered(_process_group, jobs())  # workers start before the writer's set-up
        with DatasetWriter(out) as writer:
            for (task, _, n_records, kept), (_, task_results) in zip(prepared, groupby(results, key=itemgetter(0)), strict=True):
                bar = TaskProgress(f"import {task.name}", "records", total=len(kept), enabled=progress)

                def rows(task_results=task_results, bar=bar) -> Iterator[Row]:
                    for _, result in task_results:
                        if result is None:
                            continue
                        task_rows, issues = result
                        report.extend(issues)
                        if strict and issues:
                            raise ImportFailed(_strict_message(report), report)
                        bar.update(len(task_rows) + len(issues))
                        yield from task_rows

                try:
                    stats = writer.write_task(task, rows())
                finally:
                    bar.close()
                report.set_counts(task.name, n_records, stats.n)
            if not writer.stats:
                raise ImportFailed("no record could be imported: " + report.summary_line(), report)
            writer.write_file(REPORT_NAME, report.to_json())
            writer.commit()
    return report


def _strict_message(report: Report) -> str:
    first = "\n".join(f"  {i}" for i in report.issues[:20])
    more = f"\n  ... and {len(report.issues) - 20} more" if len(report.issues) > 20 else ""
    return f"--strict: {len(report.issues)} problem(s) in the release; nothing was written\n{first}{more}"
