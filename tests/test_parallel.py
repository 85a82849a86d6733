"""The ordered parallel map shared by the builder and the importer (audiomarathon_dataset.parallel)."""

import os
import time

import pytest

from audiomarathon_dataset.parallel import Executor


def slow_square(x: int) -> tuple[int, int]:
    time.sleep(0.02)
    if x == 13:
        raise ValueError("thirteen")
    return x * x, os.getpid()


def items(n: int, skip: set[int] = frozenset()):
    return ((None if i in skip else i, f"ctx{i}") for i in range(n))


@pytest.mark.parametrize("num_proc", [1, 2, 3])
def test_results_come_back_in_order_with_their_context(num_proc):
    with Executor(num_proc, preload=__name__) as ex:
        out = list(ex.map_ordered(slow_square, items(40, skip={5, 6, 13})))
    assert [ctx for ctx, _ in out] == [f"ctx{i}" for i in range(40)]
    assert [r[0] if r else None for _, r in out] == [None if i in (5, 6, 13) else i * i for i in range(40)]


def test_two_processes_means_one_worker_and_the_caller_sharing_the_jobs():
    with Executor(2, preload=__name__) as ex:
        assert ex._pool._max_workers == 1
        pids = {r[1] for _, r in ex.map_ordered(slow_square, items(30, skip={13})) if r}
    # the caller ran the jobs no worker had started while it waited, the worker ran the rest
    assert os.getpid() in pids
    assert len(pids) == 2


@pytest.mark.parametrize("num_proc", [1, 2])
def test_an_exception_reaches_the_caller_in_order(num_proc):
    seen = []
    with Executor(num_proc) as ex, pytest.raises(ValueError, match="thirteen"):
        for ctx, _ in ex.map_ordered(slow_square, items(30)):
            seen.append(ctx)
    assert seen == [f"ctx{i}" for i in range(13)]


def test_stopping_early_drops_the_queued_jobs():
    with Executor(2) as ex:
        started = time.perf_counter()
        for ctx, _ in ex.map_ordered(slow_square, items(10_000)):
            if ctx == "ctx3":
                break
    assert time.perf_counter() - started < 10  # nowhere near 10,000 jobs x 20 ms


def test_num_proc_must_be_positive():
    with pytest.raises(ValueError, match="num_proc must be at least 1"):
        Executor(0)


@pytest.mark.parametrize("num_proc", [1, 2])
def test_skipped_contexts_come_back_empty_without_waiting(num_proc):
    """What --limit needs: once the caller no longer wants a context, its jobs in flight are
    dropped (None, no result waited for) and the later contexts still run."""
    stopped: set[str] = set()
    with Executor(num_proc) as ex:
        out = []
        items = ((i, ("a" if i < 40 else "b", i)) for i in range(48) if i != 13)
        for ctx, result in ex.map_ordered(slow_square, items, skip=lambda ctx: ctx[0] in stopped):
            out.append((ctx, result))
            if ctx == ("a", 3):
                stopped.add("a")
    a_after = [r for (task, i), r in out if task == "a" and i > 3]
    assert a_after and all(r is None for r in a_after)
    assert [r[0] for (task, i), r in out if task == "b"] == [i * i for i in range(40, 48)]
