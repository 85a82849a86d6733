"""One run per output folder, written by one process at a time.

Two runners writing one folder lose records: when one compacts predictions.jsonl (an atomic
replace), the other keeps appending to the file that was replaced; two configurations in one
folder overwrite each other's results.json. So:

- **The lock.** A runner holds an exclusive lock (``fcntl.flock``) on ``OUT/.audiomarathon.lock``
  from before it reads the folder until results.json is written. A second runner on the same folder
  refuses at once, naming the folder and the holder (pid, host, start time, run id). The operating
  system drops the lock when the holder exits, however it exits (a kill or a crash included), so a
  stale lock never blocks a resume. The lock file stays (removing it would let a third runner lock a
  new file while the second still holds the old one). Under torchrun, rank 0 holds it for all ranks.
- **One configuration.** A folder holding records or results of another run id is refused, naming
  the settings that differ; give another ``--out``. A folder written before the run identity was
  canonical (``--dtype float32`` recorded as ``float32``) is the same run: its records are relabeled
  with the current run id under the lock, and the run resumes.
- **Shards and compaction.** Under torchrun each rank appends to its own shard
  (``predictions.rank<N>.jsonl``); after the run rank 0 folds them into predictions.jsonl, keeping
  one record per (id, run id), and removes them.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Mapping

from audiomarathon.records import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    RUN_ID_FIELD,
    RecordError,
    latest_records,
    parse_prediction_lines,
    read_predictions,
    read_results,
    write_predictions,
)
from audiomarathon.run_identity import IDENTITY_FIELDS, run_id, run_identity

LOCK_FILE = ".audiomarathon.lock"


def shard_name(rank: int | str) -> str:
    """The predictions file of one rank under torchrun (``*``: the pattern of every rank's)."""
    return f"predictions.rank{rank}.jsonl"


def prediction_files(out: Path) -> list[Path]:
    """predictions.jsonl and every rank's shard, in that order (some may not exist)."""
    return [out / PREDICTIONS_FILE, *sorted(out.glob(shard_name("*")))]


class RunFolderBusy(RuntimeError):
    """Another process is writing the run folder."""


class RunFolderHoldsAnotherRun(ValueError):
    """The run folder holds the records or results of another configuration."""


class RunFolderLock:
    """The exclusive lock of one run folder (see the module docstring)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.path = self.out / LOCK_FILE
        self._fh = None

    def acquire(self, run: str | None = None) -> "RunFolderLock":
        """Take the lock or raise RunFolderBusy naming the holder. Never waits: a run can last hours."""
        try:
            import fcntl
        except ImportError:  # no flock on this platform: one runner per folder is the user's to keep
            return self
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fh)
            fh.close()
            raise RunFolderBusy(f"--out {self.out}: another run is writing to this folder ({holder}); two runners "
                                f"on one folder lose records. Wait for it to finish, or give another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "run_id": run,
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the descriptor drops the flock
            self._fh = None

    def __enter__(self) -> "RunFolderLock":
        return self if self._fh is not None else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fh) -> str:
    """The holder's description from the lock file; it writes it just after locking, so retry briefly."""
    for _ in range(20):
        fh.seek(0)
        try:
            info = json.loads(fh.read() or "null")
        except json.JSONDecodeError:
            info = None
        if isinstance(info, dict) and info.get("pid"):
            since = f", since {info['started']}" if info.get("started") else ""
            run = f", run id {info['run_id']}" if info.get("run_id") else ""
            return f"pid {info['pid']} on {info.get('host') or 'an unknown host'}{since}{run}"
        time.sleep(0.05)
    return "its pid is not recorded yet"


def claim_for_run(out: Path, run: str, identity: Mapping, dataset_fingerprint: str | None) -> None:
    """Refuse a folder holding another run's records or results; relabel the records of an older
    spelling of this same run (its results.json identity is this identity once made canonical).
    Call with the folder's lock held."""
    results = _read_results(out)
    ids: dict[str, int] = {}
    for path in prediction_files(out):
        for rec in read_predictions(path):
            key = str(rec.get(RUN_ID_FIELD))
            ids[key] = ids.get(key, 0) + 1
    if results is not None:
        ids.setdefault(str((results.get("config") or {}).get(RUN_ID_FIELD)), 0)
    others = {k: n for k, n in ids.items() if k != run}
    if not others:
        return
    older = _older_spelling(results, identity, dataset_fingerprint)
    if older is not None and set(others) == {older}:
        for path in prediction_files(out):
            if path.exists():
                write_predictions(path, [{**r, RUN_ID_FIELD: run} if r.get(RUN_ID_FIELD) == older else r
                                         for r in read_predictions(path)])
        return
    described = ", ".join(f"{k} ({n} record{'s' if n != 1 else ''})" for k, n in sorted(others.items()))
    differs = _differences(results, identity) if results is not None else ""
    raise RunFolderHoldsAnotherRun(
        f"--out {out} holds another run: {described}; this configuration is run {run}"
        + (f" (it differs in {differs})" if differs else "")
        + ". One run per folder: give another --out (or move that run elsewhere)")


def _read_results(out: Path) -> dict | None:
    path = out / RESULTS_FILE
    if not path.exists():
        return None
    try:
        return read_results(path)
    except (OSError, ValueError) as err:
        raise RecordError(f"{path}: cannot read it to check which run the folder holds: {err}") from None


def _older_spelling(results: dict | None, identity: Mapping, fingerprint: str | None) -> str | None:
    """results.json's run id when its recorded identity, made canonical now, is ``identity``."""
    if not isinstance(results, dict) or not isinstance(results.get("identity"), dict):
        return None
    try:
        again = run_identity(results["identity"], results["identity"].get("dataset_fingerprint"))
    except (ValueError, TypeError):
        return None
    if run_id(again) != run_id(identity):
        return None
    return str((results.get("config") or {}).get(RUN_ID_FIELD))


def _differences(results: dict, identity: Mapping) -> str:
    theirs = results.get("identity") if isinstance(results.get("identity"), dict) else None
    if theirs is None:
        return ""
    out = [f"{name}: {_show(theirs.get(name))} in the folder, {_show(identity.get(name))} now"
           for name in IDENTITY_FIELDS if theirs.get(name) != identity.get(name)]
    return "; ".join(out)


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else value


class RunFolder:
    """The run folder's lock and its one-run check, decided by rank 0 for every rank (torchrun)."""

    def __init__(self, out: Path, dist, run: str, identity: dict, fingerprint: str | None):
        self.out, self.dist, self.run, self.identity, self.fingerprint = out, dist, run, identity, fingerprint
        self.lock = RunFolderLock(out)
        self.entered = False

    def enter(self, create: bool) -> None:
        """Lock and check the folder (``create``: make it first; else only an existing one)."""
        if self.entered:
            return
        outcome = None
        if self.dist.rank == 0:
            if create:
                self.out.mkdir(parents=True, exist_ok=True)
            if self.out.is_dir():
                try:
                    self.lock.acquire(self.run)
                    claim_for_run(self.out, self.run, self.identity, self.fingerprint)
                    outcome = "entered"
                except Exception as err:  # noqa: BLE001 - every rank raises rank 0's refusal
                    self.lock.release()
                    outcome = err
        outcome = self.dist.broadcast(outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        self.entered = outcome == "entered"

    def release(self) -> None:
        self.lock.release()


def compact_predictions(out: Path) -> None:
    """Fold per-rank files into predictions.jsonl and keep one record per (id, run id), the
    latest (a retried sample replaces its failure), in an atomic replace; then remove the shards.
    Nothing is rewritten when there is nothing to fold."""
    pred, *shards = prediction_files(out)
    lines = [rec for p in [pred, *shards] if p.exists()
             for _, rec in parse_prediction_lines(p.read_bytes(), str(p), check_shape=False)]
    records = latest_records(lines)
    if shards or len(records) != len(lines):
        write_predictions(pred, records)
    for p in shards:
        p.unlink()
