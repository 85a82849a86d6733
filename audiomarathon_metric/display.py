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


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 sample``, ``2 samples`` (``many`` for an irregular plural)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def fmt_ci(ci, sign: bool = False) -> str:
    """A 95% CI as every table shows it, ``lo-hi`` at one decimal; empty when there is none."""
    if not ci or None in ci:
        return ""
    return f"{fmt1(ci[0], sign=sign)}-{fmt1(ci[1], sign=sign)}"


_BYTE_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def fmt_bytes(n: float | None, missing: str = "n/a") -> str:
    """A byte count in the largest binary unit under 1024 of it, one decimal (``301.5 KiB``)."""
    if n is None:
        return missing
    value, unit = float(n), 0
    while abs(value) >= 1024 and unit < len(_BYTE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{round(value):d} bytes" if unit == 0 else f"{fmt1(value)} {_BYTE_UNITS[unit]}"
