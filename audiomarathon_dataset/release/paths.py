"""Where a path listed in release metadata points, without ever leaving the release root.

The authors' evaluation scripts join a listed path to the metadata file's own folder (some to
its ``wav/`` sub-folder); releases laid out one folder per task list paths relative to that
folder. Paths that lead outside the release root (``../``, absolute paths from the authors'
machines with no matching file inside the release, symlinks out of it) are refused by the
importer: nothing outside the root is ever opened.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath

# Sub-folders of the metadata's folder the authors' scripts also look in.
AUDIO_SUBFOLDERS = ("", "wav")


@lru_cache(maxsize=64)
def _real(root: str) -> str:
    return os.path.realpath(root)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# A release read through a view (its archives extracted beside links to its files): the view's
# real path -> the release's real path, where the view's links lead.
_VIEWS: dict[str, str] = {}


@contextlib.contextmanager
def release_view(view: Path, release: Path) -> Iterator[None]:
    """While the block runs, a path whose links lead into ``release`` counts as inside ``view``."""
    key = _real(str(view))
    _VIEWS[key] = _real(str(release))
    try:
        yield
    finally:
        _VIEWS.pop(key, None)


def within(path: Path, root: Path) -> bool:
    """True when ``path`` stays inside ``root`` once ``..`` and symlinks are resolved."""
    real, top = os.path.realpath(path), _real(str(root))
    return _inside(real, top) or (top in _VIEWS and _inside(real, _VIEWS[top]))


def relative_to_root(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` once links are resolved (a release read through a view: to
    the release), as a POSIX path; None when it is outside."""
    real = os.path.realpath(path)
    top = _real(str(root))
    for base in (top, _VIEWS.get(top)):
        if base and _inside(real, base):
            return Path(os.path.relpath(real, base)).as_posix()
    return None


def release_name(path: Path | str, root: Path) -> str:
    """How reports name ``path``: relative to the release (``relative_to_root``), or as given when
    it is outside. A symlink loop keeps its own name (realpath does not follow it)."""
    rel = relative_to_root(Path(path), root)
    return rel if rel is not None else str(path)


def _lexically_within(path: Path, root: Path) -> bool:
    return _inside(os.path.normpath(path), os.path.normpath(root))


def _parts(listed: str) -> tuple[bool, tuple[str, ...]]:
    """(absolute?, parts) of a listed path written with / or \\ separators (POSIX or Windows)."""
    absolute = bool(PureWindowsPath(listed).drive) or listed.startswith(("/", "\\"))
    parts = PurePosixPath(listed.replace("\\", "/")).parts
    if absolute:
        parts = tuple(p for p in parts if p.strip("/") and not (p.endswith(":") and len(p) == 2))
    return absolute, parts


def resolve_listed(listed: str, base: Path, task_root: Path, root: Path) -> Path:
    """The file a metadata record lists, looked for (in order) in the metadata's folder, its
    ``wav/`` sub-folder, then the task root. An absolute path is matched by its longest
    suffix that exists there. Only candidates inside ``root`` are ever looked at; when none
    exists the path under ``base`` is returned (reported as missing). A path that leads
    outside ``root`` as written (from ``base``) is returned as it is, with no fallback tried:
    the importer refuses it and never opens it."""
    absolute, parts = _parts(listed)
    folders = []
    for folder in [base / sub if sub else base for sub in AUDIO_SUBFOLDERS] + [task_root]:
        if folder not in folders:
            folders.append(folder)
    if absolute:
        for i in range(len(parts)):
            for folder in folders:
                candidate = folder.joinpath(*parts[i:])
                if _lexically_within(candidate, root) and candidate.is_file() and within(candidate, root):
                    return candidate
        return Path(listed)
    primary = base.joinpath(*parts)
    if not _lexically_within(primary, root):  # leaves the root as written: no fallback is tried
        return Path(os.path.normpath(primary))
    inside = [c for c in (folder.joinpath(*parts) for folder in folders) if _lexically_within(c, root)]
    for candidate in inside:
        if candidate.is_file():
            return candidate
    return inside[0]
