"""The evaluation run: samples -> prompts -> generate (greedy) -> predictions.jsonl -> results.json.

    from audiomarathon_runner.run import RunConfig, run_evaluation
    results = run_evaluation(RunConfig(model="Qwen/Qwen2-Audio-7B-Instruct", tasks="TAU,GTZAN",
                                       data="path/to/audiomarathon", out="runs/qwen2audio"))

Prompts, system turns and reply caps come from the run profile (audiomarathon_runner.profiles:
``card``, each model as its card runs it, by default; ``authors``, the benchmark authors' scripts),
over the task registry's prompts; decoding is greedy with the same settings for every task.
Re-running the same configuration into the same folder resumes: samples already recorded under the
same run id are skipped.

The parts: the settings (``run_config.py``), one sample on a local model (``sample_runner.py``) or
behind an API (``api/``), the record both build (``prediction.py``), the folder's lock, shards and
compaction (``run_folder.py``), results.json (``results.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from audiomarathon.records import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    PredictionLog,
    latest_records,
    read_predictions,
    read_results,
    write_results,
)
from audiomarathon.tasks import resolve_tasks

from . import distributed
from .adapters import AudioLMAdapter, load_adapter, resolve_device
from .progress import run_progress
from .results import run_results
from .run_config import RunConfig
from .run_folder import RunFolder, compact_predictions, prediction_files, shard_name
from .samples import Sample, dataset_version, load_samples

__all__ = ["RunConfig", "load_model", "run_evaluation"]


def run_evaluation(config: RunConfig, adapter: AudioLMAdapter | None = None,
                   samples: Sequence[Sample] | None = None) -> dict:
    """Evaluate ``config.model`` (or a pre-loaded ``adapter``) and write predictions + results.

    ``samples`` replaces loading ``config.data`` (Python API). Returns the results dict (on every
    rank; under torch.distributed only rank 0 writes results.json).
    """
    out = Path(config.out)
    dist = distributed.setup()
    if samples is None:
        if not config.data:
            raise ValueError("no data: pass --data PATH_OR_HUB_ID (or samples= in Python)")
        samples = load_samples(config.data, config.tasks, config.limit)
    else:
        chosen = {t.name for t in resolve_tasks(config.tasks)}
        samples = [s for s in samples if s.task in chosen]
    if not samples:
        raise ValueError(f"no samples for tasks {config.tasks!r} in {config.data!r}")
    dataset = dataset_version(config.data, samples)
    run_id = config.run_id(dataset["fingerprint"])
    folder = RunFolder(out, dist, run_id, config.identity(dataset["fingerprint"]), dataset["fingerprint"])
    folder.enter(create=False)  # an existing folder: a busy one or another run's is refused before the model loads
    try:
        if adapter is None and config.api is None:
            device = resolve_device(config.device) if config.device else None
            if dist.world_size > 1 and (device or "").startswith("cuda"):
                device = f"cuda:{dist.local_rank}"
            adapter = load_model(config, device or dist.default_device())
        # Only now: a model or dataset that fails to load leaves no empty run folder behind.
        folder.enter(create=True)
        out.mkdir(parents=True, exist_ok=True)
        return _evaluate(config, adapter, samples, out, dist, dataset, run_id)
    finally:
        folder.release()


def load_model(config: RunConfig, device: str | None = None) -> AudioLMAdapter:
    """The run's model in its dtype (``resolved_dtype``) on ``device``; says which, on stderr."""
    adapter = load_adapter(config.model, config.resolved_dtype(), device or config.device, config.revision,
                           trust_remote_code=config.trust_remote_code)
    if distributed.current().rank == 0:
        print(precision_line(config, adapter), file=sys.stderr, flush=True)
    return adapter


def precision_line(config: RunConfig, adapter: AudioLMAdapter) -> str:
    """``model tiny: cpu, fp32 (the default on the CPU; --dtype to change)``."""
    from .adapters import dtype_name

    dtype = dtype_name(adapter.model.dtype)
    why = ""
    if config.dtype is None:
        where = "the CPU" if adapter.device.type == "cpu" else "an accelerator"
        why = f" (the default on {where}; --dtype to change)"
    elif config.dtype == "auto":
        why = " (--dtype auto: the checkpoint's own)"
    return f"model {config.model}: {adapter.device}, {dtype}{why}"


def _records(config: RunConfig, adapter, todo: Sequence[Sample], run_id: str):
    """The records of ``todo`` as they finish: one at a time on the loaded model (the next prepared
    ahead), or ``concurrency`` requests at a time on a model behind an API."""
    if config.api is not None:
        from .api import ApiRunner

        return ApiRunner(config).records(todo, run_id)
    from .sample_runner import SampleRunner

    return SampleRunner(adapter, config).records(todo, run_id)


def _evaluate(config: RunConfig, adapter, samples, out: Path, dist, dataset: dict, run_id: str) -> dict:
    """The run proper, in a folder this process holds."""
    shard_path = out / (PREDICTIONS_FILE if dist.world_size == 1 else shard_name(dist.rank))
    previous = [r for p in prediction_files(out) for r in read_predictions(p, run_id)]
    done = {r["id"] for r in latest_records(previous) if not (config.retry_failed and r.get("error"))}
    todo = [s for s in dist.shard(samples) if s.id not in done]
    stream = _records(config, adapter, todo, run_id)
    with PredictionLog(shard_path) as log:
        # A live bar on a terminal, one line per task in a log (run_progress).
        for rec in run_progress(stream, [s.task for s in todo], config.name or f"{Path(config.model).name} "
                                f"{config.method}", enabled=config.progress and dist.rank == 0):
            log.append(rec)
    dist.barrier()
    if dist.rank == 0:
        compact_predictions(out)
        write_results(out / RESULTS_FILE, run_results(config, samples, adapter, out, dataset, run_id))
    dist.barrier()
    return read_results(out / RESULTS_FILE)  # what results.json holds, on every rank
