"""SLUE-VoxPopuli (named entities): ``slue-voxpopuli/slue-voxpopuli_<split>.tsv`` (tab-separated
``id raw_text normalized_text speaker_id split raw_ner normalized_ner``; the NER columns hold a
list of ``[type, start, length]`` character spans) and ``slue-voxpopuli/<split>/<id>.flac``.

The dev and test splits are read (fine-tune is training data). One group per speaker;
the entity a question asks about comes from the instance's own utterances.
"""

from __future__ import annotations

import ast
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..audio_io import MISSING
from ..files import AUDIO_EXTENSIONS, SourceFileError, read_text
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  slue-voxpopuli/slue-voxpopuli_dev.tsv   (and/or slue-voxpopuli_test.tsv) tab-separated, header
      "id<TAB>raw_text<TAB>normalized_text<TAB>speaker_id<TAB>split<TAB>raw_ner<TAB>normalized_ner",
      NER cells like "[['GPE', 12, 8], ['ORG', 40, 20]]" (type, start character, length)
  slue-voxpopuli/dev/<id>.flac             (the slue-voxpopuli_v0.2_blind.tar.gz / _v0.2 archive, unpacked)"""

SPLITS = ("test", "dev")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def parse_ner(cell: str, text: str) -> list[tuple[str, str]]:
    """[(entity text, type)] from a NER cell; [] for an empty cell. Raises ValueError if malformed."""
    cell = (cell or "").strip()
    if not cell or cell in ("None", "[]", "nan"):
        return []
    spans = ast.literal_eval(cell)
    out = []
    for span in spans:
        kind, start, length = span[0], int(span[1]), int(span[2])
        phrase = text[start:start + length].strip()
        if not phrase:
            raise ValueError(f"span {span!r} selects no text")
        out.append((phrase, str(kind)))
    return out


@dataclass(frozen=True)
class SLUE(Corpus):
    def looks_valid(self, folder: Path) -> bool:
        return any((folder / f"slue-voxpopuli_{s}.tsv").is_file() for s in SPLITS)

    def _rows(self, folder: Path, sources: Path, task_name: str) -> Iterator[tuple[str, dict, list] | Issue]:
        for split in SPLITS:
            tsv = folder / f"slue-voxpopuli_{split}.tsv"
            if not tsv.is_file():
                continue
            rel = self.rel(tsv, sources)
            try:
                text = read_text(tsv)
            except SourceFileError as err:
                yield Issue(UNREADABLE, task_name, rel, "", f"{err.reason}; its utterances are skipped")
                continue
            reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
            for n, row in enumerate(reader, 2):
                text = (row.get("normalized_text") or "").strip()
                try:
                    # raw spans keep the entities' capitalization for the answer options
                    ents = parse_ner(row.get("raw_ner") or "", row.get("raw_text") or "")
                    if not ents:
                        ents = parse_ner(row.get("normalized_ner") or "", text)
                except (ValueError, SyntaxError, TypeError, IndexError) as exc:
                    yield Issue(BAD_RECORD, task_name, rel, f"line {n}", f"malformed NER cell: {exc}; row skipped")
                    continue
                if not row.get("id") or not row.get("speaker_id"):
                    yield Issue(BAD_RECORD, task_name, rel, f"line {n}", "no id or speaker_id; row skipped")
                    continue
                yield split, row, ents

    def vocabulary(self, folder: Path) -> tuple[tuple[str, str], ...]:
        found = set()
        for item in self._rows(folder, folder.parent, ""):
            if not isinstance(item, Issue):
                found.update(item[2])
        return tuple(sorted(found))

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        speakers: dict[tuple[str, str], list[ClipRef]] = {}  # the tsv is small (a few thousand rows)
        for item in self._rows(folder, sources, task.name):
            if isinstance(item, Issue):
                yield item
                continue
            split, row, ents = item
            audio = next((folder / split / f"{row['id']}{ext}" for ext in AUDIO_EXTENSIONS
                          if (folder / split / f"{row['id']}{ext}").is_file()), None)
            if audio is None:
                yield Issue(MISSING, task.name, self.rel(folder / split / f"{row['id']}.flac", sources), "",
                            "audio listed in the tsv not found; clip skipped")
                continue
            speakers.setdefault((split, row["speaker_id"].strip()), []).append(
                ClipRef(str(audio), self.rel(audio, sources), text=row["normalized_text"].strip(), entities=tuple(ents))
            )
        for split, speaker in sorted(speakers):
            yield Group(f"{split}/{speaker}", self.rel(folder / f"slue-voxpopuli_{split}.tsv", sources),
                        speakers[(split, speaker)], meta={"speaker_id": speaker, "split": split})


CORPUS = SLUE(name="slue", title="SLUE-VoxPopuli (named entities)",
              folders=("slue-voxpopuli", "SLUE", "slue"), layout=LAYOUT)
