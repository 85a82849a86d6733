"""What a new user of the Space meets: `serve` on a port another process holds, submitting twice
from the Submit tab, the table's headers and columns at 1280 and 1600 px, where the server status


sits, paper rows told apart from verified ones, the published sizes of the paper's open models,
entry ids across restarts and the figures' decimals. The page is checked in headless Chromium
against one `audiomarathon serve` process shared by the module."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

from space_server import SpaceServer

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}")
ARTIFACTS = ROOT / "test-artifacts"


# --- serve on a port in use -----------------------------------------------------------------------

def test_serve_on_a_port_another_process_holds_is_one_line_naming_port(imported_dataset, tmp_path):
    holder = subprocess.Popen(  # another program listening on the port
        [sys.executable, "-c", "import socket, sys, time\n"
         "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
         "print(s.getsockname()[1], flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(holder.stdout.readline())
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "audiomarathon", "serve", "--db", str(tmp_path / "lb.sqlite"), "--data",
             str(imported_dataset), "--port", str(port)],
            capture_output=True, text=True, timeout=120, cwd=str(ROOT),
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                 "GRADIO_ANALYTICS_ENABLED": "False", "HOME": str(tmp_path)})
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "GRADIO_SERVER_PORT" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"audiomarathon serve: error: port {port} on 127.0.0.1 is already in use")
    assert "--port" in line
    free = int(line.rsplit("port ", 1)[1].split(" ")[0])  # the free port it names is free
    with socket.socket() as s:
        s.bind(("127.0.0.1", free))
    assert proc.stdout == ""  # no "Starting the leaderboard" line before the error
    assert not (tmp_path / "lb.sqlite").exists()  # refused before the store or the answer keys
    assert elapsed < 30


# --- the page in Chromium -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(imported_dataset, tmp_path_factory):
    base = tmp_path_factory.mktemp("page-server")
    srv = SpaceServer(base / "lb.sqlite", imported_dataset, base / "uploads")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def open_page(browser, server, width: int, name: str):
    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.goto(server.url, wait_until="domcontentloaded")
    page.wait_for_selector("#leaderboard-table [role=gridcell]", timeout=60_000)
    settle(page)  # the page-load refresh has landed
    return page


def settle(page) -> None:
    """Wait until no event is in flight (every visible progress tracker hidden)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "![...document.querySelectorAll('[data-testid=status-tracker]')]"
        ".some(e => !e.classList.contains('hide') && e.offsetParent !== null)", timeout=60_000)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"space_{name}.png"), full_page=True)


def headers(page) -> list[str]:
    return [h.strip() for h in page.locator("#leaderboard-table [role=columnheader]").all_inner_texts()]


def show_columns(page, wanted) -> None:
    """Tick the optional column groups ``wanted`` (and untick the others) as a user does."""
    from space import leaderboard as lb

    for name in lb.OPTIONAL_COLUMNS:
        box = page.locator("#columns label", has_text=name).locator("input")
        if box.is_checked() != (name in wanted):
            before = len(headers(page))
            box.click()
            page.wait_for_function(
                f"document.querySelectorAll('#leaderboard-table [role=columnheader]').length !== {before}",
                timeout=30_000)
            settle(page)
    settle(page)


# Per header: the characters at which a new line starts, and where it and the table's visible area end.
HEADER_LAYOUT_JS = """() => {
  const area = document.querySelector('#leaderboard-table .virtual-table-viewport').getBoundingClientRect();
  return [...document.querySelectorAll('#leaderboard-table [role=columnheader]')].map(th => {
    const span = th.querySelector('span');
    const node = [...span.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const text = node.textContent, starts = [];
    let top = null;
    for (let i = 0; i < text.length; i++) {
      const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
      const rect = r.getBoundingClientRect();
      if (rect.width === 0) continue;  // a collapsed space
      if (top !== null && rect.top > top + 2) starts.push(i);
      top = rect.top;
    }
    const box = th.getBoundingClientRect();
    return {text, starts, right: box.right, areaRight: area.right, viewport: window.innerWidth};
  });
}"""

