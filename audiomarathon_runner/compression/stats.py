"""What a compressed generation actually did (realized numbers, not the nominal ratio)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch


@dataclass
class CompressionStats:
    method: str
    ratio: float  # nominal: fraction of audio tokens removed
    layer: int | None  # pruning layer K (None for presses / none)
    press_scope: str | None  # presses only
    seed: int
    prompt_tokens: int = 0
    audio_tokens: int = 0
    # Audio tokens each decoder layer saw during prefill (pruning) or kept in the cache it reads (presses;
    # mean over KV heads, a KV-shared layer counts its source's). A layer the method leaves alone counts
    # every audio token, a sliding-window layer too: its window is the model's, not a removal.
    kept_audio_tokens_per_layer: list[float] = field(default_factory=list)
    # Sequence length held in each layer's KV cache right after prefill.
    kv_cache_tokens_per_layer: list[int] = field(default_factory=list)
    kv_cache_bytes: int = 0
    prune_ms: float = 0.0  # time spent choosing/slicing tokens (pruning) or compressing (presses)

    @property
    def realized_ratio(self) -> float:
        """Fraction of audio tokens removed, averaged over layers (fastv 0.5 at K = 2 of 4 layers: 0.25)."""
        if not self.audio_tokens or not self.kept_audio_tokens_per_layer:
            return 0.0
        kept = sum(self.kept_audio_tokens_per_layer) / len(self.kept_audio_tokens_per_layer)
        return 1.0 - kept / self.audio_tokens

    def to_dict(self) -> dict:
        d = asdict(self)
        d["realized_ratio"] = round(self.realized_ratio, 6)
        return d


def cache_layer_tensors(cache) -> list[tuple[torch.Tensor, torch.Tensor] | None]:
    """(keys, values) per layer of a transformers Cache (DynamicCache & friends, 5.x layout)."""
    out = []
    for layer in getattr(cache, "layers", []):
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if isinstance(keys, torch.Tensor) and isinstance(values, torch.Tensor) and keys.numel():
            out.append((keys, values))
        else:
            out.append(None)
    return out


def record_cache(stats: CompressionStats, cache) -> None:
    """Fill the KV-cache length per layer and total bytes from a cache right after prefill."""
    layers = cache_layer_tensors(cache)
    stats.kv_cache_tokens_per_layer = [kv[0].shape[-2] if kv else 0 for kv in layers]
    stats.kv_cache_bytes = sum(
        k.numel() * k.element_size() + v.numel() * v.element_size() for kv in layers if kv for k, v in [kv]
    )
