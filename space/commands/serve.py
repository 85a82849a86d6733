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
    from space.port import PortInUse, check_port

    try:
        check_port(settings.host, settings.port)
    except PortInUse as exc:
        raise CommandError(str(exc)) from None
    # Importing Gradio and building the answer keys take seconds: say so before, and the URL after.
    print(f"Starting the leaderboard on {settings.host}:{settings.port} "
          f"({len(settings.datasets)} dataset(s), store {settings.db}) ...", flush=True)
    from space.app import serve

    try:
        serve(settings)
    except (ValueError, FileNotFoundError, PortInUse) as exc:  # e.g. a --data that cannot be read
        raise CommandError(str(exc)) from None
    return 0
