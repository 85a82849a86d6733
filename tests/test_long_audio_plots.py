"""The long-audio plots, read as data (matplotlib artists: panels, lines, error bars, legend,
tick and axis labels), never as pixels: each run named once beside one baseline, small multiples
past three runs, bins at their own places labelled in seconds or minutes as the clips call for,
the ratio plot per model and method with the uncompressed run as 0%, and `compare --out` writing
only the figures that have data. Bin scores are checked against sklearn's macro-F1 of the items
picked by hand from their durations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from audiomarathon.cli import main
from audiomarathon_metric import score
from audiomarathon_metric.long_plots import PlotRun
from audiomarathon_metric.long_plots import plain
from audiomarathon_metric.long_plots import score_vs_duration
from audiomarathon_metric.long_plots import score_vs_evidence
from audiomarathon_metric.long_plots import score_vs_ratio_by_duration
from audiomarathon_metric.long_plots import write_plots

LETTERS = list("ABCD")
N = 240
# The default bins (90, 150, 210, 300 s) over clips of 60-300 s, typed out: [low, high), in minutes.
LONG_BINS = [(0.0, 90.0, "<1.5"), (90.0, 150.0, "1.5–2.5"), (150.0, 210.0, "2.5–3.5"), (210.0, 300.0, "3.5–5")]
RUNS = [("none", "none", 0.0, 0.85), ("fastv-25", "fastv", 0.25, 0.7), ("fastv-50", "fastv", 0.5, 0.55),
        ("snapkv-25", "snapkv", 0.25, 0.75), ("snapkv-50", "snapkv", 0.5, 0.6)]


def make_items(n: int, low: float, high: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, n), [str(x) for x in rng.choice(LETTERS, n)]


def replies_of(refs, accuracy: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [r if rng.random() < accuracy else str(rng.choice([x for x in LETTERS if x != r])) for r in refs]


def reference_bin_scores(durations, refs, replies, bins) -> list[float]:
    """sklearn's macro-F1 x 100 of the items whose duration lies in each [low, high)."""
    out = []
    for low, high, _ in bins:
        keep = [i for i, d in enumerate(durations) if low <= d < high]
        out.append(100.0 * f1_score([refs[i] for i in keep], [replies[i] for i in keep], average="macro",
                                    zero_division=0))
    return out


def write_run(folder: Path, ids, refs, replies, durations, method: str, ratio: float, model: str = "tiny") -> Path:
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text("".join(
        json.dumps({"id": i, "task": "RACE", "reply": r, "reference": ref, "choices": ["w", "x", "y", "z"],
                    "duration": float(d), "config_hash": "h"}) + "\n"
        for i, ref, r, d in zip(ids, refs, replies, durations)))
    (folder / "results.json").write_text(json.dumps(
        {"schema": 2, "dataset": {"fingerprint": "sha256:d"},
         "config": {"model": model, "model_id": model, "method": method, "ratio": ratio, "config_hash": "h",
                    "compression": {"method": method, "ratio": ratio}}}))
    return folder


@pytest.fixture(scope="module")
def five_runs(tmp_path_factory):
    """compare none fastv-25 fastv-50 snapkv-25 snapkv-50 --out: the runs, their replies and the output."""
    base = tmp_path_factory.mktemp("five-runs")
    durations, refs = make_items(N, 60.0, 300.0)
    ids = [f"RACE-{i:05d}" for i in range(N)]
    replies = {name: replies_of(refs, acc, seed=k) for k, (name, _, _, acc) in enumerate(RUNS)}
    folders = [write_run(base / name, ids, refs, replies[name], durations, method, ratio)
               for name, method, ratio, _ in RUNS]
    out = base / "compare"
    out.mkdir()
    (out / "score_vs_evidence_position.png").write_bytes(b"stale")  # from an earlier compare
    return {"folders": folders, "out": out, "durations": durations, "refs": refs, "replies": replies}


