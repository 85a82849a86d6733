"""Compare runs item by item: ``audiomarathon compare RUN_A RUN_B [RUN_C ...]``.

A run is a runner output folder (predictions.jsonl, with results.json selecting its configuration
hash) or a predictions.jsonl file. Every later run is compared with the first on the items both
hold: per task the paired differences of ``comparison.compare`` (exact McNemar on accuracy, paired
bootstrap on the score), overall and within each duration bin. Each run is also scored with its
durations (and evidence positions when present), which feeds the long-audio plots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from audiomarathon.records import PREDICTIONS_FILE

from .comparison import compare
from .display import fmt1, plural
from .long_audio import DEFAULT_DURATION_BINS
from .long_audio import check_durations
from .long_audio import duration_bins as make_bins
from .scoring import score


class RunError(ValueError):
    """A run folder or file that cannot be compared; the message names it."""


@dataclass
class Run:
    name: str
    path: Path
    items: dict[str, dict]  # id -> record (task, reply, reference, choices, duration, evidence_position)
    config: dict = field(default_factory=dict)  # results.json "config" (empty for a bare file)

    @property
    def ratio(self) -> float:
        comp = self.config.get("compression") or {}
        return float(comp.get("ratio") or self.config.get("ratio") or 0.0)

    @property
    def method(self) -> str:
        comp = self.config.get("compression") or {}
        return str(comp.get("method") or self.config.get("method") or "none")

    @property
    def model(self) -> str:
        return Path(str(self.config.get("model_id") or self.config.get("model") or self.name)).name

    @property
    def predictions(self) -> Path:
        return self.path / PREDICTIONS_FILE if self.path.is_dir() else self.path

    def error(self, message: str) -> RunError:
        """An error about this run's records, worded as ``score`` words it for the same file."""
        return RunError(f"{self.predictions}: {message}")


def load_run(path: str | Path, name: str | None = None) -> Run:
    """A run folder (its records of the run its results.json describes) or a predictions file,
    read by the run-record reader (``read_run_records``: a retried sample once)."""
    from audiomarathon.records import RecordError, read_results, read_run_records, run_files

    path = Path(path)
    try:
        pred, results_path = run_files(path)
        results = read_results(results_path) if results_path is not None else None
        lines = read_run_records(pred, results, str(results_path))
    except RecordError as err:
        raise RunError(str(err)) from None
    config: dict = results["config"] if results is not None else {}
    items: dict[str, dict] = {}
    for n, rec in lines:
        if "id" not in rec or "task" not in rec:
            raise RunError(f"{pred} line {n}: expected a record with 'id' and 'task'")
        reply = rec.get("reply", rec.get("prediction"))
        reference = rec.get("reference", rec.get("answer"))
        if reference is None:
            raise RunError(f"{pred}: record {rec['id']!r} has no 'reference'")
        items[str(rec["id"])] = {**rec, "reply": reply if isinstance(reply, str) else "", "reference": reference}
    if not items:
        raise RunError(f"{pred}: no records")
    # The run's display name (run --name, results.json config.name), else its folder's name.
    shown = config.get("name") if isinstance(config.get("name"), str) and config.get("name").strip() else None
    label = name or shown or (path.name if path.is_dir() else path.parent.name or path.stem)
    return Run(label, path, items, config)


def _columns(run: Run, ids: Sequence[str]) -> dict:
    recs = [run.items[i] for i in ids]
    return {"references": [r["reference"] for r in recs], "tasks": [r["task"] for r in recs],
            "choices": [list(r.get("choices") or []) for r in recs], "ids": list(ids)}


def durations_of(run: Run, ids: Sequence[str], info: dict | None = None) -> list[float] | None:
    """Per-id durations from the records, else from ``info`` (item_info.load_item_info); None if
    neither has them all. Records' values are checked as ``score`` checks them: a NaN, a negative
    or a non-number is refused (RunError naming the file), and so is a run where only some
    records carry one and ``info`` cannot fill in."""
    values = [run.items[i].get("duration") for i in ids]
    if values and all(v is not None for v in values):
        return [float(v) for v in check_durations(values, len(values), run.error)]
    if info is not None and all(i in info for i in ids):
        return [info[i].duration for i in ids]
    if any(v is not None for v in values):
        first = ids[values.index(None)]
        raise run.error(f"record {first!r} has no 'duration' while others do; pass --data to take durations "
                        "from the dataset")
    return None


