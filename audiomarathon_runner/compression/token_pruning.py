"""Audio-token pruning at decoder layer K during prefill (hooks; no model code is copied).

* layer 0 pre-hook: tells prefill (full prompt, empty cache) from decode steps;
* layer K-1 attention tap (FastV, DART): keeps the last prompt token's query row and the keys —
  the tensors the model itself attends with (RoPE applied, GQA unexpanded); no L×L map is formed;
* layer >= K pre-hooks: at layer K the pruner chooses the audio tokens to keep; every layer from K on
  gets its hidden states and sequence-aligned arguments cut to the kept positions (see layer_kwargs);
* layer >= K attention taps, decode steps: the attention mask (built for the unpruned length) gets
  the key columns of the kept positions, so decoding continues at the original next position.
  Sliding-window layers count their window in original positions, in prefill (the mask is cut at the
  kept indices) and in decode (keys that fell out of the window are dropped, the mask rebuilt).
The cache therefore holds L entries for layers < K and L' for layers >= K.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .attention_tap import attention_scaling, install_tap
from .config import CompressionConfig
from .guards import check_batch_one, check_dynamic_cache
from .decoder_views import view_of
from .layer_kwargs import slice_call
from .model_parts import final_norm
from .pruning import DARTPruner, PruneContext, make_pruner
from .stats import CompressionStats


@dataclass
class _State:
    prompt_len: int
    audio_positions: torch.Tensor
    phase: str = "idle"  # idle | prefill | decode
    keep_index: torch.Tensor | None = None  # prompt positions seen by layers >= K
    keep_cpu: torch.Tensor | None = None  # the same on the CPU: decode steps index it without a device sync
    decoded: int = 0  # tokens fed after the prompt so far (the current step's included)
    captured: dict = field(default_factory=dict)

    def last_positions(self, n: int) -> torch.Tensor:
        """Original positions (CPU) of the last ``n`` tokens of the sequence layers >= K hold: the kept
        prompt tokens, then every decoded one."""
        end = self.prompt_len + self.decoded
        if n <= self.decoded:
            return torch.arange(end - n, end)
        if n > self.decoded + self.keep_cpu.numel():
            raise RuntimeError(f"a layer attends to {n} keys but only {self.keep_cpu.numel()} prompt tokens were "
                               f"kept and {self.decoded} decoded")
        return torch.cat([self.keep_cpu[self.keep_cpu.numel() - (n - self.decoded):], torch.arange(self.prompt_len, end)])


def _sync(t: torch.Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


def _seq_len(hidden: torch.Tensor) -> int:
    return hidden.shape[-2]


def _bool_to_additive(mask_row: torch.Tensor) -> torch.Tensor:
    if mask_row.dtype != torch.bool and not mask_row.is_floating_point():  # 0/1 padding mask
        mask_row = mask_row.bool()
    if mask_row.dtype == torch.bool:
        return torch.zeros(mask_row.shape, dtype=torch.float32, device=mask_row.device).masked_fill(
            ~mask_row, float("-inf")
        )
    return mask_row.float()


@contextlib.contextmanager
def token_pruning(model: nn.Module, decoder: nn.Module, audio_mask: torch.Tensor, config: CompressionConfig,
                  stats: CompressionStats, sample: object = None):
    layers = decoder.layers
    k = config.layer
    if k >= len(layers):
        raise ValueError(f"pruning layer K={k} but the text decoder has only {len(layers)} layers")
    _check_kv_sharing(layers, k)
    pruner = make_pruner(config.method, config.ratio, config.seed, sample=sample, layer=k)
    norm = final_norm(decoder) if isinstance(pruner, DARTPruner) else None
    state = _State(prompt_len=audio_mask.numel(), audio_positions=torch.nonzero(audio_mask).flatten())
    removers = []

    def phase_hook(module, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        cache = kwargs.get("past_key_values")
        check_batch_one(view_of(module).call.batch_size(module, hidden))
        check_dynamic_cache(cache)
        empty = cache is None or cache.get_seq_length() == 0
        if _seq_len(hidden) == state.prompt_len and empty:
            state.phase, state.keep_index, state.decoded = "prefill", None, 0
            state.captured.clear()
        elif state.keep_index is not None:
            state.phase = "decode"
            state.decoded += _seq_len(hidden)
        else:
            state.phase = "idle"  # a forward that is not ours (no prefill seen): leave it alone
        return None

    def capture(module, query, key, value, attention_mask, kwargs):
        if state.phase == "prefill":
            length = key.shape[-2]
            mask_row = None
            if isinstance(attention_mask, torch.Tensor):
                # 4-D [B, 1, Lq, Lk] (eager, sdpa) or 2-D [B, Lk] padding mask (flash attention)
                row = attention_mask[0, 0, -1] if attention_mask.dim() == 4 else attention_mask[0]
                mask_row = _bool_to_additive(row[-length:])
            window = _sliding_window(module, kwargs)
            if window is not None and length > window:  # flash kernels get no mask: apply the window here
                outside = torch.arange(length, device=key.device) < length - window
                base = mask_row if mask_row is not None else torch.zeros(length, device=key.device)
                mask_row = base.masked_fill(outside, float("-inf"))  # not in place: may view the model's mask
            state.captured.update(
                query_last=query[0, :, -1].detach(),
                keys=key[0].detach(),
                scaling=attention_scaling(module, query, kwargs),
                softcap=kwargs.get("softcap"),
                mask_row=mask_row,
            )
        return key, value, attention_mask

    def decode_mask(module, query, key, value, attention_mask, kwargs):
        if state.phase == "prefill":
            window = _sliding_window(module, kwargs)
            if window is not None and state.prompt_len > window and not (
                    isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4):
                raise ValueError(
                    f"token pruning on sliding-window layer {module.layer_idx} needs a 4-D attention mask to keep "
                    f"its window in original positions; attention implementation "
                    f"{module.config._attn_implementation!r} passes none: use sdpa or eager")
            return key, value, attention_mask
        if state.phase != "decode":
            return key, value, attention_mask
        window = _sliding_window(module, kwargs)
        if window is not None:
            return _sliding_decode(state, query, key, value, attention_mask, window)
        if not isinstance(attention_mask, torch.Tensor):
            return key, value, attention_mask
        # Masks are built for the unpruned cache length; keep the kept positions' key columns.
        kv_len = key.shape[-2]
        cols = attention_mask.shape[-1]
        if cols == kv_len:
            return key, value, attention_mask
        keep = state.keep_index.to(attention_mask.device)
        if cols > state.prompt_len and cols - state.prompt_len + keep.numel() == kv_len:
            tail = torch.arange(state.prompt_len, cols, device=attention_mask.device)
            return key, value, attention_mask.index_select(-1, torch.cat([keep, tail]))
        raise RuntimeError(f"attention mask has {cols} key columns but layer attends to {kv_len} keys")

    def prune_hook(module, args, kwargs):
        if state.phase != "prefill":
            return None
        hidden = args[0] if args else kwargs["hidden_states"]
        if state.keep_index is None:  # this is layer K: choose
            if _seq_len(hidden) != state.prompt_len:
                raise RuntimeError(f"layer {k} got {_seq_len(hidden)} tokens, expected the prompt's {state.prompt_len}")
            _sync(hidden)
            start = time.perf_counter()
            state.keep_index = _choose(module, hidden, pruner, state, k, norm)
            state.keep_cpu = state.keep_index.cpu()
            _sync(hidden)  # honest timing on GPUs (the step ends in a host-side count anyway)
            stats.prune_ms += (time.perf_counter() - start) * 1000.0
            kept = state.keep_index.numel() - (state.prompt_len - state.audio_positions.numel())
            stats.kept_audio_tokens_per_layer = [stats.audio_tokens] * k + [kept] * (len(layers) - k)
        if state.keep_index.numel() == state.prompt_len:
            return None  # nothing removed: leave the call untouched (bit-identical to no pruning)
        return (), slice_call(module, args, kwargs, state.keep_index, state.prompt_len)

    try:
        removers.append(layers[0].register_forward_pre_hook(phase_hook, with_kwargs=True).remove)
        if pruner.needs_attention:
            removers.append(install_tap(layers[k - 1].self_attn, capture))
        for layer in layers[k:]:
            removers.append(layer.register_forward_pre_hook(prune_hook, with_kwargs=True).remove)
            removers.append(install_tap(layer.self_attn, decode_mask))
        yield state
    finally:
        for remove in reversed(removers):
            remove()


def _sliding_window(attn: nn.Module, kwargs: dict) -> int | None:
    """The window of a sliding-window attention layer (keys less than this many positions back), or None."""
    window = kwargs.get("sliding_window")
    if window is None:
        window = getattr(attn, "sliding_window", None)
    return int(window) if window else None


def _sliding_decode(state: _State, query, key, value, attention_mask, window: int):
    """A decode step of a pruned sliding-window layer. Its cache holds the last keys of the kept sequence,
    which after pruning may reach back further than ``window`` original positions: those keys are dropped
    and the mask rebuilt from the original positions (the model's mask counts cache slots)."""
    q_len, kv_len = query.shape[-2], key.shape[-2]
    key_pos = state.last_positions(kv_len)
    query_pos = key_pos[-q_len:]
    visible = (key_pos[None] <= query_pos[:, None]) & (query_pos[:, None] - key_pos[None] < window)
    drop = int((~visible.any(dim=0)).int().cumprod(0).sum())  # leading keys out of every query's window
    key, value, visible = key[..., drop:, :], value[..., drop:, :], visible[:, drop:]
    if isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4:
        visible = visible.to(key.device)
        shape = (attention_mask.shape[0], attention_mask.shape[1], q_len, visible.shape[-1])
        if attention_mask.dtype == torch.bool:
            attention_mask = visible.expand(shape)
        else:
            blocked = torch.finfo(attention_mask.dtype).min
            attention_mask = torch.zeros(shape, dtype=attention_mask.dtype, device=key.device).masked_fill(
                ~visible, blocked)
    elif not bool(visible.all()):
        raise RuntimeError("a decode step of several tokens on a pruned sliding-window layer needs a 4-D mask")
    return key, value, attention_mask


def _choose(layer: nn.Module, hidden: torch.Tensor, pruner, state: _State, k: int,
            norm: nn.Module | None) -> torch.Tensor:
    """Prompt positions that layers >= K keep: every non-audio token plus the chosen audio tokens."""
    audio = state.audio_positions.to(hidden.device)
    if pruner.needs_attention and "keys" not in state.captured:
        raise RuntimeError(f"{pruner.name}: layer {k - 1}'s attention inputs were not captured")
    primary = view_of(layer).call.primary_hidden(layer, hidden)
    ctx = PruneContext(
        audio_positions=audio,
        hidden_states=primary,
        normed_hidden=norm(primary) if norm is not None else None,
        query_last=state.captured.get("query_last"),
        keys=state.captured.get("keys"),
        scaling=state.captured.get("scaling"),
        mask_row=state.captured.get("mask_row"),
        softcap=state.captured.get("softcap"),
    )
    kept_audio = audio[pruner.select(ctx)]
    state.captured.clear()  # drop the references to layer K-1's keys
    keep = torch.ones(state.prompt_len, dtype=torch.bool, device=hidden.device)
    keep[audio] = False
    keep[kept_audio] = True
    return torch.nonzero(keep).flatten()


def _check_kv_sharing(layers: nn.ModuleList, k: int) -> None:
    """Gemma-3n's last layers reuse an earlier layer's keys; that layer must be pruned too."""
    for idx, layer in enumerate(layers[k:], start=k):
        src = getattr(layer.self_attn, "kv_shared_layer_index", None)
        if getattr(layer.self_attn, "is_kv_shared_layer", False) and src is not None and src < k:
            raise ValueError(
                f"layer {idx} reuses the keys of layer {src} < K={k}: choose K <= {src} for this model"
            )
