"""Build the benchmark from the source corpora: ``build_benchmark(sources, out, ...)``.

Pipeline per task: corpus reader (streams groups) -> planner (main process, headers only)
-> ``compose`` in worker processes (decode, resample, join, FLAC) -> questions (main) ->
``DatasetWriter`` (streams rows into parquet). At most a small window of instances is in
flight, results are consumed in plan order, and ids are assigned in that order, so the
output is byte-identical whatever ``num_proc`` is and memory does not grow with the corpus.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, groupby
from pathlib import Path

from audiomarathon.tasks import Task, resolve_tasks

from . import report as rp
from .composer import (
    AudioOptions,
    Composed,
    InstancePlan,
    Range,
    compose,
    plan_group,
    rng_for,
)
from .controlled import Controlled, check_task, plan_controlled
from .evidence import segments_with_evidence
from .files import SourceFileError, os_reason
from .parallel import Executor
from .progress import TaskProgress
from .questions import QUESTION_MAKERS, NoQuestion
from .recipes import RECIPES
from .report import Issue, Report
from .sources import CORPORA, MissingCorpusError
from .writer import BUILD_REPORT, DatasetWriter, Row, check_output

REPORT_NAME = BUILD_REPORT


class BuildFailed(RuntimeError):
    """Nothing could be built; the output folder was left untouched. ``report_path``: where the
    report of the failed build was written (beside the output folder), if it was."""

    def __init__(self, message: str, report: Report, report_path: Path | None = None):
        super().__init__(message)
        self.report = report
        self.report_path = report_path


@dataclass(frozen=True)
class BuildOptions:
    seed: int = 0
    min_duration: float | None = None  # None: each task's own range from the registry
    max_duration: float | None = None
    limit: int | None = None  # at most this many instances per task
    loudness: float | None = None  # LUFS target per clip; None keeps source levels
    crossfade: float = 0.0  # seconds
    render_speech: bool = True  # espeak-ng for RACE articles without a recording
    evidence_position: str | None = None  # controlled builds: start | middle | end
    lengths: tuple[float, ...] | None = None  # controlled builds: every item at each of these lengths

    def __post_init__(self):
        self.controlled  # validates the controlled-build options
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")
        if self.crossfade < 0:
            raise ValueError(f"crossfade must be >= 0 seconds, got {self.crossfade}")
        for name in ("min_duration", "max_duration"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")

    @property
    def controlled(self) -> Controlled:
        return Controlled(self.evidence_position, None if self.lengths is None else tuple(self.lengths))

    def durations(self, task: Task) -> Range:
        if self.lengths is not None:
            return Range(min(self.lengths), max(self.lengths))
        low = task.min_duration if self.min_duration is None else float(self.min_duration)
        high = task.max_duration if self.max_duration is None else float(self.max_duration)
        if low > high:
            raise ValueError(f"{task.name}: min duration {low:g} s is above max duration {high:g} s")
        if self.crossfade * 2 >= low:
            raise ValueError(f"crossfade {self.crossfade:g} s is too long for a minimum duration of {low:g} s")
        return Range(low, high)

    @property
    def audio(self) -> AudioOptions:
        return AudioOptions(loudness=self.loudness, crossfade=self.crossfade, render_speech=self.render_speech)


@dataclass
class TaskBuild:
    """What one task's build produced (also written to build_report.json)."""

    task: str
    corpus: str
    min_duration: float
    max_duration: float
    instances: int = 0  # rows written
    audio_files: int = 0  # distinct composed recordings (RACE shares one per article)
    output_seconds: float = 0.0  # audio written, counting each recording once
    clips_used: int = 0
    dropped_seconds: float = 0.0  # group tails too short for another instance
    unused_clips: int = 0
    longest_short_group_seconds: float = 0.0  # audio of the longest group too short for any instance


