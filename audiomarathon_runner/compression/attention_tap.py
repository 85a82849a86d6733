"""A tap on a decoder layer's attention call: sees the exact (post-norm, post-RoPE) query/key tensors.

transformers' attention modules look their attention function up by the name in
``config._attn_implementation``: ``eager`` is the modeling file's own ``eager_attention_forward``, every
other name (sdpa, flash_attention_2, a user-registered kernel, ...) an entry of the modeling file's
``ALL_ATTENTION_FUNCTIONS``. The tap wraps *that entry* in a pass-through dispatcher: modules without a
tap call the original unchanged, tapped modules call their callback first. The name is never changed,
so implementations that look things up by it (flash attention finds its kernel from the config name)
keep working, and no attention matrix is requested. The entry is restored when the last tap on it is
removed (unless someone wrapped it meanwhile, as kvpress does at import; then the dispatcher stays and
passes every call through).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

from torch import nn

_TAP_ATTR = "_audiomarathon_tap"


@dataclass
class _Slot:
    """Where one modeling file looks one attention implementation up."""

    key: tuple
    get: Callable[[], Callable]
    set: Callable[[Callable], None]
    restore: Callable[[Callable], None]


@dataclass
class _Installed:
    dispatcher: Callable
    original: Callable
    users: int = 0


_INSTALLED: dict[tuple, _Installed] = {}


def attention_scaling(module: nn.Module, query, kwargs: dict) -> float:
    """The factor the model's own attention multiplies q·k by: the ``scaling`` its attention call passes,
    else the module's ``scaling`` (Gemma-3n: 1.0, its q/k norms replace 1/sqrt(d)), else 1/sqrt(d)."""
    for value in (kwargs.get("scaling"), getattr(module, "scaling", None)):
        if value is not None:
            return float(value)
    return query.shape[-1] ** -0.5


def _dispatcher(original: Callable) -> Callable:
    def attention(module, query, key, value, attention_mask, *args, **kwargs):
        callback = module.__dict__.get(_TAP_ATTR)
        if callback is not None:
            key, value, attention_mask = callback(module, query, key, value, attention_mask, kwargs)
        return original(module, query, key, value, attention_mask, *args, **kwargs)

    attention.__wrapped__ = original
    return attention


def _slot(attn: nn.Module) -> _Slot:
    name = attn.config._attn_implementation or "eager"  # None dispatches to the eager default too
    modeling = sys.modules[type(attn).__module__]
    if name == "eager":
        if not hasattr(modeling, "eager_attention_forward"):
            raise ValueError(f"{type(attn).__name__}: attention implementation 'eager' has no "
                             f"eager_attention_forward in {modeling.__name__} to tap")
        return _Slot(("eager", modeling.__name__), lambda: modeling.eager_attention_forward,
                     lambda f: setattr(modeling, "eager_attention_forward", f),
                     lambda f: setattr(modeling, "eager_attention_forward", f))
    interface = getattr(modeling, "ALL_ATTENTION_FUNCTIONS", None)
    if interface is None or name not in interface:
        raise ValueError(f"{type(attn).__name__}: attention implementation {name!r} is not registered in "
                         "transformers' AttentionInterface, cannot tap it")
    local = getattr(interface, "_local_mapping", {})
    had_local = name in local

    def restore(original):
        if had_local:
            interface[name] = original
        else:
            local.pop(name, None)  # back to the class-wide entry, which later registrations update

    return _Slot((name, id(interface)), lambda: interface[name], lambda f: interface.__setitem__(name, f), restore)


def install_tap(attn: nn.Module, callback: Callable) -> Callable[[], None]:
    """``callback(module, query, key, value, attention_mask, kwargs) -> (key, value, attention_mask)``
    runs before every attention call of ``attn``, inside the model's own attention implementation; what
    it returns is what the implementation attends with. Returns the function that removes the tap."""
    if not hasattr(attn, "config"):
        raise ValueError(f"{type(attn).__name__} has no config: cannot tap its attention call")
    if _TAP_ATTR in attn.__dict__:
        raise RuntimeError(f"{type(attn).__name__} (layer {getattr(attn, 'layer_idx', '?')}) is already tapped")
    slot = _slot(attn)
    installed = _INSTALLED.get(slot.key)
    if installed is None or not _wraps(slot.get(), installed.dispatcher):
        original = slot.get()
        installed = _Installed(_dispatcher(original), original)
        slot.set(installed.dispatcher)
        _INSTALLED[slot.key] = installed
    installed.users += 1
    attn.__dict__[_TAP_ATTR] = callback

    def remove() -> None:
        if attn.__dict__.pop(_TAP_ATTR, None) is None:
            return
        installed.users -= 1
        if installed.users == 0 and _INSTALLED.get(slot.key) is installed:
            del _INSTALLED[slot.key]
            if slot.get() is installed.dispatcher:
                slot.restore(installed.original)

    return remove


def _wraps(function: Callable, target: Callable) -> bool:
    """Whether ``function`` reaches ``target`` through closures (kvpress re-wraps every entry at import)."""
    seen = set()
    stack = [function]
    while stack:
        f = stack.pop()
        if f is target:
            return True
        if id(f) in seen:
            continue
        seen.add(id(f))
        for cell in getattr(f, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:  # empty cell
                continue
            if callable(content):
                stack.append(content)
    return False
