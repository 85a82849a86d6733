"""Reading the files and folders of a release or a source corpus, one way for both: which names
are audio, why a file or folder cannot be read (``SourceFileError`` naming it), how a path is
named in reports, and listing folders in a fixed order (os.scandir and os.walk order depends
on the file system).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".aac", ".au", ".aiff", ".aif")

# json.loads raises RecursionError past ~1,000 levels; no metadata nests beyond a few.
TOO_DEEP = "nested deeper than any metadata (past the JSON parser's nesting limit)"


def is_audio_name(name: str) -> bool:
    return name.lower().endswith(AUDIO_EXTENSIONS)


class SourceFileError(ValueError):
    """A metadata file or folder of a release or corpus that cannot be read (permissions,
    encoding, a symlink loop, nesting past the parser's limit). ``path`` names it, ``where``
    the place in it when known ("line 3 col 5")."""

    def __init__(self, path: Path | str, reason: str, where: str = ""):
        super().__init__(f"{path}{' ' + where if where else ''}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.where = where


class JSONFileError(SourceFileError):
    """A file that could be read but holds no JSON."""


def os_reason(exc: OSError) -> str:
    """Why the system refused a file, in words ("Too many levels of symbolic links" says less)."""
    return "symbolic link loop" if exc.errno == errno.ELOOP else exc.strerror or str(exc)


def read_text(path: Path | str, encoding: str = "utf-8") -> str:
    """A metadata or transcript file as text; SourceFileError naming why it cannot be."""
    try:
        return Path(path).read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise SourceFileError(path, f"not {encoding.upper()} text (byte {exc.start}: "
                                    f"{exc.object[exc.start:exc.start + 1]!r})") from None
    except OSError as exc:
        raise SourceFileError(path, f"cannot be read: {os_reason(exc)}") from None


def read_json(path: Path | str) -> Any:
    """A JSON file's content; SourceFileError when it cannot be read, JSONFileError when it is not JSON."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONFileError(path, exc.msg, where=f"line {exc.lineno} col {exc.colno}") from None
    except RecursionError:
        raise JSONFileError(path, TOO_DEEP) from None


@dataclass(frozen=True)
class BadLine:
    """A line of a JSON Lines file that holds no JSON object; kept in its place so the record is
    reported by its line."""

    reason: str


class JsonLines(list):
    """A JSON Lines file's records in order (blank lines skipped); ``lines`` holds each record's
    line number, so reports name the line."""

    def __init__(self, records: list, lines: list[int]):
        super().__init__(records)
        self.lines = lines


def read_jsonl(path: Path | str) -> JsonLines:
    """A JSON Lines file: one record per non-blank line; a line that is not JSON is a ``BadLine``
    in its place (one bad line never hides the others). SourceFileError when the file cannot be read."""
    records, lines = [], []
    # split on "\n" only: a text field may hold U+2028 or U+0085, which str.splitlines() splits on
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            records.append(BadLine(f"not JSON ({exc.msg} at col {exc.colno})"))
        except RecursionError:
            records.append(BadLine(TOO_DEEP))
        lines.append(number)
    return JsonLines(records, lines)


def read_metadata(path: Path | str) -> Any:
    """A metadata file: JSON Lines for a ``.jsonl`` name, else JSON."""
    return read_jsonl(path) if str(path).lower().endswith(".jsonl") else read_json(path)


def lexical_rel(path: Path | str, root: Path | str) -> str:
    """``path`` relative to ``root`` as a POSIX string, ``path`` itself when outside. Lexical (no
    resolve()): it runs for every clip while planning, and a folder linked in from elsewhere keeps
    its name here."""
    p, r = os.path.abspath(path), os.path.abspath(root)
    if p.startswith(r + os.sep):
        return Path(p[len(r) + 1:]).as_posix()
    return "." if p == r else str(path)


def folder_error(exc: OSError) -> SourceFileError:
    return SourceFileError(exc.filename or "", f"folder cannot be read: {os_reason(exc)}")


def raise_folder_error(exc: OSError) -> None:
    """os.walk's ``onerror`` that stops the walk (os.walk would skip the folder silently)."""
    raise folder_error(exc)


def sorted_dirs(folder: Path) -> list[Path]:
    """Child folders in name order; none when ``folder`` does not exist."""
    try:
        return sorted((Path(e.path) for e in os.scandir(folder) if e.is_dir()), key=lambda p: p.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SourceFileError(folder, f"folder cannot be read: {os_reason(exc)}") from None


def _maybe_file(entry: os.DirEntry) -> bool:
    """A file, or a link that cannot be followed (a loop): kept, so that decoding reports it."""
    try:
        return entry.is_file()
    except OSError:
        return entry.is_symlink()


def sorted_audio(folder: Path) -> list[Path]:
    """The audio files directly in ``folder``, in name order; none when it does not exist."""
    try:
        return sorted((Path(e.path) for e in os.scandir(folder) if is_audio_name(e.name) and _maybe_file(e)),
                      key=lambda p: p.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SourceFileError(folder, f"folder cannot be read: {os_reason(exc)}") from None


def walk_audio(folder: Path, onerror: Callable[[OSError], None] = raise_folder_error) -> Iterator[Path]:
    """Every audio file under ``folder``, depth-first in name order, without listing all at once.
    A folder that cannot be listed goes to ``onerror`` (default: SourceFileError)."""
    for dirpath, dirnames, filenames in os.walk(folder, onerror=onerror):
        dirnames.sort()
        for name in sorted(filenames):
            if is_audio_name(name):
                yield Path(dirpath) / name


def walk_visible(root: Path, skip: Sequence[Path] = ()) -> Iterator[tuple[Path, list[str], list[str]]]:
    """(folder, its sub-folders, its files) under ``root``, top-down in name order; hidden names
    and the folders in ``skip`` left out, symlinked folders not entered. Shrinking the sub-folder
    list prunes the walk, as with os.walk."""
    skipped = {Path(p).resolve() for p in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skipped)
        yield here, dirnames, sorted(f for f in filenames if not f.startswith("."))


def transcript_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, utterance id, transcript) of each line of a LibriSpeech ``.trans.txt``
    ("<utt-id> TRANSCRIPT"); blank lines skipped, the transcript "" when the line has none."""
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            utt, _, words = line.strip().partition(" ")
            yield n, utt, words.strip()
