"""Integrity under careless and hostile use, in-process: a results.json and a predictions.jsonl of
two different runs are refused by the Space, `score` and `compare` alike; self-reported methods,
ratios and sizes are checked; a submission repeating an entry's replies is held; submitters' names
never reach a plot as markup. Run folders come from the real runner (tests/runner_runs.py)."""

from __future__ import annotations

import io
import json
import shutil
import threading
from pathlib import Path

import pytest

from audiomarathon.cli import main
from audiomarathon.records import read_results, write_results

from runner_runs import retarget, set_replies
from space import leaderboard as lb
from space.service import Service
from space.store import HELD, RANKED, VERIFIED
from space.validation import SubmissionRejected


@pytest.fixture
def service(tmp_path, imported_dataset):
    return Service.open(tmp_path / "lb.sqlite", [imported_dataset])


def submit(service, run: Path):
    return service.submit(run / "predictions.jsonl", run / "results.json")


def rejected(service, run: Path) -> str:
    before = service.store.count(VERIFIED)
    with pytest.raises(SubmissionRejected) as info:
        submit(service, run)
    assert service.store.count(VERIFIED) == before  # nothing stored by a rejected submission
    return str(info.value)


def edit_config(run: Path, **changes) -> None:
    results = read_results(run / "results.json")
    results["config"].update(changes)
    write_results(run / "results.json", results)


def mixed_folder(results_of: Path, predictions_of: Path, out: Path) -> Path:
    """What a careless copy makes: one run's results.json next to another run's predictions."""
    out.mkdir(parents=True)
    shutil.copyfile(results_of / "results.json", out / "results.json")
    shutil.copyfile(predictions_of / "predictions.jsonl", out / "predictions.jsonl")
    return out


def run_ids(run: Path) -> tuple[str, set[str]]:
    """results.json's run id and the run ids its records carry, read from the files themselves."""
    results = json.loads((run / "results.json").read_text())
    records = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines() if line.strip()]
    return results["config"]["config_hash"], {r["config_hash"] for r in records}


# --- item: results.json and predictions.jsonl of different runs -----------------------------------

def test_a_pair_from_two_runs_is_refused_by_the_space_score_and_compare(runner_runs, service, tmp_path, capsys):
    plain = runner_runs.make(tmp_path / "none", method="none")
    snapkv = runner_runs.make(tmp_path / "snapkv", method="snapkv", ratio=0.5)
    mixed = mixed_folder(plain, snapkv, tmp_path / "mixed")
    results_id, (records_id,) = run_ids(mixed)
    assert results_id != records_id

    message = rejected(service, mixed)
    assert "predictions.jsonl and results.json are from different runs" in message
    assert results_id in message and records_id in message

    capsys.readouterr()
    assert main(["score", str(mixed)]) == 1
    err = capsys.readouterr().err
    assert f"{mixed / 'predictions.jsonl'} and {mixed / 'results.json'} are from different runs" in err
    assert results_id in err and records_id in err

    assert main(["compare", str(plain), str(mixed)]) == 1
    err = capsys.readouterr().err
    assert f"{mixed / 'predictions.jsonl'} and {mixed / 'results.json'} are from different runs" in err

    # The matched pairs are accepted by all three.
    assert main(["score", str(snapkv)]) == 0
    assert main(["compare", str(plain), str(snapkv)]) == 0
    assert submit(service, snapkv).entry.method == "snapkv"


