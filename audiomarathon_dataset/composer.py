"""Composition: source clips of one group -> long instances inside a task's duration range.

Two steps, split so that the expensive one runs in worker processes:

* ``plan_group`` (main process, metadata only): orders a group's clips (seeded shuffle, or
  reading order), reads each clip's duration from its file header, and cuts the group
  into ``InstancePlan``s whose length is a seeded target inside [min, max].
* ``compose`` (worker): decodes the planned clips, resamples them to 16 kHz mono (soxr),
  optionally loudness-normalizes each (pyloudnorm, EBU R128), joins them back to back
  (optionally with a short equal-power crossfade), cuts to the target, encodes FLAC and
  records where every clip sits (``segments``).

Every random choice comes from a generator seeded by (seed, corpus, group key), so a
group composes the same way whatever else is in the build, and the gender and age
tasks, which share VoxCeleb groups, get the same audio.
"""

from __future__ import annotations

import math
import os
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from audiomarathon.tasks import SAMPLING_RATE

from . import report as rp
from .audio_io import (
    EMPTY,
    MISSING,
    UNDECODABLE,
    AudioError,
    check_file,
    check_plausible,
    decode_file,
    encode_flac,
    to_mono_16k,
)
from .report import Issue
from .sources import tts
from .sources.base import ClipRef, Group

TOLERANCE = 0.01  # seconds: header durations and decoded lengths may differ by a sample
SPEECH_WORDS_PER_SECOND = 175 / 60  # espeak-ng's default rate, to estimate unrendered speech


@dataclass(frozen=True)
class Composition:
    """A task's composition rule (grouping itself is the corpus reader's job)."""

    shuffle: bool = True  # seeded shuffle inside a group; False keeps reading order (long-form ASR)
    truncate: bool = True  # cut the last clip to land exactly on the target; False never cuts a clip
    max_instances_per_group: int | None = None  # 1: one instance per speaker
    # keep at most this many distinct clip labels per instance (DESED: the rest are distractors)
    max_distinct_labels: int | None = None


@dataclass(frozen=True)
class AudioOptions:
    loudness: float | None = None  # LUFS target for every clip (EBU R128); None leaves levels alone
    crossfade: float = 0.0  # seconds of equal-power crossfade between clips; 0 joins back to back
    render_speech: bool = True  # render missing RACE recordings with espeak-ng when installed


@dataclass(frozen=True)
class PlannedClip:
    ref: ClipRef
    seconds: float  # usable length from the header (an estimate for speech still to render)


@dataclass(frozen=True)
class InstancePlan:
    task: str
    corpus: str
    group_key: str
    group_file: str
    index: int  # instance number inside its group
    clips: tuple[PlannedClip, ...]
    target: float  # seconds
    min_duration: float
    max_duration: float
    truncate: bool
    audio: AudioOptions
    label: str = ""
    group_meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Placed:
    """Where one clip ended up in the composed audio."""

    ref: ClipRef
    start: float  # seconds, in the instance
    end: float
    source_rate: int

    @property
    def clip_start(self) -> float:
        """The source time (seconds into the file) that plays at ``start``."""
        return self.ref.start


@dataclass
class Composed:
    plan: InstancePlan
    flac: bytes | None  # None when no instance could be made (see issues)
    duration: float
    placed: list[Placed]
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return self.flac is not None


def stable_int(text: str) -> int:
    """A process-independent 32-bit hash (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *(stable_int(k) for k in keys)])


# ---------------------------------------------------------------- planning (metadata only)

def probe_seconds(ref: ClipRef, render_speech: bool = True) -> float:
    """The clip's usable length from its header, without decoding. Raises AudioError."""
    path = ref.path
    if not os.path.isfile(path):
        if ref.tts_text:
            if render_speech and tts.available():
                return len(ref.tts_text.split()) / SPEECH_WORDS_PER_SECOND
            raise AudioError(MISSING, path, "recording not found and espeak-ng is not installed to render it "
                                            "(apt-get install espeak-ng)")
    check_file(path)
    try:
        info = sf.info(path)
        check_plausible(path, info.samplerate, info.frames, info.channels)
        seconds = info.frames / info.samplerate if info.samplerate else 0.0
    except (sf.LibsndfileError, RuntimeError) as exc:
        if "Format not recognised" not in str(exc) and "unknown format" not in str(exc).lower():
            raise AudioError(UNDECODABLE, path, f"cannot read the audio header: {exc}") from None
        seconds = _probe_with_ffmpeg(path)
    end = seconds if ref.end is None else min(ref.end, seconds)
    usable = end - ref.start
    if usable <= 0:
        raise AudioError(EMPTY, path, f"no audio in the selected region [{ref.start}, {ref.end}] of a {seconds:.2f} s file")
    return usable


