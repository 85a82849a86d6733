"""Submitting the runner's real output to a real leaderboard: `audiomarathon submit` through the
Space's /submit_run API (gradio_client against a server on 127.0.0.1) and into a local store;
hostile results.json files; uploads purged; the leaderboard page in headless Chromium at 1280 and
1920 px, read through the DOM."""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from audiomarathon.cli import main
from audiomarathon.tasks import TASKS
from space_server import SpaceServer

ROOT = Path(__file__).resolve().parents[1]


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def real_run(imported_dataset, tmp_path_factory):
    """A finished `audiomarathon run` of a tiny Qwen2-Audio over every id of the dataset."""
    from audiomarathon_runner.tiny import save_tiny_model

    base = tmp_path_factory.mktemp("space-submit")
    model = save_tiny_model("qwen2_audio", base / "model")
    out = base / "run"
    assert main(["run", "--model", str(model), "--data", str(imported_dataset), "--out", str(out), "--dtype", "fp32",
                 "--device", "cpu", "--no-progress", "--max-new-tokens", "3"]) == 0
    return out


def variant(run: Path, dest: Path, **config) -> Path:
    """The same run under another model name (or other config values): a distinct leaderboard row."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "predictions.jsonl", dest / "predictions.jsonl")
    results = json.loads((run / "results.json").read_text())
    results["config"].update(config)
    (dest / "results.json").write_text(json.dumps(results))
    return dest


def safetensors_parameter_count(model_dir: Path) -> int:
    """Parameters as stored on disk: the product of every tensor's shape in the safetensors files."""
    from safetensors import safe_open

    total = 0
    for path in model_dir.glob("*.safetensors"):
        with safe_open(str(path), "np") as fh:
            for name in fh.keys():
                total += math.prod(fh.get_slice(name).get_shape())
    return total


def _submit_cli(capsys, *args) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["submit", *map(str, args)])
    return rc, json.loads(capsys.readouterr().out)


def _files_named(folder: Path, *names: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name in names]


