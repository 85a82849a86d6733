"""The leaderboard store: migrations, uniqueness, answer keys, concurrent writers (threads and
processes) and durability when the writing process is killed with SIGKILL."""

from __future__ import annotations

import multiprocessing as mp
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from space.answer_key import AnswerKey, KeyItem, answer_key_fingerprint
from space.store import MIGRATIONS, PAPER, SCHEMA_VERSION, VERIFIED, DuplicateEntry, Entry, Store, StoreError



def entry(model="M-7B", key=None, average=50.0, source=VERIFIED) -> Entry:
    return Entry(model=model, source=source, weights="open", scores={"TAU": average},
                 run_id=key or f"cfg:{model}", average=average, size_b=7.0, method="none",
                 dataset_fingerprint="sha256:x")


def test_fresh_store_is_at_the_latest_schema(tmp_path):
    store = Store(tmp_path / "lb.sqlite")
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    with store.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entries", "answer_keys", "predictions"} <= tables
    assert store.integrity_check() == "ok"


def test_migration_from_v1_keeps_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate(target=1)
    assert old.schema_version() == 1
    with old.transaction() as conn:  # a row written by the v1 code
        conn.execute(
            "INSERT INTO entries (source, model, model_type, size_b, method, ratio, config_key, config_json,"
            " scores_json, categories_json, average, prefill_s, dataset_fingerprint, created_at)"
            " VALUES ('verified', 'Old-3B', 'open', 3, 'none', 0, 'cfg:old', '{}', '{\"TAU\": 40}', '{}', 40,"
            " NULL, 'sha256:x', '2025-01-01T00:00:00+00:00')"
        )
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    [row] = store.entries()
    assert (row.model, row.scores, row.details) == ("Old-3B", {"TAU": 40}, {})
    # v4 renamed the columns the row was written under, and added the run's display name.
    assert (row.run_id, row.weights, row.name) == ("cfg:old", "open", None)
    new_id = store.add_entry(entry("New-7B"), predictions_jsonl=b'{"id": "a"}\n')
    assert store.predictions(new_id) == b'{"id": "a"}\n'


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this code"):
        Store(path)


def test_duplicate_configuration_is_rejected_and_nothing_changes(tmp_path):
    store = Store(tmp_path / "lb.sqlite")
    first = store.add_entry(entry("A-7B", key="cfg:same"))
    with pytest.raises(DuplicateEntry, match="already on the leaderboard"):
        store.add_entry(entry("A-7B", key="cfg:same", average=99.0), predictions_jsonl=b"x")
    assert [e.id for e in store.entries()] == [first]
    assert store.entries()[0].average == 50.0
    with store.reading() as conn:  # the failed transaction left no orphan predictions
        assert conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 0


def test_entries_sorted_by_average_and_filtered_by_source(tmp_path):
    store = Store(tmp_path / "lb.sqlite")
    store.add_entries([entry("P", average=60.0, source=PAPER), entry("Q", average=None, source=PAPER)])
    store.add_entry(entry("V", average=70.0))
    assert [e.model for e in store.entries()] == ["V", "P", "Q"]
    assert [e.model for e in store.entries(PAPER)] == ["P", "Q"]
    assert store.add_entries([entry("P", average=60.0, source=PAPER)]) == 0  # seeding is idempotent
    assert store.count() == 3


def test_answer_key_round_trip_and_fingerprint_ignores_row_order(tmp_path):
    rows = [
        {"id": "TAU-00000", "task": "TAU", "choices": ["bus", "park", "tram", "metro"], "answer": "B", "answer_text": "park"},
        {"id": "LibriSpeech-00000", "task": "LibriSpeech", "choices": [], "answer": "", "answer_text": "hello world"},
    ]
    key = AnswerKey.from_rows(rows, source="here")
    assert key.fingerprint == answer_key_fingerprint(list(reversed(rows)))
    assert key.items["LibriSpeech-00000"] == KeyItem("LibriSpeech", "hello world", ())
    changed = [dict(rows[0], answer="C", answer_text="tram"), rows[1]]
    assert answer_key_fingerprint(changed) != key.fingerprint
    store = Store(tmp_path / "lb.sqlite")
    assert store.put_answer_key(key) is True
    assert store.put_answer_key(key) is False
    assert store.answer_key(key.fingerprint) == key
    with pytest.raises(ValueError, match="appears twice"):
        AnswerKey.from_rows(rows + rows[:1])


def test_twenty_concurrent_threads_each_stored_once(tmp_path):
    store = Store(tmp_path / "lb.sqlite")
    barrier = threading.Barrier(20)
    ids, errors = [], []

    def write(i):
        barrier.wait()
        try:
            ids.append(Store(store.path).add_entry(entry(f"T{i}-1B"), predictions_jsonl=f"{i}\n".encode()))
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(e.model for e in store.entries()) == sorted(f"T{i}-1B" for i in range(20))
    assert len(set(ids)) == 20


def test_same_configuration_from_twenty_threads_is_stored_exactly_once(tmp_path):
    store = Store(tmp_path / "lb.sqlite")
    barrier = threading.Barrier(20)
    outcomes = []

    def write():
        barrier.wait()
        try:
            store.add_entry(entry("Same-7B", key="cfg:same"))
            outcomes.append("stored")
        except DuplicateEntry:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=write) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate"] * 19 + ["stored"]
    assert store.count() == 1


def _process_writer(path: str, i: int, start) -> None:
    start.wait()
    Store(path).add_entry(entry(f"P{i}-1B"))


def test_twenty_concurrent_processes_each_stored_once(tmp_path):
    path = str(tmp_path / "lb.sqlite")
    Store(path)
    ctx = mp.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_process_writer, args=(path, i, start)) for i in range(20)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 20
    store = Store(path)
    assert sorted(e.model for e in store.entries()) == sorted(f"P{i}-1B" for i in range(20))
    assert store.integrity_check() == "ok"


WRITER = textwrap.dedent(
    """
    from space.store import Entry, Store
    store = Store({db!r})
    i = 0
    while True:  # write until killed; print an acknowledgement after each commit
        store.add_entry(Entry(model=f"K{{i}}", source="verified", weights="open", scores={{"TAU": 1.0}},
                              run_id=f"cfg:k{{i}}", average=1.0), predictions_jsonl=b"x" * 4096)
        print(i, flush=True)
        i += 1
    """
)


def test_sigkill_loses_nothing_acknowledged(tmp_path):
    db = tmp_path / "lb.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(db=str(db))],
                            stdout=subprocess.PIPE, text=True)
    acked = []
    for line in proc.stdout:
        acked.append(int(line))
        if len(acked) >= 40:
            break
    proc.send_signal(signal.SIGKILL)  # mid-write: the next transaction is under way
    proc.wait()
    acked += [int(x) for x in proc.stdout.read().split()]  # acknowledgements still in the pipe
    store = Store(db)
    assert store.integrity_check() == "ok"
    stored = {e.model for e in store.entries()}
    assert {f"K{i}" for i in acked} <= stored
    assert all(store.predictions(e.id) == b"x" * 4096 for e in store.entries())
