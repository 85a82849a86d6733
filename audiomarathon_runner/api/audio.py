"""The clip as ``input_audio`` parts: encoded once, split into consecutive parts only when asked.

WAV is 16-bit PCM written directly (header + samples): the benchmark's audio is 16-bit, so the
server receives exactly the samples a local run feeds its model. A clip or request over the
server's limits is refused or split into consecutive parts; it is never cut.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from typing import Iterator

import numpy as np
# SIMD base64: a 300 s clip is a 12.8 MB body, and CPython's binascii spends ~18 ms of client CPU on it
# (pybase64: ~7 ms), the larger part of a request's client cost.
from pybase64 import b64encode

from audiomarathon.tasks import SAMPLING_RATE

MB = 1_000_000


class TooLongError(ValueError):
    """A sample that does not fit the server's stated limits under the chosen policy."""


def pcm16(audio: np.ndarray, out: np.ndarray | None = None, scratch: np.ndarray | None = None) -> np.ndarray:
    """float32 in [-1, 1] -> int16, rounded (exact for audio decoded from 16-bit files)."""
    scaled = np.multiply(audio, 32768.0, dtype=np.float32, out=scratch)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    if out is None:
        return scaled.astype("<i2")
    np.copyto(out, scaled, casting="unsafe")
    return out


# Samples converted per step: small enough to stay in cache and to need no large temporary
# arrays (whose page faults cost as much as the conversion), a multiple of 3 so that every
# piece is a whole number of base64 groups.
_BLOCK = 3 * 16384


def wav_pieces(samples: np.ndarray, rate: int = SAMPLING_RATE) -> Iterator[bytes | memoryview]:
    """16-bit PCM WAV, in pieces to be base64-encoded one after the other: the 44-byte header with
    the first 2 samples (48 bytes), then blocks of _BLOCK samples. Each block reuses one small
    buffer, so a piece must be consumed before the next is asked for."""
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + 2 * samples.size, b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 2, 2, 16, b"data", 2 * samples.size)
    yield header + pcm16(samples[:2]).tobytes()
    scratch, out = np.empty(_BLOCK, np.float32), np.empty(_BLOCK, "<i2")
    for start in range(2, samples.size, _BLOCK):
        block = samples[start:start + _BLOCK]
        yield memoryview(pcm16(block, out[:block.size], scratch[:block.size])).cast("B")


def _soundfile_pieces(samples: np.ndarray, fmt: str, rate: int = SAMPLING_RATE) -> list[bytes]:
    import soundfile as sf

    buf = io.BytesIO()
    if fmt == "FLAC":
        sf.write(buf, pcm16(samples), rate, format="FLAC", subtype="PCM_16")
    else:
        sf.write(buf, samples.astype(np.float32), rate, format=fmt)
    return [buf.getvalue()]


# Each gives the file as byte pieces whose lengths, all but the last, are multiples of 3.
ENCODERS = {
    "wav": wav_pieces,
    "flac": lambda samples: _soundfile_pieces(samples, "FLAC"),
    "mp3": lambda samples: _soundfile_pieces(samples, "MP3"),
}


def encode_file(samples: np.ndarray, fmt: str) -> bytes:
    """The whole encoded file (what the server decodes)."""
    return b"".join(bytes(p) for p in ENCODERS[fmt](samples))


@dataclass
class AudioPart:
    b64: tuple  # the base64 of the encoded part, in pieces (ASCII; joined once into the request body)
    seconds: float

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.b64)


def encode_part(samples: np.ndarray, fmt: str) -> AudioPart:
    return AudioPart(tuple(b64encode(p) for p in ENCODERS[fmt](samples)), samples.size / SAMPLING_RATE)


def chunk(audio: np.ndarray, seconds: float) -> list[np.ndarray]:
    """Consecutive parts of at most ``seconds`` each, of equal length (no tiny last part)."""
    n = max(1, math.ceil(audio.size / (seconds * SAMPLING_RATE) - 1e-9))
    bounds = np.linspace(0, audio.size, n + 1).round().astype(int)
    return [audio[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def plan_requests(audio: np.ndarray, *, sample_id: str, fmt: str, max_seconds: float | None,
                  max_request_mb: float | None, policy: str, body_size, multi_request_ok: bool,
                  multi_request_why: str = "") -> list[list[AudioPart]]:
    """The requests for one clip, each a list of consecutive parts (one request, one part usually).

    ``body_size(parts)``: the request body's size in bytes with those parts. ``split`` sends a clip
    over ``max_seconds`` as consecutive parts of one request; a request over ``max_request_mb``
    becomes several requests, which only tasks whose replies can be joined accept."""
    seconds = audio.size / SAMPLING_RATE
    if audio.size == 0:
        raise TooLongError(f"sample {sample_id}: audio is empty")
    if max_seconds and seconds > max_seconds + 1e-9:
        if policy != "split":
            raise TooLongError(f"sample {sample_id}: audio is {seconds:.1f} s, over the --max-audio-seconds limit "
                               f"of {max_seconds:g} s (--on-too-long refuse; 'split' sends it in parts)")
        pieces = chunk(audio, max_seconds)
    else:
        pieces = [audio]
    parts = [encode_part(p, fmt) for p in pieces]
    if not max_request_mb or body_size(parts) <= max_request_mb * MB:
        return [parts]
    size = body_size(parts)
    if policy != "split":
        raise TooLongError(f"sample {sample_id}: the request is {size / MB:.1f} MB, over the --max-request-mb limit of "
                           f"{max_request_mb:g} MB (--on-too-long refuse; 'split' sends it in parts, or try a "
                           f"smaller --audio-format)")
    if not multi_request_ok:
        raise TooLongError(f"sample {sample_id}: the request is {size / MB:.1f} MB, over the --max-request-mb limit of "
                           f"{max_request_mb:g} MB, and {multi_request_why or 'this task'} needs the whole clip in "
                           f"one request; try a smaller --audio-format (flac, mp3) or a server with a higher limit")
    limit = max_request_mb * MB
    # Parts small enough that one fits a request with room to spare, then packed greedily in order.
    empty = body_size([])
    per_second = (size - empty) / seconds
    part_seconds = min(max_seconds or seconds, 0.9 * (limit - empty) / per_second)
    if part_seconds < 1.0:
        raise TooLongError(f"sample {sample_id}: --max-request-mb {max_request_mb:g} leaves room for less than 1 s of "
                           f"{fmt} audio per request")
    parts = [encode_part(p, fmt) for p in chunk(audio, part_seconds)]
    requests: list[list[AudioPart]] = [[]]
    for part in parts:
        if requests[-1] and body_size(requests[-1] + [part]) > limit:
            requests.append([])
        requests[-1].append(part)
    for req in requests:
        if body_size(req) > limit:  # a format whose size is not proportional to duration
            raise TooLongError(f"sample {sample_id}: a {req[0].seconds:.1f} s part is still over "
                               f"--max-request-mb {max_request_mb:g}")
    return requests
