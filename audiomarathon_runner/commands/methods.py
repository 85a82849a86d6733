"""`audiomarathon methods`: the compression methods `run --method` accepts (the compression tables)."""

from __future__ import annotations

KINDS = {"none": "no compression", "prune": "audio-token pruning", "press": "KV-cache press (kvpress)"}


def add_arguments(parser) -> None:
    pass


def rows() -> list[tuple[str, str, str]]:
    """(name, kind, what it keeps), in the tables' order."""
    from ..compression.registry import method_kind, method_names, method_summary

    return [(name, KINDS[method_kind(name)], method_summary(name)) for name in method_names()]


def run(args) -> int:
    from audiomarathon.cli import print_columns

    print_columns(("method", "kind", "what it keeps"), rows())
    print("\n--ratio is the fraction of audio tokens removed, in (0, 1); required for every method but none.")
    return 0
