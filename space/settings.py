"""Server settings: space/settings.json (how a Space is configured) with command-line options on top.
Kept apart from app.py so `audiomarathon serve --help` does not import Gradio."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from space.validation import Limits

HERE = Path(__file__).resolve().parent
SETTINGS_FILE = HERE / "settings.json"


@dataclass
class Settings:
    db: Path = Path("leaderboard.sqlite")
    datasets: list[str] = field(default_factory=list)
    hub_repo: str | None = None
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 32.0
    upload_ttl_s: int = 600  # uploads (submitted or not, finished or aborted) are deleted after this long
    # Submissions one submitter (a Hub user, else an address) may make per hour; 0: no limit.
    # A sweep of 9 ratios x 6 methods fits in an hour; a flood of copies does not.
    max_submissions_per_hour: int = 60

    @property
    def limits(self) -> Limits:
        return Limits(max_predictions_bytes=int(self.max_upload_mb * 2**20))


def default_db() -> Path:
    # A Space with persistent storage mounts it at /data; elsewhere use the working directory.
    data = Path("/data")
    if data.is_dir() and os.access(data, os.W_OK):
        return data / "leaderboard.sqlite"
    return Path("leaderboard.sqlite")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="SQLite store (created and migrated when needed)")
    parser.add_argument("--data", dest="data", action="append", default=None, metavar="PATH_OR_REPO",
                        help="dataset folder or Hub repo to build an answer key from (repeatable)")
    parser.add_argument("--dataset", dest="data", action="append", help=argparse.SUPPRESS)  # older name
    parser.add_argument("--hub-repo", help="Hub dataset repo to sync verified submissions to (needs HF_TOKEN)")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 7860)")
    parser.add_argument("--max-upload-mb", type=float, help="size limit of predictions.jsonl (default 32)")
    parser.add_argument("--upload-ttl-s", type=int,
                        help="delete uploaded files after this many seconds, submitted or not, finished or aborted "
                             "(default 600)")
    parser.add_argument("--max-submissions-per-hour", type=int,
                        help="submissions one submitter (a Hub user, else an address) may make per hour; "
                             "0: no limit (default 60)")
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE,
                        help="JSON file with the same keys (db, datasets, hub_repo, host, port, max_upload_mb)")


def settings_from(args: argparse.Namespace) -> Settings:
    """settings.json first (how a Space is configured), then command-line options on top."""
    values: dict = {"db": default_db()}
    if args.settings and Path(args.settings).is_file():
        values.update(json.loads(Path(args.settings).read_text(encoding="utf-8")))
    overrides = {"db": args.db, "datasets": args.data, "hub_repo": args.hub_repo, "host": args.host,
                 "port": args.port, "max_upload_mb": args.max_upload_mb,
                 "upload_ttl_s": getattr(args, "upload_ttl_s", None),
                 "max_submissions_per_hour": getattr(args, "max_submissions_per_hour", None)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["db"] = Path(values["db"])
    known = Settings.__dataclass_fields__
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"{args.settings}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return Settings(**values)
