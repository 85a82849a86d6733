"""Archives in a release (zip, tar, tar.gz/.tgz/.bz2/.xz, gz) extracted safely before discovery.

``extract(archive, target)`` is the reusable part: it writes regular files and folders only, under
``target`` only (a member naming an absolute path or ``..`` stops the archive), never follows or
makes a link (link members, devices and FIFOs are skipped and listed), never replaces a file that
is already there (an identical one is left alone, a different one stops the archive), and counts
every member and byte it writes against a ``Budget`` shared by all archives of a release, bounded
by the free space of the target's disk. A truncated or corrupt archive is one ArchiveError naming
it.

``expand_release(src)`` gives the folder the importer reads: ``src`` itself when it holds no
archive; otherwise a temporary view of it (its folders recreated, its files linked) with every
archive extracted in place, where ``tar -xf``/``unzip`` run in the archive's folder would put it,
so metadata listing ``audio/x.wav`` finds the audio an archive beside it holds. The view lives in
the system's temporary folder (``$TMPDIR``), never beside the user's files, and is removed when
the import ends. Archives inside archives and formats not read here are reported by name.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..files import lexical_rel, os_reason, walk_visible
from .paths import release_view, within

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)
GZIP_SUFFIXES = (".gz",)  # a lone gzip: one file, or a tarball with an unusual name
NOT_READ_SUFFIXES = (".7z", ".rar", ".zst", ".bz2", ".xz", ".lz4", ".tar.zst")
CHUNK = 1 << 20
_PARTIAL = ".audiomarathon-partial"


class ArchiveError(ValueError):
    """An archive that cannot be extracted safely or completely; the message names it."""


@dataclass(frozen=True)
class Limits:
    """What the archives of one release may hold together (also bounded by the free disk space)."""

    max_bytes: int = 256 * 1024 ** 3
    max_members: int = 250_000


@dataclass
class Budget:
    """Members and bytes written so far by the archives of one release."""

    limits: Limits = field(default_factory=Limits)
    free_bytes: int | None = None  # of the target's disk when extraction started
    members: int = 0
    bytes: int = 0

    def member(self, archive: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(f"{archive}: more than {self.limits.max_members:,} members in the release's archives; "
                               "refused (extract them yourself and import the folder)")

    def grow(self, archive: str, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_bytes:
            raise ArchiveError(f"{archive}: the release's archives hold more than {_size(self.limits.max_bytes)}; "
                               "refused (extract them yourself and import the folder)")
        if self.free_bytes is not None and self.bytes > self.free_bytes:
            raise ArchiveError(f"{archive}: extracting it needs more than the {_size(self.free_bytes)} free in the "
                               "temporary folder; set TMPDIR to a folder on a larger disk, or extract it yourself")


@dataclass
class Extracted:
    """What one archive gave: counts, and each member skipped with the reason."""

    archive: str  # as named in reports: relative to the release
    files: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, why)
    nested: list[str] = field(default_factory=list)  # members that are archives themselves (not extracted)


def _size(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GB" if n >= 1024 ** 3 else f"{n / 1024 ** 2:.1f} MB"


def archive_kind(path: str | os.PathLike) -> str | None:
    """"tar", "zip" or "gz" by the file name; None for any other file."""
    name = os.fspath(path).lower()
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    if name.endswith(ZIP_SUFFIXES):
        return "zip"
    if name.endswith(GZIP_SUFFIXES):
        return "gz"
    return None


def unread_kind(path: str | os.PathLike) -> str | None:
    """The suffix of an archive format this module does not read, or None."""
    name = os.fspath(path).lower()
    return next((s for s in NOT_READ_SUFFIXES if name.endswith(s)), None)


# ------------------------------------------------------------------------ one member at a time

def _member_parts(archive: str, name: str) -> list[str]:
    """The path parts a member is written to under the target, or ArchiveError when its name leads
    outside (absolute, a drive, ``..``). Backslashes count as separators (zips made on Windows)."""
    text = name.replace("\\", "/")
    if text.startswith("/") or (text[:1].isalpha() and text[1:2] == ":" and text[2:3] in ("", "/")):
        raise ArchiveError(f"{archive}: member {name!r} names an absolute path; refused, the archive was not used")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{archive}: member {name!r} leads outside the extraction folder; refused, the archive "
                           "was not used")
    return parts


def _folder(target: Path, parts: Sequence[str], archive: str, name: str) -> Path:
    """``target/parts`` as real folders, made where missing; never through a link or a file."""
    here = target
    for part in parts:
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            here.mkdir()
            continue
        if not stat.S_ISDIR(mode):
            raise ArchiveError(f"{archive}: member {name!r} needs a folder where the release has a file or a link "
                               f"({'/'.join(parts)}); refused, the archive was not used")
    return here


def _same_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(CHUNK), fb.read(CHUNK)
            if x != y:
                return False
            if not x:
                return True


def _write_member(stream: BinaryIO, target: Path, parts: list[str], archive: str, name: str, budget: Budget,
                  result: Extracted) -> None:
    folder = _folder(target, parts[:-1], archive, name)
    final = folder / parts[-1]
    partial = folder / _PARTIAL
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                budget.grow(archive, len(chunk))
                out.write(chunk)
                result.bytes += len(chunk)
        if os.path.lexists(final):
            if not (final.is_file() and _same_content(partial, final)):
                raise ArchiveError(f"{archive}: member {name!r} would replace {'/'.join(parts)}, which the release "
                                   "already holds with other content; refused, the archive was not used")
            return  # the release holds this file already (an archive and its extracted copy side by side)
        os.rename(partial, final)
        result.files += 1
        if archive_kind(final) or unread_kind(final):
            result.nested.append(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


# --------------------------------------------------------------------------------- formats

# What reading a damaged archive raises (zipfile: RuntimeError for an encrypted member,
# NotImplementedError for a compression method it lacks).
_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile,
            RuntimeError, NotImplementedError)
_TAR_END = 1024  # two zero blocks close a tar archive


def _decompressed(raw: BinaryIO) -> BinaryIO:
    """``raw`` decompressed by its magic bytes (gzip, bzip2, xz), or ``raw`` itself."""
    magic = raw.read(6)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)
    if magic[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if magic == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


def _extract_tar(path: Path, target: Path, budget: Budget, result: Extracted) -> None:
    with open(path, "rb") as raw:
        stream = _decompressed(raw)
        # stream mode: one pass over the file, each member's data read as it comes
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                budget.member(result.archive)
                parts = _member_parts(result.archive, member.name)
                if not parts:
                    continue
                if member.isdir():
                    _folder(target, parts, result.archive, member.name)
                elif member.isreg():
                    _write_member(tar.extractfile(member), target, parts, result.archive, member.name, budget, result)
                elif member.issym() or member.islnk():
                    result.skipped.append((member.name, f"a link to {member.linkname!r}; links are not extracted"))
                else:
                    result.skipped.append((member.name, "not a regular file (device or FIFO); not extracted"))
            end = tar.offset
        # tarfile stops quietly where a file cut between two members ends: a compressed stream
        # is read to its end (its trailer and checksum checked), a plain one must hold the end marker
        if stream is raw:
            if os.fstat(raw.fileno()).st_size < end + _TAR_END:
                raise ArchiveError(f"{result.archive}: truncated archive (it ends after {end:,} bytes without the "
                                   "end-of-archive marker); nothing of it was used")
        else:
            while stream.read(CHUNK):
                pass


def _zip_entries(path: Path) -> int | None:
    """The entry count an archive's end record declares, read before zipfile loads its whole
    central directory (millions of tiny entries would take gigabytes there); None if not found."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 65_557))
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return None
        entries = int.from_bytes(tail[at + 10:at + 12], "little")
        if entries != 0xFFFF or at < 20 or tail[at - 20:at - 16] != b"PK\x06\x07":
            return entries
        f.seek(int.from_bytes(tail[at - 12:at - 4], "little"))  # the zip64 end record
        record = f.read(56)
        return int.from_bytes(record[32:40], "little") if record[:4] == b"PK\x06\x06" else None


