"""AIR-Bench Chat scores from judgments: per task, per category, the average, and what the judge
itself did (position bias, flips, failures).

Each item is judged in two orders (the reference as Assistant 1, then the model). Two modes:

- strict (the default): every item counts. A judgment that is not a verdict (or was never
  obtained, or has no model reply to judge) scores the model's side 1, the lowest score: refusing
  to answer must not pay. The item's score is the mean of the model's two scores; a task's score
  the mean over its items; a category the mean of its tasks' scores.
- paper: as the official ``cal_score.py``: judgments that are not verdicts are dropped, the mean
  is taken per order over what is left and the two orders' means are averaged (the official
  README's swap), and speech, sound and music pool the lines of their two tasks, as that script's
  per-category sums do.

In both, mixed audio is the mean of its two tasks (the README's rule) and the average is the mean
of the four categories. ``reference_average`` is the reference answer's own score aggregated alike
(over verdicts only: a failed judgment says nothing of the reference); ``win_rate`` the share of
judgments in which the model scored strictly above the reference (a failure is no win in strict
mode). Position bias: over items with a verdict in both orders, the model's mean score as
Assistant 1 minus its mean as Assistant 2; a flip is an item whose verdict (model better, tied,
worse) differs between the two orders.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .prompt import MODEL_FIRST, ORDERS, REFERENCE_FIRST
from .records import FAILURES

JUDGE_MODES = ("strict", "paper")
LOWEST = 1  # the model's score for a judgment without a verdict, in strict mode


@dataclass(frozen=True)
class Category:
    name: str
    tasks: tuple[str, ...]
    pooled_in_paper: bool  # cal_score.py sums the lines of both tasks into one mean


def _chat_categories() -> tuple[Category, ...]:
    """The leaderboard's four columns, from the registry's AIR-Bench Chat tasks (AIR-Bench README,
    cal_score.py): speech, sound and music pool their tasks' lines there; mixed is a mean of two."""
    from audiomarathon.tasks import CHAT_CATEGORIES as NAMES
    from audiomarathon.tasks import CHAT_TASKS as TASKS
    from audiomarathon.tasks import MIXED

    return tuple(Category(name, tuple(t.name for t in TASKS if t.category == name), name != MIXED) for name in NAMES)


CHAT_CATEGORIES = _chat_categories()
CHAT_TASKS = tuple(t for c in CHAT_CATEGORIES for t in c.tasks)


@dataclass
class _Task:
    """One task's items as arrays: item x order model/reference scores, NaN where no verdict."""

    ids: list[str]
    model: np.ndarray  # (n, n_orders)
    reference: np.ndarray  # (n, n_orders)


def _collect(items: Iterable[tuple[str, str]], judgments: Iterable[Mapping], orders: tuple[str, ...]):
    by_key = {(str(j["id"]), j["order"]): j for j in judgments}
    tasks: dict[str, list] = {}
    failures = {kind: 0 for kind in FAILURES}
    failures["missing"] = 0
    for item_id, task in items:
        row_m, row_r = [], []
        for order in orders:
            j = by_key.get((str(item_id), order))
            if j is None:
                failures["missing"] += 1
            elif j.get("failure"):
                failures[j["failure"] if j["failure"] in failures else "request"] += 1
            ok = j is not None and not j.get("failure") and j.get("model_score") is not None
            row_m.append(float(j["model_score"]) if ok else np.nan)
            row_r.append(float(j["reference_score"]) if ok else np.nan)
        entry = tasks.setdefault(task, [[], [], []])
        entry[0].append(str(item_id))
        entry[1].append(row_m)
        entry[2].append(row_r)
    out = {t: _Task(ids, np.array(m, dtype=float).reshape(len(ids), len(orders)),
                    np.array(r, dtype=float).reshape(len(ids), len(orders)))
           for t, (ids, m, r) in tasks.items()}
    return out, failures


