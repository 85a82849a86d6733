"""VESUS (Varied Emotion in Syntactically Uniform Speech): per-actor folders
``VESUS/Audio/<actor>/<emotion>/<NNN>.wav``; an optional key ``VESUS/VESUS_Key.csv``
(columns ``File``/``path`` and ``Emotion``) overrides the folder label.

One group per actor and emotion: an instance is one actor speaking in one emotion.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import SourceFileError, read_text, sorted_dirs, walk_audio
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  VESUS/Audio/<actor>/<emotion>/<NNN>.wav      (emotion folders: angry, fearful, happy, neutral, sad)
  VESUS/VESUS_Key.csv   optional; columns File (path relative to VESUS/Audio or the file name) and Emotion
                        (case-insensitive; 'fear'/'fearful', 'happiness'/'happy' are accepted)"""

ALIASES = {"fear": "fearful", "happiness": "happy", "anger": "angry", "sadness": "sad"}
FILE_COLUMNS = ("file", "path", "filename", "file_name")
EMOTION_COLUMNS = ("emotion", "intended_emotion", "label", "emotion_label")


def _norm(label: str) -> str:
    key = label.strip().lower()
    return ALIASES.get(key, key)


@dataclass(frozen=True)
class VESUS(Corpus):
    def _key(self, folder: Path, sources: Path, task: Task) -> tuple[dict[str, str], list[Issue]]:
        keys = sorted(folder.glob("*[Kk]ey*.csv"))
        labels: dict[str, str] = {}
        issues: list[Issue] = []
        for path in keys:
            try:
                text = read_text(path, "utf-8-sig")
            except SourceFileError as err:
                issues.append(Issue(UNREADABLE, task.name, self.rel(path, sources), "", f"{err.reason}; key ignored"))
                continue
            reader = csv.DictReader(io.StringIO(text, newline=""))
            cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
            fcol = next((cols[c] for c in FILE_COLUMNS if c in cols), None)
            ecol = next((cols[c] for c in EMOTION_COLUMNS if c in cols), None)
            if fcol is None or ecol is None:
                issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), "header",
                                    "needs a File and an Emotion column; key ignored"))
                continue
            for n, row in enumerate(reader, 2):
                emotion = _norm(row.get(ecol) or "")
                name = (row.get(fcol) or "").strip().replace("\\", "/")
                if emotion not in task.labels or not name:
                    issues.append(Issue(BAD_RECORD, task.name, self.rel(path, sources), f"line {n}",
                                        f"emotion {row.get(ecol)!r} is not one of {', '.join(task.labels)}; row ignored"))
                    continue
                labels[name] = emotion
        return labels, issues

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        audio_root = folder / "Audio" if (folder / "Audio").is_dir() else folder
        key, issues = self._key(folder, sources, task)
        yield from issues
        for actor in sorted_dirs(audio_root):
            by_emotion: dict[str, list[ClipRef]] = {}
            try:
                paths = list(walk_audio(actor))  # one actor's files: a few hundred names
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, self.rel(err.path, sources), "", f"{err.reason}; actor skipped")
                continue
            for path in paths:
                rel_audio = path.relative_to(audio_root).as_posix()
                emotion = key.get(rel_audio) or key.get(path.name) or key.get(path.stem)
                if emotion is None:
                    folder_label = next((_norm(p) for p in path.relative_to(actor).parts[:-1]
                                         if _norm(p) in task.labels), None)
                    emotion = folder_label
                if emotion is None:
                    yield Issue(BAD_RECORD, task.name, self.rel(path, sources), "",
                                "no emotion label (neither in the key nor an emotion folder); clip skipped")
                    continue
                by_emotion.setdefault(emotion, []).append(ClipRef(str(path), self.rel(path, sources)))
            for emotion in sorted(by_emotion):
                yield Group(f"{actor.name}/{emotion}", self.rel(actor, sources), by_emotion[emotion],
                            label=emotion, meta={"actor": actor.name, "emotion_label": emotion})


CORPUS = VESUS(name="vesus", title="VESUS emotional speech", folders=("VESUS", "vesus"), layout=LAYOUT)