def _probe_with_ffmpeg(path: str) -> float:
    try:
        from torchcodec.decoders import AudioDecoder

        meta = AudioDecoder(path).metadata
        seconds = meta.duration_seconds_from_header or meta.duration_seconds
        if meta.sample_rate and seconds:
            check_plausible(path, meta.sample_rate, seconds * meta.sample_rate, meta.num_channels or 1)
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(UNDECODABLE, path, f"cannot read the audio header: {exc}") from None
    if not seconds:
        raise AudioError(UNDECODABLE, path, "the container does not declare a duration")
    return float(seconds)


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __post_init__(self):
        if not (0 < self.low <= self.high):
            raise ValueError(f"duration range must satisfy 0 < min <= max, got [{self.low}, {self.high}]")


def plan_group(
    group: Group,
    *,
    task: str,
    corpus: str,
    rule: Composition,
    durations: Range,
    seed: int,
    audio: AudioOptions = AudioOptions(),
    stats: dict | None = None,
) -> Iterator[InstancePlan | Issue]:
    """Cut one group into instance plans (and issues for clips or groups that cannot be used).

    Clips are consumed in the group's (seeded) order; each instance gets a target drawn
    uniformly in [min, max]. Truncating rules append clips until the target is reached
    and cut the last one; non-truncating rules stop before a clip that would pass max.
    A group that yields no instance at all is reported as too short.
    """
    rng = rng_for(seed, corpus, group.key)
    order = list(rng.permutation(len(group.clips))) if rule.shuffle else list(range(len(group.clips)))
    remaining: deque[int] = deque(int(i) for i in order)
    seconds: dict[int, float | None] = {}  # probed lengths (None: unusable)
    fade = audio.crossfade
    produced = 0
    usable_total = 0.0
    too_long = 0

    def length(i: int) -> tuple[float | None, Issue | None]:
        if i not in seconds:
            ref = group.clips[i]
            try:
                seconds[i] = probe_seconds(ref, audio.render_speech)
            except AudioError as err:
                seconds[i] = None
                return None, Issue(err.kind, task, ref.source_id, f"group={group.key}", f"{err.message}; clip skipped")
        return seconds[i], None

    while remaining and (rule.max_instances_per_group is None or produced < rule.max_instances_per_group):
        target = durations.low + (durations.high - durations.low) * float(rng.random())
        chosen: list[int] = []
        total = 0.0
        labels: set[str] = set()
        deferred: list[int] = []
        while remaining and total < target:
            i = remaining.popleft()
            sec, issue = length(i)
            if issue is not None:
                yield issue
                continue
            if sec is None:
                continue
            ref = group.clips[i]
            if rule.max_distinct_labels is not None and len(labels | ref.labels) > rule.max_distinct_labels:
                deferred.append(i)  # kept for a later instance of this group
                continue
            added = sec - (fade if chosen else 0.0)
            if not rule.truncate and total + added > durations.high + TOLERANCE:
                if total >= durations.low:
                    remaining.appendleft(i)
                    break
                if not chosen:
                    too_long += 1
                    yield Issue(rp.TOO_LONG, task, ref.source_id, f"group={group.key}",
                                f"{sec:.1f} s is longer than the maximum {durations.high:g} s and this task never cuts "
                                "a clip; clip skipped")
                    continue
                # this clip cannot join the instance in progress: drop that partial instance
                if stats is not None:
                    stats["dropped_seconds"] = stats.get("dropped_seconds", 0.0) + total
                remaining.appendleft(i)
                chosen, total, labels = [], 0.0, set()
                continue
            chosen.append(i)
            total += added
            labels |= ref.labels
        remaining.extendleft(reversed(deferred))
        usable_total += total
        if chosen and total >= durations.low - TOLERANCE:
            yield InstancePlan(
                task=task, corpus=corpus, group_key=group.key, group_file=group.file, index=produced,
                clips=tuple(PlannedClip(group.clips[i], seconds[i]) for i in chosen),
                target=round(min(target, total), 4),
                min_duration=durations.low, max_duration=durations.high, truncate=rule.truncate,
                audio=audio, label=group.label, group_meta=dict(group.meta),
            )
            produced += 1
            continue
        # the rest of the group cannot reach the minimum any more
        if stats is not None:
            stats["dropped_seconds"] = stats.get("dropped_seconds", 0.0) + total
        break
    if stats is not None and remaining:
        stats["unused_clips"] = stats.get("unused_clips", 0) + len(remaining)
    if produced == 0:
        if stats is not None:  # what the longest group that made nothing holds: the build's hint on failure
            stats["longest_short_group_seconds"] = max(stats.get("longest_short_group_seconds", 0.0), usable_total)
        n_ok = sum(1 for v in seconds.values() if v is not None) - too_long
        over = f" ({too_long} more clip(s) over the maximum {durations.high:g} s)" if too_long else ""
        yield Issue(rp.TOO_SHORT, task, group.file, f"group={group.key}",
                    f"{n_ok} usable clip(s) with {usable_total:.1f} s of audio{over} cannot reach the minimum "
                    f"{durations.low:g} s; no instance")


# ---------------------------------------------------------------- composing (workers)