@dataclass
class BuildReport(Report):
    """A Report plus per-task build figures and the wall time (not written to disk)."""

    tasks: dict[str, TaskBuild] = field(default_factory=dict)
    options: BuildOptions | None = None
    wall_seconds: float = 0.0

    @property
    def output_seconds(self) -> float:
        return sum(t.output_seconds for t in self.tasks.values())

    def to_json(self) -> str:
        payload = json.loads(super().to_json())
        payload["options"] = asdict(self.options) if self.options else {}
        payload["tasks"] = {k: _rounded(asdict(v)) for k, v in self.tasks.items()}
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _rounded(d: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


# ---------------------------------------------------------------- one task

def locate_corpora(sources: Path, tasks: Sequence[Task]) -> dict[str, Path]:
    """Corpus folder per task; one error listing every missing corpus with its layout."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for task in tasks:
        corpus = CORPORA[RECIPES[task.name].corpus]
        try:
            found[task.name] = corpus.locate(sources)
        except MissingCorpusError as err:
            msg = f"{task.name} ({task.abbrev}) needs {err}"
            if msg not in missing:
                missing.append(msg)
    if missing:
        raise MissingCorpusError("\n\n".join(missing))
    return found


def _plans(task: Task, folder: Path, sources: Path, options: BuildOptions, stats: TaskBuild
           ) -> Iterator[tuple[InstancePlan | None, list[Issue]]]:
    """(plan, issues met before it) in corpus order; a final (None, trailing issues)."""
    recipe = RECIPES[task.name]
    corpus = CORPORA[recipe.corpus]
    durations = options.durations(task)
    pending: list[Issue] = []
    counters: dict = {}
    for item in _guarded(corpus.groups(folder, sources, task, **recipe.reader_options), task, corpus.name,
                         folder, sources):
        if isinstance(item, Issue):
            pending.append(item)
            continue
        if options.controlled.active:
            plans = plan_controlled(item, task=task.name, corpus=corpus.name, rule=recipe.composition,
                                    low=durations.low, high=durations.high, evidence=recipe.evidence,
                                    controlled=options.controlled, seed=options.seed, audio=options.audio)
        else:
            plans = plan_group(item, task=task.name, corpus=corpus.name, rule=recipe.composition,
                               durations=durations, seed=options.seed, audio=options.audio, stats=counters)
        for plan in plans:
            if isinstance(plan, Issue):
                pending.append(plan)
            else:
                yield plan, pending
                pending = []
    stats.dropped_seconds = counters.get("dropped_seconds", 0.0)
    stats.unused_clips = counters.get("unused_clips", 0)
    stats.longest_short_group_seconds = counters.get("longest_short_group_seconds", 0.0)
    yield None, pending


def _guarded(items: Iterator, task: Task, corpus: str, folder: Path, sources: Path) -> Iterator:
    """A reader's groups and issues; a folder or file it could not get past (readers report
    single unreadable files themselves) ends it with an issue naming the path: the groups read
    so far are kept and no traceback reaches the user."""
    try:
        yield from items
    except (OSError, ValueError, RecursionError) as exc:
        if isinstance(exc, SourceFileError):
            where, why = exc.path, exc.reason
        elif isinstance(exc, OSError):
            where, why = exc.filename or str(folder), f"cannot be read: {os_reason(exc)}"
        else:
            where, why = str(folder), f"{type(exc).__name__}: {exc}"
        yield Issue(rp.UNREADABLE, task.name, CORPORA[corpus].rel(where, sources), "",
                    f"{why}; corpus {corpus} was not read past it")


def _jobs(task: Task, folder: Path, sources: Path, options: BuildOptions, stats: TaskBuild,
          stopped: set[str]) -> Iterator[tuple[InstancePlan | None, tuple]]:
    """Executor items for one task: (plan, (task name, plan, issues before it)). Stops early
    once ``task.name`` is in ``stopped`` (its --limit is reached)."""
    for plan, pending in _plans(task, folder, sources, options, stats):
        if task.name in stopped:
            return
        yield plan, (task.name, plan, pending)


def task_rows(task: Task, sources: str | Path, options: BuildOptions, report: Report, executor: Executor,
              stats: TaskBuild | None = None, folder: Path | None = None, progress: bool = False) -> Iterator[Row]:
    """Stream the rows of one task. Issues go to ``report`` in plan order."""
    sources = Path(sources).resolve()
    corpus = CORPORA[RECIPES[task.name].corpus]
    folder = Path(folder) if folder is not None else corpus.locate(sources)
    durations = options.durations(task)
    stats = stats or TaskBuild(task.name, corpus.name, durations.low, durations.high)
    stopped: set[str] = set()
    results = executor.map_ordered(compose, _jobs(task, folder, sources, options, stats, stopped),
                                   skip=lambda ctx: ctx[0] in stopped)
    yield from _rows(task, results, folder, options, report, stats, stopped, progress)


def _rows(task: Task, results: Iterator[tuple[tuple, Composed | None]], folder: Path, options: BuildOptions,
          report: Report, stats: TaskBuild, stopped: set[str], progress: bool) -> Iterator[Row]:
    """Rows from one task's composed instances, in plan order."""
    recipe = RECIPES[task.name]
    corpus = CORPORA[recipe.corpus]
    maker = QUESTION_MAKERS[recipe.questions]
    vocabulary = corpus.vocabulary(folder)
    attempted = 0
    same_item: tuple = (None, None)
    bar = TaskProgress(f"build {task.name}", "s audio", enabled=progress, decimals=1)
    try:
        for (_, plan, pending), composed in results:
            report.extend(pending)
            attempted += sum(1 for i in pending if i.kind == rp.TOO_SHORT)
            if composed is None:
                continue
            composed: Composed
            report.extend(composed.issues)
            if not composed.ok:
                attempted += 1
                continue
            rng = rng_for(options.seed, task.name, plan.group_key, str(plan.index))
            try:
                base = (plan.group_meta.get("controlled") or {}).get("base")
                # a controlled item's shorter versions reuse the question of its longest (made first)
                qas = same_item[1] if base is not None and same_item[0] == base else maker(task, composed, rng, vocabulary)
                same_item = (base, qas)
            except NoQuestion as exc:
                attempted += 1
                report.add(Issue(rp.NO_QUESTION, task.name, plan.group_file,
                                 f"group={plan.group_key} instance={plan.index}", f"{exc}; no instance"))
                continue
            stats.audio_files += 1
            stats.output_seconds += composed.duration
            stats.clips_used += len(composed.placed)
            bar.update(composed.duration)
            base_meta = {k: v for k, v in plan.group_meta.items() if k != "questions"}
            base_meta.update({
                "corpus": corpus.name, "group": plan.group_key, "instance_in_group": plan.index,
                "seed": options.seed, "target_duration": plan.target, "num_clips": len(composed.placed),
                "source_sampling_rates": sorted({p.source_rate for p in composed.placed}),
            })
            for qa in qas:
                if options.limit is not None and stats.instances >= options.limit:
                    stopped.add(task.name)
                    return
                attempted += 1
                yield Row(
                    id=f"{task.name}-{stats.instances:05d}", task=task.name, audio=composed.flac,
                    duration=composed.duration, question=qa.question, choices=qa.choices, answer=qa.answer,
                    answer_text=qa.answer_text, segments=segments_with_evidence(composed.placed, qa, recipe.evidence),
                    meta={**base_meta, **qa.meta},
                )
                stats.instances += 1
    finally:
        bar.close()
        report.set_counts(task.name, attempted, stats.instances)


