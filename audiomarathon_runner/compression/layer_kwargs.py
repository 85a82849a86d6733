"""How to cut a decoder-layer call down to the kept tokens (which arguments are sequence-aligned:
the family's view, ``decoder_views.py``).

A decoder layer is called as ``layer(hidden_states, ..., **kwargs)``; every argument aligned with the
sequence must be sliced to the kept positions at layer K and after during prefill. Positions are
*selected*, not renumbered: RoPE cos/sin (1-D, Qwen's 3-axis M-RoPE, partial rotary) keep the values
of the kept tokens' original positions, so the cache and the decode steps stay on the original axis.
"""
from __future__ import annotations

import inspect
from typing import Callable

import torch
from torch import nn

from .decoder_views import view_of

# Slicing kinds: how an argument is aligned with the sequence.
#   seq  : tensor (or tuple of tensors) with the sequence on dim -2 ([B, L, D], cos/sin [.., B, L, d])
#   pos  : tensor with the sequence on dim -1 (position_ids [B, L] / [3, B, L], cache_position [L])
#   mask : attention mask [B, 1, Lq, Lk]: rows and columns


def _take(t, dim: int, index: torch.Tensor, full_len: int):
    if isinstance(t, torch.Tensor):
        if t.dim() >= -dim and t.shape[dim] == full_len:
            return t.index_select(dim, index.to(t.device))
        return t
    if isinstance(t, (tuple, list)):
        return type(t)(_take(x, dim, index, full_len) for x in t)
    return t


def slice_seq(value, index, full_len):
    return _take(value, -2, index, full_len)


def slice_pos(value, index, full_len):
    return _take(value, -1, index, full_len)


def slice_mask(value, index, full_len):
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"token pruning supports tensor or None attention masks, got {type(value).__name__} "
            "(flex attention BlockMask is not supported; use sdpa, eager or flash attention)"
        )
    return _take(_take(value, -2, index, full_len), -1, index, full_len)


SLICERS: dict[str, Callable] = {"seq": slice_seq, "pos": slice_pos, "mask": slice_mask}


def bind_call(layer: nn.Module, args: tuple, kwargs: dict) -> dict:
    """Name every positional argument of a decoder-layer call (Gemma-3n passes several positionally)."""
    params = list(inspect.signature(layer.forward).parameters.values())
    named = dict(kwargs)
    for param, value in zip(params, args):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"cannot name positional arguments of {type(layer).__name__}.forward")
        named[param.name] = value
    return named


def slice_call(layer: nn.Module, args: tuple, kwargs: dict, index: torch.Tensor, full_len: int) -> dict:
    """All arguments of the call as keywords, the sequence-aligned ones cut to ``index``."""
    named = bind_call(layer, args, kwargs)
    for name, kind in view_of(layer).call.arguments.items():
        if name in named:
            named[name] = SLICERS[kind](named[name], index, full_len)
    return named
