"""Judgments submitted with a run, checked and re-aggregated by the leaderboard's server.

A submission carries its judgments.jsonl; the server holds the answer key (each item's audio
description, question and reference answer) and the run's replies. Nothing a submitter computed is
taken on trust: every judgment must have been asked with the official prompt about that item and
that reply (its message hash is recomputed here), its scores must be what its raw judge reply says
(read again with the strict reader), and all must come from one judge setting; then the scores are
aggregated here, in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .aggregate import judge_scores
from .parse import parse_verdict
from .prompt import OFFICIAL_PROMPT_SHA256, ORDERS, model_is_first, render_order
from .records import FAILURES, sha256_text


class JudgmentsRejected(ValueError):
    """A submission's judgments that cannot be scored as they are; the message names the judgment."""


@dataclass(frozen=True)
class KeyItem:
    """What the server knows of one item, and the run's reply to it (None: no reply)."""

    task: str
    meta_info: str
    question: str
    reference: str
    reply: str | None


def _where(j: Mapping) -> str:
    return f"judgment of {j.get('id')!r} ({j.get('order')})"


def check_judgment(j: Mapping, item: KeyItem) -> None:
    where = _where(j)
    if j.get("prompt_sha256") != OFFICIAL_PROMPT_SHA256:
        raise JudgmentsRejected(f"{where}: prompt hash {j.get('prompt_sha256')!r} is not the official AIR-Bench "
                                f"Chat prompt's ({OFFICIAL_PROMPT_SHA256})")
    order = j.get("order")
    if order not in ORDERS:
        raise JudgmentsRejected(f"{where}: unknown order")
    failure = j.get("failure")
    if failure is not None and failure not in FAILURES:
        raise JudgmentsRejected(f"{where}: unknown failure kind {failure!r}")
    if item.reply is None:
        if failure is None:
            raise JudgmentsRejected(f"{where}: scores a reply the run does not have")
        return
    message = render_order(order, item.meta_info, item.question, item.reference, item.reply)
    if j.get("message_sha256") != sha256_text(message):
        raise JudgmentsRejected(f"{where}: was not asked about this item and this reply with the official prompt "
                                "(its message hash differs from the one recomputed from the answer key)")
    verdict = parse_verdict(j.get("raw"))
    if failure is None:
        if not verdict.ok:
            raise JudgmentsRejected(f"{where}: its raw judge reply {j.get('raw')!r} is no verdict ({verdict.problem})")
        first, second = verdict.scores
        want = (first, second) if model_is_first(order) else (second, first)
        if list(verdict.scores) != list(j.get("scores") or []) or (j.get("model_score"), j.get("reference_score")) != want:
            raise JudgmentsRejected(f"{where}: its scores are not what its raw judge reply {j.get('raw')!r} says")
    elif failure == "parse" and verdict.ok:
        raise JudgmentsRejected(f"{where}: recorded as a parse failure, but its raw reply is a verdict")


def rescore_judgments(items: Mapping[str, KeyItem], judgments: Iterable[Mapping], n_bootstrap: int = 1000) -> dict:
    """Both modes' scores of ``items`` from submitted ``judgments`` (the latest per item and order),
    after checking each; JudgmentsRejected naming the first that fails."""
    latest: dict[tuple, Mapping] = {}
    settings = set()
    for j in judgments:
        if str(j.get("id")) not in items:
            raise JudgmentsRejected(f"{_where(j)}: no such item in the answer key")
        latest[(str(j["id"]), j.get("order"))] = j
        settings.add(j.get("settings"))
    if len(settings) > 1:
        raise JudgmentsRejected(f"judgments of {len(settings)} judge settings ({', '.join(sorted(map(str, settings)))}); "
                                "submit those of one")
    for j in latest.values():
        check_judgment(j, items[str(j["id"])])
    pairs = [(i, item.task) for i, item in items.items()]
    records = list(latest.values())
    return {"settings": next(iter(settings), None),
            "strict": judge_scores(pairs, records, "strict", n_bootstrap=n_bootstrap),
            "paper": judge_scores(pairs, records, "paper", n_bootstrap=n_bootstrap)}
