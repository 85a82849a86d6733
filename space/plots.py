"""Efficiency plots (matplotlib figures for gr.Plot): score against compression ratio per method,
and score against prefill time with the Pareto frontier."""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a Space or in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from space.store import Entry  # noqa: E402

MAX_LEGEND = 16  # beyond this a legend hides the plot; the model picker narrows it down


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def score_vs_ratio(entries: Sequence[Entry], models: Sequence[str] = ()) -> Figure:
    """One line per (model, method): average score at each compression ratio; the uncompressed
    run of the same model (method "none") is the 0% point of every method's line."""
    chosen = [e for e in entries if e.average is not None and (not models or e.model in models)]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
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
        ax.plot([100 * x for x in xs], [points[x] for x in xs], marker="o", label=f"{model} · {method}")
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
    chosen = [e for e in entries if e.average is not None and e.prefill_s is not None
              and (not models or e.model in models)]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    if not chosen:
        _empty(ax, "no runs with prefill timings yet")
        return fig
    pts = [(e.prefill_s, e.average) for e in chosen]
    methods = sorted({e.method for e in chosen})[:MAX_LEGEND]
    for method in methods:
        sel = [(e.prefill_s, e.average) for e in chosen if e.method == method]
        ax.scatter([p[0] for p in sel], [p[1] for p in sel], label=method, s=28, alpha=0.8)
    front = pareto_front(pts)
    ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], color="black", lw=1.2,
            drawstyle="steps-post", label="Pareto frontier")
    for i in front[:MAX_LEGEND]:
        e = chosen[i]
        tag = e.model if e.method == "none" else f"{e.model} {e.method} {round(100 * e.ratio)}%"
        ax.annotate(tag, pts[i], fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean prefill time per instance (s, self-reported)")
    ax.set_ylabel("average score (0-100)")
    ax.set_title("Score against prefill time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig
