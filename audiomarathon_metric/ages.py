"""Ages stated as numbers or decades, read against age-group options such as "Early Career (31-40)".

"about 35", "35 years old", "aged 35", "in their twenties", "late fifties", "mid-60s", "35 to 38",
"over 70" each name an interval of ages. Against the options' age ranges an interval names the one
group that contains it; an interval that overlaps two groups ("30s" = 30-39 overlaps 18-30 and
31-40), or reaches outside every group, names no single group and is never resolved by a guess.

Decades: "early" = x0-x3, "mid" = x4-x6, "late" = x7-x9, the plain decade x0-x9. A bare number
counts only after a cue ("about", "around", "aged", "is", ...) or with "years old", or as the whole
reply, and only where what follows is no other unit ("about 20 seconds" is not an age).
"under 30" / "younger than 40" bound one side only and are not read.

Every pattern runs once over the reply's ASCII-lowercased text (linear time).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_GROUP = re.compile(r"^(.*?)\s*\(\s*(\d{1,3})\s*(?:(?:-|–|—|to)\s*(\d{1,3})|\+)\s*\)\s*$")

_TENS = {"twenty": 2, "thirty": 3, "forty": 4, "fifty": 5, "sixty": 6, "seventy": 7, "eighty": 8, "ninety": 9}
_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_DECADES = {"twenties": 2, "thirties": 3, "forties": 4, "fifties": 5, "sixties": 6, "seventies": 7, "eighties": 8,
            "nineties": 9}
_PART = {"early": (0, 3), "mid": (4, 6), "middle": (4, 6), "late": (7, 9)}
_ABOVE = {"over": 1, "above": 1, "older than": 1, "more than": 1, "beyond": 1, "at least": 0}
_NUMBER_WORD = "(?:" + "|".join(_TENS) + ")(?:[ -](?:" + "|".join(_ONES) + "))?"
_UNIT = r"(?:[ -]?(?:years?|yrs?)(?:[ -]?old)?|[ ]?y/?o\b)"
_CUE = (r"(?:about|around|approximately|approx\.?|roughly|circa|maybe|perhaps|probably|likely|possibly|is|be|was|"
        r"aged|age(?:[ ]of|[ ]is|:)?)[ ](?:about[ ]|around[ ]|approximately[ ]|roughly[ ])?|~[ ]?")
_AGE = re.compile(
    r"(?<![\w.])"
    r"(?:(?P<cmp>over|above|older[ ]than|more[ ]than|at[ ]least|beyond|under|below|younger[ ]than|less[ ]than|"
    r"at[ ]most|up[ ]to)[ ](?:the[ ]age[ ]of[ ])?"
    r"|(?P<lead>in[ ](?:his|her|their|the)[ ])"
    rf"|(?P<cue>{_CUE}))?"
    r"(?:(?P<part>early|mid|middle|late)(?:[ -]to[ -](?P<part2>early|mid|middle|late))?[ -]?)?"
    r"(?:(?P<dd>[1-9])0['’]?s"
    r"|(?P<dw>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)"
    r"|between[ ](?P<a1>\d{1,3})[ ](?:and|to|-)[ ](?P<b1>\d{1,3})(?P<ru1>" + _UNIT + r")?"
    r"|(?P<a>\d{1,3})[ ]?(?:-|–|—|to)[ ]?(?P<b>\d{1,3})(?P<ru>" + _UNIT + r")?"
    rf"|(?P<n>\d{{1,3}}|{_NUMBER_WORD})(?P<nu>" + _UNIT + r")?)"
    r"(?![\w'’])"
)
# Every stated age holds a digit or a tens word: a reply without one is not scanned.
_HINT = re.compile(r"[0-9]|twent|thirt|fort|fift|sixt|sevent|eight|ninet")
# What may follow an age that is not a unit of something else.
_AFTER = re.compile(r"[ ]?(?:[.,;:!?)\]\n]|$)|[ ](?:and|or|but|so|which|given|based|since|because|judging|from|"
                    r"with|as|age|range|group|bracket)\b|-?ish\b|[ ]or[ ]so\b")


@dataclass(frozen=True)
class AgeGroups:
    """The age range of each option letter."""

    ranges: tuple[tuple[str, float, float], ...]  # (letter, first age, last age; inf = open)

    def letters_for(self, lo: float, hi: float) -> frozenset | None:
        """The letters of the groups an interval overlaps, with None added when part of it lies in
        no group; None when it overlaps no group at all."""
        hits = frozenset(letter for letter, a, b in self.ranges if lo <= b and hi >= a)
        if not hits:
            return None
        top = min(hi, max(a for _, a, _ in self.ranges) + 1)
        outside = any(not any(a <= age <= b for _, a, b in self.ranges) for age in range(int(lo), int(top) + 1))
        return hits | {None} if outside else hits


def age_range(text: str) -> tuple[float, float] | None:
    """(first, last) age of an option "Name (31-40)" / "Name (71+)", else None."""
    m = _GROUP.match(text)
    if not m:
        return None
    return float(m.group(2)), float(m.group(3)) if m.group(3) else math.inf


def age_groups(letters: tuple[str, ...], choices: tuple[str, ...]) -> AgeGroups | None:
    """The groups of a set of age-group options (every option carries a range), else None."""
    ranges = [age_range(c) for c in choices]
    if not choices or any(r is None for r in ranges):
        return None
    return AgeGroups(tuple((letter, lo, hi) for letter, (lo, hi) in zip(letters, ranges)))


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    tens, _, ones = word.replace("-", " ").partition(" ")
    return 10 * _TENS[tens] + _ONES.get(ones, 0)


def _interval(m: re.Match, low: str) -> tuple[float, float] | None:
    """The ages one match states, or None where it states none that can be read."""
    g = m.groupdict()
    follows = bool(_AFTER.match(low, m.end()))
    if g["dd"] or g["dw"]:
        if g["cmp"]:
            return None
        if g["dd"] and not (g["part"] or g["lead"] or follows):
            return None  # "the first 30s of the clip"
        decade = 10 * (int(g["dd"]) if g["dd"] else _DECADES[g["dw"]])
        first, last = (_PART[g["part"]][0], _PART[g["part2"] or g["part"]][1]) if g["part"] else (0, 9)
        return float(decade + first), float(decade + last)
    if g["part"]:
        return None
    if g["a1"] or g["a"]:
        a, b = int(g["a1"] or g["a"]), int(g["b1"] or g["b"])
        if g["cmp"] or a >= b or not (g["ru1"] or g["ru"] or follows):
            return None
        return float(a), float(b)
    n = _number(g["n"])
    if not 1 <= n <= 120:
        return None
    whole = not low[:m.start()].strip() and not low[m.end():].strip(" .!\n")
    if not (g["nu"] or follows) or not (g["cue"] or g["nu"] or g["cmp"] or whole):
        return None
    if g["cmp"]:
        step = _ABOVE.get(g["cmp"])
        return None if step is None else (float(n + step), math.inf)
    return float(n), float(n)


def age_mentions(groups: AgeGroups, low: str) -> list[tuple[int, int, frozenset]]:
    """(start, end, letters) of each stated age in `low` (the ASCII-lowercased reply) that overlaps
    some group: one letter when a single group contains it, else several (and/or None)."""
    out = []
    if not _HINT.search(low):
        return out
    for m in _AGE.finditer(low):
        ages = _interval(m, low)
        letters = groups.letters_for(*ages) if ages else None
        if letters:
            out.append((m.start(), m.end(), letters))
    return out
