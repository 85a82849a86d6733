"""An ordered parallel map shared by the importer and the builder.

Spawned worker processes, results in submission order, a bounded number of jobs in flight so
memory stays flat however large the input, and one pool for a whole run (starting workers is the
expensive part).
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor


class Executor:
    """Runs ``compose`` serially or in spawn worker processes, yielding results in
    submission order with a bounded number of jobs in flight (memory stays flat).
    A worker that dies (killed, out of memory) raises BrokenProcessPool instead of hanging."""

    def __init__(self, num_proc: int = 1, window: int | None = None):
        if num_proc < 1:
            raise ValueError(f"num_proc must be at least 1, got {num_proc}")
        self.num_proc = num_proc
        self.window = window or 2 * num_proc + 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Executor:
        if self.num_proc > 1:
            # spawn: workers never inherit the parent's threads (pyarrow, tqdm) mid-state
            self._pool = ProcessPoolExecutor(self.num_proc, mp_context=mp.get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map_ordered(self, fn: Callable, items: Iterable[tuple[object, object]]) -> Iterator[tuple[object, object]]:
        """``items`` are (argument or None, local context); yields (context, fn(argument) or None)."""
        if self._pool is None:
            for arg, ctx in items:
                yield ctx, (fn(arg) if arg is not None else None)
            return
        it = iter(items)
        window: deque = deque()

        def fill() -> None:
            while len(window) < self.window:
                try:
                    arg, ctx = next(it)
                except StopIteration:
                    return
                window.append((ctx, self._pool.submit(fn, arg) if arg is not None else None))

        try:
            fill()
            while window:
                ctx, job = window.popleft()
                result = job.result() if job is not None else None
                fill()  # keep the workers busy while the caller writes
                yield ctx, result
        finally:  # the caller stopped early (--limit) or failed: drop queued jobs
            for _, job in window:
                if job is not None:
                    job.cancel()
