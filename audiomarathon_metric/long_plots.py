"""Long-audio plots (matplotlib figures): score against duration per model with CI bands, score
against evidence position, score against compression ratio per duration bin.

Inputs are score() results that carry ``by_duration`` / ``by_evidence_position``; the compare
command writes these figures next to its tables and the Space shows them in its "Long audio" tab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a Space or in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FILES = {"duration": "score_vs_duration.png", "evidence": "score_vs_evidence_position.png",
         "ratio": "score_vs_ratio_by_duration.png"}


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _x(row: dict) -> float:
    lo, hi = row["low"], row["high"]
    if lo is None:
        return hi * 0.75
    if hi is None:
        return lo * 1.25
    return (lo + hi) / 2.0


def _binned(ax, series: Sequence[tuple[str, list[dict]]], scale: float = 1.0) -> bool:
    drawn = False
    for label, rows in series:
        if not rows:
            continue
        xs = [_x(r) * scale for r in rows]
        ys = [r["score"] for r in rows]
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        with_ci = [(x, y, r["ci95"]) for x, y, r in zip(xs, ys, rows) if r.get("ci95")]
        if with_ci:
            cx, cy = [x for x, _, _ in with_ci], [y for _, y, _ in with_ci]
            lo, hi = [c[0] for _, _, c in with_ci], [c[1] for _, _, c in with_ci]
            ax.fill_between(cx, lo, hi, alpha=0.2, color=line.get_color())
            # whiskers too: a single bin has no band to draw
            ax.errorbar(cx, cy, yerr=[[y - a for y, a in zip(cy, lo)], [b - y for y, b in zip(cy, hi)]],
                        fmt="none", ecolor=line.get_color(), capsize=3, alpha=0.6)
        drawn = True
    return drawn


def score_vs_duration(runs: Sequence[tuple[str, dict]]) -> Figure:
    """One line per run (label, score() result): the average over tasks in each duration bin, with
    its bootstrap 95% CI as a band; x is the bin's midpoint in minutes."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    series = [(label, (s.get("by_duration") or {}).get("average") or []) for label, s in runs]
    if not _binned(ax, series, scale=1 / 60):
        _empty(ax, "no run with durations")
        return fig
    ax.set_xlabel("duration (minutes, bin midpoint)")
    ax.set_ylabel("average score (0-100)")
    ax.set_title("Score against duration (95% CI bands)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig


def score_vs_evidence(runs: Sequence[tuple[str, dict]]) -> Figure:
    """One line per run: the average over tasks with marked evidence, per evidence-position bin."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    series = [(label, (s.get("by_evidence_position") or {}).get("average") or []) for label, s in runs]
    if not _binned(ax, series):
        _empty(ax, "no run with marked evidence (imported releases have none)")
        return fig
    labels = {(_x(r), r["bin"]) for _, rows in series for r in rows}
    ax.set_xticks([x for x, _ in sorted(labels)], [lab for _, lab in sorted(labels)])
    ax.set_xlabel("where the evidence sits (relative position of its centre)")
    ax.set_ylabel("average score (0-100)")
    ax.set_title("Score against evidence position (95% CI bands)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig


def score_vs_ratio_by_duration(runs: Sequence[tuple[str, float, dict]]) -> Figure:
    """Runs given as (group label, compression ratio, score result): per group and duration bin, one
    line of the bin's average score against the ratio."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    lines: dict[tuple[str, str], dict[float, float]] = {}
    for group, ratio, s in runs:
        for row in (s.get("by_duration") or {}).get("average") or []:
            lines.setdefault((group, row["bin"]), {})[ratio] = row["score"]
    lines = {k: v for k, v in lines.items() if len(v) >= 2}
    if not lines:
        _empty(ax, "needs runs of one model at two or more compression ratios")
        return fig
    for (group, label), points in sorted(lines.items()):
        xs = sorted(points)
        ax.plot([100 * x for x in xs], [points[x] for x in xs], marker="o", label=f"{group} · {label}")
    ax.set_xlabel("compression ratio (% of audio tokens removed)")
    ax.set_ylabel("average score in the duration bin (0-100)")
    ax.set_title("Score against compression ratio, per duration bin")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig


def write_plots(out: str | Path, runs: Sequence[tuple[str, str, float, dict]]) -> list[Path]:
    """The three figures as PNG files in ``out``; runs as (label, group, ratio, score result)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "duration": score_vs_duration([(label, s) for label, _, _, s in runs]),
        "evidence": score_vs_evidence([(label, s) for label, _, _, s in runs]),
        "ratio": score_vs_ratio_by_duration([(group, ratio, s) for _, group, ratio, s in runs]),
    }
    paths = []
    for key, fig in figures.items():
        path = out / FILES[key]
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, dpi=110, format="png")  # then renamed: a killed write leaves no half image
        tmp.replace(path)
        plt.close(fig)
        paths.append(path)
    return paths
