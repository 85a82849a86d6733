"""An ordered parallel map shared by the importer and the builder.

``num_proc`` processes in all: the calling process and ``num_proc - 1`` spawned workers. Results
come back in submission order, a bounded number of jobs is in flight so memory stays flat however
large the input, and one pool serves a whole run (starting workers is the expensive part).

The calling process is a worker too: whenever the next result in order is not ready, it takes
a job that no worker has started, from the far end of the window, and runs it itself. It
has its own work to do between results (planning, writing parquet), so a pool of ``num_proc``
workers beside it would oversubscribe the cores; sharing the work this way keeps every core
busy without that.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor


class Executor:
    """Runs ``fn`` over items serially or across ``num_proc`` processes, yielding results in
    submission order with a bounded number of jobs in flight (memory stays flat).
    A worker that dies (killed, out of memory) raises BrokenProcessPool instead of hanging."""

    def __init__(self, num_proc: int = 1, window: int | None = None, preload: str | None = None):
        if num_proc < 1:
            raise ValueError(f"num_proc must be at least 1, got {num_proc}")
        self.num_proc = num_proc
        self.window = window or 8 * num_proc
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Executor:
        if self.num_proc > 1:
            workers = self.num_proc - 1  # the calling process is the last one
            # spawn: workers never inherit the parent's threads (pyarrow, tqdm) mid-state
            self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                             initializer=die_with_parent, initargs=(os.getpid(),))
            if self.preload:
                # start every worker and its imports now, while the caller does its own
                # set-up (importing datasets takes the main process most of a second)
                for _ in range(workers):
                    self._pool.submit(importlib.import_module, self.preload)
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map_ordered(self, fn: Callable, items: Iterable[tuple[object, object]],
                    skip: Callable[[object], bool] | None = None) -> Iterator[tuple[object, object]]:
        """``items`` are (argument or None, local context); yields (context, fn(argument) or None).

        ``skip(context)`` true: the caller no longer wants that result (its task reached --limit);
        (context, None) comes back at once and a job nobody has started is never run.
        With workers, the first window of jobs is submitted at once, so they run while the
        caller finishes its own set-up before it asks for the first result."""
        skip = skip or (lambda ctx: False)
        if self._pool is None:
            return ((ctx, fn(arg) if arg is not None and not skip(ctx) else None) for arg, ctx in items)
        it = iter(items)
        window: deque[list] = deque()  # [context, argument, future or None]

        def fill() -> None:
            while len(window) < self.window:
                try:
                    arg, ctx = next(it)
                except StopIteration:
                    return
                window.append([ctx, arg, self._pool.submit(fn, arg) if arg is not None else None])

        fill()
        return self._drain(fn, window, fill, skip)

    @staticmethod
    def _drain(fn: Callable, window: deque[list], fill: Callable[[], None],
               skip: Callable[[object], bool]) -> Iterator[tuple[object, object]]:
        try:
            while window:
                head = window[0]
                if head[2] is not None and skip(head[0]):
                    head[2].cancel()  # a worker that already has it finishes it; the result is dropped
                    head[2] = None
                # _run_one_here may run the head itself and put its own future in head[2]
                while head[2] is not None and not head[2].done() and _run_one_here(fn, window, skip):
                    pass
                ctx, _, job = window.popleft()
                result = job.result() if job is not None else None
                fill()  # keep the workers busy while the caller writes
                yield ctx, result
        finally:  # the caller stopped early (--limit) or failed: drop queued jobs
            for _, _, job in window:
                if job is not None:
                    job.cancel()


def _run_one_here(fn: Callable, window: deque[list], skip: Callable[[object], bool]) -> bool:
    """Run the last wanted job of the window that no worker has started in this process; False
    when there is none. Results and exceptions land in the same place a worker's would."""
    for entry in reversed(window):
        job = entry[2]
        if job is None or job.done() or skip(entry[0]) or not job.cancel():  # cancel() fails once a worker has it
            continue
        mine: Future = Future()
        try:
            mine.set_result(fn(entry[1]))
        except Exception as exc:  # raised to the caller in order, as a worker's would be
            mine.set_exception(exc)
        entry[2] = mine
        return True
    return False


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the process that started it dies, even by
    SIGKILL (which runs no clean-up in the parent). Linux delivers SIGKILL on the parent's
    death (PR_SET_PDEATHSIG); elsewhere a daemon thread watches the parent pid. Once the
    workers are gone, multiprocessing's resource tracker sees its pipe close and exits too."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the call
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="die-with-parent").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
