"""Progress of a run: a live bar on a terminal, one line per task in a log.

On anything but a terminal (a log file, a pipe, CI) every redraw of a bar would stay behind as a
``\\r`` line of its own, so a line is written when each task's samples are all done instead, as
``import-release`` and ``build`` do.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Iterable, Iterator, Sequence


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_progress(records: Iterable[dict], tasks: Sequence[str], desc: str, enabled: bool = True,
                 stream=None) -> Iterator[dict]:
    """``records`` passed through while showing progress; ``tasks`` holds the task of every sample
    to come (one entry per sample), so a task's line is written once its last record is through."""
    stream = stream or sys.stderr
    if not enabled:
        yield from records
        return
    if is_terminal(stream):
        from tqdm.auto import tqdm

        yield from tqdm(records, desc=desc, unit="sample", total=len(tasks), file=stream)
        return
    totals = Counter(tasks)
    done: Counter = Counter()
    failed: Counter = Counter()
    started = time.perf_counter()
    for record in records:
        yield record
        task = record.get("task")
        done[task] += 1
        failed[task] += record.get("error") is not None
        if done[task] == totals.get(task):
            errors = f", {failed[task]} failed" if failed[task] else ""
            print(f"{desc} {task}: {done[task]}/{totals[task]} samples{errors} "
                  f"({time.perf_counter() - started:.1f} s since the start)", file=stream, flush=True)
