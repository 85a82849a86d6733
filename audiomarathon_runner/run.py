"""The evaluation run: samples -> prompts -> generate (greedy) -> predictions.jsonl -> results.json.

    from audiomarathon_runner.run import RunConfig, run_evaluation
    results = run_evaluation(RunConfig(model="Qwen/Qwen2-Audio-7B-Instruct", tasks="TAU,GTZAN",
                                       data="path/to/audiomarathon", out="runs/qwen2audio"))

Prompts, system turns and reply caps come from the run profile (audiomarathon_runner.profiles:
``card``, each model as its card runs it, by default; ``authors``, the benchmark authors' scripts),
over the task registry's prompts; decoding is greedy with the same settings for every task.
Re-running the same configuration into the same folder resumes: samples already recorded under the
same configuration hash are skipped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import torch

from audiomarathon.records import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    RESULTS_SCHEMA,
    PredictionLog,
    latest_records,
    parse_prediction_lines,
    read_predictions,
    read_results,
    write_predictions,
)
from audiomarathon.records import write_results as write_results_file
from audiomarathon.run_identity import GREEDY, run_id, run_identity
from audiomarathon.tasks import SAMPLING_RATE, resolve_tasks

from . import distributed
from .adapters import AudioLMAdapter, load_adapter, resolve_device
from .compression import CompressionConfig, compression_session
from .prefetch import Prefetcher, Prepared, prepare_one
from .progress import run_progress
from .run_folder import RunFolderLock, claim_for_run
from .profiles import DEFAULT_PROFILE, Family, Request, family_named, get_profile, peak_normalize
from .samples import (
    AUDIO_CONTROLS,
    Sample,
    apply_audio_control,
    dataset_version,
    load_samples,
)
from .timing import (
    Clock,
    EncoderTimer,
    FirstTokenStreamer,
    peak_memory,
    reset_peak_memory,
    summarize,
)

if TYPE_CHECKING:
    from .api import ApiConfig


@dataclass
class RunConfig:
    model: str
    data: str | None = None
    out: str = "runs/out"
    tasks: str = "all"
    limit: int | None = None
    # method, ratio, pruning layer, seed (also of the noise control) and press scope
    compression: CompressionConfig = field(default_factory=CompressionConfig)
    # None: the device's default, fp32 on the CPU and bf16 on an accelerator (resolved_dtype)
    dtype: str | None = None
    device: str | None = None  # None: cuda when available, else cpu
    batch_size: int = 1
    audio_control: str | None = None
    revision: str | None = None
    max_audio_seconds: float = 600.0
    # Caps every task's max_new_tokens (smoke tests, demos); None keeps the profile's values.
    max_new_tokens: int | None = None
    # How each family is asked each task (audiomarathon_runner.profiles): "card" or "authors". The
    # command line also takes --press-scope's default from it (Profile.press_scope); here the
    # CompressionConfig given is used as it is.
    profile: str = DEFAULT_PROFILE
    retry_failed: bool = False
    progress: bool = True
    # Samples prepared ahead (decode + features + tokens) in a background thread while the model
    # generates; 0 prepares inline; None: 1 when the model is on an accelerator, 0 on the CPU
    # (there the worker would only take cores from the model). Timing only, never outputs.
    prefetch: int | None = None
    # Set: the model is served behind an OpenAI-compatible API (audiomarathon_runner.api) and
    # ``model`` is its served name; the local-model fields (dtype, device, ...) do not apply.
    api: "ApiConfig | None" = None
    # A display name (compare, the leaderboard): a label only, never part of the run identity.
    name: str | None = None

    def __post_init__(self) -> None:
        from .commands.checks import check_name

        self.name = check_name(self.name)
        if self.api is None:
            self.model = local_model_path(self.model)
        if self.api is not None and self.method != "none":
            raise ValueError(f"--method {self.method}: API models run uncompressed, only method none is available")
        if self.batch_size != 1:
            # Per-sample timings, the audio-token span and token pruning all assume batch size 1.
            raise ValueError(f"--batch-size {self.batch_size}: only batch size 1 is implemented")
        if self.audio_control not in (None, *AUDIO_CONTROLS):
            raise ValueError(f"--audio-control must be one of {', '.join(AUDIO_CONTROLS)}, got {self.audio_control!r}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"--max-new-tokens must be >= 1, got {self.max_new_tokens}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")
        if self.prefetch is not None and self.prefetch < 0:
            raise ValueError(f"--prefetch must be >= 0, got {self.prefetch}")
        get_profile(self.profile)  # an unknown name fails here, naming the profiles

    # Read-only views of the compression setting (stored once, in ``compression``).
    method = property(lambda self: self.compression.method)
    ratio = property(lambda self: self.compression.ratio)
    layer = property(lambda self: self.compression.layer)
    seed = property(lambda self: self.compression.seed)
    press_scope = property(lambda self: self.compression.press_scope)

    def settings(self) -> dict:
        """The run's settings as one flat mapping (results.json's ``config`` starts from it). The
        dtype is the one the model runs in: a defaulted run and the same run with that dtype given
        are one computation, so one identity; a model behind an API has none."""
        out = {k: v for k, v in asdict(self).items() if k not in ("compression", "api", "progress", "retry_failed")}
        if self.api is None:
            out["dtype"] = self.resolved_dtype()
        elif out["dtype"] is None:
            del out["dtype"]
        return {**out, **self.compression.to_dict()}

    def resolved_dtype(self) -> str:
        """``dtype``, or when none was given the default of the device the model runs on."""
        from .adapters import default_dtype

        return self.dtype if self.dtype is not None else default_dtype(self.device)

    def identity(self, dataset_fingerprint: str | None) -> dict:
        """The run identity (what changes a sample's output): never the output folder, data path,
        limit, device, prefetch or the API servers' addresses. Samples recorded under the same
        identity are not run again."""
        settings = self.settings()
        if self.api is not None:
            settings["backend"] = {"kind": "openai-chat", **self.api.public()}
        return run_identity(settings, dataset_fingerprint)

    def family(self, adapter: AudioLMAdapter | None = None) -> Family:
        """The family whose procedure the run follows: the loaded model's, or for a model behind an
        API the one --family names (unknown: none). A chat API has no transcription mode."""
        if adapter is not None:
            return family_named(adapter.family)
        family = family_named(self.api.family if self.api is not None else None)
        return dataclasses.replace(family, has_transcription_mode=False)

    def request(self, sample: Sample, family: Family) -> Request:
        """What the model is sent for ``sample`` under the run's profile (and --max-new-tokens)."""
        return get_profile(self.profile).request(family, sample.task_info, sample.question, sample.choices,
                                                 cap=self.max_new_tokens)

    def max_new_tokens_for(self, task, family: Family) -> int:
        return get_profile(self.profile).max_new_tokens(family, task, self.max_new_tokens)

    def procedure(self, family: Family) -> dict:
        """results.json's account of how the family was asked each task under the profile."""
        return get_profile(self.profile).describe(family, resolve_tasks(self.tasks), self.max_new_tokens)

    def config_hash(self, dataset_fingerprint: str | None) -> str:
        """The run id of this configuration on that dataset version (prediction records' ``config_hash``)."""
        return run_id(self.identity(dataset_fingerprint))


# Greedy and identical for every task; only max_new_tokens varies (from the registry).
DECODING = GREEDY


def local_model_path(model: str) -> str:
    """An existing local folder as its absolute path, however it was spelled (``models/tiny``,
    ``./models/tiny/.``, ``~/models/tiny``): one folder is one model in the run identity, which
    would read a relative ``org/name`` spelling as a Hub id. Symbolic links are kept, not followed:
    a link's own name is the name its user gave the model. Anything else (a Hub id) is unchanged."""
    path = os.path.expanduser(str(model))
    if not str(model).strip() or not os.path.isdir(path):
        return model
    return os.path.abspath(path)


# ------------------------------------------------------------ one sample
class SampleRunner:
    """Evaluates samples one at a time with a loaded adapter, measuring where time goes."""

    def __init__(self, adapter: AudioLMAdapter, config: RunConfig):
        self.adapter = adapter
        self.config = config
        self.compression = config.compression
        layers = len(adapter.decoder_layers)
        if self.compression.kind == "prune" and not config.layer < layers:
            raise ValueError(f"--layer {config.layer}: pruning needs K < the {layers} decoder layers of {config.model}")
        self.device = adapter.device
        self.family = config.family(adapter)
        self.evaluated = 0  # samples run in this process (the first is the warm-up)
        self.prefetch = config.prefetch if config.prefetch is not None else int(self.device.type != "cpu")
        # Prefetched samples are prepared entirely on the CPU (features included) and moved to
        # the model's device just before their turn: the worker never allocates device memory
        # while another sample's peak memory is being measured. Inline preparation computes the
        # features on the model's device, the fastest place when nothing overlaps it.
        self.prepare_device = "cpu" if self.prefetch else None
        adapter.set_feature_device("cpu" if self.prefetch else adapter.device)

    def prepare(self, sample: Sample):
        """Decode audio, apply the control, build model inputs: everything before the model."""
        audio = sample.load_audio()
        if audio.size > self.config.max_audio_seconds * SAMPLING_RATE:
            raise ValueError(f"sample {sample.id}: audio is {audio.size / SAMPLING_RATE:.1f} s, over the "
                             f"--max-audio-seconds limit of {self.config.max_audio_seconds:g} s")
        audio = apply_audio_control(audio, self.config.audio_control, sample.id, self.config.seed)
        request = self.config.request(sample, self.family)
        if request.peak_normalize:
            audio = peak_normalize(audio)
        inputs = self.adapter.build_inputs(audio, request.text, device=self.prepare_device, system=request.system,
                                           transcribe=request.transcribe)
        return audio, inputs, request

    def prepared(self, samples: Sequence[Sample]):
        """``Prepared`` samples in order, ``config.prefetch`` ahead in a background thread."""
        return Prefetcher(samples, self.prepare, depth=self.prefetch)

    def generate(self, sample: Sample, prepared: Prepared | None = None) -> tuple[str, dict, dict, bool]:
        """reply, timings, compression statistics, and whether the reply stopped at the cap (no end of turn)."""
        clock = Clock(self.device)
        if prepared is None:
            prepared = prepare_one(sample, self.prepare)
            prepared.wait_ms = prepared.prepare_ms  # prepared inline: all of it is exposed
        if prepared.error is not None:
            raise prepared.error
        audio, inputs, request = prepared.value
        inputs = inputs.to(self.device)
        mask = self.adapter.audio_token_mask(inputs)
        streamer = FirstTokenStreamer(clock)
        reset_peak_memory(self.device)
        eos = self.adapter.eos_token_ids
        with torch.inference_mode(), EncoderTimer(self.adapter.audio_encoder, self.device) as enc:
            with compression_session(self.adapter.model, inputs, mask, self.compression, sample=sample.id) as stats:
                clock.mark("start")
                out = self.adapter.model.generate(
                    **inputs, **DECODING, **self.adapter.generate_kwargs(),
                    max_new_tokens=request.max_new_tokens, streamer=streamer,
                    eos_token_id=eos or None, pad_token_id=self.adapter.tokenizer.pad_token_id,
                )
        prompt_len = inputs["input_ids"].shape[-1]
        new = out[0, prompt_len:]
        hits = [i for i, t in enumerate(new.tolist()) if t in eos]
        n_out = hits[0] + 1 if hits else new.numel()
        # Generation stops at the end of the turn; a reply without one that used every allowed
        # token was cut off by the cap.
        hit_cap = not hits and new.numel() >= request.max_new_tokens
        reply = self.adapter.decode(new)
        prefill = clock.ms("start", "first_token")
        total = clock.ms("start", "end")
        decode = (total - prefill) if (total is not None and prefill is not None) else None
        stats_d = stats.to_dict()
        timings = {
            "audio_seconds": round(audio.size / SAMPLING_RATE, 3),
            "preprocess_ms": prepared.prepare_ms,  # its own cost, overlapped or not
            "prefetch_wait_ms": prepared.wait_ms,  # the part the loop waited for (exposed)
            "encoder_ms": enc.total_ms,
            "prefill_ms": prefill,
            "decode_ms": decode,
            "total_ms": total,
            "output_tokens": int(n_out),
            "tokens_per_s": (max(n_out - 1, 0) / (decode / 1000.0)) if decode else None,
            "input_tokens": int(prompt_len),
            "audio_tokens": int(mask.sum()),
            "kv_cache_bytes": stats_d.get("kv_cache_bytes"),
            **peak_memory(self.device),
            "warmup": self.evaluated == 0,
        }
        self.evaluated += 1
        return reply, timings, stats_d, hit_cap

    def record(self, sample: Sample, config_hash: str, prepared: Prepared | None = None) -> dict:
        """Run one sample; failures (OOM, bad audio) become a record with ``error`` set.

        ``prepared``: the sample already prepared (by ``prepared()``); None prepares it here."""
        t0 = time.perf_counter()
        waited = prepared.wait_ms if prepared is not None else 0.0
        rec = {"id": sample.id, "task": sample.task, "reply": None, "parsed": None, "rule": None,
               "reference": sample.reference, "choices": list(sample.choices), "timings": {},
               "compression": None, "config_hash": config_hash, "error": None, **sample.record_fields()}
        try:
            reply, timings, stats, hit_cap = self.generate(sample, prepared)
            parsed, rule = parse_reply(reply, sample)
            rec.update(reply=reply, parsed=parsed, rule=rule, timings=timings, compression=stats, hit_cap=hit_cap)
            # Harness time the model waited for: everything except the model's own generate call,
            # including the wait for a prefetched sample (its overlapped preparation is not).
            timings["outside_ms"] = waited + (time.perf_counter() - t0) * 1000.0 - (timings["total_ms"] or 0.0)
        except torch.OutOfMemoryError as err:
            rec["error"] = f"OutOfMemoryError: {str(err).splitlines()[0] if str(err) else 'out of memory'}"
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception as err:  # noqa: BLE001 - one bad sample must not end the run
            rec["error"] = f"{type(err).__name__}: {err}"
            rec["traceback"] = traceback.format_exc(limit=6)
        return rec


def parse_reply(reply: str, sample: Sample) -> tuple[str | None, str]:
    from audiomarathon_metric import clean_transcript, extract_answer

    task = sample.task_info
    if task.is_mcq:
        ex = extract_answer(reply, sample.choices, task.name)
        return ex.letter, ex.rule
    return clean_transcript(reply, task.name), "transcript"


# ------------------------------------------------------------ the run
def _versions() -> dict:
    import importlib.metadata as md

    import audiomarathon

    out = {"python": platform.python_version()}
    for pkg in ("audiomarathon-hf", "torch", "transformers", "datasets", "kvpress", "numpy", "accelerate", "openai"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    out["audiomarathon-hf"] = out["audiomarathon-hf"] or audiomarathon.__version__  # a source checkout
    out["audiomarathon_git_commit"] = _toolkit_commit()
    out["cuda"] = torch.version.cuda
    return out


def _toolkit_commit() -> str | None:
    """The git commit of the toolkit's own checkout (``+dirty`` with uncommitted changes), or None
    when it is installed from a wheel or git is not available."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


def _shard_name(rank) -> str:
    return f"predictions.rank{rank}.jsonl"


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
    chash = config.config_hash(dataset["fingerprint"])
    folder = _RunFolder(out, dist, chash, config.identity(dataset["fingerprint"]), dataset["fingerprint"])
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
        return _evaluate(config, adapter, samples, out, dist, dataset, chash)
    finally:
        folder.release()


def load_model(config: RunConfig, device: str | None = None) -> AudioLMAdapter:
    """The run's model in its dtype (``resolved_dtype``) on ``device``; says which, on stderr."""
    adapter = load_adapter(config.model, config.resolved_dtype(), device or config.device, config.revision)
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


class _RunFolder:
    """The run folder's lock and its one-run check (run_folder.py), decided by rank 0 for all ranks."""

    def __init__(self, out: Path, dist, run: str, identity: dict, fingerprint: str | None):
        self.out, self.dist, self.run, self.identity, self.fingerprint = out, dist, run, identity, fingerprint
        self.lock = RunFolderLock(out)
        self.entered = False

    def enter(self, create: bool) -> None:
        if self.entered:
            return
        outcome = None
        if self.dist.rank == 0:
            if create:
                self.out.mkdir(parents=True, exist_ok=True)
            if self.out.is_dir():
                try:
                    self.lock.acquire(self.run)
                    claim_for_run(self.out, self.run, self.identity, self.fingerprint)
                    outcome = "entered"
                except Exception as err:  # noqa: BLE001 - every rank raises rank 0's refusal
                    self.lock.release()
                    outcome = err
        outcome = self.dist.broadcast(outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        self.entered = outcome == "entered"

    def release(self) -> None:
        self.lock.release()


def _evaluate(config: RunConfig, adapter, samples, out: Path, dist, dataset: dict, chash: str) -> dict:
    """The run proper, in a folder this process holds."""
    shard_path = out / (PREDICTIONS_FILE if dist.world_size == 1 else _shard_name(dist.rank))
    previous = [r for p in [out / PREDICTIONS_FILE, *sorted(out.glob(_shard_name("*")))]
                for r in read_predictions(p, chash)]
    done = {r["id"] for r in latest_records(previous) if not (config.retry_failed and r.get("error"))}
    todo = [s for s in dist.shard(samples) if s.id not in done]

    if config.api is not None:
        from .api import ApiRunner

        stream = ApiRunner(config).records(todo, chash)  # concurrent requests, records as they finish
    else:
        runner = SampleRunner(adapter, config)
        stream = (runner.record(prepared.item, chash, prepared) for prepared in runner.prepared(todo))
    with PredictionLog(shard_path) as log:
        # A live bar on a terminal, one line per task in a log (run_progress).
        for rec in run_progress(stream, [s.task for s in todo], config.name or f"{Path(config.model).name} "
                                f"{config.method}", enabled=config.progress and dist.rank == 0):
            log.append(rec)
    dist.barrier()
    results = None
    if dist.rank == 0:
        compact_predictions(out)
        results = write_results(config, samples, adapter, out, dataset, chash)
    dist.barrier()
    if results is None:
        results = read_results(out / RESULTS_FILE)
    return results


def compact_predictions(out: Path) -> None:
    """Fold per-rank files into predictions.jsonl and keep one record per (id, run id), the
    latest (a retried sample replaces its failure), in an atomic replace; then remove the shards.
    Nothing is rewritten when there is nothing to fold."""
    pred = out / PREDICTIONS_FILE
    shards = sorted(out.glob(_shard_name("*")))
    lines = [rec for p in [pred, *shards] if p.exists()
             for _, rec in parse_prediction_lines(p.read_bytes(), str(p), check_shape=False)]
    records = latest_records(lines)
    if shards or len(records) != len(lines):
        write_predictions(pred, records)
    for p in shards:
        p.unlink()


def write_results(config: RunConfig, samples: Sequence[Sample], adapter: AudioLMAdapter, out: Path,
                  dataset: dict, chash: str) -> dict:
    from audiomarathon_metric import score

    by_id = {r["id"]: r for r in read_predictions(out / PREDICTIONS_FILE, chash)}
    wanted = [s for s in samples if s.id in by_id]
    missing = [s.id for s in samples if s.id not in by_id]
    failed = {s.id: by_id[s.id]["error"] for s in wanted if by_id[s.id].get("error")}
    # Strict: a failed sample scores as an invalid (wrong) reply; it is never silently dropped.
    replies = [by_id[s.id]["reply"] or "" for s in wanted]
    scores = score(replies, [s.reference for s in wanted], [s.task for s in wanted],
                   choices=[list(s.choices) for s in wanted], ids=[s.id for s in wanted], mode="strict",
                   durations=[s.duration for s in wanted] if all(s.duration > 0 for s in wanted) else None,
                   evidence=[s.evidence_position for s in wanted]) if wanted else {}
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
    results = {
        "schema": RESULTS_SCHEMA,
        "config": {
            **config.settings(),
            "model_id": config.model,
            **backend,
            "config_hash": chash,
            "family": family.name,
            "procedure": config.procedure(family),
            "compression": config.compression.to_dict(),
            "decoding": {**DECODING, "max_new_tokens": {t.name: config.max_new_tokens_for(t, family)
                                                        for t in resolve_tasks(config.tasks)}},
            "world_size": distributed.current().world_size,
        },
        "identity": config.identity(dataset["fingerprint"]),
        "versions": _versions(),
        "dataset": dataset,
        "scores": scores,
        "timing": summarize([by_id[s.id]["timings"] for s in wanted if not by_id[s.id].get("error")]),
        "samples": {"original": original, "effective": effective, "failed": failed, "missing": missing},
        "reply_cap": reply_cap_summary([by_id[s.id] for s in wanted]),
    }
    write_results_file(out / RESULTS_FILE, results)
    return json.loads(json.dumps(results, default=str))  # what results.json holds


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
