"""One chat-completions request through the official ``openai`` client, with retries.

The JSON body is assembled here and handed to the client as raw content, in pieces with its
Content-Length: the base64 audio goes out as encoded, never scanned again by a JSON encoder nor
joined into one 10 MB string (for a 300 s clip either would cost about as much CPU as encoding the
audio). Everything else (auth, headers, connection pooling, timeouts, status errors, response
parsing) is the client's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

from .audio import AudioPart
from .config import ApiConfig

_AUDIO_SLOT = "\x00audio\x00"


class Body(list):
    """The request body as a list of byte pieces (sent one after the other)."""

    @property
    def size(self) -> int:
        return sum(len(p) for p in self)

    def bytes(self) -> bytes:
        return b"".join(self)


def build_body(model: str, prompt: str, parts: list[AudioPart], fmt: str, max_tokens: int,
               max_tokens_field: str = "max_tokens", system: str | None = None) -> Body:
    """The request: the system turn when there is one, then a user turn with the audio parts in
    order and the task prompt as text (the messages a local run renders); greedy decoding."""
    content = [{"type": "input_audio", "input_audio": {"data": _AUDIO_SLOT, "format": fmt}} for _ in parts]
    content.append({"type": "text", "text": prompt})
    head = [{"role": "system", "content": system}] if system is not None else []
    body = {"model": model, "messages": [*head, {"role": "user", "content": content}], "temperature": 0,
            max_tokens_field: int(max_tokens), "stream": False}
    pieces = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8").split(
        json.dumps(_AUDIO_SLOT).encode())
    out = [pieces[0]]
    for part, rest in zip(parts, pieces[1:]):
        out += [b'"', *part.b64, b'"', rest]
    return Body(out)


class ApiFatalError(RuntimeError):
    """A failure no retry or other sample can fix (bad key, unknown model, wrong URL): ends the run."""


class RequestFailed(Exception):
    """The sample's request failed for good (a 4xx, or retries exhausted); recorded on the sample."""


@dataclass
class Reply:
    text: str
    latency_ms: float  # the successful attempt, send to parsed reply
    input_tokens: int | None
    output_tokens: int | None
    model: str | None
    system_fingerprint: str | None
    finish_reason: str | None
    base_url: str
    attempts: int
    retried: list = field(default_factory=list)  # why each failed attempt failed


def _retry_reason(err: BaseException) -> str | None:
    """Why ``err`` is worth retrying (None: it is not)."""
    import openai

    if isinstance(err, openai.APITimeoutError):
        return "timeout"
    if isinstance(err, openai.APIConnectionError):
        return f"connection error ({err.__cause__ or err})"
    if isinstance(err, openai.APIStatusError):
        code = err.status_code
        return f"HTTP {code}" if code in (408, 409, 429) or code >= 500 else None
    if isinstance(err, (openai.APIResponseValidationError, ValueError, KeyError, TypeError, IndexError)):
        return f"malformed reply ({type(err).__name__})"
    return None


def _retry_after(err: BaseException) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def backoff_delay(config: ApiConfig, sample_id: str, attempt: int, retry_after: float | None = None) -> float:
    """Exponential, capped, with a jitter fixed by (sample, attempt) so concurrent retries spread out."""
    if retry_after is not None:
        return min(retry_after, config.backoff_max_s)
    base = min(config.backoff_s * (2 ** attempt), config.backoff_max_s)
    jitter = int.from_bytes(hashlib.sha256(f"{sample_id}:{attempt}".encode()).digest()[:2], "little") / 65535
    return base * (0.5 + 0.5 * jitter)


def _parse(completion) -> tuple[str, dict]:
    choice = completion.choices[0]
    text = choice.message.content
    if not isinstance(text, str):
        raise ValueError("the reply has no text content")
    usage = completion.usage
    return text, {
        "input_tokens": getattr(usage, "prompt_tokens", None) if usage else None,
        "output_tokens": getattr(usage, "completion_tokens", None) if usage else None,
        "model": completion.model, "system_fingerprint": getattr(completion, "system_fingerprint", None),
        "finish_reason": choice.finish_reason,
    }


def send(clients: list, first: int, body: Body, sample_id: str, config: ApiConfig,
         stop: threading.Event) -> Reply:
    """POST ``body`` to /chat/completions, retrying transient failures on the next server in turn."""
    import openai
    from openai.types.chat import ChatCompletion

    retried = []
    for attempt in range(config.max_retries + 1):
        client = clients[(first + attempt) % len(clients)]
        base = str(client.base_url).rstrip("/")
        t0 = time.perf_counter()
        try:
            completion = client.post("/chat/completions", cast_to=ChatCompletion, content=body,
                                     options={"headers": {"Content-Type": "application/json",
                                                          "Content-Length": str(body.size)}})
            text, info = _parse(completion)
            return Reply(text=text, latency_ms=(time.perf_counter() - t0) * 1000.0, base_url=base,
                         attempts=attempt + 1, retried=retried, **info)
        except Exception as err:  # noqa: BLE001 - sorted into retry / sample error / fatal below
            reason = _retry_reason(err)
            if reason is None:
                if isinstance(err, openai.APIStatusError):
                    message = _status_message(err)
                    text = f"sample {sample_id}: HTTP {err.status_code} from {base}: {message}"
                    if err.status_code in (401, 403, 404):
                        raise ApiFatalError(text) from None
                    raise RequestFailed(text) from None
                raise
            retried.append(reason)
            if attempt == config.max_retries:
                raise RequestFailed(f"sample {sample_id}: gave up after {attempt + 1} attempts "
                                    f"({', '.join(retried)}); last from {base}") from None
            if stop.wait(backoff_delay(config, sample_id, attempt, _retry_after(err))):
                raise RequestFailed(f"sample {sample_id}: run stopped while retrying") from None
    raise AssertionError("unreachable")


def _status_message(err) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
    return str(getattr(err, "message", err))[:500]