def compared(five_runs, capsys) -> tuple[list[PlotRun], str]:
    from audiomarathon_metric.commands.compare import plot_runs
    from audiomarathon_metric.run_compare import load_run

    out = five_runs["out"]
    assert main(["compare", *map(str, five_runs["folders"]), "--out", str(out), "--n-bootstrap", "100"]) == 0
    err = capsys.readouterr().err
    result = json.loads((out / "compare.json").read_text())
    return plot_runs([load_run(f) for f in five_runs["folders"]], result), err


def texts(items) -> list[str]:
    return [t.get_text() for t in items]


def legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t for leg in legends for t in texts(leg.get_texts())]


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def series(ax) -> list[tuple[str, np.ndarray, np.ndarray, list]]:
    """(label, x, y, [(ci low, ci high)]) of each error-bar series in a panel."""
    out = []
    for c in ax.containers:
        line, _, (bars,) = c.lines
        cis = [(seg[0][1], seg[1][1]) for seg in bars.get_segments()]
        out.append((c.get_label(), np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float), cis))
    return out


def test_compare_out_draws_each_run_once_beside_one_baseline_with_bins_in_minutes(five_runs, capsys):
    runs, err = compared(five_runs, capsys)
    out = five_runs["out"]
    assert (out / "score_vs_duration.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "score_vs_ratio_by_duration.png").read_bytes()[:4] == b"\x89PNG"
    # No evidence marks: not written, the stale file of that name removed, and the command says why.
    assert not (out / "score_vs_evidence_position.png").exists()
    assert "not written: score_vs_evidence_position.png (no run with marked evidence" in err

    fig = score_vs_duration(runs, baseline="none")
    # Five runs: one panel per compressed run (small multiples), the baseline once in the legend.
    assert [ax.get_title() for ax in panels(fig)] == ["fastv-25", "fastv-50", "snapkv-25", "snapkv-50"]
    assert legend_texts(fig) == ["none (baseline, in every panel)"]
    assert fig.get_supxlabel() == "duration bin (min)"  # clips of minutes
    expected = {name: reference_bin_scores(five_runs["durations"], five_runs["refs"], five_runs["replies"][name],
                                           LONG_BINS) for name, *_ in RUNS}
    result = json.loads((out / "compare.json").read_text())
    for ax in panels(fig):
        assert texts(ax.get_xticklabels()) == [label for *_, label in LONG_BINS]
        [(base_label, bx, by, _), (label, x, y, cis)] = series(ax)
        assert base_label == "none (baseline)" and label == ax.get_title()
        # Each bin at its own tick (the "<1.5" bin too: no invented midpoint such as 1.125 min).
        assert list(np.round(x)) == list(np.round(bx)) == [0, 1, 2, 3] and max(abs(x - np.round(x))) < 0.5
        assert list(y) == pytest.approx(expected[label], abs=1e-9)
        assert list(by) == pytest.approx(expected["none"], abs=1e-9)
        rows = result["runs"][label]["scores"]["by_duration"]["average"]
        assert np.allclose(cis, [r["ci95"] for r in rows])
        assert all(lo <= v <= hi for v, (lo, hi) in zip(y, cis))


def test_the_ratio_plot_is_one_panel_per_method_with_the_uncompressed_run_at_zero(five_runs, capsys):
    runs, _ = compared(five_runs, capsys)
    fig = score_vs_ratio_by_duration(runs)
    assert [ax.get_title() for ax in panels(fig)] == ["tiny · fastv", "tiny · snapkv"]
    bins = [label for *_, label in LONG_BINS]
    assert legend_texts(fig) == bins  # in duration order, once for every panel
    assert fig.legends[0].get_title().get_text() == "duration bin (min)"
    for ax, method in zip(panels(fig), ("fastv", "snapkv")):
        names = ["none", f"{method}-25", f"{method}-50"]
        ref = {n: reference_bin_scores(five_runs["durations"], five_runs["refs"], five_runs["replies"][n], LONG_BINS)
               for n in names}
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == bins
        for k, line in enumerate(lines):
            assert list(line.get_xdata()) == [0.0, 25.0, 50.0]
            assert list(line.get_ydata()) == pytest.approx([ref[n][k] for n in names], abs=1e-9)
        assert texts(ax.get_xticklabels()) == ["0", "25", "50"]


def scored(durations, refs, replies, bins) -> dict:
    return score(replies, refs, "RACE", choices=[["w", "x", "y", "z"]] * len(refs), durations=list(durations),
                 duration_bins=bins, n_bootstrap=50)


def test_short_clips_read_in_seconds_and_three_runs_share_one_panel():
    durations, refs = make_items(120, 8.0, 16.0, seed=3)
    runs = [PlotRun(name, scored(durations, refs, replies_of(refs, acc, k), (8, 12, 16)), "tiny", method, ratio)
            for k, (name, method, ratio, acc) in enumerate([("none", "none", 0.0, 0.8), ("fastv", "fastv", 0.5, 0.6),
                                                            ("snapkv", "snapkv", 0.5, 0.7)])]
    fig = score_vs_duration(runs, baseline="none")
    [ax] = panels(fig)
    assert ax.get_xlabel() == "duration bin (s)" and texts(ax.get_xticklabels()) == ["8–12", "12–16"]
    assert legend_texts(fig) == ["none (baseline)", "fastv", "snapkv"]
    xs = [x for _, x, _, _ in series(ax)]
    for k in range(2):  # side by side inside each bin, never on top of each other
        at_bin = sorted(x[k] for x in xs)
        assert len(set(at_bin)) == 3 and k - 0.5 < at_bin[0] and at_bin[-1] < k + 0.5
    # The demo's shape (none, fastv@0.5, snapkv@0.5): the ratio plot has a line per method.
    ratio = score_vs_ratio_by_duration(runs)
    assert [a.get_title() for a in panels(ratio)] == ["tiny · fastv", "tiny · snapkv"]
    assert not [t for a in ratio.axes for t in texts(a.texts)]  # no "needs runs ..." message


def test_a_single_ratio_is_said_not_drawn_and_not_written(tmp_path):
    durations, refs = make_items(60, 90.0, 300.0, seed=4)
    runs = [PlotRun("a", scored(durations, refs, replies_of(refs, 0.8, 1), (90, 150, 210, 300)), "m1", "none", 0.0),
            PlotRun("b", scored(durations, refs, replies_of(refs, 0.6, 2), (90, 150, 210, 300)), "m2", "fastv", 0.5)]
    [ax] = panels(score_vs_ratio_by_duration(runs))
    assert texts(ax.texts) == ["needs runs of one model at two or more compression ratios (its uncompressed run "
                               "counts as 0%)"]
    written = write_plots(tmp_path, runs, baseline="a")
    assert [p.name for p in written.paths] == ["score_vs_duration.png"]
    assert set(written.skipped) == {"score_vs_evidence_position.png", "score_vs_ratio_by_duration.png"}


def test_evidence_positions_keep_their_thirds_and_names_are_drawn_literally():
    rng = np.random.default_rng(5)
    durations, refs = make_items(90, 90.0, 300.0, seed=5)
    evidence = list(rng.uniform(0, 1, 90))
    evil = r"Evil$\foo$"  # math syntax: must be shown as written, never parsed
    runs = [PlotRun(name, score(replies_of(refs, acc, k), refs, "RACE", choices=[["w", "x", "y", "z"]] * 90,
                                durations=list(durations), evidence=evidence, n_bootstrap=20), "m", "none", 0.0)
            for k, (name, acc) in enumerate([(evil, 0.8), ("b", 0.6), ("c", 0.5), ("d", 0.4)])]
    fig = score_vs_evidence(runs, baseline=evil)
    assert texts(panels(fig)[0].get_xticklabels()) == ["first third", "middle third", "last third"]
    assert legend_texts(fig) == [plain(evil) + " (baseline, in every panel)"]
    fig.savefig(io.BytesIO(), format="png")  # drawn without a math-text error
    single = score_vs_duration(runs[:2])
    assert legend_texts(single) == [plain(evil), "b"]
    single.savefig(io.BytesIO(), format="png")
    many = score_vs_duration([PlotRun(f"{evil} {k}", r.scores) for k, r in enumerate(runs)])
    assert [ax.get_title() for ax in panels(many)] == [f"{evil} {k}" for k in range(4)]
    many.savefig(io.BytesIO(), format="png")
