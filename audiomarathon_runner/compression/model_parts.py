"""Finding the text decoder of a (multimodal) HF model through public accessors."""
from __future__ import annotations

from torch import nn


def _has_decoder_layers(module: nn.Module) -> bool:
    layers = getattr(module, "layers", None)
    return isinstance(layers, nn.ModuleList) and len(layers) > 0 and hasattr(layers[0], "self_attn")


def text_decoder(model: nn.Module) -> nn.Module:
    """The module that owns the text decoder layers (e.g. Qwen2Model).

    The text decoder is the one that embeds the model's input tokens: among the modules holding
    decoder layers, the one whose input embeddings are the model's (``get_input_embeddings()``).
    Attribute paths moved between transformers releases; these accessors did not. Audio/vision
    encoders also hold ``layers`` and are never picked."""
    if _has_decoder_layers(model):
        return model
    get_emb = getattr(model, "get_input_embeddings", None)
    embeddings = get_emb() if callable(get_emb) else None
    candidates = [m for m in model.modules() if m is not model and _has_decoder_layers(m)]
    for module in candidates:
        sub_emb = getattr(module, "get_input_embeddings", None)
        try:
            if embeddings is not None and callable(sub_emb) and sub_emb() is embeddings:
                return module
        except (NotImplementedError, AttributeError):
            continue
    names = ", ".join(type(m).__name__ for m in candidates) or "none"
    raise ValueError(
        f"cannot find the text decoder of {type(model).__name__} (modules with decoder layers: {names})"
    )


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    return text_decoder(model).layers


def final_norm(decoder: nn.Module) -> nn.Module:
    """The norm the decoder applies to its last layer's output before the LM head."""
    norm = getattr(decoder, "norm", None)
    if not isinstance(norm, nn.Module):
        raise ValueError(f"{type(decoder).__name__} has no final norm module `norm`: DART cannot compare "
                         "normed states on this model")
    return norm
