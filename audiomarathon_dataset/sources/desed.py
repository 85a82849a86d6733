"""DESED (Domestic Environment Sound Event Detection), real recordings with strong labels:
``DESED/metadata/validation/validation.tsv`` (``filename onset offset event_label``, one row
per event, tab-separated) and the 10 s clips under ``DESED/audio/validation/``; the public
evaluation set (``metadata/eval/public.tsv`` + ``audio/eval/public/``) is read the same way.

One pool per label file. The composer packs clips so each instance keeps some event
classes absent (they become the distractors) and records every event's position.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..audio_io import MISSING
from ..files import SourceFileError, read_text
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group, Span, audio_index

LAYOUT = """  DESED/metadata/validation/validation.tsv   tab-separated "filename<TAB>onset<TAB>offset<TAB>event_label"
  DESED/audio/validation/<filename>          (any sub-folder of audio/ is searched, e.g. validation_16k/)
  optionally DESED/metadata/eval/public.tsv with DESED/audio/eval/public/<filename>"""

LABEL_FILES = ("metadata/validation/validation.tsv", "metadata/eval/public.tsv")


@dataclass(frozen=True)
class DESED(Corpus):
    def looks_valid(self, folder: Path) -> bool:
        return any((folder / p).is_file() for p in LABEL_FILES)

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        index = audio_index(folder / "audio")  # file names only
        for label_file in LABEL_FILES:
            path = folder / label_file
            if not path.is_file():
                continue
            rel = self.rel(path, sources)
            events: dict[str, list[Span]] = {}
            try:
                text = read_text(path)
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, rel, "", f"{err.reason}; its clips are skipped")
                continue
            reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
            if "filename" not in (reader.fieldnames or []):
                yield Issue(BAD_RECORD, task.name, rel, "header",
                            "no 'filename' column; expected filename, onset, offset, event_label")
                continue
            for n, row in enumerate(reader, 2):
                name = (row.get("filename") or "").strip()
                spans = events.setdefault(name, [])
                label = (row.get("event_label") or "").strip()
                if not label:  # a clip without events
                    continue
                try:
                    onset, offset = float(row["onset"]), float(row["offset"])
                except (KeyError, TypeError, ValueError):
                    yield Issue(BAD_RECORD, task.name, rel, f"line {n}", "onset/offset are not numbers; event ignored")
                    continue
                if label not in task.labels or offset <= onset:
                    yield Issue(BAD_RECORD, task.name, rel, f"line {n}",
                                f"event {label!r} [{onset}, {offset}] is not a valid DESED event; ignored")
                    continue
                spans.append(Span(label, onset, offset))
            clips = []
            for name in sorted(events):
                audio = index.get(Path(name).stem)
                if audio is None:
                    yield Issue(MISSING, task.name, rel, f"filename={name}",
                                f"no audio file {name} under {self.rel(folder / 'audio', sources)}; clip skipped")
                    continue
                spans = tuple(sorted(events[name], key=lambda s: (s.onset, s.label)))
                clips.append(ClipRef(str(audio), self.rel(audio, sources),
                                     labels=frozenset(s.label for s in spans), spans=spans))
            if clips:
                split = Path(label_file).parent.name
                yield Group(split, rel, clips, meta={"split": split})


CORPUS = DESED(name="desed", title="DESED real recordings (strong labels)", folders=("DESED", "desed"), layout=LAYOUT)