# Per task column: how many lines each visible score cell takes.
CELL_LINES_JS = """(names) => {
  const heads = [...document.querySelectorAll('#leaderboard-table [role=columnheader]')].map(h => h.innerText.trim());
  const out = {};
  for (const row of document.querySelectorAll('#leaderboard-table [role=row]')) {
    const cells = [...row.querySelectorAll('[role=gridcell]')];
    if (!cells.length) continue;
    for (const name of names) {
      const span = cells[heads.indexOf(name)].querySelector('span') || cells[heads.indexOf(name)];
      if (!span.innerText.trim()) continue;
      const lines = new Set([...span.getClientRects()].map(r => Math.round(r.top)));
      out[name] = Math.max(out[name] || 0, lines.size);
    }
  }
  return out;
}"""


@needs_chromium
@pytest.mark.parametrize("width, optional", [(1280, None), (1600, "all")], ids=["1280-default", "1600-all"])
def test_headers_break_between_words_and_every_column_fits(browser, server, width, optional):
    from space import leaderboard as lb

    page = open_page(browser, server, width, f"columns_{width}")
    try:
        wanted = list(lb.OPTIONAL_COLUMNS) if optional == "all" else list(lb.DEFAULT_OPTIONAL)
        show_columns(page, wanted)
        assert headers(page) == lb.shown_columns(wanted)
        layout = page.evaluate(HEADER_LAYOUT_JS)
        # A header's lines start only after a space or a hyphen ("Spee ch", "Aver age" never).
        broken = {h["text"]: [h["text"][:i] + "|" + h["text"][i:] for i in h["starts"] if h["text"][i - 1] not in " -"]
                  for h in layout}
        assert {k: v for k, v in broken.items() if v} == {}
        # Every column, SAR and the ones after it included, is in view without scrolling sideways.
        hidden = [h["text"] for h in layout if h["right"] > min(h["areaRight"], h["viewport"]) + 1]
        assert hidden == []
        tasks = [t for t in lb.TASK_COLUMNS]
        assert set(page.evaluate(CELL_LINES_JS, tasks).values()) == {1}  # "100.0" never wraps
    finally:
        screenshot(page, f"columns_{width}")
        page.close()


@needs_chromium
def test_server_status_is_on_the_about_tab_only(browser, server):
    page = open_page(browser, server, 1280, "about")
    try:
        assert not page.locator("#status").is_visible()  # not above the table
        for tab in ("Efficiency", "Submit"):
            page.get_by_role("tab", name=tab).click()
            assert not page.locator("#status").is_visible()
        page.get_by_role("tab", name="About").click()
        page.wait_for_selector("#status", state="visible", timeout=30_000)
        status = page.locator("#status").inner_text()
        assert "Store schema" in status and "re-scored against dataset version" in status
    finally:
        page.close()


def file_shown(page, elem_id: str) -> bool:
    """Whether a gr.File widget holds a file (its preview lists it) rather than its drop zone."""
    return page.locator(f"#{elem_id} .file-preview").count() > 0


