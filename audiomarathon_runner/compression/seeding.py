"""Seeds for the random methods: one CPU generator per (seed, sample, layer).

Drawing on the CPU makes a run reproducible across devices (CUDA's generator draws other numbers);
mixing in the sample id makes the choices of two samples of the same length independent, and the
layer makes every layer of a KV-cache press evict its own subset.
"""
from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, sample: object, layer: int) -> int:
    """A 63-bit seed from (seed, sample id, layer), stable across processes and platforms."""
    digest = hashlib.sha256(f"{int(seed)}\x1f{sample!s}\x1f{int(layer)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def generator(seed: int, sample: object, layer: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(derive_seed(seed, sample, layer))
