"""Checkpoints whose model is their own Python code (``auto_map`` in config.json, loaded with
``trust_remote_code``): the refusal without ``--trust-remote-code`` and the hash of the code that runs.

Loading such a checkpoint runs its .py files on this machine, so it is never implied: a run names
``--trust-remote-code``, and results.json and the run identity record the sha256 of the .py files
of the checkpoint folder (a changed file is another computation, so another run).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

FLAG = "--trust-remote-code"


class RemoteCodeRefused(ValueError):
    """The checkpoint's model is its own code and the run did not allow running it."""


def refusal(model: str, model_type: str, family: str, auto_map: dict | None) -> RemoteCodeRefused:
    named = ", ".join(sorted(set((auto_map or {}).values()))) or "its own modeling files"
    return RemoteCodeRefused(
        f"--model {model}: model_type {model_type!r} ({family}) is not a transformers class; the checkpoint "
        f"ships its own Python code ({named}) and loading it runs that code on this machine. Pass {FLAG} "
        f"to allow it (only for a checkpoint whose code you trust; the code's sha256 is recorded in "
        f"results.json and in the run identity)")


def checkpoint_folder(model: str, revision: str | None = None) -> Path:
    """The local folder of ``model``: itself, or for a Hub id the snapshot of its .py files."""
    path = Path(os.path.expanduser(str(model)))
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(str(model), revision=revision, allow_patterns=["*.py"]))


def code_files(folder: Path) -> list[Path]:
    """The checkpoint's Python files (the top of the folder, where ``auto_map`` points)."""
    return sorted(p for p in folder.glob("*.py") if p.is_file())


def code_record(model: str, revision: str | None = None) -> dict | None:
    """``{"sha256": "sha256:<hex>", "files": [names]}`` of the checkpoint's .py files (names and
    contents, in name order); None where the folder has none."""
    files = code_files(checkpoint_folder(model, revision))
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return {"sha256": "sha256:" + digest.hexdigest(), "files": [p.name for p in files]}
