"""Requests ``concurrency`` at a time, results yielded as they finish (the caller records each at
once). Daemon workers: a stopped judge exits at once, and a re-run asks again what was in flight."""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterator, Sequence


def clients_for(api) -> list:
    """One openai client per server of ``api`` (an ApiConfig), through the API backend's transport
    (a wall-clock deadline per attempt). Retries are the backend's own (``api.request.send``: backoff
    across servers), so the client's are off."""
    import openai

    from ..api.transport import http_client

    key = api.api_key()
    return [openai.OpenAI(base_url=url, api_key=key, timeout=api.timeout_s, max_retries=0,
                          http_client=http_client(api.timeout_s)) for url in api.base_urls]


def run_jobs(jobs: Sequence, work: Callable, concurrency: int, n_servers: int, stop: threading.Event,
             on_close: Callable[[], None] = lambda: None) -> Iterator:
    """``work(job, slot)`` for every job, ``slot`` spreading jobs over the servers in turn; an
    exception from ``work`` (a fatal API error) ends the iteration and is raised."""
    todo: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()

    def worker() -> None:
        while (item := todo.get()) is not None:
            job, slot = item
            try:
                done.put((work(job, slot), None))
            except BaseException as err:  # noqa: BLE001 - handed to the consuming thread
                done.put((None, err))

    for n, job in enumerate(jobs):
        todo.put((job, n % max(n_servers, 1)))
    threads = [threading.Thread(target=worker, name=f"judge-{i}", daemon=True)
               for i in range(min(concurrency, max(len(jobs), 1)))]
    for thread in threads:
        thread.start()
    try:
        for _ in range(len(jobs)):
            result, err = done.get()
            if err is not None:
                raise err
            yield result
    finally:
        stop.set()  # ends retry waits
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            todo.put(None)
        on_close()
