"""RACE passages read aloud: the RACE test set ``RACE/test/{high,middle}/<n>.txt`` (one JSON
object per file: ``article``, ``questions``, ``options``, ``answers``, ``id``) plus one
read-aloud recording per article ``RACE/audio/{high,middle}/<n>.wav`` (.flac/.mp3 too).

An article without a recording is rendered with espeak-ng at build time when the binary
exists; otherwise it is reported as missing audio. Every question of an article becomes
one instance sharing the article's audio.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import Task

from ..files import AUDIO_EXTENSIONS, JSONFileError, SourceFileError, read_json, sorted_dirs
from ..report import BAD_RECORD, MALFORMED_JSON, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  RACE/test/high/<n>.txt, RACE/test/middle/<n>.txt   one JSON object each:
      {"article": "...", "questions": [...], "options": [[4 options], ...], "answers": ["B", ...], "id": "high1234.txt"}
      (the RACE.tar.gz archive from cs.cmu.edu/~glai1/data/race, unpacked)
  RACE/audio/high/<n>.wav, RACE/audio/middle/<n>.wav  the article read aloud (.flac/.mp3 accepted);
      missing recordings are rendered with espeak-ng when it is installed"""

LEVELS = ("high", "middle")


def _is_text(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class RACE(Corpus):
    split: str = "test"

    def looks_valid(self, folder: Path) -> bool:
        return any((folder / self.split / level).is_dir() for level in LEVELS)

    def _audio_for(self, folder: Path, level: str, stem: str) -> Path | None:
        for ext in AUDIO_EXTENSIONS:
            candidate = folder / "audio" / level / f"{stem}{ext}"
            if candidate.is_file():
                return candidate
        return None

    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        for level_dir in sorted_dirs(folder / self.split):
            level = level_dir.name
            for path in sorted(level_dir.glob("*.txt"), key=lambda p: p.name):
                rel = self.rel(path, sources)
                try:
                    obj = read_json(path)
                except JSONFileError as err:
                    yield Issue(MALFORMED_JSON, task.name, rel, err.where, f"not a RACE JSON record: {err.reason}")
                    continue
                except SourceFileError as err:
                    yield Issue(UNREADABLE, task.name, rel, "", f"{err.reason}; article skipped")
                    continue
                if not isinstance(obj, dict):
                    yield Issue(MALFORMED_JSON, task.name, rel, "", f"not a RACE JSON record: a JSON {type(obj).__name__}")
                    continue
                questions = []
                qs, opts, answers = obj.get("questions") or [], obj.get("options") or [], obj.get("answers") or []
                for i, (q, o, a) in enumerate(zip(qs, opts, answers)):
                    a = str(a).strip().upper()
                    texts = [q, *o] if isinstance(o, list) else [q]
                    if not isinstance(o, list) or not all(_is_text(t) for t in texts):
                        yield Issue(BAD_RECORD, task.name, rel, f"question {i}",
                                    "the question and each option must be text (found null, an object or a list); skipped")
                        continue
                    if len(o) != task.n_choices or a not in LETTERS[: len(o)]:
                        yield Issue(BAD_RECORD, task.name, rel, f"question {i}",
                                    f"needs {task.n_choices} options and a letter answer, got {len(o)} options and {a!r}")
                        continue
                    questions.append({"question": str(q).strip(), "options": [str(x) for x in o],
                                      "answer": a, "question_idx": i})
                if len(qs) != len(opts) or len(qs) != len(answers):
                    yield Issue(BAD_RECORD, task.name, rel, "",
                                f"{len(qs)} questions, {len(opts)} option lists, {len(answers)} answers; extra entries ignored")
                if not questions:
                    continue
                article = str(obj.get("article") or "").strip()
                audio = self._audio_for(folder, level, path.stem)
                if audio is None:
                    # the path it would have: reports name it; the composer renders the article instead
                    audio = folder / "audio" / level / f"{path.stem}.wav"
                    clip = ClipRef(str(audio), self.rel(audio, sources), text=article, tts_text=article)
                else:
                    clip = ClipRef(str(audio), self.rel(audio, sources), text=article)
                article_id = str(obj.get("id") or f"{level}{path.name}")
                yield Group(f"{level}/{path.stem}", rel, [clip],
                            meta={"article_id": article_id, "level": level, "questions": questions})


CORPUS = RACE(name="race", title="RACE passages read aloud", folders=("RACE", "race"), layout=LAYOUT)
