"""`audiomarathon submit RUN_DIR --space URL|DB`: send a run to a leaderboard.

A URL goes through the Space's `/submit_run` API endpoint with gradio_client (two files in, JSON
out); anything else is a local SQLite store, re-scored here against the answer keys it holds (or
built from --data). Either way the answer is the same JSON: accepted or rejected, the reasons, the
entry id.
"""

from __future__ import annotations

import json
from pathlib import Path

from audiomarathon.cli import CommandError
from audiomarathon.records import PREDICTIONS_FILE, RESULTS_FILE

FILES = (PREDICTIONS_FILE, RESULTS_FILE)
API_NAME = "/submit_run"  # space/app.py registers it


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a runner output folder (predictions.jsonl + results.json)")
    parser.add_argument("--space", required=True, metavar="URL_OR_DB",
                        help="the leaderboard: a Space URL (http://..., https://...) or a local SQLite store")
    parser.add_argument("--data", action="append", default=None, metavar="PATH_OR_REPO",
                        help="local store only: dataset folder or Hub id to build an answer key from "
                             "(repeatable; default: the keys already in the store)")


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def submit_remote(url: str, predictions: Path, results: Path) -> dict:
    try:
        from gradio_client import Client, handle_file
    except ImportError:
        raise CommandError("submitting to a Space needs gradio_client: pip install gradio_client") from None
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - connection refused, not a Gradio app, ...
        raise CommandError(f"cannot reach the leaderboard at {url}: {exc}") from None
    try:
        answer = client.predict(handle_file(str(predictions)), handle_file(str(results)), api_name=API_NAME)
    except Exception as exc:  # noqa: BLE001 - an old Space without the endpoint, a server error
        raise CommandError(f"{url}: the submission API {API_NAME} failed: {exc}") from None
    if not isinstance(answer, dict) or "accepted" not in answer:
        raise CommandError(f"{url}: unexpected answer from {API_NAME}: {answer!r}"[:500])
    return answer


def submit_local(db: str, predictions: Path, results: Path, datasets: list[str]) -> dict:
    from space.service import Service

    try:
        service = Service.open(db, datasets)
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None
    return service.submit_report(predictions, results)


def run(args) -> int:
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise CommandError(f"{run_dir}: no such run folder")
    missing = [name for name in FILES if not (run_dir / name).is_file()]
    if missing:
        raise CommandError(f"{run_dir}: missing {' and '.join(missing)} (is this a finished `audiomarathon run` output?)")
    predictions, results = (run_dir / name for name in FILES)
    if _is_url(args.space):
        if args.data:
            raise CommandError("--data is for a local store; a Space scores against its own answer key")
        answer = submit_remote(args.space, predictions, results)
    else:
        answer = submit_local(args.space, predictions, results, args.data or [])
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0 if answer.get("accepted") else 1
