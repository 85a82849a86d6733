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
    from audiomarathon.methods import METHOD_RATIO_RANGE, RATIO_RANGE

    print(f"\n--ratio is the fraction of audio tokens removed, in {METHOD_RATIO_RANGE}; required for every method "
          f"but none. A sweep's --ratios are each in {RATIO_RANGE}: 0 is a method's uncompressed point.")
    return 0
