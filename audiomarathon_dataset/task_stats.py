"""What a config of a dataset folder holds: counted by the writer, shown by the card."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TaskStats:
    task: str
    n: int = 0
    total_seconds: float = 0.0
    min_seconds: float = float("inf")
    max_seconds: float = 0.0
    num_bytes: int = 0
    shards: list[str] = field(default_factory=list)

    def add(self, duration: float) -> None:
        self.n += 1
        self.total_seconds += duration
        self.min_seconds = min(self.min_seconds, duration)
        self.max_seconds = max(self.max_seconds, duration)

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.n if self.n else 0.0