def test_a_folder_holding_two_runs_scores_the_run_its_results_describe(runner_runs, service, tmp_path, capsys):
    """The runner's own results.json is the reference: score RUN_DIR and the Space give its scores."""
    plain = runner_runs.make(tmp_path / "none", method="none")
    snapkv = runner_runs.make(tmp_path / "snapkv", method="snapkv", ratio=0.5)
    both = tmp_path / "both"
    both.mkdir()
    (both / "predictions.jsonl").write_bytes((plain / "predictions.jsonl").read_bytes()
                                             + (snapkv / "predictions.jsonl").read_bytes())
    shutil.copyfile(snapkv / "results.json", both / "results.json")
    expected = json.loads((snapkv / "results.json").read_text())["scores"]

    capsys.readouterr()
    assert main(["score", str(both), "--json", "--n-bootstrap", "0"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["average"] == pytest.approx(expected["average"])
    assert {t: v["score"] for t, v in scored["tasks"].items()} == pytest.approx(
        {t: v["score"] for t, v in expected["tasks"].items()})
    assert submit(service, both).entry.average == pytest.approx(expected["average"])


def test_results_without_a_run_id_are_refused_naming_the_field(runner_runs, service, tmp_path):
    run = runner_runs.make(tmp_path / "run")
    results = json.loads((run / "results.json").read_text())
    del results["config"]["config_hash"]
    (run / "results.json").write_text(json.dumps(results))
    assert "results.json: config.config_hash: missing" in rejected(service, run)


# --- item: self-reported fields -------------------------------------------------------------------

def test_the_cores_method_table_is_the_runners_registry():
    from audiomarathon.methods import METHOD_KINDS
    from audiomarathon_runner.compression import PRESSES, PRUNERS

    assert METHOD_KINDS == {"none": "none", **{name: "prune" for name in PRUNERS},
                            **{name: "press" for name in PRESSES}}


@pytest.mark.parametrize("changes, message", [
    ({"method": "None", "ratio": 0.9}, "config.method 'none' with config.ratio 0.9: an uncompressed run removes nothing"),
    ({"method": "magic-lossless"}, "config.method 'magic-lossless' is not a compression method of this benchmark "
                                   "(known: none, fastv,"),
    ({"method": "fastv", "ratio": 0.5}, "config.compression says method 'snapkv' ratio 0.5, but config.method/"
                                        "config.ratio say 'fastv' 0.5"),
])
def test_unknown_methods_and_inconsistent_method_ratio_pairs_are_refused(runner_runs, service, tmp_path,
                                                                         changes, message):
    run = runner_runs.make(tmp_path / "run", method="snapkv", ratio=0.5)
    edit_config(run, **changes)
    assert message in rejected(service, run)


def test_a_method_is_stored_by_its_registry_name(runner_runs, service, tmp_path):
    run = runner_runs.make(tmp_path / "run", method="snapkv", ratio=0.5)
    config = read_results(run / "results.json")["config"]
    edit_config(run, method=" SnapKV ", compression={**config["compression"], "method": "SNAPKV"})
    assert submit(service, run).entry.method == "snapkv"


QWEN2_AUDIO = "Qwen/Qwen2-Audio-7B-Instruct"
QWEN2_AUDIO_PUBLISHED = 8.4e9  # parameters, as the model's Hub page counts its safetensors weights


def test_claimed_sizes_are_checked_against_the_known_models(runner_runs, service, tmp_path):
    lying = runner_runs.make(tmp_path / "lying", model=QWEN2_AUDIO)
    edit_config(lying, num_parameters=500_000_000)  # would put a 7B model in "< 4B"
    message = rejected(service, lying)
    assert f"config.num_parameters 500,000,000 is not the size of {QWEN2_AUDIO}" in message

    honest = runner_runs.make(tmp_path / "honest", model=QWEN2_AUDIO)
    edit_config(honest, num_parameters=8_397_094_912)
    entry = submit(service, honest).entry
    assert entry.size_b == pytest.approx(8_397_094_912 / 1e9)
    band = lb.leaderboard_frame(service.entries(), lb.Filters(sizes=["4-10B"], search="qwen2-audio"))
    assert list(band[lb.MODEL]) == [QWEN2_AUDIO]

    # A known model whose run carries no count: its published size.
    quiet = runner_runs.make(tmp_path / "quiet", model=QWEN2_AUDIO, method="random", ratio=0.5)
    results = read_results(quiet / "results.json")
    del results["config"]["num_parameters"]
    write_results(quiet / "results.json", results)
    set_replies(quiet, lambda r: "A")  # not a duplicate of the run above
    assert submit(service, quiet).entry.size_b == pytest.approx(QWEN2_AUDIO_PUBLISHED / 1e9)


def test_a_size_the_board_cannot_check_is_kept_and_marked_self_reported(runner_runs, service, tmp_path):
    run = runner_runs.make(tmp_path / "run", model="Unknown-Audio-70B")
    edit_config(run, num_parameters=1_500_000_000)
    entry = submit(service, run).entry
    assert entry.size_b == pytest.approx(1.5)
    frame = lb.leaderboard_frame(service.entries(), lb.Filters(sources=["verified"]))
    html = lb.styled(frame, lb.shown_columns()).to_html()
    assert ">1.5*<" in html  # shown, marked as the submitter's claim
    paper = lb.leaderboard_frame(service.entries(), lb.Filters(search="Qwen2.5-Omni-7B"))
    assert ">10.7<" in lb.styled(paper, lb.shown_columns()).to_html()  # published rows are not marked


def test_timings_are_labelled_self_reported_on_the_board():
    from space.app import _about_markdown

    assert "self-reported" in lb.PREFILL
    about = _about_markdown()
    assert "Timings** (prefill) are self-reported" in about and "does not re-measure" in about


# --- item: probable duplicates are held -----------------------------------------------------------

def test_same_replies_under_other_settings_are_held_shown_last_and_accepted_by_a_maintainer(
        runner_runs, service, tmp_path, capsys):
    first = runner_runs.make(tmp_path / "first", model="Tiny-Audio-2B")
    submit(service, first)
    copy = runner_runs.make(tmp_path / "copy", model="Tiny-Audio-2B")
    edit_config(copy, revision="nonce-1")  # a new configuration, the same replies
    sub = submit(service, copy)
    [ranked] = [e for e in service.store.entries(VERIFIED) if e.id != sub.entry.id]
    assert (sub.entry.status, sub.entry.duplicate_of) == (HELD, ranked.run_id)

    # Shown as held, after every ranked row whatever the sort.
    for ascending in (False, True):
        frame = lb.leaderboard_frame(service.entries(), lb.Filters(ascending=ascending))
        assert list(frame[lb.SOURCE]).index("held") == len(frame) - 1
    from space.plots import score_vs_prefill

    assert sum(len(c.get_offsets()) for c in score_vs_prefill(service.entries()).axes[0].collections) == 1

    capsys.readouterr()
    assert main(["review", "--db", str(service.store.path)]) == 0
    assert f"#{sub.entry.id}\tTiny-Audio-2B" in capsys.readouterr().out
    assert main(["review", "--db", str(service.store.path), "--accept", str(sub.entry.id)]) == 0
    assert {e.status for e in service.store.entries(VERIFIED)} == {RANKED}


def test_twenty_identical_replies_at_once_rank_exactly_one(runner_runs, service, tmp_path):
    runs = [runner_runs.make(tmp_path / f"r{i}", model=f"Copy-{i}-1B") for i in range(20)]
    barrier = threading.Barrier(len(runs))

    def go(run):
        barrier.wait()
        submit(service, run)

    threads = [threading.Thread(target=go, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = [e.status for e in service.store.entries(VERIFIED)]
    assert sorted(statuses) == [HELD] * 19 + [RANKED]


# --- item: names never reach a plot as markup -----------------------------------------------------

EVIL = r"Evil$\foo$"
# As the board shows it: a backslash in a model's name separates a (Windows) folder's parts, as in
# the run identity, and what is left is still math syntax to matplotlib.
SHOWN = r"Evil$/foo$"


def test_names_in_math_syntax_are_drawn_as_plain_text(runner_runs, service, tmp_path):
    from space.plots import safe_plot, score_vs_prefill, score_vs_ratio

    for method, ratio in (("none", 0.0), ("random", 0.25)):
        submit(service, runner_runs.make(tmp_path / method, model=EVIL, method=method, ratio=ratio))
    for build in (score_vs_ratio, score_vs_prefill):
        fig = build(service.entries())
        fig.savefig(io.BytesIO(), format="png")  # matplotlib parses the text here
        texts = fig.axes[0].get_legend().get_texts() + fig.axes[0].texts
        shown = [t._preprocess_math(t.get_text()) for t in texts]  # (what is drawn, as math?)
        assert any(SHOWN in s for s, _ in shown) and not any(math for _, math in shown)
    # A figure that cannot be drawn is one figure saying so.
    from matplotlib.figure import Figure

    def broken():
        fig = Figure()
        fig.subplots().set_title(EVIL)  # math mode on: "Unknown symbol" when drawn
        return fig

    [message] = safe_plot(broken).axes[0].texts
    assert message.get_text().startswith("this plot could not be drawn (ValueError)")
