"""Long-audio analysis: scores by duration bin and by where the evidence sits.

``score(..., durations=..., evidence=...)`` calls ``long_audio_sections`` once the per-task
scores exist. A bin's score is the task's own scorer run on the items in that bin (the same
definition as the headline score: macro-F1, or 100 - WER for ASR), with a seeded bootstrap CI.
The trend test regresses each item's outcome on its duration:

* multiple-choice tasks: logistic regression of correctness (strict mode: an invalid reply is
  wrong; paper mode: over the items the authors' figure counts) on duration in minutes, fitted by IRLS; p-value from the likelihood-ratio test
  (chi-square, 1 df); ``slope_per_minute`` is the log-odds change per minute and
  ``points_per_minute`` the average marginal effect on accuracy in points per minute;
* ASR: least squares of the per-utterance score (100 - WER) on duration, t-test on the slope.

Evidence positions are relative: the centre of an item's evidence segments (their midpoints
weighted by length) divided by the item's duration, in [0, 1]. Items without evidence (an
imported release has no segment marks; a real HAD instance has no fake segment) carry None
and are left out of that table; a task with none at all is reported as unavailable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import chi2
from scipy.stats import t as student_t

from audiomarathon.tasks import MCQ

from .stats import percentile_ci

DEFAULT_DURATION_BINS = (90.0, 150.0, 210.0, 300.0)
DEFAULT_EVIDENCE_BINS = (0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0)
EVIDENCE_THIRDS = ("first third", "middle third", "last third")


@dataclass(frozen=True)
class Bins:
    """Half-open bins [e_i, e_i+1) over sorted edges; the last bin includes its upper edge.
    Values outside the edges fall in an open bin below or above (never dropped)."""

    edges: tuple[float, ...]
    labels: tuple[str, ...]
    unit: str = ""

    @classmethod
    def of(cls, edges, labels: Sequence[str] | None = None, unit: str = "", name: str = "bins") -> "Bins":
        try:
            values = tuple(float(e) for e in edges)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a sequence of numbers, got {edges!r}") from None
        if len(values) < 2 or any(not math.isfinite(v) for v in values) or any(
                b <= a for a, b in zip(values, values[1:])):
            raise ValueError(f"{name} must be at least two finite, strictly increasing edges, got {list(edges)!r}")
        if labels is None:
            labels = tuple(f"{a:g}-{b:g}{unit}" for a, b in zip(values, values[1:]))
        if len(labels) != len(values) - 1:
            raise ValueError(f"{name}: {len(labels)} labels for {len(values) - 1} bins")
        return cls(values, tuple(labels), unit)

    def assign(self, values: np.ndarray) -> np.ndarray:
        """Bin index per value: -1 below the first edge, len(labels) above the last."""
        values = np.asarray(values, dtype=float)
        k = len(self.labels)
        idx = np.searchsorted(np.asarray(self.edges), values, side="right") - 1
        idx = np.where(values == self.edges[-1], k - 1, idx)
        return np.where(values > self.edges[-1], k, idx)

    def label(self, i: int) -> str:
        if i < 0:
            return f"<{self.edges[0]:g}{self.unit}"
        if i >= len(self.labels):
            return f">{self.edges[-1]:g}{self.unit}"
        return self.labels[i]

    def bounds(self, i: int) -> tuple[float | None, float | None]:
        if i < 0:
            return None, self.edges[0]
        if i >= len(self.labels):
            return self.edges[-1], None
        return self.edges[i], self.edges[i + 1]


def duration_bins(edges=DEFAULT_DURATION_BINS) -> Bins:
    return Bins.of(edges, unit="s", name="duration_bins")


def evidence_bins(edges=DEFAULT_EVIDENCE_BINS) -> Bins:
    edges = tuple(edges)
    labels = EVIDENCE_THIRDS if len(edges) == 4 and np.allclose(edges, DEFAULT_EVIDENCE_BINS) else None
    bins = Bins.of(edges, labels, name="evidence_bins")
    if bins.edges[0] < 0 or bins.edges[-1] > 1:
        raise ValueError(f"evidence_bins are relative positions inside [0, 1], got {list(edges)!r}")
    return bins


# ---------------------------------------------------------------- evidence positions

def evidence_centre(segments: Sequence[dict] | None, duration: float) -> float | None:
    """Relative centre (0..1) of the segments marked ``evidence``; None when none is marked
    (or the marks are absent: segment data without an ``evidence`` field is never guessed)."""
    if not segments or not duration or duration <= 0:
        return None
    marked = [s for s in segments if s.get("evidence")]
    if not marked:
        return None
    lengths = np.array([max(float(s["end"]) - float(s["start"]), 0.0) for s in marked])
    mids = np.array([(float(s["start"]) + float(s["end"])) / 2.0 for s in marked])
    centre = float(np.average(mids, weights=lengths)) if lengths.sum() > 0 else float(mids.mean())
    return min(max(centre / float(duration), 0.0), 1.0)


# ---------------------------------------------------------------- input checks

def check_durations(durations, n: int, error: type[Exception]) -> np.ndarray:
    if isinstance(durations, (str, bytes)) or not hasattr(durations, "__len__"):
        raise error(f"durations must be a list of seconds per item, got {type(durations).__name__}")
    if len(durations) != n:
        raise error(f"durations has {len(durations)} entries but predictions has {n}")
    out = np.empty(n)
    for i, d in enumerate(durations):
        if isinstance(d, bool) or not isinstance(d, (int, float, np.integer, np.floating)) or not math.isfinite(d) or d < 0:
            raise error(f"durations[{i}] must be a finite number of seconds >= 0, got {d!r}")
        out[i] = float(d)
    return out


def check_evidence(evidence, n: int, error: type[Exception]) -> list[float | None]:
    if isinstance(evidence, (str, bytes)) or not hasattr(evidence, "__len__"):
        raise error(f"evidence must be a list of relative positions (0..1 or None) per item, "
                    f"got {type(evidence).__name__}")
    if len(evidence) != n:
        raise error(f"evidence has {len(evidence)} entries but predictions has {n}")
    out: list[float | None] = []
    for i, e in enumerate(evidence):
        if e is None or (isinstance(e, float) and math.isnan(e)):
            out.append(None)
            continue
        if isinstance(e, bool) or not isinstance(e, (int, float, np.integer, np.floating)) or not 0.0 <= e <= 1.0:
            raise error(f"evidence[{i}] must be a relative position in [0, 1] or None, got {e!r}")
        out.append(float(e))
    return out


def prepare_inputs(n: int, durations, duration_edges, evidence, evidence_edges, error: type[Exception]) -> dict:
    """score()'s long-audio arguments, checked before any scoring; errors name the argument/index."""
    try:
        if duration_edges is not None:
            duration_bins(duration_edges)
        if evidence_edges is not None:
            evidence_bins(evidence_edges)
    except ValueError as err:
        raise error(str(err)) from None
    return {
        "durations": None if durations is None else check_durations(durations, n, error),
        "duration_edges": duration_edges,
        "evidence": None if evidence is None else check_evidence(evidence, n, error),
        "evidence_edges": evidence_edges,
    }


