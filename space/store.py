"""The leaderboard store: SQLite (WAL, one transaction per write) with a schema version and migrations.

Every write commits before it is acknowledged, so a killed server loses nothing it reported as
stored. Each call opens its own connection, which makes the store safe to share between threads
and processes (Gradio serves submissions from a thread pool).
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from audiomarathon.benchmarks import get_benchmark
from space.answer_key import AnswerKey

PAPER = "paper"  # rows reported in the AudioMarathon paper
VERIFIED = "verified"  # submissions re-scored by this server
# Short: the board shows them in a narrow Source column (the About tab says what each means).
SOURCE_LABELS = {PAPER: "paper", VERIFIED: "verified"}
# A verified entry is ranked, or held: its replies equal an earlier entry's (a probable duplicate
# under other settings), so it is shown as such and not ranked until a maintainer accepts it.
RANKED, HELD = "ranked", "held"
HELD_LABEL = "held"
# Key of Entry.details holding the whole run's figures (average CI, invalid rate); the other keys
# are config names.
OVERALL = "overall"
# Key of details[OVERALL] naming the benchmark a row ranks on (a benchmark's key); rows stored
# before there were other benchmarks are AudioMarathon's.
BENCHMARK = "benchmark"
DEFAULT_BENCHMARK = get_benchmark("AudioMarathon").key


class StoreError(RuntimeError):
    pass


class DuplicateEntry(StoreError):
    """The same model and configuration is already on the leaderboard."""


def duplicate_message(model: str, run_id: str) -> str:
    return f"{model} with this configuration is already on the leaderboard (run id {run_id})"


class RateLimited(StoreError):
    """The submitter has used up the submissions allowed in the window."""

    def __init__(self, retry_at: float):
        self.retry_at = retry_at  # seconds since the epoch when the oldest counted attempt leaves the window
        super().__init__(f"rate limit reached; next submission possible at {retry_at:.0f}")


@dataclass
class Entry:
    model: str
    source: str
    weights: str  # "open", "closed" (the model's weights are public or not) or "human"
    scores: dict[str, float]  # config name -> headline score (0-100)
    # The run id of the run's identity (run_identity.run_id): one entry per run. A published row
    # has "paper:<model>".
    run_id: str
    size_b: float | None = None
    method: str = "none"
    ratio: float = 0.0
    config: dict = field(default_factory=dict)
    categories: dict[str, float] = field(default_factory=dict)
    average: float | None = None
    prefill_s: float | None = None
    dataset_fingerprint: str = ""
    details: dict = field(default_factory=dict)  # per-task n, accuracy, invalid rate, ...
    created_at: str = ""
    id: int | None = None
    replies_hash: str | None = None  # validation.replies_hash of a verified submission
    status: str = RANKED
    duplicate_of: str | None = None  # run id of the entry whose replies a held entry repeats
    name: str | None = None  # the run's display name (results.json config.name, run --name): a label

    @property
    def held(self) -> bool:
        return self.status == HELD

    @property
    def benchmark(self) -> str:
        """The key of the benchmark whose board shows this row."""
        return (self.details.get(OVERALL) or {}).get(BENCHMARK) or DEFAULT_BENCHMARK

    @property
    def source_label(self) -> str:
        return HELD_LABEL if self.held else SOURCE_LABELS.get(self.source, self.source)

    def to_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> "Entry":
        """An entry from ``to_record``'s output; records synced before the fields' present names
        (``config_key``, ``model_type``) read too."""
        record = {RENAMED.get(k, k): v for k, v in record.items()}
        return cls(**{k: record[k] for k in cls.__dataclass_fields__ if k in record})


# Entry fields' earlier names (store schema before v4, synced records written before then).
RENAMED = {"config_key": "run_id", "model_type": "weights"}


# --- migrations ---------------------------------------------------------------------------------
# Each migration moves the schema from version i to i+1 and runs in its own transaction; the
# schema version is SQLite's user_version. Append new migrations; never edit a released one.

def _run(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would COMMIT the migration's transaction first.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _run(conn, 
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL CHECK (source IN ('paper', 'verified')),
            model TEXT NOT NULL,
            model_type TEXT NOT NULL,
            size_b REAL,
            method TEXT NOT NULL,
            ratio REAL NOT NULL,
            config_key TEXT NOT NULL UNIQUE,
            config_json TEXT NOT NULL,
            scores_json TEXT NOT NULL,
            categories_json TEXT NOT NULL,
            average REAL,
            prefill_s REAL,
            dataset_fingerprint TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE answer_keys (
            fingerprint TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            num_ids INTEGER NOT NULL,
            key_zlib BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


def _v2(conn: sqlite3.Connection) -> None:
    # Per-task details (n, accuracy, invalid rate) and the raw predictions of each verified
    # submission, kept compressed so a result can be audited or re-scored later.
    _run(conn, 
        """
        ALTER TABLE entries ADD COLUMN details_json TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE predictions (
            entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
            jsonl_zlib BLOB NOT NULL
        );
        CREATE INDEX entries_average ON entries(average DESC);
        """
    )


def _v3(conn: sqlite3.Connection) -> None:
    # Probable duplicates (same replies as a stored entry) are held for a maintainer; every
    # submission attempt is logged by submitter for the rate limit (the log stays local: it is
    # never part of an entry, so never synced).
    _run(conn,
        """
        ALTER TABLE entries ADD COLUMN replies_hash TEXT;
        ALTER TABLE entries ADD COLUMN status TEXT NOT NULL DEFAULT 'ranked';
        ALTER TABLE entries ADD COLUMN duplicate_of TEXT;
        CREATE INDEX entries_replies ON entries(replies_hash);
        CREATE TABLE submission_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            submitter TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX submission_log_by ON submission_log(submitter, at);
        """
    )


def _v4(conn: sqlite3.Connection) -> None:
    # One name per thing: the run id (was config_key) and whether the weights are public (was
    # model_type, which elsewhere names a transformers architecture); the run's display name.
    _run(conn,
        """
        ALTER TABLE entries RENAME COLUMN config_key TO run_id;
        ALTER TABLE entries RENAME COLUMN model_type TO weights;
        ALTER TABLE entries ADD COLUMN name TEXT;
        """
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4)
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: str | Path, migrate: bool = True, timeout: float = 60.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if migrate:
            self.migrate()

    # --- connections ----------------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we acknowledge it (survives kill -9 and power loss).
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue instead of
        failing halfway; everything inside commits together or not at all."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    # --- schema ---------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Apply pending migrations up to `target`; safe when several processes start at once."""
        while True:
            with self.transaction() as conn:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version} is newer than this code "
                        f"({SCHEMA_VERSION}); upgrade the Space"
                    )
                if version >= target:
                    return version
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version={version + 1}")

    # --- entries --------------------------------------------------------------------------------
    def add_entry(self, entry: Entry, predictions_jsonl: bytes | None = None, hold_duplicates: bool = True) -> int:
        """Store one row (and the raw predictions) in one transaction; returns its id.
        Raises DuplicateEntry when the configuration is already stored. A new entry whose
        replies equal a stored entry's is stored held (``status``, ``duplicate_of`` set on
        ``entry``); the check and the insert share the transaction, so of two identical
        submissions at once exactly one is ranked."""
        created = entry.created_at or _now()
        try:
            with self.transaction() as conn:
                if hold_duplicates and entry.replies_hash and entry.status == RANKED:
                    earlier = conn.execute("SELECT run_id FROM entries WHERE replies_hash=? ORDER BY id LIMIT 1",
                                           (entry.replies_hash,)).fetchone()
                    if earlier is not None:
                        entry.status, entry.duplicate_of = HELD, earlier[0]
                cur = conn.execute(
                    "INSERT INTO entries (source, model, weights, size_b, method, ratio, run_id,"
                    " config_json, scores_json, categories_json, average, prefill_s,"
                    " dataset_fingerprint, created_at, details_json, replies_hash, status, duplicate_of, name)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.source, entry.model, entry.weights, entry.size_b, entry.method,
                        float(entry.ratio), entry.run_id, _dumps(entry.config), _dumps(entry.scores),
                        _dumps(entry.categories), entry.average, entry.prefill_s,
                        entry.dataset_fingerprint, created, _dumps(entry.details),
                        entry.replies_hash, entry.status, entry.duplicate_of, entry.name,
                    ),
                )
                entry_id = int(cur.lastrowid)
                if predictions_jsonl is not None:
                    conn.execute(
                        "INSERT INTO predictions (entry_id, jsonl_zlib) VALUES (?, ?)",
                        (entry_id, zlib.compress(predictions_jsonl, 6)),
                    )
        except sqlite3.IntegrityError as exc:
            if "run_id" in str(exc):
                raise DuplicateEntry(duplicate_message(entry.model, entry.run_id)) from None
            raise
        entry.id, entry.created_at = entry_id, created
        return entry_id

    def add_entries(self, entries: Sequence[Entry]) -> int:
        """Insert many rows in one transaction, skipping configurations already stored (seeding).

        A row already stored is skipped before the INSERT, not by INSERT OR IGNORE: SQLite's
        AUTOINCREMENT spends an id on every ignored row, so each restart that re-seeds would make
        the next submission's id jump by the number of published rows."""
        added = 0
        with self.transaction() as conn:
            for e in entries:
                cur = conn.execute(
                    "INSERT INTO entries (source, model, weights, size_b, method, ratio,"
                    " run_id, config_json, scores_json, categories_json, average, prefill_s,"
                    " dataset_fingerprint, created_at, details_json, name)"
                    " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                    " WHERE NOT EXISTS (SELECT 1 FROM entries WHERE run_id = ?)",
                    (
                        e.source, e.model, e.weights, e.size_b, e.method, float(e.ratio), e.run_id,
                        _dumps(e.config), _dumps(e.scores), _dumps(e.categories), e.average, e.prefill_s,
                        e.dataset_fingerprint, e.created_at or _now(), _dumps(e.details), e.name, e.run_id,
                    ),
                )
                added += cur.rowcount
        return added

    def refresh_published(self, entries: Sequence[Entry]) -> None:
        """Bring stored paper rows to the given published values (type, size, scores, details);
        their ids and every verified submission stay as they are."""
        with self.transaction() as conn:
            for e in entries:
                conn.execute(
                    "UPDATE entries SET weights=?, size_b=?, config_json=?, scores_json=?, categories_json=?,"
                    " average=?, details_json=? WHERE run_id=? AND source=?",
                    (e.weights, e.size_b, _dumps(e.config), _dumps(e.scores), _dumps(e.categories), e.average,
                     _dumps(e.details), e.run_id, PAPER),
                )

    def entries(self, source: str | None = None) -> list[Entry]:
        sql = "SELECT * FROM entries"
        args: tuple = ()
        if source:
            sql += " WHERE source = ?"
            args = (source,)
        sql += " ORDER BY average IS NULL, average DESC, id"
        with self.reading() as conn:
            return [_entry(row) for row in conn.execute(sql, args)]

    def count(self, source: str | None = None) -> int:
        with self.reading() as conn:
            if source:
                return int(conn.execute("SELECT COUNT(*) FROM entries WHERE source=?", (source,)).fetchone()[0])
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def has_run(self, run_id: str) -> bool:
        with self.reading() as conn:
            return conn.execute("SELECT 1 FROM entries WHERE run_id=?", (run_id,)).fetchone() is not None

    def predictions(self, entry_id: int) -> bytes | None:
        with self.reading() as conn:
            row = conn.execute("SELECT jsonl_zlib FROM predictions WHERE entry_id=?", (entry_id,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    def delete_entry(self, entry_id: int) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM entries WHERE id=?", (entry_id,)).rowcount == 1

    def held_entries(self) -> list[Entry]:
        return [e for e in self.entries() if e.held]

    def accept(self, entry_id: int) -> bool:
        """A maintainer's decision: a held entry is ranked (its settings do give these replies)."""
        with self.transaction() as conn:
            return conn.execute("UPDATE entries SET status=?, duplicate_of=NULL WHERE id=? AND status=?",
                                (RANKED, entry_id, HELD)).rowcount == 1

    def entry_by_run(self, run_id: str) -> Entry | None:
        with self.reading() as conn:
            row = conn.execute("SELECT * FROM entries WHERE run_id=?", (run_id,)).fetchone()
        return _entry(row) if row else None

    # --- rate limit -----------------------------------------------------------------------------
    def log_submission(self, submitter: str, limit: int, window_s: float, now: float | None = None) -> None:
        """Count one submission attempt of ``submitter``; raises RateLimited (and counts nothing)
        when ``limit`` attempts were already made in the last ``window_s`` seconds. Count and
        insert share one transaction, so parallel attempts cannot all slip under the limit."""
        now = time.time() if now is None else now
        with self.transaction() as conn:
            recent = conn.execute("SELECT at FROM submission_log WHERE submitter=? AND at>? ORDER BY at",
                                  (submitter, now - window_s)).fetchall()
            if len(recent) >= limit:
                raise RateLimited(recent[0][0] + window_s)
            conn.execute("INSERT INTO submission_log (submitter, at) VALUES (?, ?)", (submitter, now))
            # The log only has to reach back one window.
            conn.execute("DELETE FROM submission_log WHERE at<?", (now - max(window_s, 86_400.0),))

    # --- answer keys ----------------------------------------------------------------------------
    def put_answer_key(self, key: AnswerKey) -> bool:
        """Store a key (idempotent); returns True when it was new."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO answer_keys (fingerprint, source, num_ids, key_zlib, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (key.fingerprint, key.source, key.num_ids, zlib.compress(key.to_json().encode("utf-8"), 6), _now()),
            )
            return cur.rowcount == 1

    def answer_key(self, fingerprint: str) -> AnswerKey | None:
        with self.reading() as conn:
            row = conn.execute("SELECT key_zlib FROM answer_keys WHERE fingerprint=?", (fingerprint,)).fetchone()
        return AnswerKey.from_json(zlib.decompress(row[0]).decode("utf-8")) if row else None

    def answer_keys(self) -> list[AnswerKey]:
        with self.reading() as conn:
            rows = conn.execute("SELECT key_zlib FROM answer_keys ORDER BY created_at, fingerprint").fetchall()
        return [AnswerKey.from_json(zlib.decompress(r[0]).decode("utf-8")) for r in rows]

    def integrity_check(self) -> str:
        with self.reading() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"], source=row["source"], model=row["model"], weights=row["weights"],
        size_b=row["size_b"], method=row["method"], ratio=row["ratio"], run_id=row["run_id"],
        config=json.loads(row["config_json"]), scores=json.loads(row["scores_json"]),
        categories=json.loads(row["categories_json"]), average=row["average"], prefill_s=row["prefill_s"],
        dataset_fingerprint=row["dataset_fingerprint"], created_at=row["created_at"],
        details=json.loads(row["details_json"]), replies_hash=row["replies_hash"], status=row["status"],
        duplicate_of=row["duplicate_of"], name=row["name"],
    )

