"""Reading a judge's verdict strictly: one line holding exactly two integers from 1 to 10.

The official ``cal_score.py`` splits the stripped reply on single spaces and keeps it when there
are two integer fields (it would also take a 0 or a negative score). Here anything other than two
whole numbers in 1..10 on one line (spaces or tabs between and around them) is not a verdict:
"8, 7", "Assistant 1: 8", "8 7 6", "11 5", "7.5 8", an empty reply. The caller retries such a reply a
bounded number of times, then records the failure; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCORE_MIN, SCORE_MAX = 1, 10
_VERDICT = re.compile(r"[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]*")


@dataclass(frozen=True)
class Verdict:
    scores: tuple[int, int] | None  # (Assistant 1, Assistant 2), None when the reply is not a verdict
    problem: str | None = None  # why not, in words

    @property
    def ok(self) -> bool:
        return self.scores is not None


def parse_verdict(reply: str | None) -> Verdict:
    if reply is None:
        return Verdict(None, "no reply")
    text = reply.strip("\r\n")
    if "\n" in text or "\r" in text:
        return Verdict(None, "more than one line")
    match = _VERDICT.fullmatch(text)
    if match is None:
        return Verdict(None, f"not two integers separated by a space: {_show(text)}")
    scores = (int(match.group(1)), int(match.group(2)))
    bad = [s for s in scores if not SCORE_MIN <= s <= SCORE_MAX]
    if bad:
        return Verdict(None, f"score {bad[0]} outside {SCORE_MIN}..{SCORE_MAX}")
    return Verdict(scores)


def _show(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")