# ---------------------------------------------------------------- trend tests

def logistic_trend(x_minutes: np.ndarray, correct: np.ndarray, max_iter: int = 100) -> dict:
    """Logistic regression of correctness on duration (minutes) by IRLS, likelihood-ratio p-value."""
    x = np.asarray(x_minutes, dtype=float)
    y = np.asarray(correct, dtype=float)
    n = y.size
    base = {"method": "logistic", "n": int(n)}
    if n < 3 or np.ptp(x) == 0:
        return {**base, "slope_per_minute": None, "odds_ratio_per_minute": None, "points_per_minute": None,
                "p_value": None, "note": "needs at least 3 items of different durations"}
    if y.min() == y.max():  # all right or all wrong: no variation for a slope to explain
        return {**base, "slope_per_minute": 0.0, "odds_ratio_per_minute": 1.0, "points_per_minute": 0.0,
                "p_value": 1.0, "note": "every item has the same outcome"}
    xc = x - x.mean()  # centred: intercept and slope decouple, IRLS converges in a few steps
    design = np.column_stack([np.ones(n), xc])
    beta = np.zeros(2)
    separated = False
    for _ in range(max_iter):
        eta = design @ beta
        if np.max(np.abs(eta)) > 30:  # fitted probabilities reach 0/1: (quasi-)complete separation
            separated = True
            break
        p = 1.0 / (1.0 + np.exp(-eta))
        w = np.maximum(p * (1.0 - p), 1e-12)
        z = eta + (y - p) / w
        new = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * z))
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    p = np.clip(1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30, 30))), 1e-15, 1 - 1e-15)
    loglik = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    p0 = y.mean()
    loglik0 = float(n * (p0 * math.log(p0) + (1 - p0) * math.log(1 - p0)))
    p_value = float(chi2.sf(max(2.0 * (loglik - loglik0), 0.0), 1))
    if separated:
        # the maximum-likelihood slope is infinite; the likelihood-ratio test still applies
        return {**base, "slope_per_minute": None, "odds_ratio_per_minute": None, "points_per_minute": None,
                "p_value": p_value, "note": "duration separates right from wrong answers completely: "
                                            "the slope is unbounded"}
    slope = float(beta[1])
    return {**base, "slope_per_minute": slope, "odds_ratio_per_minute": float(math.exp(slope)),
            "points_per_minute": 100.0 * float(np.mean(p * (1 - p)) * slope), "p_value": p_value}