def _decode_clip(ref: ClipRef, render_speech: bool) -> tuple[np.ndarray, int]:
    if ref.tts_text and not os.path.isfile(ref.path):
        if not (render_speech and tts.available()):
            raise AudioError(MISSING, ref.path, "recording not found and espeak-ng is not installed to render it")
        try:
            data, rate = tts.render(ref.tts_text)
        except RuntimeError as exc:
            raise AudioError(UNDECODABLE, ref.path, f"speech rendering failed: {exc}") from None
        samples = to_mono_16k(data, rate)
    else:
        decoded = decode_file(ref.path)
        samples, rate = decoded.samples, decoded.source_rate
    begin = int(round(ref.start * SAMPLING_RATE))
    stop = len(samples) if ref.end is None else min(len(samples), int(round(ref.end * SAMPLING_RATE)))
    if stop <= begin:
        raise AudioError(EMPTY, ref.path, f"no audio in the selected region [{ref.start}, {ref.end}]")
    return samples[begin:stop], rate


_METERS: dict[int, object] = {}


def normalize_loudness(x: np.ndarray, target_lufs: float) -> np.ndarray:
    """Scale to ``target_lufs`` integrated loudness (ITU-R BS.1770 / EBU R128), never clipping.

    Clips shorter than one 400 ms gating block or silent ones are left unchanged.
    """
    import pyloudnorm

    if len(x) < int(0.4 * SAMPLING_RATE):
        return x
    meter = _METERS.setdefault(SAMPLING_RATE, pyloudnorm.Meter(SAMPLING_RATE))
    loudness = meter.integrated_loudness(x.astype(np.float64))
    if not math.isfinite(loudness):
        return x
    y = x * np.float32(10.0 ** ((target_lufs - loudness) / 20.0))
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 0.999:  # a plain gain only: lower it rather than clip
        y = y * np.float32(0.999 / peak)
    return y.astype(np.float32, copy=False)


def join(pieces: list[np.ndarray], crossfade: float) -> tuple[np.ndarray, list[int]]:
    """Concatenate back to back, or overlap-add with an equal-power crossfade; returns the
    audio and each piece's start sample."""
    fade = int(round(crossfade * SAMPLING_RATE))
    starts = []
    total = 0
    for k, p in enumerate(pieces):
        overlap = min(fade, total, len(p)) if k else 0
        total -= overlap
        starts.append(total)
        total += len(p)
    out = np.zeros(total, dtype=np.float32)
    for k, p in enumerate(pieces):
        s = starts[k]
        overlap = 0
        if k and fade:
            prev_end = starts[k - 1] + len(pieces[k - 1])
            overlap = max(0, prev_end - s)
        if overlap:
            t = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
            out[s:s + overlap] *= np.cos(t * np.pi / 2).astype(np.float32)
            out[s:s + overlap] += p[:overlap] * np.sin(t * np.pi / 2).astype(np.float32)
            out[s + overlap:s + len(p)] = p[overlap:]
        else:
            out[s:s + len(p)] = p
    return out, starts


def compose(plan: InstancePlan) -> Composed:
    """Decode, normalize, join and encode one planned instance (runs in worker processes)."""
    issues: list[Issue] = []
    pieces: list[np.ndarray] = []
    refs: list[tuple[ClipRef, int]] = []
    for pc in plan.clips:
        try:
            samples, rate = _decode_clip(pc.ref, plan.audio.render_speech)
        except AudioError as err:
            issues.append(Issue(err.kind, plan.task, pc.ref.source_id, f"group={plan.group_key}",
                                f"{err.message}; clip skipped"))
            continue
        if plan.audio.loudness is not None:
            samples = normalize_loudness(samples, plan.audio.loudness)
        pieces.append(samples)
        refs.append((pc.ref, rate))
    audio, starts = join(pieces, plan.audio.crossfade) if pieces else (np.zeros(0, np.float32), [])
    limit = int(round(plan.target * SAMPLING_RATE))
    if plan.truncate and len(audio) > limit:
        audio = audio[:limit]
    duration = len(audio) / SAMPLING_RATE
    placed = []
    for (ref, rate), s, piece in zip(refs, starts, pieces):
        if s >= len(audio):
            break  # cut away entirely
        e = min(len(audio), s + len(piece))
        placed.append(Placed(ref, round(s / SAMPLING_RATE, 4), round(e / SAMPLING_RATE, 4), rate))
    where = plan.group_file
    if duration < plan.min_duration - TOLERANCE:
        issues.append(Issue(rp.TOO_SHORT, plan.task, where, f"group={plan.group_key} instance={plan.index}",
                            f"{duration:.1f} s of decodable audio is under the minimum {plan.min_duration:g} s; no instance"))
        return Composed(plan, None, duration, placed, issues)
    if duration > plan.max_duration + TOLERANCE:
        issues.append(Issue(rp.TOO_LONG, plan.task, where, f"group={plan.group_key} instance={plan.index}",
                            f"{duration:.1f} s is over the maximum {plan.max_duration:g} s and this task never cuts "
                            "a clip; no instance"))
        return Composed(plan, None, duration, placed, issues)
    return Composed(plan, encode_flac(audio), round(duration, 4), placed, issues)
