"""espeak-ng speech rendering: RACE articles without read-aloud audio, and synthetic sources.

Optional: everything works without the binary; callers check ``available()`` first.
espeak-ng renders the same text to the same samples, so builds stay deterministic.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import soundfile as sf

BINARY = "espeak-ng"


def available() -> bool:
    return shutil.which(BINARY) is not None


def render(text: str, voice: str = "en-us", words_per_minute: int = 175, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speech for ``text`` as (float32 mono samples, sampling rate). Raises RuntimeError on failure."""
    exe = shutil.which(BINARY)
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    # text goes through stdin: no length limit, no shell quoting
    proc = subprocess.run(
        [exe, "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "--stdout"],
        input=text.encode("utf-8"), capture_output=True, timeout=600, check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    # espeak-ng writes a streaming WAV whose size fields are unset; soundfile reads it from bytes
    data, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32")
    if data.ndim == 2:
        data = data.mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32), int(rate)
