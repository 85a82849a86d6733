"""Which file or folder of a release holds which task, decided by content at any depth.

A metadata JSON is assigned by the first of these rules that names a task:

1. ``file name``   the authors' metadata file names (``acoustic_scene_task_meta.json``, ...)
2. ``task name``   its records' ``task_name`` / ``dataset_name`` / ``task`` values
3. ``label field`` a field only one task's records carry (``scene_label``, ``speaker_age``, ...)
4. ``answer set``  every option of every record belongs to one task's label set
5. ``shape``       DESED's ``{"tasks": [...]}`` and RACE's ``audio_path``/``options`` records
6. ``folder name`` an enclosing folder named after a task (``TAU/``, ``asc/``): the layout
                   with one folder per task

MMAR's and AIR-Bench Foundation's metadata are recognized before these rules, by their records
(``benchmark_shapes``): MMAR's ``choices`` lists, Foundation's (``task_name``, ``dataset_name``)
pairs; a Foundation file becomes one source per task it holds. JSON Lines files (``.jsonl``, MMAR's
GitHub copy) are read like JSON files.

Folder layouts: HAD is a folder holding ``real/`` and ``fake/`` sub-folders; LibriSpeech is a
``<speaker>/<chapter>/`` tree of audio with transcripts (``test-clean/`` in the release).
The names and fields come from the task registry. A rule that names two tasks for one file,
two sources for one task, and a metadata file no rule recognizes are errors listing the
paths; ``task_files`` (``--task-file TASK=PATH``) settles them explicitly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiomarathon.tasks import ALL_TASKS, TASKS, Task, get_task, task_for_folder

from .. import report as rp
from ..files import SourceFileError, is_audio_name, lexical_rel, read_metadata, walk_visible
from ..report import Issue
from .paths import within
from .benchmark_shapes import FOUNDATION_LAYOUT, LayoutConflict, benchmark_layout
from .shapes import DesedTasks, FlatChoices, LibriSpeechTree, RaceList, RealFakeFolders, detect_json_shape, position

JSON = "json"
REAL_FAKE = RealFakeFolders.name
LIBRISPEECH = LibriSpeechTree.name
EXPLICIT = "--task-file"


@dataclass(frozen=True)
class Source:
    """One metadata file (or folder layout) and the task it was assigned to."""

    task: str
    path: Path  # absolute
    kind: str  # JSON, REAL_FAKE or LIBRISPEECH
    rule: str  # the rule that assigned it
    chapters: tuple[Path, ...] = ()  # LibriSpeech: the <speaker>/<chapter> folders


@dataclass
class Discovery:
    """Everything found under a release root."""

    root: Path
    sources: dict[str, list[Source]] = field(default_factory=dict)  # task -> its sources
    unrecognized: list[Path] = field(default_factory=list)  # record files no rule assigns
    conflicts: list[tuple[Path, list[str], str]] = field(default_factory=list)  # file, tasks, rule
    issues: list[Issue] = field(default_factory=list)  # unreadable / non-metadata JSON (skipped)
    documents: dict[Path, Any] = field(default_factory=dict)  # parsed JSON, read once

    def rel(self, path: Path) -> str:
        return lexical_rel(path, self.root)


class DiscoveryError(ValueError):
    """The release cannot be assigned to tasks without guessing; the message lists the paths."""


# ------------------------------------------------------------------------------ JSON rules

def _norm(value: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def _records(obj: Any) -> list[dict]:
    shape = detect_json_shape(obj)
    items = shape.items(obj) if shape is not None else None
    return [r for r in items or [] if isinstance(r, dict)]


def _options(records: list[dict]) -> set[str]:
    found: set[str] = set()
    for r in records:
        if isinstance(r.get("choices"), dict):
            found.update(str(v) for v in r["choices"].values())
        elif isinstance(r.get("options"), list):
            found.update(str(v) for v in r["options"])
        else:
            found.update(str(r[k]) for k in FlatChoices.CHOICE_KEYS if r.get(k) not in (None, ""))
    return found


def by_file_name(path: Path, obj: Any, root: Path) -> list[Task]:
    return [t for t in ALL_TASKS if path.name.lower() in {f.lower() for f in t.release_files}]


def by_task_name(path: Path, obj: Any, root: Path) -> list[Task]:
    names = {_norm(r[k]) for r in _records(obj) for k in ("task_name", "dataset_name", "task") if r.get(k)}
    return [t for t in TASKS if names & {_norm(n) for n in t.release_names}]


def by_label_field(path: Path, obj: Any, root: Path) -> list[Task]:
    keys = {k for r in _records(obj) for k in r}
    return [t for t in TASKS if keys & set(t.release_fields)]


def by_answer_set(path: Path, obj: Any, root: Path) -> list[Task]:
    options = _options(_records(obj))
    if not options:
        return []
    return [t for t in TASKS if t.labels and all(t.option_label(o) is not None for o in options)]


_SHAPE_TASKS = {DesedTasks.name: "DESED", RaceList.name: "RACE"}


def by_shape(path: Path, obj: Any, root: Path) -> list[Task]:
    shape = detect_json_shape(obj)
    return [get_task(_SHAPE_TASKS[shape.name])] if shape is not None and shape.name in _SHAPE_TASKS else []


def by_folder_name(path: Path, obj: Any, root: Path) -> list[Task]:
    folder = path.parent
    while folder != root and root in folder.parents:
        task = task_for_folder(folder.name)
        if task is not None:
            return [task]
        folder = folder.parent
    return []


Rule = Callable[[Path, Any, Path], list[Task]]
JSON_RULES: tuple[tuple[str, Rule], ...] = (
    ("file name", by_file_name),
    ("task name", by_task_name),
    ("label field", by_label_field),
    ("answer set", by_answer_set),
    ("shape", by_shape),
    ("folder name", by_folder_name),
)
NAME_RULES = ("file name", "folder name")  # the rules that need no readable content


def classify_json(path: Path, obj: Any, root: Path, rules: Iterable[tuple[str, Rule]] = JSON_RULES) -> tuple[list[Task], str]:
    """(tasks, rule) for the first rule naming any task; ([], "") when none does."""
    for name, rule in rules:
        tasks = rule(path, obj, root)
        if tasks:
            return tasks, name
    return [], ""


# ---------------------------------------------------------------------------- folder rules

def _is_transcript_folder(files: list[str]) -> bool:
    if any(f.endswith(".trans.txt") for f in files):
        return True
    bases = {os.path.splitext(f)[0] for f in files if is_audio_name(f)}
    return any(f.endswith(".txt") and f[:-4] in bases for f in files)


def _tree_root(chapter: Path, root: Path) -> Path:
    """LibriSpeech ids are numbers: <tree>/<speaker>/<chapter>; any other folder holding
    transcripts is a tree of its own."""
    tree = chapter.parent.parent
    if chapter.name.isdigit() and chapter.parent.name.isdigit() and (tree == root or root in tree.parents):
        return tree
    return chapter


def _read_json(path: Path, disc: Discovery) -> Any | None:
    try:
        return read_metadata(path)
    except SourceFileError as err:
        disc.issues.append(Issue(rp.MALFORMED_JSON, _task_by_name(path, disc.root), disc.rel(path), err.where,
                                 err.reason))
    return None


def _task_by_name(path: Path, root: Path) -> str:
    """The task an unreadable file would have been, by its name alone (for the report)."""
    tasks, _ = classify_json(path, None, root, [r for r in JSON_RULES if r[0] in NAME_RULES])
    return tasks[0].name if len(tasks) == 1 else ""


def _add(disc: Discovery, source: Source) -> None:
    disc.sources.setdefault(source.task, []).append(source)


def discover(root: str | Path, skip: Sequence[Path] = ()) -> Discovery:
    """Walk ``root`` (symlinked folders are not followed, hidden ones skipped) and assign
    every metadata file and folder layout found to a task. ``skip``: paths whose subtree
    is not looked at (files given explicitly, the output folder)."""
    root = Path(root).resolve()
    disc = Discovery(root)
    skipped = {Path(p).resolve() for p in skip}
    chapters: dict[Path, list[Path]] = {}
    for here, dirnames, files in walk_visible(root, skip):
        if "real" in dirnames and "fake" in dirnames:
            _add(disc, Source("HAD", here, REAL_FAKE, "real/ + fake/ folders"))
        if _is_transcript_folder(files):
            chapters.setdefault(_tree_root(here, root), []).append(here)
        for name in files:
            path = here / name
            if not name.lower().endswith((".json", ".jsonl")) or path in skipped:
                continue
            if not within(path, root):
                disc.issues.append(Issue(rp.PATH_OUTSIDE_ROOT, "", disc.rel(path), "",
                                         "a link leading outside the release root; refused, not read"))
                continue
            if not path.is_file():  # a FIFO or device would block or never end
                disc.issues.append(Issue(rp.MALFORMED_JSON, "", disc.rel(path), "", "not a regular file; skipped"))
                continue
            obj = _read_json(path, disc)
            if obj is None:
                continue
            if _other_benchmark(path, obj, disc):
                continue
            if detect_json_shape(obj) is None:
                disc.issues.append(Issue(rp.UNKNOWN_SHAPE, _task_by_name(path, root), disc.rel(path), "",
                                         "JSON matches no known release metadata shape; skipped"))
                continue
            disc.documents[path] = obj
            tasks, rule = classify_json(path, obj, root)
            if not tasks:
                disc.unrecognized.append(path)
            elif len(tasks) > 1:
                disc.conflicts.append((path, [t.name for t in tasks], rule))
            else:
                _add(disc, Source(tasks[0].name, path, JSON, rule))
    for tree, found in sorted(chapters.items()):
        _add(disc, Source("LibriSpeech", tree, LIBRISPEECH, "<speaker>/<chapter>/ transcripts", tuple(sorted(found))))
    return disc


def _other_benchmark(path: Path, obj: Any, disc: Discovery) -> bool:
    """Assign an MMAR or AIR-Bench Foundation metadata file (True), or leave it to the rules above."""
    try:
        layout = benchmark_layout(obj)
    except LayoutConflict as err:
        disc.documents[path] = obj
        disc.conflicts.append((path, ["AIR-Bench Foundation", "AudioMarathon"], f"records ({err})"))
        return True
    if layout is None:
        return False
    rule, names, stray = layout
    disc.documents[path] = obj
    for name in names:
        _add(disc, Source(name, path, JSON, rule))
    disc.issues.extend(Issue(rp.BAD_RECORD, "", disc.rel(path), position(obj, i), f"{why}; skipped")
                       for i, why in stray)
    if rule == FOUNDATION_LAYOUT and not names:
        disc.unrecognized.append(path)
    return True


# ------------------------------------------------------------------------- explicit files

def parse_task_files(specs: Mapping[str, Any] | Iterable[str] | None) -> list[tuple[str, str]]:
    """``{"TAU": "a/meta.json"}`` or ``["TAU=a/meta.json", ...]`` -> [(config name, path)]."""
    if not specs:
        return []
    pairs = []
    items = specs.items() if isinstance(specs, Mapping) else (str(s).partition("=")[::2] for s in specs)
    for name, path in items:
        values = path if isinstance(path, (list, tuple)) else [path]
        for value in values:
            if not str(name).strip() or not str(value).strip():
                raise DiscoveryError(f"--task-file expects TASK=PATH, got {name}={value}".rstrip("="))
            pairs.append((get_task(str(name)).name, str(value).strip()))
    return pairs


def explicit_source(task: str, listed: str, root: Path) -> Source:
    """The source a ``--task-file TASK=PATH`` names: a metadata file, a real/ + fake/ folder or
    a LibriSpeech tree, relative to the release root (or absolute inside it)."""
    path = Path(listed)
    path = (path if path.is_absolute() else root / path)
    lexical = Path(os.path.normpath(path))
    if not (lexical == root or root in lexical.parents) or not (path.resolve() == root or root in path.resolve().parents):
        raise DiscoveryError(f"--task-file {task}={listed}: the path is outside the release root {root}; refused")
    path = path.resolve()
    if path.is_file():
        return Source(task, path, JSON, EXPLICIT)
    if path.is_dir():
        names = {p.name for p in path.iterdir() if p.is_dir()}
        if {"real", "fake"} <= names:
            return Source(task, path, REAL_FAKE, EXPLICIT)
        found = [here for here, _, files in walk_visible(path) if _is_transcript_folder(files)]
        if found:
            return Source(task, path, LIBRISPEECH, EXPLICIT, tuple(sorted(found)))
        raise DiscoveryError(f"--task-file {task}={listed}: a folder, but neither real/ + fake/ folders "
                             "nor LibriSpeech transcripts are in it; give a metadata JSON file instead")
    raise DiscoveryError(f"--task-file {task}={listed}: no such file or folder under {root}")


# ------------------------------------------------------------------------------ settling

def settle(disc: Discovery, selected: Sequence[str], explicit: Sequence[Source]) -> dict[str, list[Source]]:
    """One set of sources per selected task, or DiscoveryError naming every ambiguity:
    explicit sources replace what discovery found for their task (and are no longer
    candidates for any other task)."""
    given = {s.path for s in explicit}
    by_task: dict[str, list[Source]] = {}
    for source in explicit:
        by_task.setdefault(source.task, []).append(source)
    problems = []
    for task in selected:
        if task in by_task:
            continue
        found = [s for s in disc.sources.get(task, []) if s.path not in given]
        if len(found) > 1:
            listed = "\n".join(f"    {disc.rel(s.path)}  ({s.rule})" for s in found)
            problems.append(f"  {len(found)} sources claim {task}:\n{listed}\n"
                            f"    pick one with --task-file {task}=PATH")
        elif found:
            by_task[task] = found
    for path, tasks, rule in disc.conflicts:
        if path in given:
            continue
        problems.append(f"  {disc.rel(path)}: its {rule} names several tasks ({', '.join(tasks)}); "
                        f"assign it with --task-file TASK={disc.rel(path)}")
    for path in disc.unrecognized:
        if path in given:
            continue
        problems.append(f"  {disc.rel(path)}: metadata records no rule assigns to a task (file name, task "
                        f"name, label field, answer set, shape, folder name); assign it with "
                        f"--task-file TASK={disc.rel(path)} or move it out of the release")
    if problems:
        raise DiscoveryError(f"cannot tell which task some release files hold in {disc.root}; nothing was "
                             "imported:\n" + "\n".join(problems))
    return {t: by_task[t] for t in selected if t in by_task}
