"""Finding the text decoder of a (multimodal) HF model through public accessors."""
from __future__ import annotations

from torch import nn


def text_decoder(model: nn.Module) -> nn.Module:
    """The module that owns the decoder layers (e.g. Qwen2Model), found via ``get_decoder()``
    (attribute paths moved between transformers releases, the accessor did not)."""
    seen = set()
    module = model
    while id(module) not in seen:
        seen.add(id(module))
        if isinstance(getattr(module, "layers", None), nn.ModuleList):
            return module
        get = getattr(module, "get_decoder", None)
        nxt = get() if callable(get) else None
        if nxt is None or nxt is module:
            break
        module = nxt
    for sub in model.modules():  # last resort: the first module holding decoder layers with self_attn
        layers = getattr(sub, "layers", None)
        if isinstance(layers, nn.ModuleList) and len(layers) and hasattr(layers[0], "self_attn"):
            return sub
    raise ValueError(f"cannot find the text decoder layers of {type(model).__name__}")


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    return text_decoder(model).layers
