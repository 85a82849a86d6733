"""`audiomarathon models`: the model families the runner supports (the adapter registry)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    pass


def _classes() -> dict[type, list[str]]:
    from ..adapters import ADAPTERS

    by_class: dict[type, list[str]] = {}
    for model_type, cls in ADAPTERS.items():
        by_class.setdefault(cls, []).append(model_type)
    return by_class


def rows() -> list[tuple[str, str, str, str]]:
    """(family, config.json model_type(s), transformers class, system prompt), one per adapter class."""
    return [(cls.family, ", ".join(types), cls.model_class + (" (checkpoint's own code)" if cls.remote_code else ""),
             "model card's (below)" if cls.system_prompt else "none")
            for cls, types in _classes().items()]


def run(args) -> int:
    from audiomarathon.cli import print_columns

    from ..profiles import AUTHORS_PROFILE

    print_columns(("family", "model_type", "transformers class", "system prompt"), rows())
    print("\nA checkpoint is matched by the model_type in its config.json; any other is refused.")
    remote = [cls.family for cls in _classes() if cls.remote_code]
    if remote:
        print(f"{', '.join(remote)}: not a transformers class; its checkpoints ship their own Python code, which runs "
              "only with --trust-remote-code (its sha256 is recorded in results.json and the run identity).")
    print("\nSystem prompts (--profile card, the default, sends the one the model card documents; a family whose "
          "card documents none gets no system turn):")
    for cls in _classes():
        print(f"  {cls.family}: " + (f'"{cls.system_prompt}"' if cls.system_prompt else "none"))
    written = ", ".join(AUTHORS_PROFILE.families)
    print(f"\n--profile authors follows the benchmark authors' scripts for {written}, and "
          f"{AUTHORS_PROFILE.default_owner}'s for the other families.")
    return 0
