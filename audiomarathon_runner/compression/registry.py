"""Every compression method by name, from the two tables: ``PRUNERS`` (one registered class per
token-pruning method) and ``PRESSES`` (one spec per KV-cache press). Adding a method is one entry in
one of them; names, kinds and the command line's help all come from here."""
from __future__ import annotations

from .presses import PRESSES
from .pruning import PRUNERS

PRESS_SCOPES = ("audio", "all")
KINDS = {"none": "no compression"}


def method_names() -> list[str]:
    return ["none", *PRUNERS, *PRESSES]


def method_kind(name: str) -> str:
    """``none``, ``prune`` (audio-token pruning) or ``press`` (KV-cache press)."""
    if name == "none":
        return "none"
    if name in PRUNERS:
        return "prune"
    if name in PRESSES:
        return "press"
    raise ValueError(f"unknown compression method {name!r}; known methods: {', '.join(method_names())}")


def method_summary(name: str) -> str:
    kind = method_kind(name)
    if kind == "prune":
        return PRUNERS[name].summary
    if kind == "press":
        return PRESSES[name].summary
    return KINDS["none"]


def methods_help() -> str:
    """One ``name: what it keeps`` clause per method, for ``--method``'s help."""
    return "; ".join(f"{name}: {method_summary(name)}" for name in method_names())