def linear_trend(x_minutes: np.ndarray, values: np.ndarray) -> dict:
    """Least squares of a per-item score on duration (minutes), two-sided t-test on the slope."""
    x = np.asarray(x_minutes, dtype=float)
    y = np.asarray(values, dtype=float)
    n = y.size
    base = {"method": "least_squares", "n": int(n)}
    if n < 3 or np.ptp(x) == 0:
        return {**base, "slope_per_minute": None, "points_per_minute": None, "p_value": None,
                "note": "needs at least 3 items of different durations"}
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (y - y.mean()) / sxx)
    resid = y - y.mean() - slope * xc
    dof = n - 2
    s2 = float(resid @ resid) / dof
    if s2 == 0.0:
        p_value = 0.0 if slope != 0.0 else 1.0
    else:
        p_value = float(2.0 * student_t.sf(abs(slope) / math.sqrt(s2 / sxx), dof))
    return {**base, "slope_per_minute": slope, "points_per_minute": slope, "p_value": p_value}


# ---------------------------------------------------------------- binned scores

def _subset_summary(scorer, task, items, replies, settings, keep: np.ndarray) -> tuple[dict, np.ndarray]:
    sub = [it for it, k in zip(items, keep) if k]
    res = scorer(task, sub, replies, settings)
    s = res.summary
    out = {"n": s["n"], "score": s["score"], "ci95": s["ci95"]}
    for key in ("accuracy", "invalid_rate", "wer"):
        if key in s:
            out[key] = s[key]
    return out, res.replicates


def _binned(groups, replies, settings, scorers, values: dict[str, np.ndarray], bins: Bins) -> tuple[dict, dict]:
    """Per task: one summary per non-empty bin. Returns (tasks section, replicates per task/bin)."""
    tasks_out: dict[str, dict] = {}
    reps: dict[str, dict[int, np.ndarray]] = {}
    for name, items in groups.items():
        vals = values[name]
        have = ~np.isnan(vals)
        if not have.any():
            continue
        idx = np.full(vals.shape, -2)
        idx[have] = bins.assign(vals[have])
        task = items[0].task
        rows = []
        reps[name] = {}
        for b in sorted(set(int(i) for i in idx[have])):
            summary, r = _subset_summary(scorers[task.metric], task, items, replies, settings, idx == b)
            lo, hi = bins.bounds(b)
            rows.append({"bin": bins.label(b), "low": lo, "high": hi, **summary})
            reps[name][b] = r
        tasks_out[name] = {"bins": rows, "n": int(have.sum())}
    return tasks_out, reps


