"""What a judge run adds to results.json: under ``judge`` and its settings' hash, the settings, the
scores in both modes, and what the judging cost. The model run's own identity is untouched: the
judge's settings are the identity of the score, not of the run."""

from __future__ import annotations

from audiomarathon_metric.judge.aggregate import judge_scores
from audiomarathon_metric.judge.prompt import OFFICIAL_PROMPT_SHA256
from audiomarathon_metric.judge.records import JUDGMENTS_FILE


def _total(values):
    values = list(values)
    return None if not values or any(v is None for v in values) else sum(values)


def judge_summary(settings, api, items, judgments: list[dict], n_bootstrap: int = 1000) -> dict:
    pairs = [(i.id, i.task) for i in items]
    asked = [j for j in judgments if j.get("http_attempts")]
    latencies = sorted(j["latency_ms"] for j in asked if j.get("latency_ms") is not None)
    return {
        "settings": settings.public(),
        "settings_key": settings.key(),
        "official_prompt": settings.prompt_sha256 == OFFICIAL_PROMPT_SHA256,
        "judgments_file": JUDGMENTS_FILE,
        "servers": {"base_urls": list(api.base_urls), "concurrency": api.concurrency,
                    "max_retries": api.max_retries, "price_in": api.price_in, "price_out": api.price_out},
        "served_models": sorted({str(j.get("served_model")) for j in asked}),
        "system_fingerprints": sorted({str(j.get("system_fingerprint")) for j in asked}),
        "requests": sum(1 + len(j.get("retried") or []) for j in asked),
        "http_attempts": sum(int(j.get("http_attempts") or 0) for j in asked),
        "input_tokens": _total(j.get("input_tokens") for j in asked),
        "output_tokens": _total(j.get("output_tokens") for j in asked),
        "cost_usd": _total(j.get("cost_usd") for j in asked),
        "latency_ms": {"median": latencies[len(latencies) // 2], "max": latencies[-1]} if latencies else {},
        "strict": judge_scores(pairs, judgments, "strict", settings.orders, n_bootstrap=n_bootstrap),
        "paper": judge_scores(pairs, judgments, "paper", settings.orders, n_bootstrap=n_bootstrap),
    }
