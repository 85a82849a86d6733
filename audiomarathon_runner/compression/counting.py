"""The one count rule of every method (pruners and presses alike): how many audio tokens a ratio keeps."""
from __future__ import annotations

import math
from fractions import Fraction


def kept_count(n_audio: int, ratio: float) -> int:
    """Audio tokens kept when the share ``ratio`` of ``n_audio`` audio tokens is removed.

    removed = floor(ratio × n_audio), the product taken on the ratio as written in decimal (0.29 of 100
    removes 29, where binary floating point would give 28.999… and remove 28); kept = n_audio − removed.
    So ratio 0 keeps everything and any ratio < 1 keeps at least one token of a non-empty span
    (80 tokens at 0.7: 56 removed, 24 kept)."""
    if n_audio < 0:
        raise ValueError(f"n_audio must be >= 0, got {n_audio}")
    removed = math.floor(Fraction(repr(float(ratio))) * n_audio)
    return n_audio - removed