def _average(tasks_out: dict, reps: dict, bins: Bins) -> list[dict]:
    """Per bin: the plain mean of the task scores of the tasks with items in that bin."""
    present = sorted({b for r in reps.values() for b in r})
    rows = []
    for b in present:
        # A task with nothing scorable in the bin (paper mode, no valid reply) has score None: not averaged.
        names = [n for n in tasks_out if b in reps[n]
                 and next(r["score"] for r in tasks_out[n]["bins"] if r["bin"] == bins.label(b)) is not None]
        if not names:
            continue
        scores = [next(r["score"] for r in tasks_out[n]["bins"] if r["bin"] == bins.label(b)) for n in names]
        arrays = [reps[n][b] for n in names]
        ci = percentile_ci(np.mean(arrays, axis=0)) if arrays and all(a.size for a in arrays) else None
        lo, hi = bins.bounds(b)
        rows.append({"bin": bins.label(b), "low": lo, "high": hi, "score": float(np.mean(scores)), "ci95": ci,
                     "n_tasks": len(names), "tasks": names,
                     "n": int(sum(next(r["n"] for r in tasks_out[n]["bins"] if r["bin"] == bins.label(b))
                                  for n in names))})
    return rows


def _outcomes(task, result, settings) -> tuple[np.ndarray, np.ndarray]:
    """(kept mask, outcome) per item in the task's order: correctness (MCQ) or 100 - WER (ASR)."""
    samples = result.samples
    # Paper mode's samples say whether the task's figure counts them (the authors' rules).
    keep = np.array([s.get("scored", True) for s in samples], dtype=bool)
    if task.metric == MCQ:
        return keep, np.array([bool(s["correct"]) for s in samples], dtype=float)
    return keep, np.array([100.0 - s["wer"] for s in samples], dtype=float)


def by_duration(groups, replies, settings, scorers, results, durations: np.ndarray, bins: Bins) -> dict:
    values = {name: durations[[it.index for it in items]] for name, items in groups.items()}
    tasks_out, reps = _binned(groups, replies, settings, scorers, values, bins)
    for name, items in groups.items():
        task = items[0].task
        keep, outcome = _outcomes(task, results[name], settings)
        minutes = values[name][keep] / 60.0
        trend = logistic_trend(minutes, outcome[keep]) if task.metric == MCQ else linear_trend(minutes, outcome[keep])
        tasks_out[name]["trend"] = trend
        tasks_out[name]["mean_duration"] = float(values[name].mean())
    return {"edges": list(bins.edges), "unit": "seconds", "tasks": tasks_out, "average": _average(tasks_out, reps, bins)}


def by_evidence_position(groups, replies, settings, scorers, evidence: list[float | None], bins: Bins) -> dict:
    values = {name: np.array([np.nan if evidence[it.index] is None else evidence[it.index] for it in items])
              for name, items in groups.items()}
    tasks_out, reps = _binned(groups, replies, settings, scorers, values, bins)
    unavailable = {name: "no item of this task has marked evidence segments" for name in groups if name not in tasks_out}
    return {"available": bool(tasks_out), "edges": list(bins.edges), "unit": "relative position of the evidence centre",
            "tasks": tasks_out, "average": _average(tasks_out, reps, bins), "unavailable": unavailable}


def long_audio_sections(groups, replies, settings, scorers, results, *, durations=None, duration_edges=None,
                        evidence=None, evidence_edges=None) -> dict:
    """The ``by_duration`` and ``by_evidence_position`` sections of score()'s output (each only
    when its per-item values were given)."""
    out = {}
    if durations is not None:
        out["by_duration"] = by_duration(groups, replies, settings, scorers, results, durations,
                                         duration_bins(DEFAULT_DURATION_BINS if duration_edges is None else duration_edges))
    if evidence is not None:
        ebins = evidence_bins(DEFAULT_EVIDENCE_BINS if evidence_edges is None else evidence_edges)
        if all(e is None for e in evidence):
            out["by_evidence_position"] = {"available": False, "edges": list(ebins.edges),
                                           "reason": "no item has marked evidence segments (e.g. an imported "
                                                     "release without segment data)"}
        else:
            out["by_evidence_position"] = by_evidence_position(groups, replies, settings, scorers, evidence, ebins)
    return out
