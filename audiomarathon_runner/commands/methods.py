"""`audiomarathon methods`: the compression methods `run --method` accepts (audiomarathon.methods)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    pass


def rows() -> list[tuple[str, str, str]]:
    """(name, kind, what it keeps), in the table's order."""
    from audiomarathon.methods import KIND_NAMES, METHODS

    return [(name, KIND_NAMES[m.kind], m.summary) for name, m in METHODS.items()]


def run(args) -> int:
    from audiomarathon.cli import print_columns
    from audiomarathon.methods import METHOD_RATIO_RANGE, RATIO_RANGE

    print_columns(("method", "kind", "what it keeps"), rows())
    print(f"\n--ratio is the fraction of audio tokens removed, in {METHOD_RATIO_RANGE}; required for every method "
          f"but none. A sweep's --ratios are each in {RATIO_RANGE}: 0 is a method's uncompressed point.")
    return 0