def _weighted_means(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate (rows of ``weights``, item draw counts): sum and count over the finite values of
    ``values`` (n,), NaN counted as absent."""
    have = np.isfinite(values)
    v = np.where(have, values, 0.0)
    return weights @ v, weights @ have.astype(float)


def _mean(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _task_figures(t: _Task, mode: str, w: np.ndarray) -> dict[str, np.ndarray]:
    """Score, reference score and win rate of one task, per replicate (rows of ``w``); with
    numerators and denominators for pooling in paper mode."""
    model, ref = t.model, t.reference
    n_orders = model.shape[1]
    verdict = np.isfinite(model)
    wins = np.where(verdict, (model > ref).astype(float), np.nan)
    if mode == "strict":
        item = np.where(verdict, model, LOWEST).mean(axis=1)
        num, den = _weighted_means(item, w)
        score_num, score_den = [num], [den]
        win_num, win_den = _weighted_means(np.where(verdict, wins, 0.0).mean(axis=1), w)
    else:
        score_num, score_den = zip(*(_weighted_means(model[:, k], w) for k in range(n_orders)))
        win_num, win_den = (sum(x) for x in zip(*(_weighted_means(wins[:, k], w) for k in range(n_orders))))
    ref_num, ref_den = (sum(x) for x in zip(*(_weighted_means(ref[:, k], w) for k in range(n_orders))))
    per_order = [_mean(a, b) for a, b in zip(score_num, score_den)]
    return {"score": np.nanmean(np.vstack(per_order), axis=0) if _any(per_order) else per_order[0],
            "score_num": list(score_num), "score_den": list(score_den),
            "reference": _mean(ref_num, ref_den), "ref_num": ref_num, "ref_den": ref_den,
            "win_rate": _mean(win_num, win_den), "win_num": win_num, "win_den": win_den}


def _any(arrays) -> bool:
    return any(np.isfinite(a).any() for a in arrays)


def _pool(figures: list[dict], key: str) -> np.ndarray:
    """Paper mode's pooled category figure: sums over the category's tasks, then the mean."""
    if key == "score":
        n_orders = len(figures[0]["score_num"])
        per_order = [_mean(sum(f["score_num"][k] for f in figures), sum(f["score_den"][k] for f in figures))
                     for k in range(n_orders)]
        return np.nanmean(np.vstack(per_order), axis=0) if _any(per_order) else per_order[0]
    prefix = {"reference": "ref", "win_rate": "win"}[key]
    return _mean(sum(f[f"{prefix}_num"] for f in figures), sum(f[f"{prefix}_den"] for f in figures))


def _nanmean_rows(arrays: list[np.ndarray]) -> np.ndarray:
    """Per replicate, the mean over the arrays that have a value (NaN: none has)."""
    return np.nanmean(np.vstack(arrays), axis=0)


def _figures(tasks: dict[str, _Task], mode: str, weights: dict[str, np.ndarray], categories) -> dict:
    # An empty mean (a task or category without a verdict) is NaN on purpose: reported as None.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_task = {name: _task_figures(t, mode, weights[name]) for name, t in tasks.items()}
        out: dict = {"tasks": per_task, "categories": {}}
        for key in ("score", "reference", "win_rate"):
            cats = {}
            for cat in categories:
                present = [per_task[t] for t in cat.tasks if t in per_task]
                if not present:
                    continue
                if mode == "paper" and cat.pooled_in_paper:
                    cats[cat.name] = _pool(present, key)
                else:
                    cats[cat.name] = _nanmean_rows([f[key] for f in present])
            out["categories"][key] = cats
            out[key] = _nanmean_rows(list(cats.values())) if cats else None
    return out


def _bias(tasks: Iterable[_Task], orders: tuple[str, ...]) -> dict:
    if MODEL_FIRST not in orders or REFERENCE_FIRST not in orders:
        return {"position_bias": None, "flip_share": None, "paired_items": 0}
    mf, rf = orders.index(MODEL_FIRST), orders.index(REFERENCE_FIRST)
    model = np.vstack([t.model for t in tasks]) if tasks else np.zeros((0, len(orders)))
    ref = np.vstack([t.reference for t in tasks]) if tasks else np.zeros((0, len(orders)))
    paired = np.isfinite(model[:, mf]) & np.isfinite(model[:, rf])
    if not paired.any():
        return {"position_bias": None, "flip_share": None, "paired_items": 0}
    bias = float(model[paired, mf].mean() - model[paired, rf].mean())
    verdict = np.sign(model[paired] - ref[paired])
    flips = float((verdict[:, mf] != verdict[:, rf]).mean())
    return {"position_bias": bias, "flip_share": flips, "paired_items": int(paired.sum())}


def _num(x) -> float | None:
    if x is None:
        return None
    value = float(np.asarray(x).reshape(-1)[0])
    return value if np.isfinite(value) else None


def judge_scores(items: Iterable[tuple[str, str]], judgments: Iterable[Mapping], mode: str = "strict",
                 orders: tuple[str, ...] = ORDERS, categories=CHAT_CATEGORIES,
                 n_bootstrap: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Scores of ``items`` ((id, task) pairs, each to be judged once per order) from ``judgments``
    (records of one judge setting; see records.Judgment). Per task and overall: score, reference
    score, win rate, position bias, flip share, failures; percentile bootstrap CIs over items
    (resampled within each task) for the categories and the average."""
    if mode not in JUDGE_MODES:
        raise ValueError(f"judge mode must be one of {', '.join(JUDGE_MODES)}, got {mode!r}")
    orders = tuple(orders)
    items = list(items)
    tasks, failures = _collect(items, judgments, orders)
    ones = {name: np.ones((1, len(t.ids))) for name, t in tasks.items()}
    point = _figures(tasks, mode, ones, categories)

    result: dict = {"mode": mode, "orders": list(orders), "tasks": {}, "categories": {}}
    for name, t in tasks.items():
        fig = point["tasks"][name]
        fails = int((~np.isfinite(t.model)).sum())
        result["tasks"][name] = {"score": _num(fig["score"]), "reference": _num(fig["reference"]),
                                 "win_rate": _num(fig["win_rate"]), "items": len(t.ids),
                                 "judgments": int(t.model.size), "failures": fails, **_bias([t], orders)}
    for cat, value in point["categories"]["score"].items():
        result["categories"][cat] = _num(value)
    result["reference_categories"] = {c: _num(v) for c, v in point["categories"]["reference"].items()}
    result["win_rate_categories"] = {c: _num(v) for c, v in point["categories"]["win_rate"].items()}
    result["average"] = _num(point["score"])
    result["reference_average"] = _num(point["reference"])
    result["win_rate"] = _num(point["win_rate"])
    result.update(_bias(list(tasks.values()), orders))
    result["failures"] = {"total": sum(failures.values()), **failures}
    result["items"] = len(items)
    result["judgments"] = len(items) * len(orders)
    result["ci"] = _bootstrap(tasks, mode, categories, n_bootstrap, seed, level) if n_bootstrap else {}
    return result


def _bootstrap(tasks: dict[str, _Task], mode: str, categories, n_bootstrap: int, seed: int, level: float) -> dict:
    from ..stats import bootstrap_counts

    rng = np.random.default_rng(seed)
    weights = {name: bootstrap_counts(len(t.ids), n_bootstrap, rng).astype(float) for name, t in tasks.items()}
    reps = _figures(tasks, mode, weights, categories)
    ci = {"level": level, "n_bootstrap": n_bootstrap, "seed": seed,
          "average": _ci(reps["score"], level), "reference_average": _ci(reps["reference"], level),
          "win_rate": _ci(reps["win_rate"], level),
          "categories": {c: _ci(v, level) for c, v in reps["categories"]["score"].items()}}
    return ci


def _ci(replicates, level: float):
    from ..stats import percentile_ci

    if replicates is None:
        return None
    values = np.asarray(replicates, dtype=float)
    values = values[np.isfinite(values)]
    return percentile_ci(values, level) if values.size else None
