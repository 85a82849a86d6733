"""The running app: submissions over HTTP to the real server process (20 at once, then SIGKILL
and restart: nothing acknowledged lost), and an end-to-end test in headless Chromium."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from audiomarathon_metric.published import PUBLISHED

from space.answer_key import build_answer_key
from space.store import VERIFIED, Store
from space_server import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FILTER_DEFAULTS = None  # filled from the app module on first use


class App:
    """`python space/app.py` as a child process on a free localhost port."""

    def __init__(self, db: Path, dataset: Path):
        self.db, self.dataset, self.port = db, dataset, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = None

    def start(self, timeout: float = 90.0) -> "App":
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", NO_PROXY="127.0.0.1,localhost")
        env.pop("HF_TOKEN", None)
        self.log = open(self.db.with_suffix(f".{self.port}.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "space" / "app.py"), "--db", str(self.db), "--dataset", str(self.dataset),
             "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_until_serving(self.proc, self.url, timeout, describe=lambda: f"log: {self.log.name}")
        return self

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


@pytest.fixture(scope="module")
def key(imported_dataset):
    return build_answer_key(imported_dataset)


@pytest.fixture
def app(tmp_path, imported_dataset):
    server = App(tmp_path / "lb.sqlite", imported_dataset).start()
    yield server
    server.stop()


def _submit(client, run: Path) -> str:
    from gradio_client import handle_file

    from space import leaderboard as lb

    out = client.predict(
        handle_file(str(run / "predictions.jsonl")), handle_file(str(run / "results.json")), None,
        "", list(lb.WEIGHTS_CHOICES), ["paper", "verified"], list(lb.SIZE_CHOICES),
        [], [], lb.AVERAGE, False, list(lb.DEFAULT_OPTIONAL), 1, lb.DEFAULT_PAGE_SIZE, [], api_name="/submit",
    )
    return out[0]


def test_concurrent_submissions_then_sigkill_and_restart_lose_nothing(app, key, tmp_path, runner_runs):
    from gradio_client import Client

    runs = [runner_runs.make(tmp_path / f"run{i}", model=f"Http-Model-{i}-1B") for i in range(30)]
    acked, errors = [], []
    lock = threading.Lock()

    def submit(i):
        try:
            message = _submit(Client(app.url, verbose=False), runs[i])
        except Exception as exc:  # the server was killed under this request
            with lock:
                errors.append(f"{i}: {type(exc).__name__}")
            return
        with lock:
            (acked if "Submission accepted" in message else errors).append(i if "accepted" in message else message)

    # Wave 1: 20 at once, all acknowledged, each stored exactly once.
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and sorted(acked) == list(range(20))
    assert sorted(e.model for e in Store(app.db).entries(VERIFIED)) == sorted(f"Http-Model-{i}-1B" for i in range(20))

    # Wave 2: 10 more at once; SIGKILL the server as soon as the first of them is acknowledged.
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20, 30)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) == 20 and time.monotonic() < deadline:
        time.sleep(0.005)
    app.kill9()
    for t in threads:
        t.join(120)
    acknowledged = {f"Http-Model-{i}-1B" for i in acked}
    assert len(acknowledged) > 20

    app.start()  # same database, fresh process
    store = Store(app.db)
    assert store.integrity_check() == "ok"
    stored = [e.model for e in store.entries(VERIFIED)]
    assert acknowledged <= set(stored)
    assert len(stored) == len(set(stored))  # nothing stored twice
    # The restarted server serves them, and refuses a resubmission of an acknowledged run.

    client = Client(app.url, verbose=False)
    first = sorted(acked)[-1]
    assert "already on the leaderboard" in _submit(client, runs[first])


def _launch_browser(playwright, user_data_dir: str):
    return playwright.chromium.launch_persistent_context(
        user_data_dir, executable_path=CHROMIUM, headless=True, viewport={"width": 1500, "height": 1000},
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )


def _table(page) -> tuple[list[str], list[list[str]]]:
    """Header and every row as shown. Gradio's Dataframe is an ARIA grid that renders only the
    rows in view, so scroll its viewport from top to bottom and collect what appears."""
    grid = "#leaderboard-table [role=grid]"
    page.wait_for_selector(f"{grid} [role=gridcell]", timeout=30_000)
    header = [h.strip() for h in page.locator(f"{grid} [role=columnheader]").all_inner_texts()]
    viewport = page.locator("#leaderboard-table .virtual-table-viewport").first
    seen: dict[tuple, None] = {}
    viewport.evaluate("el => { el.scrollTop = 0; }")
    while True:
        page.wait_for_timeout(150)
        for row in page.locator(f"{grid} [role=row]").all():
            cells = tuple(c.strip() for c in row.locator("[role=gridcell]").all_inner_texts())
            if cells:
                seen.setdefault(cells)
        at_end = viewport.evaluate(
            "el => { const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;"
            " el.scrollTop += el.clientHeight * 0.8; return end; }")
        if at_end:
            break
    viewport.evaluate("el => { el.scrollTop = 0; }")
    return header, [list(r) for r in seen]


ROWS_JS = "() => document.querySelectorAll('#leaderboard-table [role=row]:has([role=gridcell])').length"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM} "
                    "(scripts/setup_env.sh installs it: apt-get install chromium chromium-driver)")
def test_browser_reads_published_averages_submits_and_sees_rescored_row(app, key, tmp_path, runner_runs):
    from playwright.sync_api import sync_playwright

    from space.store import Store

    model = 'Tiny <b>Bold</b> <img src=x onerror="alert(1)">-2B'  # must appear as text, not markup
    run = runner_runs.make(tmp_path / "run", model=model, method="random", ratio=0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    # Two more runs of another model, stored by a second process-level client of the same store,
    # so the Efficiency tab has a line (0% -> 25%) and a Pareto frontier to draw.
    from space.validation import submit_files

    for method, ratio in (("none", 0.0), ("random", 0.25)):
        other = runner_runs.make(tmp_path / f"other-{method}", model="Tiny-Audio-2B", method=method, ratio=ratio)
        submit_files(Store(app.db), other / "predictions.jsonl", other / "results.json")
    dialogs = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        browser = _launch_browser(p, profile)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(app.url, wait_until="domcontentloaded")
            page.wait_for_selector("#leaderboard-table [role=gridcell]", timeout=30_000)
            page.wait_for_load_state("networkidle")  # the page-load refresh has landed
            page.locator("#columns label", has_text="Type").click()  # an optional column
            page.wait_for_function(
                "[...document.querySelectorAll('#leaderboard-table [role=columnheader]')]"
                ".some(h => h.innerText.trim() === 'Type')", timeout=30_000)
            header, rows = _table(page)
            model_col, avg_col = header.index("Model"), header.index("Average")
            shown = {r[model_col]: float(r[avg_col]) for r in rows if r[avg_col]}
            for row in PUBLISHED:  # the published averages, as the page shows them
                assert shown[row.model] == row.average, row.model
            assert "paper" in {r[header.index("Source")] for r in rows}

            page.get_by_role("tab", name="Submit").click()
            page.locator("#predictions-file input[type=file]").set_input_files(str(run / "predictions.jsonl"))
            page.locator("#results-file input[type=file]").set_input_files(str(run / "results.json"))
            page.locator("#submit-button").click()
            page.wait_for_selector("#submit-message .am-ok", timeout=60_000)
            message = page.locator("#submit-message").inner_text()
            [entry] = [e for e in Store(app.db).entries(VERIFIED) if e.model == model]  # the server's score
            shown = Decimal(repr(entry.average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            assert f"Re-scored average: {shown}" in message  # half up, as the paper rounds
            assert model in message  # shown as literal text
            page.screenshot(path=str(ARTIFACTS / "space_submit.png"), full_page=True)

            page.get_by_role("tab", name="AudioMarathon").click()
            search = page.locator("#search textarea, #search input").first
            search.press_sequentially("bold", delay=30)  # typed like a user: fill() fires no Gradio input event
            page.wait_for_function(
                f"({ROWS_JS})() === 1", timeout=30_000)
            header, rows = _table(page)
            [row] = rows
            assert row[header.index("Model")] == model
            assert row[header.index("Source")] == "verified"
            # half up, as the paper rounds (49.25 -> 49.3), independently of the code under test
            half_up = lambda x: float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))  # noqa: E731
            assert float(row[header.index("Average")]) == pytest.approx(half_up(entry.average))
            assert float(row[header.index("ASC")]) == pytest.approx(half_up(entry.scores["TAU"]))
            assert row[header.index("Method")] == "random"
            assert page.locator("#leaderboard-table b, #leaderboard-table img").count() == 0
            for _ in "bold":
                search.press("Backspace")
            page.wait_for_function(
                f"({ROWS_JS})() > 10", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "space_leaderboard.png"), full_page=True)

            page.get_by_role("tab", name="Efficiency").click()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "space_efficiency.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "space_failure.png"), full_page=True)  # for the CI log
            raise
        finally:
            browser.close()
    assert dialogs == []  # no script from the submitted text ran
