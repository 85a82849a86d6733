"""`audiomarathon import-release SRC OUT`: the official release folders -> parquet + card."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from audiomarathon.tasks import ALL_TASKS, Task, resolve_tasks

from .. import report as rp
from ..audio_io import AudioError, decode_file, encode_flac
from ..files import SourceFileError, read_metadata
from ..parallel import Executor
from ..progress import TaskProgress
from ..report import Issue, Report
from ..writer import IMPORT_REPORT, DatasetWriter, Row, check_output
from .discovery import JSON, REAL_FAKE, Discovery, DiscoveryError, Source, discover, explicit_source, parse_task_files, settle
from .archives import ArchiveError, archive_kind, expand_release
from .paths import release_name, within
from .benchmark_shapes import shape_for
from .shapes import Context, LibriSpeechTree, RealFakeFolders, SourceRecord

REPORT_NAME = IMPORT_REPORT


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


def _task_root(path: Path, root: Path) -> Path:
    """The top-level folder of the release holding ``path`` (the root itself for files in it)."""
    rel = path.relative_to(root).parts
    return root / rel[0] if len(rel) > 1 else root


def collect_records(task: Task, source: Source, disc: Discovery) -> tuple[list[SourceRecord], list[Issue]]:
    """Read one metadata file (or folder layout) assigned to ``task``. Records whose audio
    path leads outside the release root are refused here, before anything opens them."""
    records: list[SourceRecord] = []
    issues: list[Issue] = []
    root = disc.root
    base = source.path.parent if source.kind == JSON else source.path
    ctx = Context(task, _task_root(source.path, root) if source.path != root else root, root, base=base)

    def take(items: Iterable[SourceRecord | Issue]) -> None:
        for item in items:
            if isinstance(item, Issue):
                issues.append(item)
            elif not within(item.audio, root):
                issues.append(ctx.issue(rp.PATH_OUTSIDE_ROOT, item.file, item.record,
                                        f"audio path {str(item.audio)!r} leads outside the release root; refused, not read"))
            else:
                records.append(item)

    rel = ctx.rel(source.path)
    if source.kind == JSON:
        obj = disc.documents.get(source.path)
        if obj is None:  # an explicit file discovery did not read
            try:
                obj = read_metadata(source.path)
            except SourceFileError as err:
                return [], [ctx.issue(rp.MALFORMED_JSON, rel, err.where, err.reason)]
        shape = shape_for(task, obj)
        if shape is None:
            return [], [ctx.issue(rp.UNKNOWN_SHAPE, rel, "", f"JSON matches no known {task.benchmark} metadata shape")]
        take(shape.records(obj, ctx, rel))
    elif source.kind == REAL_FAKE:
        take(RealFakeFolders().records(source.path, ctx))
    else:
        take(LibriSpeechTree(source.chapters).records(source.path, ctx))
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


def group_by_audio(root: Path, records: list[tuple[str, SourceRecord]]) -> list[_Group]:
    groups: dict[Path, _Group] = {}
    for ident, rec in records:
        g = groups.get(rec.audio)
        if g is None:
            g = groups[rec.audio] = _Group(rec.audio, release_name(rec.audio, root), [])
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
    task_files: Mapping[str, str | Sequence[str]] | Sequence[str] | None = None,
) -> Report:
    """Import an official AudioMarathon, MMAR or AIR-Bench Foundation release (or several side by
    side) into the parquet layout at ``out``.

    Metadata files and folder layouts are found at any depth under ``src`` and assigned to
    tasks by content (see ``discovery``); ``task_files`` ({"TAU": "path/meta.json"} or
    ["TAU=path/meta.json"]) assigns paths explicitly. A release that cannot be assigned
    without guessing raises ImportFailed listing the paths, before anything is written.
    Every problem is recorded in the returned report (also written to OUT/import_report.json),
    which also says which file became which task; affected records are skipped. With
    ``strict=True`` any problem raises ImportFailed and ``out`` is left untouched.

    Archives in the release (zip, tar, tar.gz/.tgz/.bz2/.xz, gz), or a release that is one
    archive, are extracted first into a temporary folder (``archives.expand_release``); one that
    cannot be used safely or completely stops the import naming it, and archives of formats not
    read are reported.
    """
    src = Path(src).resolve()
    if not src.is_dir() and not (src.is_file() and archive_kind(src)):
        raise FileNotFoundError(f"release folder {src} does not exist or is not a directory (nor an archive: zip, "
                                "tar, tar.gz/.tgz/.bz2/.xz, gz)")
    check_output(out, [src])
    report = Report()
    try:
        with expand_release(src, skip=[Path(out).resolve()]) as expansion:
            for extracted in expansion.extracted:
                report.add_archive(extracted.archive, extracted.files, extracted.bytes)
                report.extend(Issue(rp.ARCHIVE_MEMBER_SKIPPED, "", extracted.archive, member, why)
                              for member, why in extracted.skipped)
            report.extend(Issue(rp.ARCHIVE_NOT_READ, "", archive, "", why) for archive, why in expansion.not_read)
            return _import(expansion.root, src, out, report, tasks, strict, num_proc, progress, task_files)
    except ArchiveError as err:
        raise ImportFailed(f"{err}\nnothing was imported", report) from None


def _import(root: Path, src: Path, out, report: Report, tasks, strict: bool, num_proc: int, progress: bool,
            task_files) -> Report:
    """import_release on the folder ``root`` (``src``, or the view of it with its archives extracted)."""
    try:
        explicit = [explicit_source(task, _under(path, src, root), root) for task, path in parse_task_files(task_files)]
        disc = discover(root, skip=[Path(out).resolve(), *(s.path for s in explicit)])
        found = {s.task for s in explicit} | set(disc.sources)
        selected = resolve_tasks(tasks) if tasks is not None else [t for t in ALL_TASKS if t.name in found]
        sources = settle(disc, [t.name for t in selected], explicit)
    except DiscoveryError as err:
        raise ImportFailed(str(err), report) from None
    names = {t.name for t in selected}  # with --tasks, problems of files of other tasks are not this import's
    report.extend(i for i in disc.issues if tasks is None or not i.task or i.task in names)
    missing = [t.name for t in selected if t.name not in sources]
    if tasks is not None and missing:
        raise FileNotFoundError(
            f"no metadata found for task(s) {', '.join(missing)} in {src}: no file or folder matched by name, "
            f"fields or layout; name one with --task-file TASK=PATH"
        )
    if not selected:
        raise ImportFailed(
            f"no release metadata found in {src}: looked at every depth for the authors' metadata files "
            "(e.g. acoustic_scene_task_meta.json), MMAR-meta.json(l), AIR-Bench's Foundation_meta.json, metadata "
            "JSON of a known shape, real/ + fake/ folders and LibriSpeech <speaker>/<chapter>/ transcripts", report)

    prepared = []
    for task in selected:
        records: list[SourceRecord] = []
        n_read = 0
        for source in sources[task.name]:
            got, issues = collect_records(task, source, disc)
            report.add_source(task.name, disc.rel(source.path), source.rule, len(got))
            report.extend(issues)
            records.extend(got)
            n_read += len(got) + len(issues)
        kept = assign_ids(task, records, report.issues)
        prepared.append((task, n_read, kept))
    if strict and report.issues:
        raise ImportFailed(_strict_message(report), report)

    def jobs() -> Iterator[tuple[_Group | None, str]]:
        # one stream across all tasks, so the workers never wait at a task boundary; the
        # leading (None, name) puts every task in the stream, even one with nothing to decode
        for task, _, kept in prepared:
            yield None, task.name
            for group in group_by_audio(root, kept):
                yield group, task.name

    with Executor(num_proc, preload=_process_group.__module__) as executor:
        results = executor.map_ordered(_process_group, jobs())  # workers start before the writer's set-up
        with DatasetWriter(out) as writer:
            for (task, n_records, kept), (_, task_results) in zip(prepared, groupby(results, key=itemgetter(0)), strict=True):
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
            writer.write_report(REPORT_NAME, report.to_json())
            writer.commit()
            report.kept = writer.kept
    return report


def _under(listed: str, src: Path, root: Path) -> str:
    """A --task-file path given absolute inside the release, as a path inside the folder read."""
    path = Path(listed)
    if root != src and path.is_absolute() and (path == src or src in path.parents):
        return path.relative_to(src).as_posix() or "."
    return listed


def _strict_message(report: Report) -> str:
    first = "\n".join(f"  {i}" for i in report.issues[:20])
    more = f"\n  ... and {len(report.issues) - 20} more" if len(report.issues) > 20 else ""
    return f"--strict: {len(report.issues)} problem(s) in the release; nothing was written\n{first}{more}"
