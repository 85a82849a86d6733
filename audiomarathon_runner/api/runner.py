"""The API counterpart of the local SampleRunner: same records, produced ``concurrency`` at a time.

Records are yielded as replies arrive (the caller appends each to the run's predictions log at
once), so a killed run loses only the requests in flight and a resumed one asks only for those.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from typing import Iterable, Iterator

from audiomarathon.records import stored_reply
from audiomarathon.tasks import SAMPLING_RATE, WER

from ..prediction import new_record, set_error, set_reply
from ..profiles import peak_normalize
from ..samples import apply_audio_control
from .audio import AudioPart, TooLongError, plan_requests
from .request import ApiFatalError, Body, RequestFailed, build_body, send

__all__ = ["ApiFatalError", "ApiRunner", "backend_summary", "same_model"]


class ApiRunner:
    def __init__(self, config):
        import openai

        self.config = config
        self.api = config.api
        key = self.api.api_key()
        from .transport import http_client

        # Retries are ours (backoff across servers, recorded per sample): the client's are off.
        self.clients = [openai.OpenAI(base_url=url, api_key=key, timeout=self.api.timeout_s, max_retries=0,
                                      http_client=http_client(self.api.timeout_s))
                        for url in self.api.base_urls]
        self.stop = threading.Event()
        self.family = config.family()
        self._warned: set = set()  # (kind, what) already said on stderr
        self._warn_lock = threading.Lock()

    def warn(self, key: tuple, message: str) -> None:
        """Say ``message`` on stderr once per ``key`` (a misbehaving server repeats itself)."""
        with self._warn_lock:
            if key in self._warned:
                return
            self._warned.add(key)
        print(f"audiomarathon run: warning: {message}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------ one sample
    def _body_size(self, request):
        def size(parts: list[AudioPart]) -> int:
            empty = [AudioPart((), p.seconds) for p in parts]
            return self._body(request, empty).size + sum(p.size for p in parts)
        return size

    def _body(self, request, parts: list[AudioPart]) -> Body:
        return build_body(self.config.model, request.text, parts, self.api.audio_format, request.max_new_tokens,
                          self.api.max_tokens_field, system=request.system)

    def record(self, sample, run_id: str, slot: int = 0) -> dict:
        """Request one sample; a sample-level failure (too long, 4xx, retries exhausted) becomes a
        record with ``error`` set, like a local failure. ``slot`` picks the first server."""
        t0 = time.perf_counter()
        rec = new_record(sample, run_id, api=None)
        try:
            audio = apply_audio_control(sample.load_audio(), self.config.audio_control, sample.id, self.config.seed)
            request = self.config.request(sample, self.family)  # the profile's words, as a local run sends them
            if request.peak_normalize:
                audio = peak_normalize(audio)
            task = sample.task_info
            requests = plan_requests(
                audio, sample_id=sample.id, fmt=self.api.audio_format, max_seconds=self.config.max_audio_seconds,
                max_request_mb=self.api.max_request_mb, policy=self.api.on_too_long,
                # Only transcripts join across requests: an answer (a letter, or an open-ended
                # reply the judge reads) must come from one request that heard the whole clip.
                body_size=self._body_size(request), multi_request_ok=task.metric == WER,
                multi_request_why="a multiple-choice question" if task.is_mcq else "an open-ended question")
            encode_ms = (time.perf_counter() - t0) * 1000.0
            replies, sent = [], 0
            for parts in requests:
                body = self._body(request, parts)
                sent += body.size
                replies.append(send(self.clients, slot, body, sample.id, self.api, self.stop))
            # Several requests only for transcription: the transcripts of consecutive parts, in order.
            text = replies[0].text if len(replies) == 1 else " ".join(r.text.strip() for r in replies)
            text, whole = stored_reply(text)
            if whole:
                rec.update(whole)
                self.warn(("long", sample.id), f"sample {sample.id}: the reply is {whole['reply_chars']:,} characters; "
                          f"stored its first {len(text):,} (reply_chars and reply_sha256 describe the whole)")
            tokens_in = _total(r.input_tokens for r in replies)
            tokens_out = _total(r.output_tokens for r in replies)
            reasons = [r.finish_reason for r in replies]
            # "length": the server stopped the reply at max_tokens; None when it does not say.
            hit_cap = None if any(r is None for r in reasons) else any(r == "length" for r in reasons)
            set_reply(rec, text, sample, hit_cap)
            rec["timings"] = {
                "audio_seconds": round(audio.size / SAMPLING_RATE, 3),
                "preprocess_ms": encode_ms,  # decode + control + encode + base64
                "latency_ms": sum(r.latency_ms for r in replies),  # the successful attempts
                "total_ms": (time.perf_counter() - t0) * 1000.0,  # including retries and backoff
                "input_tokens": tokens_in, "output_tokens": tokens_out,
                "request_bytes": sent, "warmup": False,
            }
            served = replies[-1].model
            other = next((r.model for r in replies if not same_model(self.config.model, r.model)), None)
            if other is not None:
                self.warn(("model", other), f"the server answered as model {other!r}, not the requested "
                          f"{self.config.model!r} (first seen on sample {sample.id}; recorded as api.model and "
                          "api.model_mismatch in predictions.jsonl)")
            rec["api"] = {
                "base_url": replies[-1].base_url,
                "model": other if other is not None else served,
                "model_mismatch": other is not None,
                "system_fingerprint": replies[-1].system_fingerprint,
                "finish_reason": [r.finish_reason for r in replies] if len(replies) > 1 else replies[0].finish_reason,
                "attempts": sum(r.attempts for r in replies),
                "retried": [why for r in replies for why in r.retried],
                "requests": len(requests),
                "audio_parts": sum(len(p) for p in requests),
                "cost_usd": cost_usd(tokens_in, tokens_out, self.api.price_in, self.api.price_out),
            }
        except ApiFatalError:
            raise
        except (TooLongError, RequestFailed) as err:  # their messages name the sample
            set_error(rec, err, with_traceback=False)
        except Exception as err:  # noqa: BLE001 - one bad sample must not end the run
            set_error(rec, err, f"sample {sample.id}: ")
        return rec

    # ------------------------------------------------------------ the run
    def records(self, samples: Iterable, run_id: str) -> Iterator[dict]:
        """Records of ``samples`` in the order they finish, ``concurrency`` requests in flight, each
        new sample starting on the server with the fewest requests in flight (the lowest on a tie).

        The workers are daemon threads: a run that stops (fatal error, Ctrl-C) exits at once instead
        of waiting out the requests still in flight, which a resumed run simply asks again. The
        connections are closed at the end: one ``records`` pass per ApiRunner (one per run)."""
        items = iter(samples)
        jobs: queue.Queue = queue.Queue()
        done: queue.Queue = queue.Queue()
        load = [0] * len(self.clients)
        in_flight = 0

        def work() -> None:
            while (job := jobs.get()) is not None:
                sample, slot = job
                try:
                    done.put((slot, self.record(sample, run_id, slot), None))
                except BaseException as err:  # noqa: BLE001 - handed to the consuming thread
                    done.put((slot, None, err))

        workers = [threading.Thread(target=work, name=f"api-{i}", daemon=True) for i in range(self.api.concurrency)]
        for thread in workers:
            thread.start()
        try:
            while True:
                while in_flight < self.api.concurrency and (sample := next(items, None)) is not None:
                    slot = load.index(min(load))
                    load[slot] += 1
                    in_flight += 1
                    jobs.put((sample, slot))
                if not in_flight:
                    return
                slot, rec, err = done.get()
                load[slot] -= 1
                in_flight -= 1
                if err is not None:
                    raise err  # ApiFatalError: ends the run
                yield rec
        finally:
            self.stop.set()  # ends retry waits
            while not jobs.empty():  # samples not started yet stay unsent
                jobs.get_nowait()
            for _ in workers:
                jobs.put(None)
            for client in self.clients:
                client.close()


# What a provider may append to the model it was asked for: a dated snapshot
# (gpt-4o-audio-preview -> gpt-4o-audio-preview-2024-12-17, gpt-4 -> gpt-4-0613).
_SNAPSHOT = re.compile(r"[-@]\d{4}(-?\d{2}){0,2}")


def same_model(requested: str, served: str | None) -> bool:
    """Whether a reply's model names the requested one: the same name (case aside, a ``models/``
    prefix aside), or a dated snapshot of it. A reply naming no model is not a mismatch."""
    if served is None:
        return True
    want, got = (str(v).strip().lower().removeprefix("models/") for v in (requested, served))
    return got == want or (got.startswith(want) and _SNAPSHOT.fullmatch(got[len(want):]) is not None)


def _total(values) -> int | None:
    values = list(values)
    return None if any(v is None for v in values) else int(sum(values))


def cost_usd(tokens_in, tokens_out, price_in, price_out) -> float | None:
    """Estimated cost in USD from per-million-token prices (None when a price or count is missing)."""
    if price_in is None or price_out is None or tokens_in is None or tokens_out is None:
        return None
    return (tokens_in * price_in + tokens_out * price_out) / 1e6


def backend_summary(api_config, records: list[dict]) -> dict:
    """results.json's account of an API run: servers, served model ids, tokens, cost, latency."""
    import numpy as np

    ok = [r for r in records if not r.get("error") and r.get("api")]
    lat = np.array([r["timings"]["latency_ms"] for r in ok], dtype=np.float64)
    costs = [r["api"].get("cost_usd") for r in ok]
    return {
        "kind": "openai-chat",
        **api_config.public(),
        "served_models": sorted({str(r["api"].get("model")) for r in ok}),
        # Replies naming another model than the one asked for (see same_model).
        "model_mismatches": sum(bool(r["api"].get("model_mismatch")) for r in ok),
        "system_fingerprints": sorted({str(r["api"].get("system_fingerprint")) for r in ok}),
        "requests": sum(r["api"].get("requests", 1) for r in ok),
        "attempts": sum(r["api"].get("attempts", 1) for r in ok),
        "input_tokens": _total(r["timings"].get("input_tokens") for r in ok),
        "output_tokens": _total(r["timings"].get("output_tokens") for r in ok),
        "cost_usd": None if not ok or any(c is None for c in costs) else float(sum(costs)),
        "latency_ms": ({"mean": float(lat.mean()), "median": float(np.median(lat)),
                        "p90": float(np.percentile(lat, 90)), "max": float(lat.max())} if lat.size else {}),
    }
