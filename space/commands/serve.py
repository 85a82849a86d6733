"""`audiomarathon serve`: start the leaderboard Space locally (the same app `python space/app.py`
starts on a Hugging Face Space)."""

from __future__ import annotations

import importlib.util

from audiomarathon.cli import CommandError


def _space_importable() -> None:
    missing = [name for name in ("gradio", "matplotlib") if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(f"serve needs {' and '.join(missing)}: pip install -e '.[space]'")


def add_arguments(parser) -> None:
    _space_importable()
    from space.settings import add_arguments as space_arguments

    space_arguments(parser)


def run(args) -> int:
    _space_importable()
    from space.settings import settings_from

    try:
        settings = settings_from(args)
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None
    from space.app import serve

    try:
        serve(settings)
    except (ValueError, FileNotFoundError) as exc:  # e.g. a --dataset that cannot be read
        raise CommandError(str(exc)) from None
    return 0
