"""Displayed figures: one decimal, rounded half up as the paper rounds (49.25 -> 49.3), where
Python's format() rounds the binary value half to even (49.25 -> 49.2)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, digits: int = 1) -> float:
    """``value`` rounded half up (away from zero) at ``digits`` decimals, read from its shortest
    decimal form (so 49.25 and 0.35 round up though their binary values are not exact)."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def fmt1(value: float | None, missing: str = "n/a", sign: bool = False) -> str:
    """A figure as the leaderboard shows it: one decimal, half up (with its sign, ``sign=True``,
    for differences); ``missing`` for None."""
    if value is None:
        return missing
    return f"{round_half_up(value, 1):{'+' if sign else ''}.1f}"