def test_submit_through_the_space_api_and_uploads_are_purged(real_run, imported_dataset, tmp_path, capsys):
    import httpx

    from space.store import VERIFIED, Store

    uploads = tmp_path / "uploads"
    server = SpaceServer(tmp_path / "lb.sqlite", imported_dataset, uploads, "--upload-ttl-s", "2").start()
    try:
        # serve says it is starting at once, and prints its URL once it listens.
        (t_start, first), *_ = server.lines
        assert first.startswith("Starting the leaderboard") and t_start < 10, server.output()
        answered = time.monotonic() - server.t0
        deadline = time.monotonic() + 10
        while not any(server.url in line for _, line in server.lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        [(t_url, _)] = [(t, line) for t, line in server.lines if server.url in line]
        assert t_url < answered + 10, server.output()

        rc, answer = _submit_cli(capsys, real_run, "--space", server.url)
        assert rc == 0 and answer["accepted"] is True, answer
        results = json.loads((real_run / "results.json").read_text())
        [entry] = [e for e in Store(server.db).entries(VERIFIED) if e.id == answer["entry_id"]]
        # The server's re-score equals the runner's own scoring of the same replies.
        assert entry.average == pytest.approx(results["scores"]["average"])
        assert answer["average"] == pytest.approx(entry.average)
        # Size from the run's recorded parameter count (the tiny model's name carries no size).
        model_dir = Path(results["config"]["model"])
        assert entry.size_b == pytest.approx(safetensors_parameter_count(model_dir) / 1e9)
        # The uploaded copies are gone after --upload-ttl-s (a request never deletes an upload:
        # identical uploads share one file).
        deadline = time.monotonic() + 20
        while _files_named(uploads, "predictions.jsonl", "results.json") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _files_named(uploads, "predictions.jsonl", "results.json") == []

        rc, answer = _submit_cli(capsys, real_run, "--space", server.url)
        assert rc == 1 and answer["accepted"] is False and answer["entry_id"] is None
        assert any("already on the leaderboard" in r for r in answer["reasons"]), answer

        # A hostile results.json is a clear rejection naming the file, not an opaque server error.
        deep = tmp_path / "deep"
        variant(real_run, deep)
        (deep / "results.json").write_text('{"config": ' + "[" * 100_000 + "]" * 100_000 + "}")
        rc, answer = _submit_cli(capsys, deep, "--space", server.url)
        assert rc == 1 and any(r.startswith("results.json") and "nested" in r for r in answer["reasons"]), answer

        # Uploads that are never submitted are deleted after --upload-ttl-s.
        payload = b"x" * 200_000
        resp = httpx.post(server.url + "gradio_api/upload",
                          files=[("files", (f"junk{i}.bin", payload)) for i in range(3)], timeout=30)
        assert resp.status_code == 200, resp.text
        assert len(_files_named(uploads, "junk0.bin", "junk1.bin", "junk2.bin")) == 3
        deadline = time.monotonic() + 30
        while _files_named(uploads, "junk0.bin", "junk1.bin", "junk2.bin") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _files_named(uploads, "junk0.bin", "junk1.bin", "junk2.bin") == []
    finally:
        server.stop()


def test_submit_to_a_local_store(real_run, imported_dataset, tmp_path, capsys):
    from space.store import VERIFIED, Store

    db = tmp_path / "local.sqlite"
    rc, answer = _submit_cli(capsys, real_run, "--space", db, "--data", imported_dataset)
    assert rc == 0 and answer["accepted"], answer
    assert [e.id for e in Store(db).entries(VERIFIED)] == [answer["entry_id"]]
    # The store keeps its answer key: a second submission needs no --data, and is a duplicate.
    rc, answer = _submit_cli(capsys, real_run, "--space", db)
    assert rc == 1 and "already on the leaderboard" in " ".join(answer["reasons"])
    capsys.readouterr()
    assert main(["submit", str(tmp_path / "absent"), "--space", str(db)]) == 1
    assert "no such run folder" in capsys.readouterr().err


def _reject(store, predictions: bytes, results: bytes) -> str:
    from space.validation import SubmissionRejected, submit_bytes

    with pytest.raises(SubmissionRejected) as info:
        submit_bytes(store, predictions, results)
    return str(info.value)


def test_hostile_results_are_refused_naming_the_field_or_trimmed(real_run, imported_dataset, tmp_path):
    from space.answer_key import build_answer_key
    from space.store import Store
    from space.validation import submit_bytes

    store = Store(tmp_path / "h.sqlite")
    store.put_answer_key(build_answer_key(imported_dataset))
    preds = (real_run / "predictions.jsonl").read_bytes()
    results = json.loads((real_run / "results.json").read_text())

    def with_config(**changes) -> bytes:
        obj = json.loads(json.dumps(results))
        obj["config"].update(changes)
        return json.dumps(obj).encode()

    message = _reject(store, preds, b'{"config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert "results.json" in message and "nested" in message
    message = _reject(store, b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", with_config(model="x/y"))
    assert "predictions.jsonl line 1" in message and "nested" in message
    message = _reject(store, preds, with_config(num_parameters=10**400))
    assert "config.num_parameters" in message and "401 digits" in message
    message = _reject(store, preds, with_config(num_parameters=float("inf")))  # json writes Infinity
    assert "config.num_parameters" in message and "inf" in message.lower()
    message = _reject(store, preds, with_config(num_parameters=float("nan")))
    assert "config.num_parameters" in message
    assert store.count() == 0

    # Oversized unknown config values are not stored (the table parses every row's config on each request).
    junk = with_config(model="org/Junk-Model", junk_blob="x" * 3_900_000, junk_nested={"a": ["y" * 100] * 200})
    sub = submit_bytes(store, preds, junk)
    [stored] = store.entries()
    assert "junk_blob" not in stored.config and "junk_nested" not in stored.config
    assert stored.config["model"] == "org/Junk-Model" and len(json.dumps(stored.config)) < 20_000
    assert any("junk_blob" in w and "junk_nested" in w for w in sub.warnings)


def test_one_decimal_rounded_half_up():
    from space import leaderboard as lb

    # Python's round() and format() give 63.2, 2.67 and 0.0 for these (binary floats, half to even).
    assert lb.half_up(63.25) == "63.3"
    assert lb.half_up(2.675, 2) == "2.68"
    assert lb.half_up(0.05) == "0.1"
    assert lb.half_up(70) == "70.0" and lb.half_up(None) == ""


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"])


ROWS = "#leaderboard-table [role=row]:has([role=gridcell])"


def _grid(page) -> tuple[list[str], list[list[str]]]:
    header = [h.strip() for h in page.locator("#leaderboard-table [role=columnheader]").all_inner_texts()]
    rows = [[c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()] for row in page.locator(ROWS).all()]
    return header, rows


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}")
def test_leaderboard_page_width_columns_decimals_and_paging(real_run, imported_dataset, tmp_path):
    from playwright.sync_api import sync_playwright

    from audiomarathon_metric.published import PUBLISHED
    from space.answer_key import build_answer_key
    from space.store import Store
    from space.validation import submit_files

    db = tmp_path / "page.sqlite"
    store = Store(db)
    store.put_answer_key(build_answer_key(imported_dataset))
    n_submitted = 36
    for i in range(n_submitted):  # names without a size: the Size column comes from the parameter count
        run = variant(real_run, tmp_path / f"v{i}", model=f"org/Model-{i:02d}", num_parameters=4_250_000_000 + i)
        submit_files(store, run / "predictions.jsonl", run / "results.json")
    n_rows = n_submitted + len(PUBLISHED)
    assert n_rows > 50

    server = SpaceServer(db, imported_dataset, tmp_path / "uploads").start()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = _launch(p)
            try:
                for width in (1280, 1920):
                    page = browser.new_page(viewport={"width": width, "height": 1000})
                    page.goto(server.url, wait_until="domcontentloaded")
                    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 50", timeout=60_000)
                    page.wait_for_load_state("networkidle")  # the page-load refresh has landed
                    page.screenshot(path=str(ARTIFACTS / f"space_leaderboard_{width}.png"), full_page=True)

                    # Every task column is on screen without scrolling the table sideways.
                    header, rows = _grid(page)
                    boxes = dict(page.evaluate(
                        "() => [...document.querySelectorAll('#leaderboard-table [role=columnheader]')]"
                        ".map(h => { const r = h.getBoundingClientRect(); return [h.innerText.trim(), [r.left, r.right]]; })"))
                    for task in TASKS:
                        left, right = boxes[task.abbrev]
                        assert 0 <= left and right <= width, (task.abbrev, left, right, width)
                    assert "95% CI" in header and "Invalid (%)" in header
                    assert len(rows) == 50
                    # One decimal everywhere, half up; CI as "low–high".
                    col = {name: header.index(name) for name in header}
                    numeric = [name for name in header if name not in ("Model", "Method", "95% CI", "Source", "Type")]
                    for row in rows:
                        for name in numeric:
                            # a size the board cannot check is marked * as the submitter's claim,
                            # a size a model is named by ~; a ratio is a whole percent
                            pattern = {"Size (B)": r"(~?\d+\.\d|<0\.1)?\*?", "Ratio (%)": r"\d+"}
                            assert re.fullmatch(pattern.get(name, r"(\d+\.\d)?"), row[col[name]]), (name, row)
                    verified = [r for r in rows if r[col["Model"]].startswith("org/Model-")]
                    assert verified
                    for row in verified:
                        assert re.fullmatch(r"\d+\.\d–\d+\.\d", row[col["95% CI"]]), row
                        assert row[col["Size (B)"]] == "4.3*"  # 4.25e9 parameters, half up; an unknown model's claim
                    published = {r.model: r.average for r in PUBLISHED}
                    for row in rows:
                        if row[col["Model"]] in published:
                            assert row[col["Average"]] == f"{published[row[col['Model']]]:.1f}"
                    page.get_by_role("tab", name="About").click()
                    status = page.locator("#status").inner_text()
                    assert str(tmp_path) not in status and ".sqlite" not in status  # no server paths
                    page.get_by_role("tab", name="AudioMarathon").click()

                    # Paging: the remaining rows on page 2.
                    assert f"Rows 1–50 of {n_rows}" in page.locator("#page-info").inner_text()
                    page.locator("#page-next").click()
                    page.wait_for_function(
                        f"document.querySelectorAll('{ROWS}').length === {n_rows - 50}", timeout=30_000)
                    assert f"Rows 51–{n_rows} of {n_rows}" in page.locator("#page-info").inner_text()
                    _, second = _grid(page)
                    assert not {r[0] for r in second} & {r[0] for r in rows}

                    # The CI column can be hidden.
                    page.locator("#columns label", has_text="95% CI").click()
                    page.wait_for_function(
                        "![...document.querySelectorAll('#leaderboard-table [role=columnheader]')]"
                        ".some(h => h.innerText.trim() === '95% CI')", timeout=30_000)
                    page.close()
            finally:
                browser.close()
    finally:
        server.stop()


def test_a_runs_display_name_is_stored_and_shown_beside_the_model(real_run, imported_dataset, tmp_path):
    """run --name (results.json config.name) is a label: stored with the entry, shown in the Model
    cell as "model (name)", found by the search box, kept through a Hub sync's records (old
    records, written before the field names changed, read too); the run id is the unnamed run's."""
    from space import leaderboard as lb
    from space.answer_key import build_answer_key
    from space.store import Entry, Store
    from space.sync import export_records, import_records
    from space.validation import submit_files

    named = variant(real_run, tmp_path / "named", name="  sweep   A ")
    results = json.loads((real_run / "results.json").read_text())
    store = Store(tmp_path / "lb.sqlite")
    store.put_answer_key(build_answer_key(imported_dataset))
    sub = submit_files(store, named / "predictions.jsonl", named / "results.json")
    [entry] = store.entries()
    assert (entry.name, entry.model) == ("sweep A", "model")
    assert entry.run_id == sub.entry.run_id == results["config"]["config_hash"]  # the name is not in the identity
    frame = lb.leaderboard_frame([entry], lb.Filters(search="sweep"))
    assert list(frame[lb.MODEL]) == ["model (sweep A)"]
    export_records(store, tmp_path / "hub")
    [synced] = (tmp_path / "hub" / "submissions").glob("*.json")
    record = json.loads(synced.read_text())
    assert record["name"] == "sweep A" and record["run_id"] == entry.run_id
    old = {("config_key" if k == "run_id" else "model_type" if k == "weights" else k): v for k, v in record.items()}
    assert Entry.from_record(old) == Entry.from_record(record)
    restored = Store(tmp_path / "restored.sqlite")
    assert import_records(restored, tmp_path / "hub") == 1
    assert [(e.name, e.run_id, e.weights) for e in restored.entries()] == [("sweep A", entry.run_id, "open")]