def evidence_of(run: Run, ids: Sequence[str], info: dict | None = None) -> list[float | None] | None:
    if all("evidence_position" in run.items[i] for i in ids):
        return [run.items[i]["evidence_position"] for i in ids]
    if info is not None and all(i in info for i in ids):
        return [info[i].evidence_position for i in ids]
    return None


def score_run(run: Run, info: dict | None = None, duration_bins=DEFAULT_DURATION_BINS, n_bootstrap: int = 1000,
              seed: int = 0) -> dict:
    """score() of one run with its durations and evidence positions (when known)."""
    ids = list(run.items)
    return score([run.items[i]["reply"] for i in ids], **_columns(run, ids), n_bootstrap=n_bootstrap, seed=seed,
                 durations=durations_of(run, ids, info), duration_bins=duration_bins,
                 evidence=evidence_of(run, ids, info))


def _is_audiomarathon(task: str) -> bool:
    from audiomarathon.tasks import UnknownTaskError, get_task

    try:
        return get_task(task).benchmark == "AudioMarathon"
    except UnknownTaskError:
        return True  # compare() names the unknown task


def compare_pair(a: Run, b: Run, info: dict | None = None, duration_bins=DEFAULT_DURATION_BINS,
                 n_bootstrap: int = 1000, seed: int = 0) -> dict:
    common = [i for i in a.items if i in b.items]
    if not common:
        raise RunError(f"{a.name} and {b.name} share no item id")
    for i in common:
        if a.items[i]["reference"] != b.items[i]["reference"] or a.items[i]["task"] != b.items[i]["task"]:
            raise RunError(f"item {i!r} has a different task or reference in {a.name} and {b.name}: "
                           "the runs are not on the same dataset version")
    cols = _columns(a, common)
    replies_a = [a.items[i]["reply"] for i in common]
    replies_b = [b.items[i]["reply"] for i in common]
    out = {"a": a.name, "b": b.name, "n_common": len(common), "only_in_a": len(a.items) - len(common),
           "only_in_b": len(b.items) - len(common),
           **compare(replies_a, replies_b, **cols, n_bootstrap=n_bootstrap, seed=seed)}
    durations = durations_of(a, common, info)
    # Duration bins are AudioMarathon's long-audio analysis: its items only (MMAR's and AIR-Bench's
    # clips are under a minute).
    long_items = [j for j, i in enumerate(common) if _is_audiomarathon(a.items[i]["task"])]
    if durations is None or not long_items:
        out["by_duration"] = None
        return out
    bins = make_bins(duration_bins)
    idx = bins.assign(np.asarray(durations))
    by_bin = []
    for k in sorted(set(int(idx[j]) for j in long_items)):
        keep = [j for j in long_items if idx[j] == k]
        sub = {key: [v[j] for j in keep] for key, v in cols.items()}
        res = compare([replies_a[j] for j in keep], [replies_b[j] for j in keep], **sub,
                      n_bootstrap=n_bootstrap, seed=seed)
        lo, hi = bins.bounds(k)
        by_bin.append({"bin": bins.label(k), "low": lo, "high": hi, "n": len(keep),
                       "average_diff": res["average_diff"], "average_diff_ci95": res["average_diff_ci95"],
                       "tasks": res["tasks"]})
    out["by_duration"] = by_bin
    return out


