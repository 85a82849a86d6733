"""VoxCeleb1/2: speaker folders ``VoxCeleb/vox1/wav/id10001/<video>/<utt>.wav`` and
``VoxCeleb/vox2/aac/id00012/<video>/<utt>.m4a`` (any depth under ``VoxCeleb/``), gender from
``vox1_meta.csv`` / ``vox2_meta.csv``, age from an age-label csv (``*age*.csv``, e.g. the
VoxCeleb enrichment's per-video ages; a speaker's age is the median of its rows).

One group per speaker (one instance per speaker); the gender and age tasks therefore
compose the same audio for a speaker with the same seed.
"""

from __future__ import annotations

import csv
import os
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import SourceFileError, raise_folder_error, read_text, walk_audio
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  VoxCeleb/vox1_meta.csv   tab-separated "VoxCeleb1 ID<TAB>VGGFace1 ID<TAB>Gender<TAB>Nationality<TAB>Set" (gender m/f)
  VoxCeleb/vox2_meta.csv   comma-separated "VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set " (optional)
  VoxCeleb/<any folders>/id10001/<video id>/00001.wav   (VoxCeleb1 wav/ trees; VoxCeleb2 aac/ .m4a trees)
  VoxCeleb/<name containing 'age'>.csv   age labels for VoxAge: a speaker id column
      (VoxCeleb_ID, speaker_id or id) and an age column (age or speaker_age); one row per speaker or per video"""

SPEAKER_DIR = re.compile(r"^id\d{5}$")
ID_COLUMNS = ("voxceleb_id", "voxceleb1 id", "voxceleb2 id", "speaker_id", "speaker", "id")
AGE_COLUMNS = ("age", "speaker_age")
GENDER = {"m": "Male", "male": "Male", "f": "Female", "female": "Female"}


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = read_text(path, "utf-8-sig")
    first = text.splitlines()[0] if text else ""
    delimiter = "\t" if "\t" in first else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    if not rows:
        return [], []
    header = [h.strip().lower() for h in rows[0]]
    return header, [{h: (v.strip() if v else "") for h, v in zip(header, r)} for r in rows[1:] if r]


def _column(header: list[str], wanted: tuple[str, ...], contains: str = "") -> str | None:
    for w in wanted:
        if w in header:
            return w
    if contains:
        return next((h for h in header if contains in h), None)
    return None


def age_bins(labels: tuple[str, ...]) -> list[tuple[int, float, str]]:
    """(low, high, label) parsed from the registry's labels: 'Senior (51-70)', 'Elderly (71+)'."""
    bins = []
    for label in labels:
        m = re.search(r"\((\d+)\s*-\s*(\d+)\)", label)
        if m:
            bins.append((int(m.group(1)), float(m.group(2)), label))
            continue
        m = re.search(r"\((\d+)\+\)", label)
        if m:
            bins.append((int(m.group(1)), float("inf"), label))
    if len(bins) != len(labels):
        raise ValueError(f"cannot read age ranges from labels {labels}")
    return bins


def age_label(age: float, bins) -> str | None:
    for low, high, label in bins:
        if low <= age < high + 1:
            return label
    return None


