"""What a run ran on, for results.json: library versions and the toolkit's own git commit."""

from __future__ import annotations

import platform
from pathlib import Path


def versions() -> dict:
    """results.json's ``versions``: Python, the libraries a run depends on, the toolkit and its commit."""
    import importlib.metadata as md

    import torch

    import audiomarathon

    out = {"python": platform.python_version()}
    for pkg in ("audiomarathon-hf", "torch", "transformers", "datasets", "kvpress", "numpy", "accelerate", "openai"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    out["audiomarathon-hf"] = out["audiomarathon-hf"] or audiomarathon.__version__  # a source checkout
    out["audiomarathon_git_commit"] = toolkit_commit()
    out["cuda"] = torch.version.cuda
    return out


def toolkit_commit() -> str | None:
    """The git commit of the toolkit's own checkout (``+dirty`` with uncommitted changes), or None
    when it is installed from a wheel or git is not available."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None