def _extract_zip(path: Path, target: Path, budget: Budget, result: Extracted) -> None:
    declared = _zip_entries(path)
    if declared is not None and budget.members + declared > budget.limits.max_members:
        raise ArchiveError(f"{result.archive}: declares {declared:,} members, more than the release's archives may "
                           f"hold ({budget.limits.max_members:,}); refused (extract it yourself and import the folder)")
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            budget.member(result.archive)
            parts = _member_parts(result.archive, info.filename)
            if not parts:
                continue
            kind = stat.S_IFMT(info.external_attr >> 16)
            if info.is_dir():
                _folder(target, parts, result.archive, info.filename)
            elif kind == stat.S_IFLNK:
                result.skipped.append((info.filename, "a link; links are not extracted"))
            elif kind not in (0, stat.S_IFREG):
                result.skipped.append((info.filename, "not a regular file; not extracted"))
            else:
                with archive.open(info) as stream:
                    _write_member(stream, target, parts, result.archive, info.filename, budget, result)


def _is_tar_stream(path: Path) -> bool:
    with gzip.open(path, "rb") as f:
        head = f.read(512)
    return len(head) == 512 and head[257:262] == b"ustar"


def extract(archive: str | os.PathLike, target: str | os.PathLike, budget: Budget | None = None,
            name: str | None = None) -> Extracted:
    """Extract ``archive`` (tar, tar.gz/.tgz/.bz2/.xz, zip or a lone .gz) into the existing folder
    ``target``, as described in the module's docstring. ``name`` is how errors and the result name
    the archive (default: its path). Raises ArchiveError; what was written stays (the caller owns
    ``target``)."""
    path, target = Path(archive), Path(target)
    label = name or str(path)
    budget = budget if budget is not None else Budget(free_bytes=shutil.disk_usage(target).free)
    result = Extracted(label)
    kind = archive_kind(path)
    try:
        if kind == "zip":
            _extract_zip(path, target, budget, result)
        elif kind == "tar" or (kind == "gz" and _is_tar_stream(path)):
            _extract_tar(path, target, budget, result)
        elif kind == "gz":
            budget.member(label)
            stem = path.name[: -len(".gz")] or "data"
            with gzip.open(path, "rb") as stream:
                _write_member(stream, target, [stem], label, stem, budget, result)
        else:
            raise ArchiveError(f"{label}: not an archive this toolkit reads (zip, tar, tar.gz/.tgz/.bz2/.xz, gz)")
    except ArchiveError:
        raise
    except _CORRUPT as exc:
        reason = str(exc) or type(exc).__name__
        raise ArchiveError(f"{label}: truncated or corrupt archive ({reason}); nothing of it was used") from None
    except OSError as exc:  # the archive unreadable, or the temporary folder's disk full
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        raise ArchiveError(f"{label}: cannot be extracted: {os_reason(exc)}{where}") from None
    return result


