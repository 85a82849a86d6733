"""Prepare the next samples in a background thread while the model works on the current one.

Preparation (audio decode, long-audio policy, log-mel features, prompt tokenization) is pure
CPU/numpy/torch work that releases the GIL for most of its time, so running it one sample ahead
takes it off the model's critical path: the loop then waits only when preparation is slower than
generation. Each item carries its own preparation time and the time the loop waited for it.

    for item in Prefetcher(samples, prepare, depth=1):
        item.value  # prepare(sample), or item.error if it raised
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")


@dataclass
class Prepared(Generic[T]):
    item: T
    value: Any = None
    error: BaseException | None = None
    prepare_ms: float = 0.0  # the preparation's own cost (wherever it ran)
    wait_ms: float = 0.0  # how long the consumer waited for it: the exposed part


def prepare_one(item: T, fn: Callable[[T], Any]) -> Prepared[T]:
    t0 = time.perf_counter()
    try:
        return Prepared(item, value=fn(item), prepare_ms=(time.perf_counter() - t0) * 1000.0)
    except Exception as err:  # noqa: BLE001 - recorded against its sample by the consumer
        return Prepared(item, error=err, prepare_ms=(time.perf_counter() - t0) * 1000.0)


_DONE = object()


class Prefetcher(Generic[T]):
    """Iterate ``Prepared`` results of ``fn`` over ``items`` in order, ``depth`` items ahead.

    ``depth=0`` prepares inline (no thread). Leaving the loop early (break, exception, kill)
    stops the worker after at most the item it is preparing; nothing is written by it."""

    def __init__(self, items: Iterable[T], fn: Callable[[T], Any], depth: int = 1):
        if depth < 0:
            raise ValueError(f"prefetch depth must be >= 0, got {depth}")
        self.items = items
        self.fn = fn
        self.depth = depth

    def __iter__(self) -> Iterator[Prepared[T]]:
        if self.depth == 0:
            for item in self.items:
                t0 = time.perf_counter()
                prepared = prepare_one(item, self.fn)
                prepared.wait_ms = (time.perf_counter() - t0) * 1000.0
                yield prepared
            return
        # The queue holds at most ``depth`` finished items; the worker prepares one more while
        # it waits for room, so ``depth`` samples are ready ahead of the one being evaluated.
        out: queue.Queue = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        failure: list[BaseException] = []  # iterating ``items`` itself failed

        def work() -> None:
            try:
                for item in self.items:
                    if stop.is_set():
                        return
                    prepared = prepare_one(item, self.fn)
                    while not stop.is_set():
                        try:
                            out.put(prepared, timeout=0.1)
                            break
                        except queue.Full:
                            continue
            except BaseException as err:  # noqa: BLE001 - re-raised in the consumer
                failure.append(err)
            finally:
                while not stop.is_set():
                    try:
                        out.put(_DONE, timeout=0.1)
                        break
                    except queue.Full:
                        continue

        worker = threading.Thread(target=work, name="audiomarathon-prefetch", daemon=True)
        worker.start()
        try:
            while True:
                t0 = time.perf_counter()
                prepared = out.get()
                if prepared is _DONE:
                    if failure:
                        raise failure[0]
                    return
                prepared.wait_ms = (time.perf_counter() - t0) * 1000.0
                yield prepared
        finally:
            stop.set()
            worker.join()
