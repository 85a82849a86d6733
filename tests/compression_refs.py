"""Rules of the compression methods typed out a second time, from their written definitions, for the
tests to check the package against (nothing here imports the package's compression code).

* kept count (README, "Compression"): the ratio is the share of audio tokens removed; removed =
  floor(ratio × n) on the ratio as written in decimal, kept = n − removed. Computed here in integer
  parts per billion, not with the package's fractions.
* seeds of the random methods: a CPU ``torch.Generator`` seeded with the first 8 bytes (little-endian)
  of SHA-256 over ``"{seed}\\x1f{sample}\\x1f{layer}"``, top bit cleared.
"""
import hashlib

import torch

PPB = 10**9


def expected_kept(n_audio: int, ratio: float) -> int:
    parts = round(ratio * PPB)
    assert abs(ratio * PPB - parts) < 1e-3, f"ratio {ratio!r} has more than 9 decimals"
    return n_audio - n_audio * parts // PPB


def expected_generator(seed: int, sample, layer: int) -> torch.Generator:
    digest = hashlib.sha256(("%d\x1f%s\x1f%d" % (seed, sample, layer)).encode("utf-8")).digest()
    return torch.Generator(device="cpu").manual_seed(int.from_bytes(digest[:8], "little") % 2**63)


def strictly_decided(scores: torch.Tensor, keep: int, rtol: float = 1e-5) -> bool:
    """Whether the top ``keep`` of ``scores`` (1-D) are set apart from the rest by more than ``rtol`` of
    the boundary scores: no tie, and no rounding noise, can decide the kept set."""
    if keep <= 0 or keep >= scores.numel():
        return True
    ordered = scores.double().sort(descending=True).values
    inside, outside = float(ordered[keep - 1]), float(ordered[keep])
    return inside - outside > rtol * max(abs(inside), abs(outside))
