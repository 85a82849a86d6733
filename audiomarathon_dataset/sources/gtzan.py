"""GTZAN genres: ``GTZAN/genres/<genre>/<genre>.000NN.wav`` (or the original ``.au``;
the Kaggle copy's ``genres_original/`` is accepted). One group per genre."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import SourceFileError, sorted_audio, sorted_dirs
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  GTZAN/genres/<genre>/<genre>.000NN.wav   (or .au; 10 genre folders: blues, classical, ..., rock)
  (genres_original/ from the Kaggle copy is accepted in place of genres/)"""

GENRE_FOLDERS = ("genres", "genres_original")


@dataclass(frozen=True)
class GTZAN(Corpus):
    def _genres_dir(self, folder: Path) -> Path | None:
        for name in GENRE_FOLDERS:
            if (folder / name).is_dir():
                return folder / name
        return None

    def looks_valid(self, folder: Path) -> bool:
        return self._genres_dir(folder) is not None

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        genres = self._genres_dir(folder)
        for genre_dir in sorted_dirs(genres):
            genre = genre_dir.name.lower()
            if genre not in task.labels:
                yield Issue(BAD_RECORD, task.name, self.rel(genre_dir, sources), "",
                            f"folder {genre_dir.name!r} is not a GTZAN genre ({', '.join(task.labels)}); skipped")
                continue
            try:
                clips = [ClipRef(str(p), self.rel(p, sources)) for p in sorted_audio(genre_dir)]
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, self.rel(genre_dir, sources), "", f"{err.reason}; genre skipped")
                continue
            if clips:
                yield Group(genre, self.rel(genre_dir, sources), clips, label=genre, meta={"genre_label": genre})


CORPUS = GTZAN(name="gtzan", title="GTZAN genres", folders=("GTZAN", "gtzan", "GTZAN-genres"), layout=LAYOUT)