@needs_chromium
def test_submit_twice_clears_the_files_and_marks_the_row_verified(browser, server, runner_runs, tmp_path):
    model = "Resubmit-Model-1B"
    run = runner_runs.make(tmp_path / "run", model=model)
    page = open_page(browser, server, 1280, "submit_twice")
    try:
        page.get_by_role("tab", name="Submit").click()
        page.locator("#predictions-file input[type=file]").set_input_files(str(run / "predictions.jsonl"))
        page.locator("#results-file input[type=file]").set_input_files(str(run / "results.json"))
        page.wait_for_function("document.querySelectorAll('#predictions-file .file-preview, "
                               "#results-file .file-preview').length === 2", timeout=30_000)
        page.locator("#submit-button").click()
        page.wait_for_selector("#submit-message .am-ok", timeout=60_000)
        assert "Submission accepted" in page.locator("#submit-message").inner_text()
        # The accepted files are cleared: nothing stale is left to send a second time.
        page.wait_for_function("document.querySelectorAll('#predictions-file .file-preview, "
                               "#results-file .file-preview').length === 0", timeout=30_000)
        assert not file_shown(page, "predictions-file") and not file_shown(page, "results-file")

        page.locator("#submit-button").click()  # again, with nothing chosen
        page.wait_for_selector("#submit-message .am-error", timeout=60_000)
        message = page.locator("#submit-message").inner_text()
        assert "predictions.jsonl: no file given" in message and "results.json: no file given" in message
        assert "No such file" not in message and "cannot read" not in message

        # The board tells the verified row from the paper's without any column switched on.
        page.get_by_role("tab", name="AudioMarathon").click()
        page.wait_for_function(
            f"[...document.querySelectorAll('#leaderboard-table [role=gridcell]')].some(c => c.innerText.trim() === "
            f"{model!r})", timeout=30_000)
        head = headers(page)
        rows = {}
        for row in page.locator("#leaderboard-table [role=row]").all():
            cells = [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
            if cells:
                rows[cells[head.index("Model")]] = cells[head.index("Source")]
        assert rows[model] == "verified"
        assert rows["Qwen2.5-Omni-7B"] == "paper" and rows["Gemini-2.5-Flash"] == "paper"
        screenshot(page, "submit_twice")
    finally:
        page.close()


@needs_chromium
def test_the_mmar_and_foundation_tabs_render_their_published_rows(browser, server):
    page = open_page(browser, server, 1280, "benchmark_tabs")
    try:
        for tab, board, model, wanted in (
                ("MMAR", "board-mmar", "Gemini 2.5 Pro", {"Average": "74.7", "Sound-Music": "100.0"}),
                ("AIR-Bench Foundation", "board-airbench-foundation", "Qwen-Audio-Turbo",
                 {"Average": "57.8", "Speech": "63.4", "Sound": "61.0", "Music": "48.9"})):
            page.get_by_role("tab", name=tab, exact=True).click()
            page.wait_for_function(
                f"[...document.querySelectorAll('#{board} [role=gridcell]')].some(c => c.innerText.trim() === "
                f"{model!r})", timeout=30_000)
            head = [h.strip() for h in page.locator(f"#{board} [role=columnheader]").all_inner_texts()]
            rows = {}
            for row in page.locator(f"#{board} [role=row]").all():
                cells = [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
                if cells:
                    rows[cells[head.index("Model")]] = dict(zip(head, cells))
            assert {k: rows[model][k] for k in wanted} == wanted
            assert rows[model]["Source"] == "paper" and "@" in rows[model]["Figures from"]
            screenshot(page, f"tab_{board}")
        # AudioMarathon's board keeps only its own rows.
        page.get_by_role("tab", name="AudioMarathon").click()
        assert "Qwen-Audio-Turbo" not in page.locator("#leaderboard-table").inner_text()
    finally:
        page.close()


# --- entry ids ------------------------------------------------------------------------------------

def test_entry_ids_count_up_by_one_across_restarts_refusals_and_held_entries(imported_dataset, runner_runs, tmp_path):
    from space.seed import published_entries

    from space.service import Service
    from space.store import Store
    from space.validation import SubmissionRejected

    db = tmp_path / "lb.sqlite"
    ids = []
    for i in range(3):
        service = Service.open(db, [imported_dataset])  # every start seeds the published rows again
        run = runner_runs.make(tmp_path / f"run{i}", model=f"Restart-Model-{i}-1B")  # 2nd, 3rd: held copies
        ids.append(service.submit(run / "predictions.jsonl", run / "results.json").entry.id)
        with pytest.raises(SubmissionRejected):  # refused: spends no id
            service.submit(run / "predictions.jsonl", run / "results.json")
    n = len(published_entries())  # every benchmark's published rows
    assert ids == [n + 1, n + 2, n + 3]
    assert sorted(e.id for e in Store(db).entries()) == list(range(1, n + 4))


# --- sizes of the paper's open models ---------------------------------------------------------------

# Typed from each model's card or Hub page (billions of parameters); "~": the size a model is named
# by, no count of all its weights being published. Closed models and the human row have none.
PAPER_SIZES = {
    "Phi-4-Multimodal": "5.6", "Qwen2.5-Omni-3B": "5.5", "Qwen2.5-Omni-7B": "10.7", "Audio-Flamingo-2": "~3.0",
    "Audio-Flamingo-3": "8.3", "Gemma-3n-E2B-it": "5.4", "Gemma-3n-E4B-it": "7.8", "Voxtral-Mini-3B-2507": "4.7",
    "Baichuan-Omni-1.5": "~7.0", "Aero-1-Audio": "~1.5",
}


def shown_sizes(entries) -> dict[str, str]:
    """Model -> the Size cell as the board renders it."""
    from space import leaderboard as lb

    frame = lb.leaderboard_frame(entries)
    html = lb.styled(frame, [lb.MODEL, lb.SIZE]).to_html()
    import re

    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    return {cells[i]: cells[i + 1] for i in range(0, len(cells), 2)}


def test_paper_rows_show_published_sizes_from_the_one_table_with_their_sources(tmp_path):
    from audiomarathon_metric.published import PUBLISHED

    from space.app import _about_markdown
    from space.claims import KNOWN_MODELS, check_size
    from space.seed import seed_published
    from space.store import Store

    store = Store(tmp_path / "lb.sqlite")
    seed_published(store)
    sizes = shown_sizes(store.entries())
    assert {m: sizes[m] for m in PAPER_SIZES} == PAPER_SIZES
    assert all(sizes[r.model] == "" for r in PUBLISHED if r.group != "open-source")
    # One table: a verified run of the same model without a count gets the same size.
    assert check_size({"config": {"model": "nvidia/audio-flamingo-3-hf"}}, None)[0] == 8.3
    assert check_size({"config": {"model": "/models/Phi-4-Multimodal"}}, None)[0] == 5.6
    # A nominal size never refuses a run's own count, which stays the submitter's claim.
    assert check_size({"config": {"model": "lmms-lab/Aero-1-Audio-1.5B", "num_parameters": 2.2e9}}, 1.5) == (
        pytest.approx(2.2), "self-reported", [])
    # The About tab lists every size with its source.
    about = _about_markdown()
    for m in KNOWN_MODELS:
        assert m.hub_id in about and m.source in about


def test_a_store_seeded_before_the_sizes_gets_them_at_the_next_start(tmp_path):
    from space.seed import published_entries, seed_published
    from space.store import Store

    store = Store(tmp_path / "lb.sqlite")
    old = published_entries()
    for e in old:  # as an older version stored them: no size for these models
        if e.model in ("Audio-Flamingo-3", "Phi-4-Multimodal", "Aero-1-Audio"):
            e.size_b, e.details = None, {}
    store.add_entries(old)
    ids = {e.model: e.id for e in store.entries()}
    seed_published(store)
    sizes = shown_sizes(store.entries())
    assert (sizes["Audio-Flamingo-3"], sizes["Phi-4-Multimodal"], sizes["Aero-1-Audio"]) == ("8.3", "5.6", "~1.5")
    assert {e.model: e.id for e in store.entries()} == ids  # refreshed in place


# --- decimals -------------------------------------------------------------------------------------

def test_the_board_shows_ratios_as_whole_percents_prefill_in_ms_and_scores_with_one_decimal():
    import re

    from space import leaderboard as lb
    from space.store import Entry

    e = Entry(model="M-7B", source="verified", weights="open", scores={"TAU": 49.25}, run_id="k",
              size_b=7.04, method="fastv", ratio=0.25, average=63.25, prefill_s=0.30877751,
              details={"overall": {"ci95_low": 60.04, "ci95_high": 66.45, "invalid_rate": 0.0125}})
    frame = lb.leaderboard_frame([e])
    cols = lb.shown_columns(list(lb.OPTIONAL_COLUMNS))
    cells = dict(zip(cols, re.findall(r"<td[^>]*>(.*?)</td>", lb.styled(frame, cols).to_html())))
    assert cells[lb.RATIO] == "25" and cells[lb.PREFILL] == "309"  # 0.30877751 s
    assert (cells[lb.SIZE], cells[lb.AVERAGE], cells["ASC"], cells[lb.INVALID]) == ("7.0", "63.3", "49.3", "1.3")
    assert cells[lb.CI] == "60.0–66.5"
    [_, row] = lb.text_table([e]).splitlines()  # the demo's printed board says the same
    assert row.split() == ["M-7B", "verified", "fastv", "25", "63.3", "-", "-", "-", "49.3", *["-"] * 6]

    from space.plots import score_vs_prefill  # the efficiency plot speaks the board's unit

    ax = score_vs_prefill([e]).axes[0]
    [points] = [c.get_offsets() for c in ax.collections]
    assert points[0][0] == pytest.approx(308.77751) and "(ms," in ax.get_xlabel()


def test_a_declared_average_is_compared_at_the_boards_decimal(runner_runs, imported_dataset, tmp_path):
    import json

    from space.service import Service

    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset])
    run = runner_runs.make(tmp_path / "run", model="Declared-Model-1B")
    results = json.loads((run / "results.json").read_text())
    true = results["scores"]["average"]
    results["scores"]["average"] = true + 7.0
    (run / "results.json").write_text(json.dumps(results))
    [warning] = [w for w in service.submit(run / "predictions.jsonl", run / "results.json").warnings
                 if "differs" in w]
    shown = re.findall(r"\((\d+\.\d+)\)", warning)
    assert len(shown) == 2 and all(len(x.split(".")[1]) == 1 for x in shown)
