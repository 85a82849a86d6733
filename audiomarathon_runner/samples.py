"""Benchmark samples for the runner: loaded with ``datasets.load_dataset`` on the project's format.

Audio stays encoded (FLAC bytes) until a sample is evaluated, so loading all ten configs is cheap
and a sample whose audio cannot be decoded fails alone, with its id in the error.
"""

from __future__ import annotations

import hashlib
import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from audiomarathon.fingerprint import card_fingerprint, dataset_fingerprint
from audiomarathon.tasks import SAMPLING_RATE, Task, get_task, resolve_tasks
from audiomarathon_metric.long_audio import evidence_centre


@dataclass
class Sample:
    id: str
    task: str
    question: str
    choices: list[str]
    answer: str
    answer_text: str
    duration: float = 0.0
    audio_bytes: bytes | None = None  # encoded audio as stored in the dataset
    audio_array: np.ndarray | None = None  # or samples at 16 kHz (Python API / tests)
    meta: dict = field(default_factory=dict)
    evidence_position: float | None = None  # relative centre of the marked evidence segments

    @property
    def task_info(self) -> Task:
        return get_task(self.task)

    @property
    def reference(self) -> str:
        """What the metric compares against: the letter (MCQ) or the transcript (ASR)."""
        return self.answer if self.task_info.is_mcq else self.answer_text

    def record_fields(self) -> dict:
        """What every predictions.jsonl record carries about its item: for the long-audio tables, and
        for a benchmark reported by meta keys (MMAR's modality, Foundation's dataset name) its meta,
        so that ``score RUN_DIR`` gives those tables without the dataset."""
        from audiomarathon.benchmarks import benchmark_of

        fields = {"duration": self.duration, "evidence_position": self.evidence_position}
        if benchmark_of(self.task).breakdowns:
            fields["meta"] = self.meta
        return fields

    def prompt(self) -> str:
        return self.task_info.render_prompt(self.question, self.choices)

    def load_audio(self) -> np.ndarray:
        """Mono float32 samples at 16 kHz."""
        if self.audio_array is not None:
            return np.asarray(self.audio_array, dtype=np.float32)
        if not self.audio_bytes:
            raise ValueError(f"sample {self.id}: no audio bytes stored")
        from audiomarathon_dataset.audio_io import decode_bytes, to_mono_16k

        try:
            data, rate = decode_bytes(self.audio_bytes)
        except Exception as err:  # soundfile raises its own error types
            raise ValueError(f"sample {self.id}: cannot decode audio: {err}") from None
        return to_mono_16k(data, rate) if (rate != SAMPLING_RATE or data.ndim != 1) else data


@contextmanager
def _bars_only_on_a_terminal(datasets):
    """datasets' "Generating test split" bars, shown on a terminal only: in a log each redraw would
    stay behind as a line of its own."""
    from .progress import is_terminal

    if is_terminal(sys.stderr) or not datasets.is_progress_bar_enabled():
        yield
        return
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.enable_progress_bars()


def load_samples(data: str, tasks="all", limit: int | None = None, progress: bool = True) -> list[Sample]:
    """Rows of the ``test`` split of each task config of ``data`` (a folder or Hub dataset id).

    ``limit`` keeps the first N rows of each task (dataset order, which is id order). A name that
    is neither a folder nor a reachable Hub id is refused (``audiomarathon.data_source``), never
    replaced by a cached copy; in offline mode a Hub id's cached version is printed.
    """
    import datasets

    from audiomarathon.data_source import locate, print_notice

    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    source = locate(data)
    out: list[Sample] = []
    for task in resolve_tasks(tasks):
        try:
            with _bars_only_on_a_terminal(datasets):
                ds = datasets.load_dataset(source.path, task.name, split="test")
        except Exception as err:  # datasets raises many types for a missing/bad config
            raise FileNotFoundError(f"cannot load config {task.name!r} of dataset {data!r}: {err}"
                                    f"{source.load_hint()}") from None
        ds = ds.cast_column("audio", datasets.Audio(sampling_rate=SAMPLING_RATE, decode=False))
        if limit is not None:
            ds = ds.select(range(min(limit, len(ds))))
        for row in ds:
            audio = row["audio"] or {}
            try:
                meta = json.loads(row.get("meta") or "{}")
            except json.JSONDecodeError:
                meta = {"raw": row.get("meta")}
            out.append(
                Sample(
                    id=row["id"], task=task.name, question=row["question"] or "", choices=list(row["choices"] or []),
                    answer=row["answer"] or "", answer_text=row["answer_text"] or "",
                    duration=float(row["duration"] or 0.0), audio_bytes=audio.get("bytes"), meta=meta,
                    evidence_position=evidence_centre(row.get("segments"), float(row["duration"] or 0.0)),
                )
            )
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ValueError(f"dataset {data!r} has duplicate ids, e.g. {dup}")
    if source.from_cache:
        print_notice(source, dataset_version(str(data), out)["fingerprint"], len(out))
    return out


def fingerprint(samples: Sequence[Sample]) -> str:
    """The dataset-version fingerprint (audiomarathon.fingerprint) over the given samples."""
    return dataset_fingerprint(
        {"id": s.id, "task": s.task, "answer": s.answer, "answer_text": s.answer_text, "choices": s.choices}
        for s in samples
    )


def dataset_version(data: str | None, samples: Sequence[Sample]) -> dict:
    """What results.json records of the data: the version its card declares (what the leaderboard
    checks), and the fingerprint of the evaluated samples (equal to it for a full run)."""
    evaluated = fingerprint(samples)
    declared = card_fingerprint(data) if data else None
    return {"path": data, "fingerprint": declared or evaluated, "evaluated_fingerprint": evaluated,
            "num_ids": len(samples)}


# ------------------------------------------------------------ audio controls
def _silence(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.zeros_like(audio)


def _noise(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # White noise at the clip's own RMS, so loudness cues are kept and content is not.
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return (rng.standard_normal(audio.size) * (rms or 0.1)).astype(np.float32)


AUDIO_CONTROLS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "noise": _noise,
    "silence": _silence,
}


def apply_audio_control(audio: np.ndarray, control: str | None, sample_id: str, seed: int = 0) -> np.ndarray:
    """Replace the clip by same-length noise or silence (None: unchanged). Seeded per sample id."""
    if not control:
        return audio
    try:
        fn = AUDIO_CONTROLS[control]
    except KeyError:
        raise ValueError(f"unknown audio control {control!r}; choose from: {', '.join(AUDIO_CONTROLS)}") from None
    digest = hashlib.sha256(f"{seed}:{sample_id}".encode()).digest()
    return fn(audio, np.random.default_rng(int.from_bytes(digest[:8], "little")))
