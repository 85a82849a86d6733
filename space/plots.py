"""Efficiency plots (matplotlib figures for gr.Plot): score against compression ratio per method,
and score against prefill time with the Pareto frontier.

Model and method names come from submitters: they are drawn as plain text, never as matplotlib
markup (``$...$`` math, TeX), and a figure that cannot be drawn becomes one figure saying so
(``safe_plot``), so no name can take the page down.
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a Space or in CI
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from audiomarathon_metric.long_plots import plain  # noqa: E402

from space.store import Entry  # noqa: E402

MAX_LEGEND = 16  # beyond this a legend hides the plot; the model picker narrows it down
log = logging.getLogger(__name__)
# Every figure is drawn without TeX, whatever a matplotlibrc on the server says.
PLAIN = {"text.usetex": False}


def safe_plot(build: Callable[..., Figure], *args) -> Figure:
    """``build(*args)`` drawn once here, so that a failure (at build or at draw time, where
    matplotlib parses text) is caught: it becomes a figure saying the plot is unavailable,
    never an error that stops the rest of the page from updating."""
    try:
        with matplotlib.rc_context(PLAIN):
            fig = build(*args)
            FigureCanvasAgg(fig).draw()
        return fig
    except Exception as exc:  # noqa: BLE001 - any failure of one plot is that plot's alone
        log.exception("plot %s failed", getattr(build, "__name__", build))
        fig, ax = _figure()
        _empty(ax, f"this plot could not be drawn ({type(exc).__name__}); the table is unaffected")
        return fig


def _figure():
    """A figure outside pyplot's global registry: requests draw in parallel threads, and nothing
    has to be closed."""
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    return fig, fig.subplots()


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4", parse_math=False)
    ax.set_xticks([])
    ax.set_yticks([])


def score_vs_ratio(entries: Sequence[Entry], models: Sequence[str] = ()) -> Figure:
    """One line per (model, method): average score at each compression ratio; the uncompressed
    run of the same model (method "none") is the 0% point of every method's line."""
    chosen = [e for e in entries if e.average is not None and not e.held and (not models or e.model in models)]
    fig, ax = _figure()
    baseline = {e.model: e.average for e in chosen if e.method == "none" and e.ratio == 0}
    lines: dict[tuple[str, str], dict[float, float]] = {}
    for e in chosen:
        if e.method != "none":
            lines.setdefault((e.model, e.method), {})[e.ratio] = e.average
    if not lines:
        _empty(ax, "no compressed runs yet")
        return fig
    for (model, method), points in sorted(lines.items()):
        if model in baseline:
            points = {0.0: baseline[model], **points}
        xs = sorted(points)
        ax.plot([100 * x for x in xs], [points[x] for x in xs], marker="o", label=plain(f"{model} · {method}"))
    ax.set_xlabel("compression ratio (% of audio tokens removed)")
    ax.set_ylabel("average score (0-100)")
    ax.set_title("Score against compression ratio")
    ax.grid(alpha=0.3)
    if len(lines) <= MAX_LEGEND:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.set_title(f"Score against compression ratio ({len(lines)} lines: pick models to label them)")
    return fig


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated by another (less time and at least the score, or the same
    time and a higher score), ordered by time."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def score_vs_prefill(entries: Sequence[Entry], models: Sequence[str] = ()) -> Figure:
    chosen = [e for e in entries if e.average is not None and e.prefill_s is not None and not e.held
              and (not models or e.model in models)]
    fig, ax = _figure()
    if not chosen:
        _empty(ax, "no runs with prefill timings yet")
        return fig
    pts = [(1000 * e.prefill_s, e.average) for e in chosen]  # stored in seconds, shown in ms as on the board
    methods = sorted({e.method for e in chosen})[:MAX_LEGEND]
    for method in methods:
        sel = [p for p, e in zip(pts, chosen) if e.method == method]
        ax.scatter([p[0] for p in sel], [p[1] for p in sel], label=plain(method), s=28, alpha=0.8)
    front = pareto_front(pts)
    ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], color="black", lw=1.2,
            drawstyle="steps-post", label="Pareto frontier")
    for i in front[:MAX_LEGEND]:
        e = chosen[i]
        tag = e.model if e.method == "none" else f"{e.model} {e.method} {round(100 * e.ratio)}%"
        ax.annotate(tag, pts[i], fontsize=6, xytext=(3, 3), textcoords="offset points", parse_math=False)
    ax.set_xlabel("mean prefill time per instance (ms, self-reported, not re-measured)")
    ax.set_ylabel("average score (0-100)")
    ax.set_title("Score against prefill time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig
