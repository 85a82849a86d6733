"""Long-audio plots (matplotlib figures): score against duration bin, score against evidence
position, and score against compression ratio per duration bin.

Inputs are score() results that carry ``by_duration`` / ``by_evidence_position``; the compare
command writes these figures next to its tables and the Space shows them in its "Long audio" tab.

How they read: a bin is a category, drawn at its own place on the x axis and labelled with its
range (in seconds for short clips, minutes for long ones), never at an invented midpoint (an
open bin such as "<90 s" has none). Each run's score in a bin is a point with its bootstrap 95%
CI as an error bar. A baseline (compare's first run) is drawn once per panel in grey and named
once in the legend. Up to three runs share one panel, their points set side by side; more runs get
one panel each (small multiples), each beside the baseline. Names are drawn as plain text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a Space or in CI
from matplotlib.figure import Figure  # noqa: E402

FILES = {"duration": "score_vs_duration.png", "evidence": "score_vs_evidence_position.png",
         "ratio": "score_vs_ratio_by_duration.png"}
MAX_IN_ONE_PANEL = 3  # runs (the baseline included) drawn side by side in one panel
MAX_PANELS = 12  # beyond this the figure says how many runs it leaves out
PANEL_COLUMNS = 3
BASELINE_COLOR = "0.35"
# A bin range in seconds up to this bound reads best in seconds; above it, in minutes.
SECONDS_UP_TO = 120.0
Y_LABEL = "average score (0-100)"


class NoData(ValueError):
    """A figure has nothing to draw; the message says what it needs."""


@dataclass(frozen=True)
class PlotRun:
    """One run as the plots see it: its name and score() result, and what it ran (for the
    ratio plot: the uncompressed run of a model is the 0% point of each of its methods)."""

    label: str
    scores: dict
    model: str = ""
    method: str = "none"
    ratio: float = 0.0


def plain(text: str) -> str:
    """``text`` as matplotlib shows it literally in a legend (where parse_math cannot be passed):
    every ``$`` escaped, so no pair of them opens math mode."""
    return str(text).replace("$", r"\$")


# ---------------------------------------------------------------- bins and units

@dataclass(frozen=True)
class Unit:
    name: str  # "s" or "min"
    seconds: float

    def text(self, seconds: float) -> str:
        return f"{round(seconds / self.seconds, 2):g}"


SECONDS, MINUTES = Unit("s", 1.0), Unit("min", 60.0)


def duration_unit(rows: Sequence[dict]) -> Unit:
    """Seconds when every finite bin edge is short (clips of seconds), minutes otherwise."""
    edges = [v for r in rows for v in (r.get("low"), r.get("high")) if v is not None]
    return SECONDS if edges and max(edges) <= SECONDS_UP_TO else MINUTES


def duration_bin_text(row: dict, unit: Unit) -> str:
    lo, hi = row.get("low"), row.get("high")
    if lo is None:
        return f"<{unit.text(hi)}"
    if hi is None:
        return f">{unit.text(lo)}"
    return f"{unit.text(lo)}–{unit.text(hi)}"


def _bin_order(row: dict) -> tuple[float, float]:
    lo, hi = row.get("low"), row.get("high")
    return (-math.inf if lo is None else lo, math.inf if hi is None else hi)


@dataclass(frozen=True)
class Axis:
    """The bins every run's rows fall in, in order, with their tick labels and the axis label."""

    keys: tuple[str, ...]  # row["bin"], in order
    ticks: tuple[str, ...]
    label: str

    def position(self, row: dict) -> int:
        return self.keys.index(row["bin"])


def _duration_axis(rows: Sequence[dict]) -> Axis:
    unit = duration_unit(rows)
    first = {r["bin"]: r for r in sorted(rows, key=_bin_order)}
    return Axis(tuple(first), tuple(duration_bin_text(r, unit) for r in first.values()),
                f"duration bin ({unit.name})")


def _evidence_axis(rows: Sequence[dict]) -> Axis:
    first = {r["bin"]: r for r in sorted(rows, key=_bin_order)}
    return Axis(tuple(first), tuple(first), "where the evidence sits (relative position of its centre)")


# ---------------------------------------------------------------- panels

@dataclass(frozen=True)
class Series:
    label: str
    rows: list[dict]
    color: str


def _rows(scores: dict, section: str) -> list[dict]:
    return [r for r in (scores.get(section) or {}).get("average") or [] if r.get("score") is not None]