# ---------------------------------------------------------------- whole benchmark

def build_benchmark(
    sources: str | Path,
    out: str | Path,
    tasks: str | Sequence[str] | None = None,
    seed: int = 0,
    num_proc: int = 1,
    min_duration: float | None = None,
    max_duration: float | None = None,
    limit: int | None = None,
    progress: bool = True,
    loudness: float | None = None,
    crossfade: float = 0.0,
    render_speech: bool = True,
    evidence_position: str | None = None,
    durations: Sequence[float] | None = None,
) -> BuildReport:
    """Compose the selected tasks (default: all 10) from the corpora under ``sources`` into
    ``out`` (parquet shards + dataset card + build_report.json, the import-release layout).

    ``out`` is written atomically: a failure leaves it as it was. In a folder that already holds a
    dataset only the selected configs (with the card, version and report) are replaced; its other
    configs and files stay. An ``out`` that is or holds ``sources`` is refused. Raises
    MissingCorpusError (naming the expected layouts) before anything is written,
    ValueError for bad options, BuildFailed when no instance at all could be built.
    ``evidence_position`` / ``durations`` make a controlled build (see ``controlled``).
    """
    started = time.perf_counter()
    sources = Path(sources).resolve()
    if not sources.is_dir():
        raise FileNotFoundError(f"sources folder {sources} does not exist or is not a directory")
    check_output(out, [sources])
    selected = resolve_tasks(tasks)
    options = BuildOptions(seed=seed, min_duration=min_duration, max_duration=max_duration, limit=limit,
                           loudness=loudness, crossfade=crossfade, render_speech=render_speech,
                           evidence_position=evidence_position, lengths=None if durations is None else tuple(durations))
    ranges = {t.name: options.durations(t) for t in selected}  # validates before any work
    if options.controlled.active:
        if crossfade:
            raise ValueError("a controlled build places clips exactly: --crossfade must be 0")
        for t in selected:
            recipe = RECIPES[t.name]
            check_task(t.name, recipe.questions, recipe.evidence, options.controlled)
    folders = locate_corpora(sources, selected)
    report = BuildReport(options=options)
    for task in selected:
        report.tasks[task.name] = TaskBuild(task.name, RECIPES[task.name].corpus, ranges[task.name].low,
                                            ranges[task.name].high)
    stopped: set[str] = set()
    # one job stream across all tasks: the workers start on the next task while the
    # main process still writes the last rows of the current one
    jobs = chain.from_iterable(_jobs(task, folders[task.name], sources, options, report.tasks[task.name], stopped)
                               for task in selected)
    by_name = {task.name: task for task in selected}
    with Executor(num_proc, preload=compose.__module__) as executor:
        # workers start before the writer's set-up; a task's jobs past its --limit are dropped
        results = executor.map_ordered(compose, jobs, skip=lambda ctx: ctx[0] in stopped)
        with DatasetWriter(out) as writer:
            for name, task_results in groupby(results, key=lambda item: item[0][0]):
                task = by_name[name]
                writer.write_task(task, _rows(task, task_results, folders[name], options, report,
                                              report.tasks[name], stopped, progress))
            if not writer.stats:
                report.wall_seconds = time.perf_counter() - started
                path = _write_failure_report(out, report)
                raise BuildFailed(_failure_message(report, path), report, path)
            writer.write_report(REPORT_NAME, report.to_json())
            writer.commit(extra_card_text=_card_section(report))
            report.kept = writer.kept
    failure_report_path(out).unlink(missing_ok=True)  # an earlier failed build's report is out of date
    report.wall_seconds = time.perf_counter() - started
    return report


