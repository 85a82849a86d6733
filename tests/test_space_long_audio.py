"""The Space's "Long audio" tab: stored submissions re-scored with the served dataset's durations,
checked against score() fed with durations read straight from the dataset, then in headless Chromium."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import datasets
import pytest

from audiomarathon_metric import score

from space.answer_key import build_answer_key
from space.store import VERIFIED, Store
from space.validation import submit_files

ROOT = Path(__file__).resolve().parents[1]


RUNS = (("none", 0.0), ("fastv", 0.5))


@pytest.fixture
def store_with_runs(tmp_path, imported_dataset, runner_runs):
    key = build_answer_key(imported_dataset)
    store = Store(tmp_path / "lb.sqlite")
    store.put_answer_key(key)
    for i, (method, ratio) in enumerate(RUNS):  # the real runner's output (tests/runner_runs.py)
        run = runner_runs.make(tmp_path / f"run{i}", model="Long-Model-1B", method=method, ratio=ratio)
        submit_files(store, run / "predictions.jsonl", run / "results.json")
    return store, key


def test_tab_scores_equal_score_with_the_datasets_durations(store_with_runs, imported_dataset):
    from space.long_audio import N_BOOTSTRAP, LongAudio

    store, key = store_with_runs
    durations = {}
    for config in sorted({it.task for it in key.items.values()}):
        for row in datasets.load_dataset(str(imported_dataset), config, split="test").select_columns(["id", "duration"]):
            durations[row["id"]] = row["duration"]
    view = LongAudio(store)
    entries = store.entries(VERIFIED)
    assert len(entries) == 2
    for entry in entries:
        replies = {json.loads(x)["id"]: json.loads(x)["reply"] or ""
                   for x in store.predictions(entry.id).decode().split("\n") if x.strip()}
        ids = list(key.items)
        expected = score([replies[i] for i in ids], [key.items[i].reference for i in ids],
                         [key.items[i].task for i in ids], choices=[list(key.items[i].choices) for i in ids],
                         ids=ids, n_bootstrap=N_BOOTSTRAP, durations=[durations[i] for i in ids])
        got = view.scores(entry)
        assert got["by_duration"] == expected["by_duration"]
        assert got["by_evidence_position"]["available"] is False  # an imported release marks no evidence
    fig_d, fig_e, fig_r = view.figures()
    # one series per submission, named once, in one panel (two runs, no baseline)
    assert sorted(t.get_text() for t in fig_d.axes[0].get_legend().get_texts()) == [
        "Long-Model-1B · fastv 50%", "Long-Model-1B · none 0%"]
    # the uncompressed run is the 0% point of the fastv line: one panel, titled by model and method
    assert [ax.get_title() for ax in fig_r.axes] == ["Long-Model-1B · fastv"]
    assert {tuple(line.get_xdata()) for line in fig_r.axes[0].get_lines()} == {(0.0, 50.0)}


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}")
def test_long_audio_tab_in_a_browser(tmp_path, imported_dataset, runner_runs):
    from playwright.sync_api import sync_playwright

    from test_space_app import App, _launch_browser

    key = build_answer_key(imported_dataset)
    db = tmp_path / "lb.sqlite"
    app = App(db, imported_dataset).start()
    try:
        for i, (method, ratio) in enumerate(RUNS):
            run = runner_runs.make(tmp_path / f"run{i}", model="Long-Model-1B", method=method, ratio=ratio)
            submit_files(Store(db), run / "predictions.jsonl", run / "results.json")
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            browser = _launch_browser(p, profile)
            try:
                page = browser.new_page()
                page.goto(app.url, wait_until="domcontentloaded")
                page.get_by_role("tab", name="Long audio").click()
                for plot in ("duration", "evidence", "ratio"):
                    page.wait_for_selector(f"#long-audio-{plot} img", timeout=60_000)
                # each figure is a rendered matplotlib image of real size
                sizes = page.eval_on_selector_all(
                    "#long-audio-duration img, #long-audio-evidence img, #long-audio-ratio img",
                    "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
                assert len(sizes) == 3 and all(w > 300 and h > 200 for w, h in sizes)
                page.screenshot(path=str(artifacts / "space_long_audio.png"), full_page=True)
            finally:
                browser.close()
    finally:
        app.stop()
