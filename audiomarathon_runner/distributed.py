"""torch.distributed sharding: ``torchrun --nproc-per-node N -m audiomarathon_runner run ...``.

Rank r evaluates samples r, r+N, r+2N, ... into predictions.rank{r}.jsonl; after a barrier rank 0
merges them into predictions.jsonl and writes results.json. Without torchrun (no WORLD_SIZE) this
is a single process and every call is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def shard(self, items: Sequence[T]) -> list[T]:
        return list(items[self.rank :: self.world_size])

    def barrier(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank (a decision all ranks must share)."""
        if self.world_size == 1:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def default_device(self) -> str:
        import torch

        return f"cuda:{self.local_rank}" if torch.cuda.is_available() else "cpu"


_CONTEXT = DistContext()


def setup() -> DistContext:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl on GPU)."""
    global _CONTEXT
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        _CONTEXT = DistContext()
        return _CONTEXT
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    _CONTEXT = DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return _CONTEXT


def current() -> DistContext:
    return _CONTEXT


def teardown() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
