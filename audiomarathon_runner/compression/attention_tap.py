"""A tap on a decoder layer's attention call: sees the exact (post-norm, post-RoPE) query/key tensors.

transformers' attention modules dispatch through ``ALL_ATTENTION_FUNCTIONS[config._attn_implementation]``.
We give the tapped modules a private copy of their config naming our registered function, which calls
a per-module callback and then the original implementation (SDPA, eager, flash, ...). Nothing else in
the model changes, no attention matrix is requested, and removing the tap restores the shared config.
"""
from __future__ import annotations

import copy
import sys
from typing import Callable

from torch import nn
from transformers import AttentionInterface

try:
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
except ImportError:  # moved in a later release: an interface instance reads the same global mapping
    ALL_ATTENTION_FUNCTIONS = AttentionInterface()

TAP_NAME = "audiomarathon_tap"
_TAP_ATTR = "_audiomarathon_tap"


def _tapped_attention(module, query, key, value, attention_mask, *args, **kwargs):
    # kvpress's import-time patch re-wraps every registered function (ours too) and passes dropout
    # positionally; eager functions take `scaling` there, so hand it on by name.
    if args:
        kwargs["dropout"] = args[0]
    tap = module.__dict__[_TAP_ATTR]
    attention_mask = tap.callback(module, query, key, attention_mask, kwargs)
    return tap.original(module, query, key, value, attention_mask, **kwargs)


AttentionInterface.register(TAP_NAME, _tapped_attention)


class _Tap:
    def __init__(self, original: Callable, callback: Callable):
        self.original = original
        self.callback = callback


def _original_attention(module: nn.Module) -> Callable:
    name = module.config._attn_implementation
    if name in (None, "eager"):
        # Each modeling file has its own eager function (softcapping, sinks, ...): use the module's.
        return sys.modules[type(module).__module__].eager_attention_forward
    return ALL_ATTENTION_FUNCTIONS[name]


def install_tap(attn: nn.Module, callback: Callable) -> Callable[[], None]:
    """``callback(module, query, key, attention_mask, kwargs) -> attention_mask`` runs before every
    attention call of ``attn``. Returns the function that removes the tap."""
    if not hasattr(attn, "config"):
        raise ValueError(f"{type(attn).__name__} has no config: cannot tap its attention call")
    original_config = attn.config
    attn.__dict__[_TAP_ATTR] = _Tap(_original_attention(attn), callback)
    tapped = copy.deepcopy(original_config)
    tapped._attn_implementation = TAP_NAME
    attn.config = tapped

    def remove() -> None:
        attn.config = original_config
        attn.__dict__.pop(_TAP_ATTR, None)

    return remove
