"""Uploaded files: where they live, how the API's file arguments are read, and how they are
cleaned up.

Gradio stores an upload under ``<upload folder>/<content hash>/<name>``, so identical uploads
share one file: a request never deletes an upload (another request may hold the same path);
the sweeper deletes every upload, finished or aborted, once it is older than the TTL.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

# What Gradio writes into its upload folder: a multipart part being received (``tmp...``, left
# behind when the client disconnects) and finished uploads in a folder named by a hex digest.
_PART = re.compile(r"tmp[\w-]+")
_DIGEST = re.compile(r"[0-9a-f]{32,64}")


def own_upload_folder(port: int) -> Path:
    """The upload folder of a server on ``port``: GRADIO_TEMP_DIR when the operator set one, else
    a folder of this server's own (never a temp folder other programs share, which the sweeper
    would reach into); a restart on the same port sweeps what a killed server left."""
    chosen = os.environ.get("GRADIO_TEMP_DIR")
    folder = Path(chosen) if chosen else Path(tempfile.gettempdir()) / f"audiomarathon-space-{port}-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # read by Gradio when the server starts
    return folder


def sweep(folder: Path, ttl_s: float, now: float | None = None) -> int:
    """Delete the uploads in ``folder`` untouched for more than ``ttl_s`` seconds (an upload in
    progress is being written, so it is never that old), then the digest folders left empty.
    Returns the number of files deleted."""
    now = time.time() if now is None else now
    deleted = 0
    try:
        children = list(folder.iterdir())
    except OSError:
        return 0
    for child in children:
        try:
            if child.is_file() and not child.is_symlink() and _PART.fullmatch(child.name):
                deleted += _delete_if_old(child, ttl_s, now)
            elif child.is_dir() and not child.is_symlink() and _DIGEST.fullmatch(child.name):
                for item in list(child.iterdir()):
                    if item.is_file() and not item.is_symlink():
                        deleted += _delete_if_old(item, ttl_s, now)
                if not any(child.iterdir()):
                    child.rmdir()
        except OSError:  # gone meanwhile, or being replaced by a new identical upload
            continue
    return deleted


def _delete_if_old(path: Path, ttl_s: float, now: float) -> int:
    if now - path.lstat().st_mtime <= ttl_s:
        return 0
    path.unlink(missing_ok=True)
    return 1


class Sweeper:
    """Sweeps the upload folder every few seconds in a daemon thread."""

    def __init__(self, folder: Path, ttl_s: float):
        self.folder, self.ttl_s = Path(folder), float(ttl_s)
        self.period_s = min(60.0, max(0.5, self.ttl_s / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="upload-sweeper", daemon=True)

    def start(self) -> "Sweeper":
        sweep(self.folder, self.ttl_s)  # what a killed server left behind
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                sweep(self.folder, self.ttl_s)
            except Exception:  # noqa: BLE001 - the sweeper must outlive any one bad entry
                log.exception("upload sweep failed")


class NotAnUpload(ValueError):
    pass


def uploaded_path(value, name: str, folder: Path) -> Path:
    """The file an API argument names: Gradio passes an uploaded file as ``{"path": ...}`` (what
    ``gradio_client.handle_file`` sends). Anything else, or a path outside the upload folder, is
    refused with a message naming the argument (``name``)."""
    if value is None:
        raise NotAnUpload(f"{name}: no file given")
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str) or not path:
        shown = repr(value)[:80]
        raise NotAnUpload(f"{name}: expected an uploaded file (gradio_client: handle_file(PATH)), got {shown}")
    resolved = Path(path).resolve()
    if Path(folder).resolve() not in resolved.parents:
        raise NotAnUpload(f"{name}: {Path(path).name!r} is not a file uploaded to this server")
    return resolved