def _series(runs: Sequence[PlotRun], section: str, baseline: str | None) -> tuple[Series | None, list[Series]]:
    """The baseline's series and the others', each run once (a run listed twice is one series)."""
    seen: dict[str, PlotRun] = {}
    for run in runs:
        seen.setdefault(run.label, run)
    base, others = None, []
    for run in seen.values():
        rows = _rows(run.scores, section)
        if not rows:
            continue
        if run.label == baseline:
            base = Series(run.label, rows, BASELINE_COLOR)
        else:
            others.append(Series(run.label, rows, f"C{len(others) % 10}"))
    return base, others


def _draw(ax, axis: Axis, drawn: Sequence[Series]) -> None:
    """Each series' points at its bins, side by side, with 95% CI error bars."""
    width = 0.6 / max(1, len(drawn))
    for k, s in enumerate(drawn):
        offset = (k - (len(drawn) - 1) / 2) * width
        xs = [axis.position(r) + offset for r in s.rows]
        ys = [r["score"] for r in s.rows]
        low = [y - r["ci95"][0] if r.get("ci95") else 0.0 for y, r in zip(ys, s.rows)]
        high = [r["ci95"][1] - y if r.get("ci95") else 0.0 for y, r in zip(ys, s.rows)]
        base = s.color == BASELINE_COLOR
        ax.errorbar(xs, ys, yerr=[low, high], color=s.color, marker="s" if base else "o", markersize=5, capsize=3,
                    linewidth=1.2, elinewidth=1, label=plain(s.label) + (" (baseline)" if base else ""))
    ax.set_xticks(range(len(axis.keys)), axis.ticks)
    ax.xaxis.set_tick_params(labelbottom=True)  # on every panel, not only the bottom row's
    ax.set_xlim(-0.5, len(axis.keys) - 0.5)
    ax.grid(axis="y", alpha=0.3)


def _panels(n: int) -> tuple[Figure, list]:
    """A figure outside pyplot's registry (requests draw in parallel threads) with ``n`` panels
    sharing their axes."""
    cols = min(n, PANEL_COLUMNS)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(7.5 if cols == 1 else 3.6 * cols, 4.5 if rows == 1 and cols == 1 else 1.2 + 2.7 * rows),
                 layout="constrained")
    grid = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    axes = [ax for line in grid for ax in line]
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _binned_figure(runs: Sequence[PlotRun], section: str, make_axis: Callable[[list[dict]], Axis], title: str,
                   baseline: str | None, missing: str) -> Figure:
    base, others = _series(runs, section, baseline)
    everything = ([base] if base else []) + others
    if not everything:
        raise NoData(missing)
    axis = make_axis([r for s in everything for r in s.rows])
    if len(everything) <= MAX_IN_ONE_PANEL:
        fig, [ax] = _panels(1)
        _draw(ax, axis, everything)
        ax.set_xlabel(axis.label)
        ax.set_ylabel(Y_LABEL)
        ax.legend(fontsize=7, loc="best")
        fig.suptitle(title)
        return fig
    shown = others[:MAX_PANELS]
    fig, axes = _panels(len(shown))
    for ax, s in zip(axes, shown):
        _draw(ax, axis, ([base] if base else []) + [s])
        ax.set_title(s.label, fontsize=8, color=s.color, parse_math=False)
        ax.tick_params(labelsize=7)
    if base:
        handle = axes[0].get_legend_handles_labels()[0][0]
        fig.legend([handle], [plain(base.label) + " (baseline, in every panel)"], loc="outside upper right",
                   fontsize=7)
    left_out = len(others) - len(shown)
    fig.suptitle(title + (f": {left_out} more runs not shown (pick fewer)" if left_out else ""))
    fig.supxlabel(axis.label)
    fig.supylabel(Y_LABEL)
    return fig


def _duration_figure(runs: Sequence[PlotRun], baseline: str | None = None) -> Figure:
    return _binned_figure(runs, "by_duration", _duration_axis, "Score by duration (95% CI)", baseline,
                          "no run with durations")


def _evidence_figure(runs: Sequence[PlotRun], baseline: str | None = None) -> Figure:
    return _binned_figure(runs, "by_evidence_position", _evidence_axis, "Score by evidence position (95% CI)",
                          baseline, "no run with marked evidence (an imported release marks none)")


# ---------------------------------------------------------------- ratio per duration bin

def ratio_lines(runs: Sequence[PlotRun]) -> dict[tuple[str, str], dict[float, PlotRun]]:
    """(model, method) -> {ratio: run}: each compressed run on its method's line, and the model's
    uncompressed run (method none) as the 0% point of every method's line."""
    lines: dict[tuple[str, str], dict[float, PlotRun]] = {}
    for run in runs:
        if run.method != "none":
            lines.setdefault((run.model, run.method), {})[run.ratio] = run
    for run in runs:
        if run.method == "none":
            for (model, _), points in lines.items():
                if model == run.model:
                    points.setdefault(0.0, run)
    return lines


