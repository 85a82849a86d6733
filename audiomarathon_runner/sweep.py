"""Compression sweeps: methods x ratios with the model loaded once.

Each configuration gets its own folder (``OUT/<method>-r<ratio>/``, resumable like a run) and the
sweep writes ``OUT/sweep_summary.csv`` and ``OUT/sweep_summary.md``: score per task, average,
realized kept audio tokens, KV-cache bytes after prefill and median prefill time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from audiomarathon.files import write_atomic
from audiomarathon.records import PREDICTIONS_FILE, read_predictions, results_run_id, write_json
from audiomarathon.tasks import resolve_tasks

from .commands.checks import NAME_MAX_CHARS
from .run import RunConfig, load_model, run_evaluation
from .samples import load_samples


def parse_ratios(text: str | Sequence[float]) -> list[float]:
    if not isinstance(text, str):
        return [float(r) for r in text]
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ValueError(f"--ratios: {part!r} is not a number") from None
    if not out:
        raise ValueError("--ratios: no ratio given")
    return out


def sweep_configs(base: RunConfig, methods: Sequence[str], ratios: Sequence[float]) -> list[RunConfig]:
    """One RunConfig per (method, ratio); method 'none' runs once, as the baseline."""
    out, root = [], Path(base.out)
    for method in methods:
        for ratio in ([0.0] if method == "none" else ratios):
            name = "none" if method == "none" else f"{method}-r{ratio:g}"
            # CompressionConfig validates: an unknown method or a bad ratio fails before any model work
            compression = replace(base.compression, method=method, ratio=float(ratio))
            # A display name given to the sweep names each of its runs, with the setting.
            label = f"{base.name[:NAME_MAX_CHARS - len(name) - 1].rstrip()} {name}" if base.name else None
            cfg = replace(base, compression=compression, out=str(root / name), name=label)
            out.append(cfg)
    return out


def run_sweep(base: RunConfig, methods: Sequence[str], ratios: Sequence[float] | str, adapter=None) -> list[dict]:
    configs = sweep_configs(base, list(methods), parse_ratios(ratios))
    samples = load_samples(base.data, base.tasks, base.limit)
    if adapter is None and base.api is None:
        adapter = load_model(base)
    rows = []
    for cfg in configs:
        results = run_evaluation(cfg, adapter=adapter, samples=samples)
        rows.append(summary_row(cfg, results))
    write_summary(Path(base.out), rows, [t.name for t in resolve_tasks(base.tasks)])
    return rows


def summary_row(cfg: RunConfig, results: dict) -> dict:
    scores = results.get("scores", {})
    timing = results.get("timing", {})
    row = {"method": cfg.method, "ratio": cfg.ratio, "folder": Path(cfg.out).name,
           "average": scores.get("average")}
    for name, res in scores.get("tasks", {}).items():
        row[name] = res.get("score")
    row["failed"] = len(results.get("samples", {}).get("failed", {}))
    row["prefill_ms_median"] = timing.get("prefill_ms", {}).get("median")
    row["kv_cache_bytes_mean"] = timing.get("kv_cache_bytes", {}).get("mean")
    row["audio_tokens_mean"] = timing.get("audio_tokens", {}).get("mean")
    # The same samples as the timing summary's audio_tokens_mean: warm-up left out unless alone.
    kept = [((rec.get("timings") or {}).get("warmup"), min(layers))
            for rec in read_predictions(Path(cfg.out) / PREDICTIONS_FILE, results_run_id(results))
            if (layers := (rec.get("compression") or {}).get("kept_audio_tokens_per_layer"))]
    kept = [k for warm, k in kept if not warm] or [k for _, k in kept]
    row["kept_audio_tokens_mean"] = sum(kept) / len(kept) if kept else None
    return row


def write_summary(out: Path, rows: list[dict], task_names: list[str]) -> None:
    cols = ["method", "ratio", "average", *task_names, "kept_audio_tokens_mean", "audio_tokens_mean",
            "kv_cache_bytes_mean", "prefill_ms_median", "failed", "folder"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _fmt(row.get(c)) for c in cols})
    write_atomic(out / "sweep_summary.csv", buf.getvalue())
    # The markdown table is for reading: scores, token counts and times with one decimal as `run`
    # and the leaderboard print them, the KV cache in binary units (the CSV keeps the raw numbers).
    md = ["| " + " | ".join(MD_HEADERS.get(c, c) for c in cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_md_cell(c, row.get(c)) for c in cols) + " |" for row in rows]
    write_atomic(out / "sweep_summary.md", "\n".join(md) + "\n")
    write_json(out / "sweep_summary.json", rows)


MD_HEADERS = {"kept_audio_tokens_mean": "kept audio tokens (mean)", "audio_tokens_mean": "audio tokens (mean)",
              "kv_cache_bytes_mean": "KV cache (mean)", "prefill_ms_median": "prefill ms (median)"}


def _md_cell(column: str, v) -> str:
    from audiomarathon_metric.display import fmt1, fmt_bytes

    if v is None:
        return ""
    if column == "ratio":
        return f"{v:.2f}"
    if column == "kv_cache_bytes_mean":
        return fmt_bytes(v)
    return fmt1(v) if isinstance(v, float) else str(v)


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v)
