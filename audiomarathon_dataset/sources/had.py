"""HAD (Half-truth Audio Detection): label files ``HAD/HAD_<split>/HAD_<split>_label.txt`` with
lines ``<name> <start>-<end>-<T|F>/<start>-<end>-<T|F>/... [<label>]`` and the wavs
``HAD/HAD_<split>/<sub>/<name>.wav``.

As in the original build, utterances go to a "real" or a "fake" pool (any F segment makes
an utterance fake) and each pool is concatenated into instances; the fake parts' times
are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..audio_io import MISSING
from ..files import SourceFileError, read_text
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group, Span, audio_index

LAYOUT = """  HAD/HAD_test/HAD_test_label.txt   lines "<name> 0.00-1.94-T/1.94-2.57-F/2.57-3.93-T [label]"
  HAD/HAD_test/<any sub-folder>/<name>.wav   (e.g. HAD/HAD_test/test/; train/dev splits are read the same way)"""

REAL, FAKE = "real", "fake"


def parse_segments(text: str) -> list[Span]:
    spans = []
    for part in text.strip().split("/"):
        start, end, flag = part.rsplit("-", 2)
        flag = flag.strip().upper()
        if flag not in ("T", "F"):
            raise ValueError(f"segment {part!r} is not start-end-T|F")
        s, e = float(start), float(end)
        if e < s:
            raise ValueError(f"segment {part!r} ends before it starts")
        spans.append(Span(REAL if flag == "T" else FAKE, s, e))
    return spans


@dataclass(frozen=True)
class HAD(Corpus):
    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        label_files = sorted(p for p in folder.rglob("*label*.txt"))
        if not label_files:
            yield Issue(BAD_RECORD, task.name, self.rel(folder, sources), "", "no *label*.txt file found")
            return
        index = audio_index(folder)
        pools: dict[str, list[ClipRef]] = {REAL: [], FAKE: []}
        for path in label_files:
            rel = self.rel(path, sources)
            try:
                text = read_text(path)
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, rel, "", f"{err.reason}; its utterances are skipped")
                continue
            for n, line in enumerate(text.splitlines(), 1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) < 2:
                    yield Issue(BAD_RECORD, task.name, rel, f"line {n}", "expected '<name> <segments> [label]'")
                    continue
                try:
                    spans = parse_segments(fields[1])
                except ValueError as exc:
                    yield Issue(BAD_RECORD, task.name, rel, f"line {n}", str(exc))
                    continue
                audio = index.get(fields[0])
                if audio is None:
                    yield Issue(MISSING, task.name, rel, f"line {n}",
                                f"no audio file {fields[0]}.wav under {self.rel(folder, sources)}")
                    continue
                pool = FAKE if any(s.label == FAKE for s in spans) else REAL
                pools[pool].append(ClipRef(str(audio), self.rel(audio, sources), spans=tuple(spans)))
        for pool in (REAL, FAKE):
            if pools[pool]:
                label = next(lab for lab in task.labels if lab.lower() == pool)
                yield Group(pool, self.rel(folder, sources), pools[pool], label=label, meta={"pool": pool})


CORPUS = HAD(name="had", title="HAD half-truth speech", folders=("HAD", "had", "HAD_dataset"), layout=LAYOUT)
