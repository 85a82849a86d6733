"""LibriSpeech test-clean: ``LibriSpeech/test-clean/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac``
with ``<speaker>-<chapter>.trans.txt`` (one ``<utt-id> TRANSCRIPT`` per line).

One group per chapter, utterances in reading order, so each instance is a contiguous
stretch of one reader's chapter and its transcript is the utterances' transcripts joined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import SourceFileError, read_text, sorted_audio, sorted_dirs, transcript_lines
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  LibriSpeech/test-clean/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac
  LibriSpeech/test-clean/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt   ("<utt-id> TRANSCRIPT" lines)
  (the test-clean.tar.gz archive from openslr.org/12, unpacked)"""


@dataclass(frozen=True)
class LibriSpeech(Corpus):
    split: str = "test-clean"

    def looks_valid(self, folder: Path) -> bool:
        return (folder / self.split).is_dir()

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        for speaker in sorted_dirs(folder / self.split):
            try:
                chapters = [(chapter, sorted_audio(chapter)) for chapter in sorted_dirs(speaker)]
            except SourceFileError as err:
                yield Issue(UNREADABLE, task.name, self.rel(err.path, sources), "", f"{err.reason}; speaker skipped")
                continue
            for chapter, chapter_audio in chapters:
                trans = chapter / f"{speaker.name}-{chapter.name}.trans.txt"
                rel_trans = self.rel(trans, sources)
                texts: dict[str, str] = {}
                try:
                    listing = read_text(trans) if trans.is_file() else ""
                except SourceFileError as err:
                    listing = ""
                    yield Issue(UNREADABLE, task.name, rel_trans, "", f"{err.reason}; its transcripts are missing")
                for n, utt, text in transcript_lines(listing):
                    if not text:
                        yield Issue(BAD_RECORD, task.name, rel_trans, f"line {n}", "no transcript after the utterance id")
                        continue
                    texts[utt] = text
                clips = []
                for audio in chapter_audio:
                    text = texts.get(audio.stem)
                    if text is None:
                        single = audio.with_suffix(".txt")  # some long-form copies keep one .txt per utterance
                        try:
                            text = read_text(single).strip() if single.is_file() else None
                        except SourceFileError as err:
                            yield Issue(UNREADABLE, task.name, self.rel(single, sources), "",
                                        f"{err.reason}; {self.rel(audio, sources)} skipped")
                            continue
                    if not text:
                        yield Issue(BAD_RECORD, task.name, self.rel(audio, sources), "",
                                    f"no transcript for {audio.stem} in {rel_trans}; clip skipped")
                        continue
                    clips.append(ClipRef(str(audio), self.rel(audio, sources), text=text))
                if clips:
                    yield Group(f"{speaker.name}-{chapter.name}", self.rel(chapter, sources), clips,
                                meta={"speaker_id": speaker.name, "chapter_id": chapter.name})


CORPUS = LibriSpeech(
    name="librispeech",
    title="LibriSpeech test-clean",
    folders=("LibriSpeech", "librispeech"),
    layout=LAYOUT,
)
