"""A small OpenAI-compatible chat-completions server for tests and benchmarks (stdlib http.server).

It decodes every ``input_audio`` part of a request (base64 -> wav/flac/mp3 -> 16 kHz float32),
joins the parts in order and answers through a tiny transformers model with greedy decoding, so
a run against it can be compared with a local run of the same model: the bytes the client sent
are checked end to end. Without a model it answers a fixed text (``reply``) after ``delay_s``,
for throughput measurements. Faults are injected on request, one per incoming request in order:

    server = ChatServer(model_dir).start()      # server.base_url -> http://127.0.0.1:PORT/v1
    server.inject("429", "500", "timeout", "malformed")
    ...
    server.stop()

A judge (``judge=fn``) answers text-only requests instead: ``fn(message, seen)`` gives the reply to
the user message, ``seen`` the number of times that same message was asked before, so a test can
compute every verdict from the message alone (and have a first attempt answer badly).

Run alone: python tests/openai_server.py [--model DIR] [--delay S] [--port P]
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

FAULTS = ("429", "500", "503", "timeout", "malformed", "no-content", "400", "401", "drop",
          # Misbehaviours of a server that answers 200: an HTML page (a proxy's error page), the
          # whole response one byte every ``drip_s`` (status line and headers included), the body
          # one byte every ``drip_s`` after prompt headers, a reply of ``huge_chars`` characters, and
          # a reply naming another model than the one asked for.
          "html", "drip", "drip-body", "huge", "other-model")
OTHER_MODEL = "some-other-model"


class ChatServer:
    def __init__(self, model_dir: str | Path | None = None, *, delay_s: float = 0.0, reply: str = "A",
                 timeout_fault_s: float = 3.0, port: int = 0, served_name: str | None = None,
                 fingerprint: str = "fp_tiny_0", decode: bool = True, drip_s: float = 0.25,
                 huge_chars: int = 10_000_000, judge=None):
        self.model_dir = model_dir
        self.judge = judge
        self.seen: collections.Counter[str] = collections.Counter()  # judge messages asked so far
        self.delay_s = delay_s
        self.reply = reply
        self.timeout_fault_s = timeout_fault_s
        self.served_name = served_name
        self.fingerprint = fingerprint
        self.decode = decode  # False (fixed replies only): skip audio decoding, for throughput runs
        self.drip_s = drip_s
        self.huge_chars = huge_chars
        self.faults: collections.deque[str] = collections.deque()
        self.log: list[dict] = []  # one entry per request received (faulted ones included)
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at the same time
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.adapter = None
        if model_dir is not None:
            from audiomarathon_runner.adapters import load_adapter

            self.adapter = load_adapter(str(model_dir), "fp32", "cpu")
            self.adapter.set_feature_device(self.adapter.device)
        self.httpd = _Server(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def inject(self, *faults: str) -> "ChatServer":
        for fault in faults:  # None: that request is answered normally
            if fault is not None and fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; choose from {FAULTS}")
        with self._lock:
            self.faults.extend(faults)
        return self

    def start(self) -> "ChatServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="chat-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ answering
    def next_fault(self) -> str | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def answer(self, request: dict) -> dict:
        if self.judge is not None:
            return self._judge(request)
        if not self.decode and self.adapter is None:
            if self.delay_s:
                time.sleep(self.delay_s)
            return {"text": self.reply, "prompt_tokens": 1, "completion_tokens": 1, "audio_samples": None,
                    "formats": None, "prompt": None, "system": None, "audio_sha": None, "audio_peak": None,
                    "finish_reason": "stop"}
        audio, prompt, formats, system = decode_request(request)
        max_tokens = int(request.get("max_tokens") or request.get("max_completion_tokens") or 16)
        if self.adapter is None:
            if self.delay_s:
                time.sleep(self.delay_s)
            text, n_in, n_out, finish = self.reply, len(prompt), 1, "stop"
        else:
            text, n_in, n_out, finish = self._generate(audio, prompt, max_tokens, system)
        return {"text": text, "prompt_tokens": n_in, "completion_tokens": n_out,
                "audio_samples": int(audio.size), "formats": formats, "prompt": prompt, "system": system,
                "audio_sha": _sha(audio), "audio_peak": float(np.max(np.abs(audio))), "finish_reason": finish}

    def _judge(self, request: dict) -> dict:
        *head, message = request["messages"]
        if message["role"] != "user" or not isinstance(message["content"], str) or len(head) > 1 or any(
                m["role"] != "system" for m in head):
            raise ValueError("a judge request is [system,] user messages with text content")
        prompt = message["content"]
        with self._lock:
            seen = self.seen[prompt]
            self.seen[prompt] += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        text = self.judge(prompt, seen)
        return {"text": text, "prompt_tokens": len(prompt), "completion_tokens": len(text), "audio_samples": None,
                "formats": None, "prompt": prompt, "system": None, "audio_sha": None, "audio_peak": None,
                "finish_reason": "stop"}

    def _generate(self, audio: np.ndarray, prompt: str, max_tokens: int, system: str | None = None):
        import torch

        from audiomarathon.run_identity import GREEDY

        adapter = self.adapter
        with self._model_lock, torch.inference_mode():
            inputs = adapter.build_inputs(audio, prompt, system=system)
            eos = adapter.eos_token_ids
            out = adapter.model.generate(**inputs, **GREEDY, **adapter.generate_kwargs(), max_new_tokens=max_tokens,
                                         eos_token_id=eos or None, pad_token_id=adapter.tokenizer.pad_token_id)
            n_in = inputs["input_ids"].shape[-1]
            new = out[0, n_in:].tolist()
        hits = [i for i, t in enumerate(new) if t in (eos or ())]
        n_out = hits[0] + 1 if hits else len(new)
        # As OpenAI-compatible servers report it: "length" when max_tokens ended the reply.
        finish = "stop" if hits or len(new) < max_tokens else "length"
        return adapter.decode(new), int(n_in), int(n_out), finish


def _sha(audio: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()[:16]


def decode_request(request: dict) -> tuple[np.ndarray, str, list[str], str | None]:
    """The audio parts joined in order (16 kHz mono float32), the text, the parts' formats, and the
    system turn (None without one): a system message, then one user message."""
    import soundfile as sf

    from audiomarathon_dataset.audio_io import to_mono_16k

    *head, message = request["messages"]
    if message["role"] != "user" or len(head) > 1 or any(m["role"] != "system" for m in head):
        raise ValueError(f"expected [system,] user messages, got roles {[m['role'] for m in request['messages']]}")
    system = head[0]["content"] if head else None
    parts, texts, formats = [], [], []
    for item in message["content"]:
        if item["type"] == "input_audio":
            raw = base64.b64decode(item["input_audio"]["data"], validate=True)
            data, rate = sf.read(io.BytesIO(raw), dtype="float32", always_2d=False)
            parts.append(data if rate == 16000 and data.ndim == 1 else to_mono_16k(data, rate))
            formats.append(item["input_audio"]["format"])
        elif item["type"] == "text":
            texts.append(item["text"])
    if not parts:
        raise ValueError("no input_audio part")
    return np.concatenate(parts).astype(np.float32), "".join(texts), formats, system


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client that gave up
            super().handle_error(request, client_address)


def _handler(server: ChatServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle's algorithm holds
            # the body until the client's delayed ACK (~40 ms per request on Linux).
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, code: int, body: bytes, headers: dict | None = None,
                  content_type: str = "application/json") -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout)

        def _drip(self, body: bytes, headers_too: bool) -> None:
            """The response one byte at a time, ``drip_s`` apart, until it ends or the client leaves."""
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            if not headers_too:
                self.wfile.write(head)
                head = b""
            try:
                for i in range(len(head + body)):
                    self.wfile.write((head + body)[i:i + 1])
                    self.wfile.flush()
                    time.sleep(server.drip_s)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _error(self, code: int, message: str, headers: dict | None = None) -> None:
            self._send(code, json.dumps({"error": {"message": message, "code": code}}).encode(), headers)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                name = server.served_name or str(server.model_dir or "echo")
                self._send(200, json.dumps({"object": "list", "data": [{"id": name, "object": "model"}]}).encode())
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                return self._error(404, f"no route {self.path}")
            fault = server.next_fault()
            entry = {"fault": fault, "bytes": len(raw), "auth": self.headers.get("Authorization")}
            with server._lock:
                server.log.append(entry)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._answer(raw, fault, entry)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer(self, raw: bytes, fault: str | None, entry: dict) -> None:
            if fault in ("429", "500", "503", "400", "401"):
                headers = {"Retry-After": "0.05"} if fault == "429" else None
                return self._error(int(fault), f"injected {fault}", headers)
            if fault == "timeout":
                time.sleep(server.timeout_fault_s)
            if fault == "drop":  # close without an answer
                self.close_connection = True
                return
            if fault == "html":
                return self._send(200, b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway"
                                       b"</h1></body></html>", content_type="text/html")
            try:
                request = json.loads(raw)
                entry.update(model=request.get("model"), temperature=request.get("temperature"), seed=request.get("seed"),
                             max_tokens=request.get("max_tokens", request.get("max_completion_tokens")))
                result = server.answer(request)
            except Exception as err:  # noqa: BLE001 - a bad request is the client's 400
                entry["error"] = f"{type(err).__name__}: {err}"
                return self._error(400, f"bad request: {type(err).__name__}: {err}")
            entry.update({k: result[k] for k in ("audio_samples", "formats", "prompt", "system", "audio_sha",
                                                 "audio_peak")})
            if fault == "malformed":
                return self._send(200, b'{"id": "chatcmpl-x", "choices": [{"index": 0, "mess')
            content = None if fault == "no-content" else result["text"]
            if fault == "huge":
                content = (content + " " + "x" * server.huge_chars)[:server.huge_chars]
                entry.update(content_chars=len(content),
                             content_sha256="sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest())
            model = OTHER_MODEL if fault == "other-model" else server.served_name or request.get("model")
            body = {
                "id": f"chatcmpl-{len(server.log)}", "object": "chat.completion", "created": int(time.time()),
                "model": model, "system_fingerprint": server.fingerprint,
                "choices": [{"index": 0, "finish_reason": result["finish_reason"],
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": result["prompt_tokens"], "completion_tokens": result["completion_tokens"],
                          "total_tokens": result["prompt_tokens"] + result["completion_tokens"]},
            }
            if fault in ("drip", "drip-body"):
                return self._drip(json.dumps(body).encode(), headers_too=fault == "drip")
            self._send(200, json.dumps(body).encode())

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="tiny model folder (default: fixed replies)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each fixed reply")
    parser.add_argument("--reply", default="A")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-decode", action="store_true", help="fixed replies without decoding the audio")
    args = parser.parse_args()
    server = ChatServer(args.model, delay_s=args.delay, reply=args.reply, port=args.port, decode=not args.no_decode)
    print(server.base_url, flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
