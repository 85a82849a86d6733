"""Problems found while importing or building: each names its file and record, none is silent."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

# Kinds of problem. Audio kinds live in audio_io (missing/undecodable/truncated/empty).
MALFORMED_JSON = "malformed_json"
UNKNOWN_SHAPE = "unknown_shape"
BAD_RECORD = "bad_record"
ANSWER_NOT_IN_OPTIONS = "answer_not_in_options"
DUPLICATE_ID = "duplicate_id"
MISSING_CORPUS = "missing_corpus"
TOO_SHORT = "group_too_short"
PATH_OUTSIDE_ROOT = "path_outside_root"  # a listed path leading out of the release: refused, never read
ARCHIVE_NOT_READ = "archive_not_read"  # an archive format not read, or an archive inside an archive
ARCHIVE_MEMBER_SKIPPED = "archive_member_skipped"  # a link, device or FIFO in an archive: not extracted


@dataclass(frozen=True)
class Issue:
    kind: str
    task: str
    file: str  # path relative to the source root
    record: str  # record locator inside the file ("#12", "uniq_id=...", "" for whole files)
    message: str

    def __str__(self) -> str:
        where = f"{self.file}{' ' + self.record if self.record else ''}"
        return f"[{self.kind}] {self.task}: {where}: {self.message}"


@dataclass
class Report:
    """Collects issues and per-task counts; serialized as the JSON import/build report."""

    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # import-release: which file or folder became which task, by which rule, with how many records
    sources: list[dict] = field(default_factory=list)
    # configs found in the output folder and kept as they were (set once the output is written)
    kept: list[str] = field(default_factory=list)
    # import-release: each archive extracted, with the files and bytes it gave
    archives: list[dict] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def extend(self, issues) -> None:
        self.issues.extend(issues)

    def add_source(self, task: str, path: str, rule: str, records: int) -> None:
        self.sources.append({"task": task, "path": path, "rule": rule, "records": records})

    def add_archive(self, path: str, files: int, n_bytes: int) -> None:
        self.archives.append({"path": path, "files": files, "bytes": n_bytes})

    def source_lines(self) -> list[str]:
        """One line per extracted archive (``extracted GTZAN.zip: 12 file(s), 3.4 MB``), then one per
        source: ``TAU <- subsetTAU/.../acoustic_scene_task_meta.json (file name): 1145 records``."""
        return ([f"extracted {a['path']}: {a['files']} file(s), {a['bytes'] / 1e6:.1f} MB" for a in self.archives]
                + [f"{s['task']} <- {s['path']} ({s['rule']}): {s['records']} record(s)" for s in self.sources])

    def set_counts(self, task: str, records: int, written: int) -> None:
        self.counts[task] = {"records": records, "written": written, "skipped": records - written}

    @property
    def ok(self) -> bool:
        return not self.issues

    def by_kind(self) -> Counter:
        return Counter(i.kind for i in self.issues)

    def summary_line(self) -> str:
        written = sum(c["written"] for c in self.counts.values())
        records = sum(c["records"] for c in self.counts.values())
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.by_kind().items()))
        problems = f"{len(self.issues)} problem(s) ({kinds})" if self.issues else "no problems"
        return f"{written} of {records} records written across {len(self.counts)} task(s); {problems}"

    def kept_line(self) -> str | None:
        """The configs an import or build into an existing dataset folder left as they were."""
        if not self.kept:
            return None
        return (f"kept as they were (already in the output folder, not rewritten): {', '.join(self.kept)}; "
                "the card lists every config present")

    def print_issues(self, limit: int = 20, file=None) -> None:
        """The first ``limit`` issues, one per line (stderr by default), then how many more."""
        import sys

        out = file or sys.stderr
        for issue in self.issues[:limit]:
            print(f"  {issue}", file=out)
        if len(self.issues) > limit:
            print(f"  ... {len(self.issues) - limit} more in the report", file=out)

    def to_json(self) -> str:
        payload = {
            "summary": self.summary_line(),
            "counts": {k: self.counts[k] for k in sorted(self.counts)},
            **({"sources": self.sources} if self.sources else {}),
            **({"archives": self.archives} if self.archives else {}),
            "issues_by_kind": dict(sorted(self.by_kind().items())),
            "issues": [asdict(i) for i in self.issues],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


# Kinds added by the builder.
TOO_LONG = "clip_too_long"  # a clip or instance over the maximum where the task never cuts clips
NO_QUESTION = "no_question"  # a composed instance offers no valid question (no entity, no absent event)
UNREADABLE = "unreadable_file"  # a metadata file, transcript or folder that cannot be read (permissions, encoding, loops)
MISSING_CLASS = "missing_class"  # a label class with no record at all (e.g. an empty or unreadable HAD fake/)


# ---------------------------------------------------------------- a report over several commands

_ENTRIES = ("counts", "sources", "issues", "tasks")  # what is kept per config
_DERIVED = ("summary", "issues_by_kind")  # recomputed from the entries


def _entries(payload: dict, keep: set[str] | None, options_into_tasks: bool) -> dict:
    """The per-config entries of a report payload (all of them when ``keep`` is None)."""
    def wanted(task) -> bool:
        return keep is None or task in keep

    tasks = {t: dict(v) for t, v in (payload.get("tasks") or {}).items() if wanted(t)}
    if options_into_tasks and payload.get("options"):  # an earlier build's options stay with its configs
        for entry in tasks.values():
            entry.setdefault("options", payload["options"])
    return {
        "counts": {t: v for t, v in (payload.get("counts") or {}).items() if wanted(t)},
        "sources": [s for s in payload.get("sources") or [] if wanted(s.get("task"))],
        "issues": [i for i in payload.get("issues") or [] if wanted(i.get("task"))],
        "tasks": tasks,
    }


def merged_report(new: dict | None, old: dict | None, keep: set[str], note: dict) -> dict:
    """One report for a dataset folder whose configs come from several commands: ``new`` (this
    command's; None to only prune ``old``) plus ``old``'s entries for the configs in ``keep``
    (written earlier and still in the folder). Counts, summary and tallies cover both; ``note``
    says which configs came from where. An earlier issue of no config leaves with its run."""
    from audiomarathon.tasks import ALL_TASKS

    old = old or {}
    parts = [_entries(old, keep, options_into_tasks=new is not None)]
    if new is not None:
        parts.append(_entries(new, None, options_into_tasks=False))
    top = {k: v for k, v in (new if new is not None else old).items() if k not in _ENTRIES + _DERIVED}
    counts = {t: c for part in parts for t, c in part["counts"].items()}
    report = Report([Issue(**i) for part in parts for i in part["issues"]], counts,
                    [s for part in parts for s in part["sources"]])
    out = json.loads(report.to_json())
    order = {t.name: i for i, t in enumerate(ALL_TASKS)}
    tasks = {t: v for part in parts for t, v in part["tasks"].items()}
    if tasks:
        out["tasks"] = dict(sorted(tasks.items(), key=lambda kv: order.get(kv[0], len(order))))
    return {**out, **top, **note}