# ------------------------------------------------------------------------- a whole release

@dataclass
class Expansion:
    """The folder to read a release from, and what its archives gave."""

    root: Path  # the release itself, or the temporary view holding its extracted archives
    extracted: list[Extracted] = field(default_factory=list)
    not_read: list[tuple[str, str]] = field(default_factory=list)  # (archive, why)


def find_archives(src: Path, skip: Sequence[Path] = ()) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Archives under ``src`` (symlinked and hidden folders not entered, ``skip`` not looked at),
    and the archive-like files of formats not read, with why."""
    found, unread = [], []
    for here, _, filenames in walk_visible(src, skip):
        for name in filenames:
            path = here / name
            if not (archive_kind(name) or unread_kind(name)) or not path.is_file():
                continue
            if not within(path, src):
                unread.append((path, "a link leading outside the release root; refused, not read"))
            elif archive_kind(name):
                found.append(path)
            elif unread_kind(name):
                unread.append((path, f"{unread_kind(name)} archives are not read; extract it and import the folder"))
    return found, unread


def _mirror(src: Path, view: Path, skip: set[Path], archives: set[Path]) -> None:
    """``view`` as ``src``: real folders, a link to each file (and to each linked or hidden folder,
    not entered), leaving out ``skip`` and the archives."""
    for dirpath, dirnames, filenames in os.walk(src):
        here = Path(dirpath)
        there = view / here.relative_to(src)
        keep = []
        for d in sorted(dirnames):
            path = here / d
            if path.resolve() in skip:
                continue
            if d.startswith(".") or path.is_symlink():
                (there / d).symlink_to(path)
            else:
                (there / d).mkdir()
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if here / name not in archives:
                (there / name).symlink_to(here / name)


@contextlib.contextmanager
def expand_release(src: str | os.PathLike, skip: Sequence[Path] = (), limits: Limits = Limits()) -> Iterator[Expansion]:
    """The folder to read the release ``src`` (a folder, or one archive) from, with its archives
    extracted (see the module's docstring). Raises ArchiveError naming an archive that cannot be
    used. The temporary view is removed when the block ends."""
    src = Path(src).resolve()
    if src.is_file():
        archives, unread, base = [src], [], src.parent
    else:
        archives, unread = find_archives(src, skip)
        base = src
    expansion = Expansion(src, not_read=[(lexical_rel(p, base), why) for p, why in unread])
    if not archives:
        yield expansion
        return
    work = Path(tempfile.mkdtemp(prefix="audiomarathon-release-"))
    try:
        view = work / "release"
        view.mkdir()
        if src.is_dir():  # the temporary folder itself may lie inside the release ($TMPDIR there)
            _mirror(src, view, {Path(p).resolve() for p in skip} | {work.resolve()}, set(archives))
        budget = Budget(limits, free_bytes=shutil.disk_usage(work).free)
        for archive in archives:
            target = view / archive.parent.relative_to(base)
            result = extract(archive, target, budget, name=lexical_rel(archive, base))
            expansion.extracted.append(result)
            expansion.not_read += [(f"{result.archive}: {m}", "an archive inside an archive is not extracted; "
                                    "extract it and import the folder") for m in result.nested]
        expansion.root = view
        with release_view(view, src if src.is_dir() else view):
            yield expansion
    finally:
        shutil.rmtree(work, ignore_errors=True)
