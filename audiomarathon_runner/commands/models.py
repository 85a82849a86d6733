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
    table = rows()
    w1 = max(len("family"), *(len(r[0]) for r in table))
    w2 = max(len("model_type"), *(len(r[1]) for r in table))
    print(f"{'family':<{w1}}  {'model_type':<{w2}}  transformers class")
    for family, types, cls in table:
        print(f"{family:<{w1}}  {types:<{w2}}  {cls}")
    print("\nA checkpoint is matched by the model_type in its config.json; any other is refused.")
    return 0