def compare_runs(runs: Sequence[Run], info: dict | None = None, duration_bins=DEFAULT_DURATION_BINS,
                 n_bootstrap: int = 1000, seed: int = 0) -> dict:
    if len(runs) < 2:
        raise RunError("compare needs at least two runs")
    names = [r.name for r in runs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        paths = ", ".join(str(r.path) for r in runs if r.name == name)
        raise RunError(f"two runs share the name {name!r} ({paths}); give them different names (run --name) or "
                       "folders with different names")
    return {
        "baseline": runs[0].name,
        "duration_bins": list(make_bins(duration_bins).edges),
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "runs": {r.name: {"path": str(r.path), "model": r.model, "method": r.method, "ratio": r.ratio,
                          "scores": score_run(r, info, duration_bins, n_bootstrap, seed)} for r in runs},
        "comparisons": [compare_pair(runs[0], r, info, duration_bins, n_bootstrap, seed) for r in runs[1:]],
    }


def _p(p) -> str:
    return "n/a" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _ci(ci) -> str:
    return "n/a" if not ci else f"[{fmt1(ci[0], sign=True)}, {fmt1(ci[1], sign=True)}]"


def markdown_table(result: dict) -> str:
    """The comparison as markdown: per pair, the task table then the per-duration-bin table."""
    lines = []
    for c in result["comparisons"]:
        lines += [f"## A = {c['a']}, B = {c['b']} ({plural(c['n_common'], 'common item')})", "",
                  "| task | n | score A | score B | A - B | 95% CI | McNemar p | bootstrap p |",
                  "|---|---:|---:|---:|---:|---|---:|---:|"]
        for task, t in c["tasks"].items():
            lines.append(f"| {task} | {t['n']} | {fmt1(t['score_a'])} | {fmt1(t['score_b'])} | "
                         f"{fmt1(t['score_diff'], sign=True)} | "
                         f"{_ci(t['ci95'])} | {_p(t.get('mcnemar_p'))} | {_p(t['p_value'])} |")
        if c["average_diff"] is not None and not c.get("benchmarks"):
            lines.append(f"| average | {c['n_common']} | {fmt1(c.get('average_a'))} | {fmt1(c.get('average_b'))} | "
                         f"{fmt1(c['average_diff'], sign=True)} | "
                         f"{_ci(c['average_diff_ci95'])} | | |")
        for key, bench in (c.get("benchmarks") or {}).items():  # each benchmark's average, its own way
            lines.append(f"| average ({key}) | | {fmt1(bench['average_a'])} | {fmt1(bench['average_b'])} | "
                         f"{fmt1(bench['average_diff'], sign=True)} | {_ci(bench['average_diff_ci95'])} | | |")
        if c.get("by_duration"):
            lines += ["", "| duration | task | n | score A | score B | A - B | McNemar p | bootstrap p |",
                      "|---|---|---:|---:|---:|---:|---:|---:|"]
            for b in c["by_duration"]:
                for task, t in b["tasks"].items():
                    lines.append(f"| {b['bin']} | {task} | {t['n']} | {fmt1(t['score_a'])} | {fmt1(t['score_b'])} | "
                                 f"{fmt1(t['score_diff'], sign=True)} | {_p(t.get('mcnemar_p'))} | {_p(t['p_value'])} |")
        lines.append("")
    return "\n".join(lines)


def duration_table(scores: dict) -> str:
    """A run's by_duration section as a plain-text table: one row per task, one column per bin."""
    by = scores.get("by_duration")
    if not by:
        return "(no durations)"
    labels = [r["bin"] for r in by["average"]]
    head = f"{'task':<12}" + "".join(f"{lab:>14}" for lab in labels) + f"{'trend/min':>11}{'p':>8}"
    rows = [head]
    for task, t in by["tasks"].items():
        cells = {r["bin"]: f"{fmt1(r['score'])} (n={r['n']})" for r in t["bins"]}
        tr = t["trend"]
        slope = tr.get("points_per_minute")
        rows.append(f"{task:<12}" + "".join(f"{cells.get(lab, '-'):>14}" for lab in labels)
                    + f"{fmt1(slope, sign=True):>11}{_p(tr.get('p_value')):>8}")
    rows.append(f"{'average':<12}" + "".join(f"{fmt1(r['score']):>14}" for r in by["average"]))
    return "\n".join(rows)
