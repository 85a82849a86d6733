"""MMAR-Rubrics through the judge's client: the gate, five raters per item, the trimmed mean
(``audiomarathon_metric.judge.rubrics`` holds the procedure's texts and rules).

Each rater's verdict is one line of judgments.jsonl (``order`` = ``rater-K``; an item whose answer
fails the match is one line, ``order`` = ``gate``, asked of no judge), appended and fsync'd as it
arrives and reused by a re-run under the same settings, like the Chat judge's.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from audiomarathon_metric.judge.records import PARSE_FAILURE, REQUEST_FAILURE, JudgmentLog, read_judgments, sha256_text
from audiomarathon_metric.judge.rubrics import (RATERS, RUBRIC_SEED, RUBRIC_SYSTEM_PROMPT, RubricItem, RubricReplyError,
                                                rater_score, rubric_message, trimmed_mean)
from audiomarathon_metric.mmar_rules import official_match

from ..api.config import ApiConfig
from ..api.request import RequestFailed, send
from .items import RubricCase
from .judging import request_body
from .pool import clients_for, run_jobs
from .settings import JudgeSettings

GATE = "gate"
# The procedure's identity: its system prompt and the user message's template, with the rater count.
RUBRIC_PROMPT_SHA256 = "sha256:" + hashlib.sha256(
    json.dumps([RUBRIC_SYSTEM_PROMPT, rubric_message("Q", "A", "T", [{"name": "N", "scoring_point": "P",
                                                                      "choices": [0, 1]}], "R", "X"), RATERS])
    .encode()).hexdigest()


def rubric_settings(model: str, **overrides) -> JudgeSettings:
    base = {"temperature": 0.0, "seed": RUBRIC_SEED, "prompt_sha256": RUBRIC_PROMPT_SHA256}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return JudgeSettings(model=model, **base)


def rater_order(k: int) -> str:
    return f"rater-{k}"


class RubricJudge:
    def __init__(self, settings: JudgeSettings, api: ApiConfig):
        self.settings, self.api, self.key = settings, api, settings.key()
        self.clients = clients_for(api)
        self.stop = threading.Event()

    def _message(self, case: RubricCase) -> str:
        # The whole reply stands as the model's submission: its reasoning and its answer in one text.
        return rubric_message(case.question, case.answer, case.thinking, case.rubric, "", case.reply or "")

    def _base(self, case: RubricCase, order: str, message: str | None) -> dict:
        return {"id": case.id, "task": "MMAR", "order": order, "settings": self.key,
                "prompt_sha256": self.settings.prompt_sha256, "message_sha256": sha256_text(message),
                "reply_sha256": sha256_text(case.reply), "judge_model": self.settings.model, "served_model": None,
                "system_fingerprint": None, "temperature": self.settings.temperature, "seed": self.settings.seed,
                "raw": None, "retried": [], "rater_score": None, "failure": None, "error": None,
                "latency_ms": None, "input_tokens": None, "output_tokens": None, "cost_usd": None}

    def gate(self, case: RubricCase) -> dict | None:
        """The record of an item whose answer fails the official match (score 0, no request)."""
        if case.reply is not None and official_match(case.answer, case.reply, case.choices):
            return None
        rec = self._base(case, GATE, None)
        rec.update(rater_score=0.0, error="the answer fails the official match: 0, not sent to the judge")
        return rec

    def rater(self, case: RubricCase, k: int, slot: int = 0) -> dict:
        from ..api.runner import cost_usd

        message = self._message(case)
        rec = self._base(case, rater_order(k), message)
        tokens_in = tokens_out = attempts = 0
        for attempt in range(self.settings.parse_retries + 1):
            seed = self.settings.seed_for(attempt)
            body = request_body(self.settings, message, self.settings.temperature, seed, self.api.max_tokens_field,
                                system=RUBRIC_SYSTEM_PROMPT)
            try:
                reply = send(self.clients, slot, body, f"{case.id} (rater {k})", self.api, self.stop)
            except RequestFailed as err:
                rec.update(failure=REQUEST_FAILURE, error=str(err))
                break
            attempts += reply.attempts
            tokens_in += reply.input_tokens or 0
            tokens_out += reply.output_tokens or 0
            rec.update(raw=reply.text, served_model=reply.model, system_fingerprint=reply.system_fingerprint,
                       seed=seed, latency_ms=reply.latency_ms)
            try:
                rec.update(rater_score=rater_score(reply.text, case.rubric), failure=None, error=None)
                break
            except RubricReplyError as err:
                rec.update(failure=PARSE_FAILURE, error=str(err))
                if attempt < self.settings.parse_retries:
                    rec["retried"].append({"raw": reply.text, "problem": str(err)})
        rec.update(http_attempts=attempts, input_tokens=tokens_in if attempts else None,
                   output_tokens=tokens_out if attempts else None)
        rec["cost_usd"] = cost_usd(rec["input_tokens"], rec["output_tokens"], self.api.price_in, self.api.price_out)
        return rec

    def run(self, cases: list[RubricCase], path: Path) -> tuple[list[RubricItem], dict]:
        """Every case judged (the recorded verdicts of the same settings reused); the items' scores
        and the counts of what was reused and asked."""
        recorded = {(str(r["id"]), r["order"]): r for r in read_judgments(path)
                    if r.get("settings") == self.key and r.get("failure") != REQUEST_FAILURE}
        done: dict = {}
        todo, gated = [], []
        for case in cases:
            gate = self.gate(case)
            if gate is not None:
                gated.append(gate)
                continue
            message_sha = sha256_text(self._message(case))
            for k in range(RATERS):
                old = recorded.get((case.id, rater_order(k)))
                if old is not None and old.get("message_sha256") == message_sha:
                    done[(case.id, k)] = old
                else:
                    todo.append((case, k))
        reused = len(done)

        def close() -> None:
            for client in self.clients:
                client.close()

        with JudgmentLog(path) as log:
            for rec in gated:
                if (rec["id"], GATE) not in recorded:
                    log.append(rec)
            for rec in run_jobs(todo, lambda job, slot: self.rater(*job, slot), self.api.concurrency,
                                len(self.clients), self.stop, close):
                log.append(rec)
                done[(rec["id"], int(rec["order"].split("-")[1]))] = rec
        items = []
        for case in cases:
            if self.gate(case) is not None:
                items.append(RubricItem(case.id, 0.0, False, case.meta))
                continue
            raters = [done.get((case.id, k)) for k in range(RATERS)]
            ok = [r["rater_score"] for r in raters if r is not None and r.get("failure") is None]
            items.append(RubricItem(case.id, trimmed_mean(ok) if len(ok) == RATERS else None, True, case.meta))
        return items, {"reused": reused, "asked": len(todo), "gated": len(gated)}
