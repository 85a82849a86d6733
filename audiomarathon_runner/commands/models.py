"""`audiomarathon models`: the model families the runner supports (the adapter registry)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    pass


def rows() -> list[tuple[str, str, str]]:
    """(family, config.json model_type(s), transformers class), one per adapter class."""
    from ..adapters import ADAPTERS

    by_class: dict[type, list[str]] = {}
    for model_type, cls in ADAPTERS.items():
        by_class.setdefault(cls, []).append(model_type)
    return [(cls.family, ", ".join(types), cls.model_class) for cls, types in by_class.items()]


def run(args) -> int:
    from audiomarathon.cli import print_columns

    print_columns(("family", "model_type", "transformers class"), rows())
    print("\nA checkpoint is matched by the model_type in its config.json; any other is refused.")
    return 0
