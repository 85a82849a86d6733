"""``judge --extract-with-judge``: the replies of a multiple-choice run that strict extraction calls
invalid, read by a judge; the run scored again (strict rules) with those readings, as its own mode.

Each reading is a line of judgments.jsonl (``order`` = ``extract``), appended and fsync'd, reused by
a re-run under the same settings. A read option replaces the reply by that option's text for the
metric (so every benchmark's own aggregation applies unchanged); "None" or an unreadable judge
reply leaves the reply as it was, invalid.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from audiomarathon_metric.judge.extract import EXTRACT_PROMPT_SHA256, extract_message, read_extraction
from audiomarathon_metric.judge.records import PARSE_FAILURE, REQUEST_FAILURE, JudgmentLog, read_judgments, sha256_text

from ..api.config import ApiConfig
from ..api.request import RequestFailed, send
from .judging import request_body
from .pool import clients_for, run_jobs
from .settings import JudgeSettings

EXTRACT = "extract"


@dataclass(frozen=True)
class McqCase:
    id: str
    task: str
    question: str
    choices: list
    reply: str


def extract_settings(model: str, **overrides) -> JudgeSettings:
    base = {"temperature": 0.0, "prompt_sha256": EXTRACT_PROMPT_SHA256}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return JudgeSettings(model=model, **base)


class ExtractJudge:
    def __init__(self, settings: JudgeSettings, api: ApiConfig):
        self.settings, self.api, self.key = settings, api, settings.key()
        self.clients = clients_for(api)
        self.stop = threading.Event()

    def reading(self, case: McqCase, slot: int = 0) -> dict:
        from ..api.runner import cost_usd

        message = extract_message(case.question, case.reply, case.choices)
        rec = {"id": case.id, "task": case.task, "order": EXTRACT, "settings": self.key,
               "prompt_sha256": self.settings.prompt_sha256, "message_sha256": sha256_text(message),
               "reply_sha256": sha256_text(case.reply), "judge_model": self.settings.model, "served_model": None,
               "system_fingerprint": None, "temperature": self.settings.temperature, "seed": self.settings.seed,
               "raw": None, "retried": [], "letter": None, "failure": None, "error": None, "latency_ms": None,
               "input_tokens": None, "output_tokens": None, "cost_usd": None}
        for attempt in range(self.settings.parse_retries + 1):
            seed = self.settings.seed_for(attempt)
            body = request_body(self.settings, message, self.settings.temperature, seed, self.api.max_tokens_field)
            try:
                reply = send(self.clients, slot, body, f"{case.id} (extract)", self.api, self.stop)
            except RequestFailed as err:
                rec.update(failure=REQUEST_FAILURE, error=str(err))
                break
            rec.update(raw=reply.text, served_model=reply.model, system_fingerprint=reply.system_fingerprint,
                       seed=seed, latency_ms=reply.latency_ms, input_tokens=reply.input_tokens,
                       output_tokens=reply.output_tokens)
            read, letter = read_extraction(reply.text, len(case.choices))
            if read:
                rec.update(letter=letter, failure=None, error=None)
                break
            rec.update(failure=PARSE_FAILURE, error=f"not one of the item's letters or None: {reply.text[:60]!r}")
            if attempt < self.settings.parse_retries:
                rec["retried"].append({"raw": reply.text, "problem": rec["error"]})
        rec["cost_usd"] = cost_usd(rec["input_tokens"], rec["output_tokens"], self.api.price_in, self.api.price_out)
        return rec

    def run(self, cases: list[McqCase], path: Path) -> tuple[dict[str, dict], dict]:
        """id -> reading record of every case (recorded ones of the same settings reused), and counts."""
        done = {}
        for rec in read_judgments(path):
            if rec.get("settings") == self.key and rec.get("order") == EXTRACT and rec.get("failure") != REQUEST_FAILURE:
                done[str(rec["id"])] = rec
        wanted = {c.id: sha256_text(extract_message(c.question, c.reply, c.choices)) for c in cases}
        done = {i: r for i, r in done.items() if wanted.get(i) == r.get("message_sha256")}
        todo = [c for c in cases if c.id not in done]
        reused = len(done)

        def close() -> None:
            for client in self.clients:
                client.close()

        with JudgmentLog(path) as log:
            for rec in run_jobs(todo, lambda case, slot: self.reading(case, slot), self.api.concurrency,
                                len(self.clients), self.stop, close):
                log.append(rec)
                done[rec["id"]] = rec
        return done, {"reused": reused, "asked": len(todo)}
