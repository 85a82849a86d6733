"""The HTTP client of the API backend: each request attempt ends by a wall-clock deadline.

The HTTP library's timeouts bound each socket operation, so a server that sends one byte every two
seconds keeps a request alive for ever under a 5 s timeout. Here every connect, write and read of
an attempt waits at most until the attempt's deadline, set around the request by ``deadline()`` in
the thread that sends it: --request-timeout bounds the whole attempt (connecting, sending the
audio, the headers and the body). Past it the read fails as the library's own read timeout, which
the client reports (and the backend retries) as a timeout. Requests through a proxy taken from the
environment use the library's own transport, without the deadline.
"""

from __future__ import annotations

import contextlib
import threading
import time

import httpcore2
import httpx2

_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float):
    """Every socket operation of this thread inside the block ends ``seconds`` from now at the latest."""
    previous = getattr(_local, "end", None)
    _local.end = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.end = previous


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    end = getattr(_local, "end", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the request's deadline (--request-timeout) passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_Stream":
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore2.ConnectTimeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self):
        self._backend = httpcore2.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None) -> _Stream:
        return _Stream(self._backend.connect_tcp(host, port, _bounded(timeout, httpcore2.ConnectTimeout),
                                                 local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None) -> _Stream:
        return _Stream(self._backend.connect_unix_socket(path, _bounded(timeout, httpcore2.ConnectTimeout),
                                                         socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx2.HTTPTransport):
    """httpx's transport (its request building and error mapping) over a connection pool whose
    sockets honour the thread's deadline."""

    def __init__(self, limits: httpx2.Limits):
        super().__init__(limits=limits)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend())


def http_client(timeout_s: float):
    """The httpx client the openai client sends through (the SDK's defaults, our transport)."""
    import openai

    limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=5.0)
    return openai.DefaultHttpxClient(transport=DeadlineTransport(limits), timeout=timeout_s, limits=limits)
