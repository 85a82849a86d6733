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

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def extend(self, issues) -> None:
        self.issues.extend(issues)

    def add_source(self, task: str, path: str, rule: str, records: int) -> None:
        self.sources.append({"task": task, "path": path, "rule": rule, "records": records})

    def source_lines(self) -> list[str]:
        """One line per source: ``TAU <- subsetTAU/.../acoustic_scene_task_meta.json (file name): 1145 records``."""
        return [f"{s['task']} <- {s['path']} ({s['rule']}): {s['records']} record(s)" for s in self.sources]

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
            "issues_by_kind": dict(sorted(self.by_kind().items())),
            "issues": [asdict(i) for i in self.issues],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


# Kinds added by the builder.
TOO_LONG = "clip_too_long"  # a clip or instance over the maximum where the task never cuts clips
NO_QUESTION = "no_question"  # a composed instance offers no valid question (no entity, no absent event)
UNREADABLE = "unreadable_file"  # a metadata file, transcript or folder that cannot be read (permissions, encoding, loops)
MISSING_CLASS = "missing_class"  # a label class with no record at all (e.g. an empty or unreadable HAD fake/)
