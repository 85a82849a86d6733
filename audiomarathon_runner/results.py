"""results.json of a finished run: what the runner found out (model, device, versions), the run
identity, and the metric's scores of its records with the timing summaries and sample counts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from audiomarathon.records import PREDICTIONS_FILE, RESULTS_SCHEMA, RUN_ID_FIELD, read_predictions
from audiomarathon.run_identity import GREEDY
from audiomarathon.tasks import OPEN, resolve_tasks

from . import distributed
from .provenance import versions
from .run_config import RunConfig
from .samples import Sample
from .timing import summarize

if TYPE_CHECKING:
    from .adapters import AudioLMAdapter


def run_results(config: RunConfig, samples: Sequence[Sample], adapter: AudioLMAdapter | None, out: Path,
                dataset: dict, run_id: str) -> dict:
    """results.json of the run ``run_id`` in ``out``: its settings, identity and versions, and what
    its records (predictions.jsonl, compacted) give: scores, timing, sample counts, reply caps."""
    from audiomarathon_metric import score

    by_id = {r["id"]: r for r in read_predictions(out / PREDICTIONS_FILE, run_id)}
    wanted = [s for s in samples if s.id in by_id]
    missing = [s.id for s in samples if s.id not in by_id]
    failed = {s.id: by_id[s.id]["error"] for s in wanted if by_id[s.id].get("error")}
    # Strict: a failed sample scores as an invalid (wrong) reply; it is never silently dropped.
    # Durations are the items' own, in seconds, whatever their range: the metric decides which
    # items its long-audio tables cover. Each item's meta gives MMAR's and Foundation's breakdowns.
    # Open-ended replies (AIR-Bench Chat) are scored by an LLM judge afterwards, not here.
    graded = [s for s in wanted if s.task_info.metric != OPEN]
    replies = [by_id[s.id]["reply"] or "" for s in graded]
    scores = score(replies, [s.reference for s in graded], [s.task for s in graded],
                   choices=[list(s.choices) for s in graded], ids=[s.id for s in graded], mode="strict",
                   durations=[s.duration for s in graded] if all(s.duration > 0 for s in graded) else None,
                   evidence=[s.evidence_position for s in graded], meta=[s.meta for s in graded]) if graded else {}
    open_ended = sorted({s.task for s in wanted if s.task_info.metric == OPEN})
    if open_ended:
        scores["open_ended"] = {"tasks": open_ended,
                                "scored_by": "an LLM judge: audiomarathon judge RUN_DIR --api-base URL --model NAME"}
    original: dict[str, int] = {}
    effective: dict[str, int] = {}
    for s in samples:
        original[s.task] = original.get(s.task, 0) + 1
        if s.id in by_id and s.id not in failed:
            effective[s.task] = effective.get(s.task, 0) + 1
    family = config.family(adapter if config.api is None else None)
    if config.api is not None:
        from .api import backend_summary

        backend = {"backend": backend_summary(config.api, [by_id[s.id] for s in wanted]),
                   "weights": config.api.weights, "commit_hash": None, "model_type": None, "adapter": None,
                   "device": None}
    else:
        model_config = adapter.model.config
        backend = {"backend": {"kind": "transformers"}, "weights": "open",
                   "commit_hash": getattr(model_config, "_commit_hash", None),
                   "model_type": model_config.model_type, "adapter": adapter.describe(),
                   "device": str(adapter.device),
                   # The leaderboard's size column: counted, not guessed from the model's name.
                   "num_parameters": sum(p.numel() for p in adapter.model.parameters())}
    return {
        "schema": RESULTS_SCHEMA,
        "config": {
            **config.settings(),
            "model_id": config.model,
            **backend,
            RUN_ID_FIELD: run_id,
            "family": family.name,
            "procedure": config.procedure(family),
            "compression": config.compression.to_dict(),
            "decoding": {**GREEDY, "max_new_tokens": {t.name: config.max_new_tokens_for(t, family)
                                                      for t in resolve_tasks(config.tasks)}},
            "world_size": distributed.current().world_size,
        },
        "identity": config.identity(dataset["fingerprint"]),
        "versions": versions(),
        "dataset": dataset,
        "scores": scores,
        "timing": summarize([by_id[s.id]["timings"] for s in wanted if not by_id[s.id].get("error")]),
        "samples": {"original": original, "effective": effective, "failed": failed, "missing": missing},
        "reply_cap": reply_cap_summary([by_id[s.id] for s in wanted]),
    }


def reply_cap_summary(records: Sequence[dict]) -> dict:
    """How many replies stopped at the reply cap (no end of turn), per task and over all: records
    without the flag (a failed sample, a run from before it was recorded) are not counted."""
    tasks: dict[str, dict] = {}
    for rec in records:
        flag = rec.get("hit_cap")
        if flag is None:
            continue
        entry = tasks.setdefault(rec["task"], {"replies": 0, "hit_cap": 0})
        entry["replies"] += 1
        entry["hit_cap"] += int(flag)
    for entry in tasks.values():
        entry["share"] = entry["hit_cap"] / entry["replies"]
    replies = sum(e["replies"] for e in tasks.values())
    capped = sum(e["hit_cap"] for e in tasks.values())
    return {"replies": replies, "hit_cap": capped, "share": capped / replies if replies else None, "tasks": tasks}
