"""What every corpus reader produces: clip references grouped by the task's grouping rule.

Readers stream. They walk a corpus in a fixed (sorted) order and yield one ``Group`` at a
time, interleaved with ``Issue``s for records they could not use. Only metadata (paths,
labels, transcripts) is held; no reader ever decodes audio.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import lexical_rel, walk_audio
from ..report import Issue


@dataclass(frozen=True)
class Span:
    """A labelled time span inside a clip (seconds from the clip's own start)."""

    label: str
    onset: float
    offset: float


@dataclass(frozen=True)
class ClipRef:
    """One source clip, not yet decoded.

    ``start``/``end`` select a region of the file (seconds); None means the whole file.
    ``tts_text`` is speech to render with espeak-ng when the file does not exist (RACE).
    """

    path: str  # absolute path
    source_id: str  # path relative to the sources root (what `segments` records)
    start: float = 0.0
    end: float | None = None
    text: str = ""  # transcript, when the corpus has one
    labels: frozenset[str] = frozenset()  # classes audible in the clip (DESED events)
    spans: tuple[Span, ...] = ()  # timed annotations (DESED events, HAD real/fake parts)
    entities: tuple[tuple[str, str], ...] = ()  # (entity text, entity type) mentioned (SLUE)
    tts_text: str = ""


@dataclass
class Group:
    """Clips that may be joined into one instance (same scene+recording, same speaker, ...)."""

    key: str  # unique within the corpus, stable: seeds derive from it
    file: str  # where the group comes from (for reports), relative to the sources root
    clips: list[ClipRef]
    label: str = ""  # the group's answer label, when the task has a label set
    meta: dict = field(default_factory=dict)


class MissingCorpusError(FileNotFoundError):
    """A corpus needed by a task is absent; the message spells out the expected layout."""


@dataclass(frozen=True)
class Corpus:
    """A source corpus reader. Subclasses implement ``groups``.

    ``folders`` are the accepted folder names directly under the sources root (the
    official archive names first); ``required`` are paths that must exist inside it.
    ``layout`` is the human description shown when the corpus is missing.
    """

    name: str
    title: str
    folders: tuple[str, ...]
    layout: str
    required: tuple[str, ...] = ()

    def locate(self, sources: str | os.PathLike) -> Path:
        """The corpus folder under ``sources``; raises MissingCorpusError naming the layout."""
        root = Path(sources)
        for name in self.folders:
            candidate = root / name
            if candidate.is_dir() and self.looks_valid(candidate):
                return candidate
        tried = ", ".join(f"{root / n}" for n in self.folders)
        raise MissingCorpusError(
            f"corpus {self.name} ({self.title}) not found under {root} (looked for {tried}).\n"
            f"Expected layout:\n{self.layout}"
        )

    def looks_valid(self, folder: Path) -> bool:
        return all(any(folder.glob(pattern)) for pattern in self.required)

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        raise NotImplementedError

    def vocabulary(self, folder: Path) -> Sequence:
        """Corpus-wide answer candidates some question makers need (SLUE's entities)."""
        return ()

    # named relative to the sources root in reports and ``ClipRef.source_id``
    rel = staticmethod(lexical_rel)


def audio_index(folder: Path) -> dict[str, Path]:
    """Map file stems to paths under ``folder`` (names only, for label files listing stems)."""
    index: dict[str, Path] = {}
    for path in walk_audio(folder):
        index.setdefault(path.stem, path)
    return index
