"""Optional sync of verified submissions to a Hub dataset repo (backup and public record).

Off unless both a dataset repo id and a token are configured; the app shows which. Each verified
entry becomes two files, `submissions/<run id>.json` (the row) and `.jsonl` (its raw
predictions), so the repo can rebuild the store (`import_records`) after the Space restarts
without persistent storage.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.files import write_atomic
from space.store import VERIFIED, Entry, Store

log = logging.getLogger(__name__)
FOLDER = "submissions"


def _safe_name(run_id: str) -> str:
    return run_id.replace(":", "-")


def export_records(store: Store, folder: str | Path) -> list[Path]:
    """Write every verified entry (and its predictions) under folder/submissions/."""
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in store.entries(VERIFIED):
        written += write_record(e, store.predictions(e.id) if e.id is not None else None, out)
    return written


def write_record(entry: Entry, predictions: bytes | None, out: Path) -> list[Path]:
    record = entry.to_record()
    record.pop("id", None)  # ids are local to one store
    base = out / _safe_name(entry.run_id)
    paths = [base.with_suffix(".json")]
    write_atomic(paths[0], json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))
    if predictions is not None:
        paths.append(base.with_suffix(".jsonl"))
        write_atomic(paths[1], predictions)
    return paths


def import_records(store: Store, folder: str | Path) -> int:
    """Load records written by export_records into the store; runs already stored are skipped."""
    added = 0
    for path in sorted((Path(folder) / FOLDER).glob("*.json")):
        entry = Entry.from_record(json.loads(path.read_text(encoding="utf-8")))
        if entry.source != VERIFIED or store.has_run(entry.run_id):
            continue
        preds = path.with_suffix(".jsonl")
        # As recorded: a restored entry keeps the status it had (held or ranked).
        store.add_entry(entry, preds.read_bytes() if preds.exists() else None, hold_duplicates=False)
        added += 1
    return added


@dataclass
class HubSync:
    repo_id: str | None = None
    token: str | None = None
    endpoint: str | None = None  # None: huggingface.co (tests point it at a local stand-in)

    def __post_init__(self) -> None:
        self.last_error: str | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.repo_id and self.token)

    def status(self) -> str:
        if not self.repo_id:
            return "Hub sync is off: no Hub dataset repo configured; results live only in this server's database."
        if not self.token:
            return (f"Hub sync is off: a repo ({self.repo_id}) is configured but no token "
                    "(set the HF_TOKEN secret); results live only in this server's database.")
        if self.last_error:
            return f"Hub sync to {self.repo_id} is on; the last upload failed: {self.last_error}"
        return f"Hub sync is on: verified submissions are copied to the dataset repo {self.repo_id}."

    def pull(self, store: Store) -> int:
        """At start-up: restore verified entries from the repo into the store."""
        if not self.enabled:
            return 0
        from huggingface_hub import snapshot_download

        try:
            folder = snapshot_download(self.repo_id, repo_type="dataset", token=self.token, endpoint=self.endpoint,
                                       allow_patterns=[f"{FOLDER}/*"])
        except Exception as exc:  # network or auth: keep serving from the local store
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("hub pull failed: %s", self.last_error)
            return 0
        return import_records(store, folder)

    def push_async(self, entry: Entry, predictions: bytes | None) -> threading.Thread | None:
        """Upload one accepted entry in the background; the local store already holds it."""
        if not self.enabled:
            return None
        thread = threading.Thread(target=self.push, args=(entry, predictions), daemon=True)
        thread.start()
        return thread

    def push(self, entry: Entry, predictions: bytes | None) -> bool:
        from huggingface_hub import HfApi

        with self._lock, tempfile.TemporaryDirectory() as tmp:
            try:
                write_record(entry, predictions, Path(tmp))
                HfApi(endpoint=self.endpoint, token=self.token).upload_folder(
                    folder_path=tmp, path_in_repo=FOLDER, repo_id=self.repo_id, repo_type="dataset",
                    commit_message=f"Add submission {entry.model} ({entry.method}, {entry.ratio:.2f})",
                )
                self.last_error = None
                return True
            except Exception as exc:  # network or auth failure must not fail the submission
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("hub push failed: %s", self.last_error)
                return False