def failure_report_path(out: str | Path) -> Path:
    """Where a build that made nothing leaves its report: beside OUT (OUT itself stays as it was,
    and a folder holding only a report would not be a dataset folder a later build may write)."""
    out = Path(out).resolve()
    return out.parent / f"{out.name}.{REPORT_NAME}"


def _write_failure_report(out: str | Path, report: BuildReport) -> Path | None:
    from audiomarathon.files import write_atomic

    path = failure_report_path(out)
    try:
        write_atomic(path, report.to_json())
    except OSError:
        return None  # the failure itself is the message; a report that cannot be written is not a second one
    return path


def duration_hint(report: BuildReport) -> tuple[float, float] | None:
    """``(min, max)`` durations in whole seconds with which every task that made nothing because
    its groups were too short has a group long enough for an instance: the maximum is the audio of
    the longest such group of the task that has least (rounded up, so that group's clips all fit),
    the minimum half of it. None when no task failed that way."""
    longest = [t.longest_short_group_seconds for t in report.tasks.values()
               if t.instances == 0 and t.longest_short_group_seconds > 0]
    if not longest:
        return None
    high = math.ceil(min(longest))
    if high < 2:
        return None
    return max(1, high // 2), high


def _failure_message(report: BuildReport, path: Path | None) -> str:
    lines = ["no instance could be built: " + report.summary_line()]
    hint = duration_hint(report)
    if hint is not None:
        held = ", ".join(f"{name} {t.longest_short_group_seconds:.1f} s" for name, t in report.tasks.items()
                         if t.longest_short_group_seconds > 0)
        ranges = sorted({f"{t.min_duration:g}-{t.max_duration:g} s" for t in report.tasks.values()})
        lines.append(f"every group is shorter than an instance's minimum duration ({', '.join(ranges)}); the longest "
                     f"group of each task holds: {held}")
        lines.append(f"for sources this short, give shorter instances, e.g. --min-duration {hint[0]} "
                     f"--max-duration {hint[1]}")
    if path is not None:
        lines.append(f"the report, every group by file: {path}")
    return "\n".join(lines)


def _card_section(report: BuildReport) -> str:
    o = report.options
    lines = [
        "",
        "## How this copy was built",
        "",
        ("Composed from the source corpora with `audiomarathon build` "
         f"(seed {o.seed}; loudness {f'normalized to {o.loudness:g} LUFS' if o.loudness is not None else 'unchanged'}; "
         f"crossfade {o.crossfade:g} s). Duration range per task:"),
        "",
    ]
    for name, t in report.tasks.items():
        lines.append(f"- {name}: {t.min_duration:g}–{t.max_duration:g} s from corpus `{t.corpus}`")
    lines.append("")
    lines.append("`build_report.json` lists every skipped clip and group by file.")
    lines.append("")
    return "\n".join(lines)
