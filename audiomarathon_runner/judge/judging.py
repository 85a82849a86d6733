"""Asking the judge: one request per (item, order), ``concurrency`` in flight, each verdict appended
to judgments.jsonl as it arrives; a re-run asks only what is not recorded under the same settings.

Transport failures (429, 5xx, timeouts, dropped connections, malformed bodies) are the API
backend's to retry (``api.request.send``, with its backoff). A reply that arrives but is no verdict
is asked again ``parse_retries`` times (each with the next seed), then recorded as a parse failure.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from audiomarathon_metric.judge.parse import parse_verdict
from audiomarathon_metric.judge.prompt import model_is_first, render_order
from audiomarathon_metric.judge.records import (NO_REPLY, PARSE_FAILURE, REQUEST_FAILURE, JudgmentLog,
                                                read_judgments, sha256_text)

from ..api.config import ApiConfig
from ..api.request import ApiFatalError, Body, RequestFailed, send
from .items import JudgeItem
from .pool import clients_for, run_jobs
from .settings import JudgeSettings


def request_body(settings: JudgeSettings, message: str, temperature: float, seed: int | None,
                 max_tokens_field: str = "max_tokens", system: str | None = None) -> Body:
    """A text-only chat completion: the judge's user message, after a system turn when there is one
    (AIR-Bench's script sends none, MMAR's rubric script one)."""
    head = [{"role": "system", "content": system}] if system is not None else []
    body = {"model": settings.model, "messages": [*head, {"role": "user", "content": message}],
            "temperature": temperature, max_tokens_field: settings.max_tokens, "stream": False}
    if seed is not None:
        body["seed"] = seed
    return Body([json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")])


@dataclass
class JudgeProgress:
    reused: int = 0
    asked: int = 0
    failures: dict = field(default_factory=dict)


class Judge:
    def __init__(self, settings: JudgeSettings, api: ApiConfig):
        self.settings = settings
        self.api = api
        self.key = settings.key()
        self.clients = clients_for(api)
        self.stop = threading.Event()

    # ------------------------------------------------------------ one judgment
    def _message(self, item: JudgeItem, order: str) -> str:
        return render_order(order, item.meta_info, item.question, item.reference, item.reply or "")

    def _base(self, item: JudgeItem, order: str, message: str) -> dict:
        return {"id": item.id, "task": item.task, "order": order, "settings": self.key,
                "prompt_sha256": self.settings.prompt_sha256, "message_sha256": sha256_text(message),
                "reply_sha256": sha256_text(item.reply), "judge_model": self.settings.model,
                "served_model": None, "system_fingerprint": None,
                "temperature": self.settings.temperature_for(item.id, order), "seed": self.settings.seed_for(0),
                "raw": None, "retried": [], "scores": None, "model_score": None, "reference_score": None,
                "failure": None, "error": None, "latency_ms": None, "input_tokens": None, "output_tokens": None,
                "cost_usd": None}

    def judgment(self, item: JudgeItem, order: str, slot: int = 0) -> dict:
        from ..api.runner import cost_usd

        message = self._message(item, order)
        rec = self._base(item, order, message)
        if item.reply is None:
            rec.update(failure=NO_REPLY, error="the model gave no reply to judge")
            return rec
        tokens_in = tokens_out = 0
        counted = True
        latency = 0.0
        http_attempts = 0
        for attempt in range(self.settings.parse_retries + 1):
            seed = self.settings.seed_for(attempt)
            body = request_body(self.settings, message, rec["temperature"], seed, self.api.max_tokens_field)
            try:
                reply = send(self.clients, slot, body, f"{item.id} ({order})", self.api, self.stop)
            except RequestFailed as err:
                rec.update(failure=REQUEST_FAILURE, error=str(err))
                break
            http_attempts += reply.attempts
            latency += reply.latency_ms
            if reply.input_tokens is None or reply.output_tokens is None:
                counted = False
            else:
                tokens_in += reply.input_tokens
                tokens_out += reply.output_tokens
            rec.update(raw=reply.text, served_model=reply.model, system_fingerprint=reply.system_fingerprint,
                       seed=seed)
            verdict = parse_verdict(reply.text)
            if verdict.ok:
                first, second = verdict.scores
                model_first = model_is_first(order)
                rec.update(scores=[first, second], model_score=first if model_first else second,
                           reference_score=second if model_first else first, failure=None, error=None)
                break
            rec.update(failure=PARSE_FAILURE, error=verdict.problem)
            if attempt < self.settings.parse_retries:
                rec["retried"].append({"raw": reply.text, "problem": verdict.problem})
        rec.update(latency_ms=latency if http_attempts else None, http_attempts=http_attempts,
                   input_tokens=tokens_in if counted and http_attempts else None,
                   output_tokens=tokens_out if counted and http_attempts else None)
        rec["cost_usd"] = cost_usd(rec["input_tokens"], rec["output_tokens"], self.api.price_in, self.api.price_out)
        return rec

    # ------------------------------------------------------------ the whole run
    def reusable(self, recorded: Iterable[dict], items: list[JudgeItem]) -> dict[tuple[str, str], dict]:
        """Recorded verdicts that answer this run's questions: the same settings, the same message
        (item texts, reply and template), and an answer from the judge (a request failure is asked again)."""
        wanted = {(i.id, o): sha256_text(self._message(i, o)) for i in items for o in self.settings.orders}
        out = {}
        for rec in recorded:
            key = (str(rec.get("id")), rec.get("order"))
            if (rec.get("settings") == self.key and wanted.get(key) == rec.get("message_sha256")
                    and rec.get("failure") != REQUEST_FAILURE):
                out[key] = rec
        return out

    def run(self, items: list[JudgeItem], path: Path, progress: JudgeProgress | None = None) -> list[dict]:
        """Judge every item in every order of the settings, appending to ``path``; the judgments of
        this run's items (reused or new), in item and order order."""
        progress = progress or JudgeProgress()
        done = self.reusable(read_judgments(path), items)
        progress.reused = len(done)
        todo = [(i, o) for i in items for o in self.settings.orders if (i.id, o) not in done]
        with JudgmentLog(path) as log:
            for rec in self._ask(todo):
                log.append(rec)
                done[(rec["id"], rec["order"])] = rec
                progress.asked += 1
                if rec["failure"]:
                    progress.failures[rec["failure"]] = progress.failures.get(rec["failure"], 0) + 1
        return [done[(i.id, o)] for i in items for o in self.settings.orders if (i.id, o) in done]

    def _ask(self, todo: list[tuple[JudgeItem, str]]) -> Iterator[dict]:
        """Judgments of ``todo`` as they finish, ``concurrency`` in flight, spread over the servers."""
        def close() -> None:
            for client in self.clients:
                client.close()

        return run_jobs(todo, lambda job, slot: self.judgment(*job, slot), self.api.concurrency, len(self.clients),
                        self.stop, close)


__all__ = ["ApiFatalError", "Judge", "JudgeProgress", "request_body"]
