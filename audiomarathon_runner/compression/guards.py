"""Settings compression cannot honour, refused with an error naming the option.

Pruning and presses change the length of each layer's cache after prefill. A static cache keeps its
pre-allocated slots (pruned positions would stay as zero holes that decoding attends to), a
``torch.compile``d model does not run the Python hooks the way eager modules do, the audio mask
describes one sample, and padding would shift the key columns decode steps keep (a press keeps other
positions in each head, so no single mask could hide padded keys): each is refused rather than run
with silently wrong results.
"""
from __future__ import annotations

import torch
from torch import nn

# Cache layers whose length follows what is stored in them (transformers' DynamicCache layers).
DYNAMIC_LAYERS = ("DynamicLayer", "DynamicSlidingWindowLayer")


def check_batch_one(batch: int) -> None:
    if batch != 1:
        raise ValueError(f"compression works on one sample at a time, got batch size {batch} "
                         "(use --batch-size 1 / one sample per generate call)")


def check_unpadded(attention_mask, where: str) -> None:
    """A 2-D padding mask (1 = token, 0 = padding) must mark no padding."""
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return
    padded = int((~attention_mask.bool()).sum())
    if padded:
        raise ValueError(f"compression needs an unpadded sample, but {where} marks {padded} padding "
                         "position(s): pass one sample without padding (no padding='max_length', no "
                         "pad_to_multiple_of)")


def check_dynamic_cache(cache) -> None:
    """``cache`` (a transformers Cache or None) must be a dynamic cache."""
    if cache is None:
        return
    layers = getattr(cache, "layers", None)
    if layers is None:
        raise ValueError(f"compression needs transformers' DynamicCache, got past_key_values of type "
                         f"{type(cache).__name__}")
    for layer in layers:
        if type(layer).__name__ not in DYNAMIC_LAYERS:
            raise ValueError(
                f"compression needs a dynamic KV cache, got {type(cache).__name__} with {type(layer).__name__} "
                "layers: do not set cache_implementation (e.g. 'static') in generate / the generation config, "
                "and pass no pre-allocated past_key_values"
            )


def check_not_compiled(model: nn.Module) -> None:
    compiled = isinstance(model, torch._dynamo.eval_frame.OptimizedModule) or any(
        getattr(m, "_compiled_call_impl", None) is not None for m in model.modules()
    )
    if compiled:
        raise ValueError("compression cannot run on a torch.compile'd model (its hooks would not run as "
                         "written): pass the model uncompiled (no torch.compile / model.compile())")
    cache_impl = getattr(getattr(model, "generation_config", None), "cache_implementation", None)
    if cache_impl not in (None, "dynamic"):
        raise ValueError(f"compression needs a dynamic KV cache, but the model's generation_config sets "
                         f"cache_implementation={cache_impl!r}: set it to None")


def batch_of_inputs(inputs) -> int | None:
    """The batch size of a processor output, from whichever sequence input it carries."""
    for name in ("input_ids", "inputs_embeds", "attention_mask"):
        value = inputs[name] if name in inputs else None
        if isinstance(value, torch.Tensor) and value.dim() >= 2:
            return value.shape[0]
    return None
