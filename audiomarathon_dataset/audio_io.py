"""Audio decoding, resampling to 16 kHz mono, and lossless FLAC encoding."""

from __future__ import annotations

import io
import os
import stat
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from audiomarathon.tasks import SAMPLING_RATE

from .files import os_reason


class AudioError(Exception):
    """A clip that cannot be used. ``kind`` is one of the import-report kinds."""

    def __init__(self, kind: str, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.kind = kind
        self.path = path
        self.message = message


MISSING = "missing_audio"
UNDECODABLE = "undecodable_audio"
TRUNCATED = "truncated_audio"
EMPTY = "empty_audio"
UNREADABLE = "unreadable_audio"  # permission denied, a symlink loop, not a regular file
IMPLAUSIBLE = "implausible_audio"  # a header whose rate or length no real recording has

# What a header may declare before anything is decoded: a 40 KB WAV claiming 1 Hz would
# otherwise resample to 20,000 s (gigabytes). No corpus records below 4 kHz or above 384 kHz,
# and no clip or instance of the benchmark lasts an hour.
MIN_RATE = 4_000
MAX_RATE = 384_000
MAX_SECONDS = 3600.0
# The work a decode may take, as samples x channels: an hour of 96 kHz stereo. A few hundred KB
# of silent 384 kHz 8-channel FLAC passes the rate and length checks yet declares billions.
MAX_CHANNELS = 64
MAX_DECODED_SAMPLES = int(MAX_SECONDS * 96_000 * 2)
# Samples x channels decoded at a time (4 MB of float32): memory does not grow with the file,
# only the 16 kHz mono result does.
BLOCK_SAMPLES = 1 << 20


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # float32 mono at SAMPLING_RATE
    source_rate: int
    source_channels: int

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLING_RATE


def _riff_shortfall(path: str) -> int:
    """Bytes missing from a RIFF/WAVE file's data chunk (0 when complete or not a WAV).

    libsndfile silently returns the frames that exist when a WAV is cut short, so the
    declared data size is checked against the bytes actually present.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                if chunk_size == 0xFFFFFFFF:  # streaming writers leave this unknown
                    return 0
                return max(0, pos + 8 + chunk_size - size)
            pos += 8 + chunk_size + (chunk_size & 1)
    return 0


def _read_with_ffmpeg(path: str) -> tuple[np.ndarray, int]:
    """Fallback for formats libsndfile does not read (m4a, aac, wma, ...): torchcodec/FFmpeg."""
    try:
        from torchcodec.decoders import AudioDecoder
    except Exception as exc:  # torchcodec missing or FFmpeg libraries absent
        raise AudioError(UNDECODABLE, path, f"format not readable by libsndfile and FFmpeg is unavailable ({exc})")
    try:
        decoder = AudioDecoder(path)
        meta = decoder.metadata
        seconds = meta.duration_seconds_from_header or meta.duration_seconds
        if meta.sample_rate:
            check_plausible(path, meta.sample_rate, (seconds or 0.0) * meta.sample_rate, meta.num_channels or 1)
        samples = decoder.get_all_samples()
    except AudioError:
        raise
    except Exception as exc:
        # FFmpeg's message ends with the useful part ("Invalid data found when processing input")
        reason = str(exc).strip().splitlines()[-1].split(path)[-1].strip(" :,") or type(exc).__name__
        raise AudioError(UNDECODABLE, path, f"cannot decode audio (not readable by libsndfile or FFmpeg: {reason})") from None
    data = samples.data.numpy().T.astype(np.float32, copy=False)  # (frames, channels)
    return data, int(samples.sample_rate)


def _downmix(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return data


def to_mono_16k(data: np.ndarray, rate: int) -> np.ndarray:
    """Downmix (mean of channels) and resample with soxr (HQ) to 16 kHz, float32."""
    data = _downmix(data)
    if rate != SAMPLING_RATE:
        data = soxr.resample(data, rate, SAMPLING_RATE, quality="HQ")
    return np.ascontiguousarray(data, dtype=np.float32)


class MonoStream:
    """Downmix and resample block by block (soxr's streaming resampler gives the same samples
    as a one-shot ``to_mono_16k`` of the whole signal); ``finish()`` returns the result."""

    def __init__(self, rate: int):
        self.frames = 0  # source frames seen
        self._finite = True
        self._parts: list[np.ndarray] = []
        self._stream = None if rate == SAMPLING_RATE else soxr.ResampleStream(
            rate, SAMPLING_RATE, 1, dtype="float32", quality="HQ")

    def add(self, block: np.ndarray) -> None:
        mono = _downmix(block)
        self.frames += len(mono)
        self._finite = self._finite and bool(np.isfinite(mono).all())
        if self._stream is not None:
            mono = self._stream.resample_chunk(mono, last=False)
        if len(mono):
            self._parts.append(np.ascontiguousarray(mono, dtype=np.float32))

    @property
    def finite(self) -> bool:
        return self._finite

    def finish(self) -> np.ndarray:
        if self._stream is not None:
            self._parts.append(self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        out = np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.float32)
        self._parts = []
        return np.ascontiguousarray(out, dtype=np.float32)


def check_file(path: str) -> None:
    """What every clip must pass before its audio is read: it exists, can be read, is not empty,
    and (for a WAV) holds the data its header declares. Raises AudioError naming the file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise AudioError(MISSING, path, "file not found" if not os.path.islink(path)
                         else "symbolic link to a file that does not exist") from None
    except OSError as exc:
        raise AudioError(UNREADABLE, path, f"cannot be read: {os_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise AudioError(UNREADABLE, path, "not a regular file")
    if info.st_size == 0:
        raise AudioError(EMPTY, path, "file is empty (0 bytes)")
    try:
        shortfall = _riff_shortfall(path)
    except OSError as exc:
        raise AudioError(UNREADABLE, path, f"cannot be read: {os_reason(exc)}") from None
    except struct.error:
        raise AudioError(TRUNCATED, path, "RIFF chunk header cut short") from None
    if shortfall:
        raise AudioError(TRUNCATED, path, f"WAV data chunk is {shortfall} bytes shorter than its header declares")


def check_plausible(path: str, rate: float, frames: float, channels: int = 1) -> None:
    """Refuse a header declaring a rate, a length or a size (samples x channels) no recording
    of the benchmark has, before decoding it."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(IMPLAUSIBLE, path, f"the header declares {rate:g} Hz; refused before decoding "
                                            f"(accepted: {MIN_RATE}-{MAX_RATE} Hz)")
    if frames / rate > MAX_SECONDS:
        raise AudioError(IMPLAUSIBLE, path, f"the header declares {frames / rate:.0f} s of audio; refused before "
                                            f"decoding (at most {MAX_SECONDS:.0f} s)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(IMPLAUSIBLE, path, f"the header declares {channels} channels; refused before decoding "
                                            f"(accepted: 1-{MAX_CHANNELS})")
    if frames * channels > MAX_DECODED_SAMPLES:
        raise AudioError(IMPLAUSIBLE, path, f"the header declares {frames * channels / 1e6:.0f} M samples "
                                            f"({frames / rate:.0f} s x {channels} channels at {rate:g} Hz); refused "
                                            f"before decoding (at most {MAX_DECODED_SAMPLES / 1e6:.0f} M, an hour "
                                            "of 96 kHz stereo)")


def decode_file(path: str, expected_duration: float | None = None, tolerance: float = 1.0) -> Decoded:
    """Decode any common audio file to 16 kHz mono float32.

    Raises AudioError with kind missing/undecodable/truncated/empty, naming the file.
    ``expected_duration`` (seconds, e.g. from release metadata) flags clips shorter than
    listed by more than ``tolerance`` seconds as truncated.
    """
    check_file(path)
    try:
        with sf.SoundFile(path) as f:
            declared, rate, channels = f.frames, f.samplerate, f.channels
            check_plausible(path, rate, declared, channels)
            stream = MonoStream(rate)
            for block in f.blocks(blocksize=max(1, BLOCK_SAMPLES // channels), dtype="float32", always_2d=True):
                stream.add(block)
    except sf.LibsndfileError as exc:
        msg = str(exc)
        if "lost sync" in msg or "unexpected end" in msg.lower():
            raise AudioError(TRUNCATED, path, f"stream ends early: {msg}") from None
        if "Format not recognised" in msg or "unknown format" in msg.lower():
            data, rate = _read_with_ffmpeg(path)
            declared, channels = len(data), data.shape[1]
            stream = MonoStream(rate)
            stream.add(data)
            del data
        else:
            raise AudioError(UNDECODABLE, path, f"cannot decode audio: {msg}") from None
    except (RuntimeError, ValueError) as exc:
        raise AudioError(UNDECODABLE, path, f"cannot decode audio: {exc}") from None
    except OSError as exc:  # the file went away or became unreadable after check_file
        raise AudioError(UNREADABLE, path, f"cannot be read: {os_reason(exc)}") from None
    if 0 < declared and stream.frames < declared - rate // 100:
        raise AudioError(TRUNCATED, path, f"decoded {stream.frames} of {declared} frames declared")
    if stream.frames == 0:
        raise AudioError(EMPTY, path, "no audio samples")
    if not stream.finite:
        raise AudioError(UNDECODABLE, path, "audio contains NaN or infinite samples")
    mono = stream.finish()
    if expected_duration is not None and len(mono) / SAMPLING_RATE < expected_duration - tolerance:
        raise AudioError(
            TRUNCATED,
            path,
            f"{len(mono) / SAMPLING_RATE:.2f} s of audio where the metadata lists {expected_duration:.2f} s",
        )
    return Decoded(mono, rate, channels)


def encode_flac(samples: np.ndarray) -> bytes:
    """Lossless 16-bit FLAC bytes at 16 kHz (deterministic for the same samples)."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, clipped, SAMPLING_RATE, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def decode_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """Decode encoded audio bytes (FLAC/WAV/...) to float32 samples and their rate."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    return samples, rate
