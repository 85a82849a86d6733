"""`audiomarathon serve`: start the leaderboard Space locally.

The Space lives in the repository's space/ folder, which no package imports; this launcher finds
it next to the package and loads it only when the command runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from audiomarathon.cli import CommandError

REPO_ROOT = Path(__file__).resolve().parents[2]
SPACE_APP = REPO_ROOT / "space" / "app.py"


def _space_importable() -> None:
    if not SPACE_APP.is_file():
        raise CommandError(f"the leaderboard app is not here: {SPACE_APP} (serve needs a source checkout)")
    missing = [name for name in ("gradio", "matplotlib") if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(f"serve needs {' and '.join(missing)}: pip install -e '.[space]'")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


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
