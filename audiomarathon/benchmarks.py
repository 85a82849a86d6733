"""The benchmarks the toolkit evaluates, each with its tasks, dataset configs and scoring.

The registry itself lives beside the tasks it groups (``audiomarathon.tasks``: ``Benchmark``,
``BENCHMARKS``), so that a task selection ("foundation", "mmar") resolves in one place; this module
is the benchmark-level view of it. A new benchmark is its tasks and one ``Benchmark`` entry there.
"""

from __future__ import annotations

from .tasks import ALL_TASKS, BENCHMARKS, Benchmark, Task, UnknownTaskError, get_task

__all__ = ["BENCHMARKS", "Benchmark", "UnknownBenchmarkError", "UnknownTaskError", "all_tasks", "benchmark_of", "get_benchmark"]


class UnknownBenchmarkError(KeyError, ValueError):
    """Raised for a name that is neither a benchmark's name nor its key."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_benchmark(name_or_key: str) -> Benchmark:
    """A benchmark by its name ("AIR-Bench Foundation") or key ("airbench-foundation"), any case."""
    wanted = str(name_or_key).strip().lower()
    for b in BENCHMARKS.values():
        if wanted in (b.name.lower(), b.key):
            return b
    raise UnknownBenchmarkError(
        f"unknown benchmark {name_or_key!r}; valid: " + ", ".join(f"{b.name} ({b.key})" for b in BENCHMARKS.values()))


def benchmark_of(task: Task | str) -> Benchmark:
    """The benchmark a task (or a task's config name or abbreviation) belongs to."""
    found = task if isinstance(task, Task) else get_task(task)
    return BENCHMARKS[found.benchmark]


def all_tasks() -> tuple[Task, ...]:
    """Every benchmark's tasks, in registry order."""
    return ALL_TASKS

