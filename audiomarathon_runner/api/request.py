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


class MalformedReply(ValueError):
    """An HTTP 200 whose body is not a chat completion with a text reply (an HTML error page from a
    proxy, truncated JSON, no content): retried like a 5xx, then recorded on the sample."""


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
    if isinstance(err, MalformedReply):
        return f"malformed reply ({err})"
    if isinstance(err, (openai.APIResponseValidationError, ValueError, KeyError, TypeError, IndexError)):
        return f"malformed reply ({type(err).__name__})"
    return None


def _unreachable(err: BaseException) -> str | None:
    """Why no request to that server can succeed (nothing listens, the host name does not resolve),
    or None. Then every sample would fail the same way: the run stops instead of recording each."""
    import socket

    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, ConnectionRefusedError):
            return "connection refused (is the server running, on that port?)"
        if isinstance(err, socket.gaierror):
            return f"the host name does not resolve ({err})"
        err, seen = err.__cause__ or err.__context__, seen + 1
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


def _snippet(data: bytes, n: int = 80) -> str:
    text = " ".join(data[:4 * n].decode("utf-8", "replace").split())
    return repr(text[:n] + ("..." if len(text) > n else ""))


def parse_completion(response) -> tuple[str, dict]:
    """The reply text and what the server says about it, from an HTTP 200's body; MalformedReply
    naming what was found when the body is not a chat completion with text."""
    body = response.content
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "untyped"
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedReply(f"HTTP 200 with a {kind} body that is not JSON: {_snippet(body)}") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply(f"HTTP 200 with a {kind} body that is not a chat completion (no choices): {_snippet(body)}")
    choice = choices[0]
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise MalformedReply("the reply has no text content")
    # JSON may carry lone surrogates (\\ud800), which no UTF-8 file can hold.
    text = text.encode("utf-8", "replace").decode("utf-8")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    count = lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None  # noqa: E731
    text_or_none = lambda v: str(v)[:200] if v is not None else None  # noqa: E731
    return text, {
        "input_tokens": count(usage.get("prompt_tokens")), "output_tokens": count(usage.get("completion_tokens")),
        "model": text_or_none(data.get("model")), "system_fingerprint": text_or_none(data.get("system_fingerprint")),
        "finish_reason": text_or_none(choice.get("finish_reason")),
    }


def send(clients: list, first: int, body: Body, sample_id: str, config: ApiConfig,
         stop: threading.Event) -> Reply:
    """POST ``body`` to /chat/completions, retrying transient failures on the next server in turn."""
    import httpx2
    import openai

    from .transport import deadline

    retried = []
    for attempt in range(config.max_retries + 1):
        client = clients[(first + attempt) % len(clients)]
        base = str(client.base_url).rstrip("/")
        t0 = time.perf_counter()
        try:
            with deadline(config.timeout_s):  # the whole attempt, however slowly the server answers
                response = client.post("/chat/completions", cast_to=httpx2.Response, content=body,
                                       options={"headers": {"Content-Type": "application/json",
                                                            "Content-Length": str(body.size)}})
            text, info = parse_completion(response)
            return Reply(text=text, latency_ms=(time.perf_counter() - t0) * 1000.0, base_url=base,
                         attempts=attempt + 1, retried=retried, **info)
        except Exception as err:  # noqa: BLE001 - sorted into retry / sample error / fatal below
            down = _unreachable(err)
            if down is not None:
                raise ApiFatalError(f"sample {sample_id}: cannot reach {base}: {down}") from None
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