@dataclass(frozen=True)
class VoxCeleb(Corpus):
    def looks_valid(self, folder: Path) -> bool:
        return any(folder.glob("vox*_meta.csv"))

    def genders(self, folder: Path, sources: Path, task: Task) -> tuple[dict[str, str], list[Issue]]:
        out: dict[str, str] = {}
        issues = []
        for path in sorted(folder.glob("vox*_meta.csv")):
            try:
                header, rows = _read_table(path)
            except SourceFileError as err:
                issues.append(Issue(UNREADABLE, task.name, self.rel(path, sources), "", f"{err.reason}; file ignored"))
                continue
            id_col = _column(header, ID_COLUMNS, contains="id")
            g_col = _column(header, ("gender",))
            if id_col is None or g_col is None:
                issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), "header",
                                    "needs a VoxCeleb ID and a Gender column; file ignored"))
                continue
            for n, row in enumerate(rows, 2):
                gender = GENDER.get(row.get(g_col, "").lower())
                if gender is None:
                    issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), f"line {n}",
                                        f"gender {row.get(g_col)!r} is not m/f; row ignored"))
                    continue
                out[row[id_col]] = gender
        return out, issues

    def ages(self, folder: Path, sources: Path, task: Task) -> tuple[dict[str, str], list[Issue]]:
        bins = age_bins(task.labels)
        per_speaker: dict[str, list[float]] = {}
        issues = []
        files = sorted(p for p in folder.glob("*.csv") if "age" in p.name.lower())
        if not files:
            issues.append(Issue(BAD_RECORD, task.name, self.rel(folder, sources), "",
                                "no age-label csv (a file named *age*.csv) found; no VoxAge instance can be labelled"))
        for path in files:
            try:
                header, rows = _read_table(path)
            except SourceFileError as err:
                issues.append(Issue(UNREADABLE, task.name, self.rel(path, sources), "", f"{err.reason}; file ignored"))
                continue
            id_col = _column(header, ID_COLUMNS)
            a_col = _column(header, AGE_COLUMNS)
            if id_col is None or a_col is None:
                issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), "header",
                                    f"needs a speaker id column ({', '.join(ID_COLUMNS)}) and an age column; file ignored"))
                continue
            for n, row in enumerate(rows, 2):
                try:
                    per_speaker.setdefault(row[id_col], []).append(float(row[a_col]))
                except (KeyError, ValueError):
                    issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), f"line {n}",
                                        f"age {row.get(a_col)!r} is not a number; row ignored"))
        out = {}
        for speaker, ages in per_speaker.items():
            label = age_label(statistics.median(ages), bins)
            if label is None:
                issues.append(Issue(BAD_RECORD, task.name, "", f"speaker={speaker}",
                                    f"age {statistics.median(ages):g} is outside the age groups; speaker skipped"))
            else:
                out[speaker] = label
        return out, issues

    def speaker_dirs(self, folder: Path) -> Iterator[Path]:
        for dirpath, dirnames, _ in os.walk(folder, onerror=raise_folder_error):
            dirnames.sort()
            speakers = [d for d in dirnames if SPEAKER_DIR.match(d)]
            for d in speakers:
                yield Path(dirpath) / d
            dirnames[:] = [d for d in dirnames if not SPEAKER_DIR.match(d)]  # do not descend into speakers

    def groups(self, folder: Path, sources: Path, task: Task, label: str = "gender") -> Iterator[Group | Issue]:
        labels, issues = (self.ages if label == "age" else self.genders)(folder, sources, task)
        yield from issues
        unlabelled = []
        for speaker_dir in self.speaker_dirs(folder):
            speaker = speaker_dir.name
            value = labels.get(speaker)
            if value is None:
                unlabelled.append(speaker)
                continue
            try:
                clips = [ClipRef(str(p), self.rel(p, sources)) for p in walk_audio(speaker_dir)]
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, self.rel(err.path, sources), "", f"{err.reason}; speaker skipped")
                continue
            if clips:
                yield Group(speaker, self.rel(speaker_dir, sources), clips, label=value,
                            meta={"speaker_id": speaker, f"speaker_{label}": value})
        if unlabelled:
            shown = ", ".join(unlabelled[:10]) + (" ..." if len(unlabelled) > 10 else "")
            yield Issue(BAD_RECORD, task.name, self.rel(folder, sources), "",
                        f"{len(unlabelled)} speaker folder(s) have no {label} label and were skipped: {shown}")


CORPUS = VoxCeleb(name="voxceleb", title="VoxCeleb1/2", folders=("VoxCeleb", "voxceleb", "VoxCeleb1"), layout=LAYOUT)