def _ratio_figure(runs: Sequence[PlotRun]) -> Figure:
    lines = {k: v for k, v in ratio_lines(runs).items()
             if len([r for r in v.values() if _rows(r.scores, "by_duration")]) >= 2}
    if not lines:
        raise NoData("needs runs of one model at two or more compression ratios (its uncompressed run counts as 0%)")
    every_row = [row for points in lines.values() for r in points.values() for row in _rows(r.scores, "by_duration")]
    axis = _duration_axis(every_row)
    cmap = matplotlib.colormaps["viridis"]
    colors = {key: cmap(0.85 * i / max(1, len(axis.keys) - 1)) for i, key in enumerate(axis.keys)}
    groups = sorted(lines.items())[:MAX_PANELS]
    fig, axes = _panels(len(groups))
    handles: dict[str, object] = {}
    for ax, ((model, method), points) in zip(axes, groups):
        ratios = sorted(points)
        for key, tick in zip(axis.keys, axis.ticks):
            xs, ys = [], []
            for ratio in ratios:
                row = next((r for r in _rows(points[ratio].scores, "by_duration") if r["bin"] == key), None)
                if row is not None:
                    xs.append(100 * ratio)
                    ys.append(row["score"])
            if xs:
                (line,) = ax.plot(xs, ys, marker="o", color=colors[key], label=tick)
                handles.setdefault(tick, line)
        ax.set_xticks([100 * r for r in ratios], [f"{100 * r:g}" for r in ratios])
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_title(f"{model} · {method}" if model else method, fontsize=8, parse_math=False)
        ax.grid(alpha=0.3)
    ticks = [t for t in axis.ticks if t in handles]
    fig.legend([handles[t] for t in ticks], ticks, title=axis.label, loc="outside right upper", fontsize=7,
               title_fontsize=7)
    left_out = len(lines) - len(groups)
    fig.suptitle("Score against compression ratio, per duration bin"
                 + (f": {left_out} more lines not shown" if left_out else ""))
    fig.supxlabel("compression ratio (% of audio tokens removed)")
    fig.supylabel("average score in the bin (0-100)")
    return fig


# ---------------------------------------------------------------- public figures

def _or_message(build: Callable[..., Figure], *args) -> Figure:
    try:
        return build(*args)
    except NoData as exc:
        fig, [ax] = _panels(1)
        ax.text(0.5, 0.5, str(exc), ha="center", va="center", transform=ax.transAxes, color="0.4",
                parse_math=False)
        ax.set_xticks([])
        ax.set_yticks([])
        return fig


def score_vs_duration(runs: Sequence[PlotRun], baseline: str | None = None) -> Figure:
    """Each run's average score per duration bin with its 95% CI; ``baseline`` names the run
    drawn in grey in every panel. A figure with nothing to draw says what it needs."""
    return _or_message(_duration_figure, runs, baseline)


def score_vs_evidence(runs: Sequence[PlotRun], baseline: str | None = None) -> Figure:
    """Each run's average score (tasks with marked evidence) per evidence-position bin."""
    return _or_message(_evidence_figure, runs, baseline)


def score_vs_ratio_by_duration(runs: Sequence[PlotRun]) -> Figure:
    """Per model and method (one panel each): one line per duration bin, its average score
    against the compression ratio."""
    return _or_message(_ratio_figure, runs)


@dataclass(frozen=True)
class Written:
    paths: list[Path]
    skipped: dict[str, str]  # file name -> why it was not written


def write_plots(out: str | Path, runs: Sequence[PlotRun], baseline: str | None = None) -> Written:
    """The figures that have data, as PNG files in ``out``; a figure without data is not written
    (an older file of its name is removed, so the folder never shows a stale plot) and its
    reason is returned."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    builders = {"duration": lambda: _duration_figure(runs, baseline),
                "evidence": lambda: _evidence_figure(runs, baseline),
                "ratio": lambda: _ratio_figure(runs)}
    paths, skipped = [], {}
    for key, build in builders.items():
        path = out / FILES[key]
        try:
            fig = build()
        except NoData as exc:
            path.unlink(missing_ok=True)
            skipped[path.name] = str(exc)
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, dpi=110, format="png")  # then renamed: a killed write leaves no half image
        tmp.replace(path)
        paths.append(path)
    return Written(paths, skipped)
