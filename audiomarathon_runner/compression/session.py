"""``compression_session``: the one way in for compressed generation."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from .config import CompressionConfig
from .guards import batch_of_inputs, check_batch_one, check_not_compiled, check_unpadded
from .model_parts import text_decoder
from .stats import CompressionStats, record_cache


def _prefill_cache_recorder(decoder: nn.Module, stats: CompressionStats):
    """Forward hook on the text decoder: after the first (prefill) call, record the cache size."""
    state = {"done": False}

    def hook(module, args, kwargs, output):
        if state["done"]:
            return
        state["done"] = True
        cache = getattr(output, "past_key_values", None) or kwargs.get("past_key_values")
        if cache is not None:
            record_cache(stats, cache)

    return decoder.register_forward_hook(hook, with_kwargs=True)


def _padding_guard(decoder: nn.Module):
    """Forward pre-hook on the text decoder: a prefill's padding mask must mark no padding (catches masks
    handed to the model directly, not through ``inputs``)."""

    def hook(module, args, kwargs):
        cache = kwargs.get("past_key_values")
        if cache is None or cache.get_seq_length() == 0:
            check_unpadded(kwargs.get("attention_mask"), f"the attention_mask passed to {type(module).__name__}")

    return decoder.register_forward_pre_hook(hook, with_kwargs=True)


@contextlib.contextmanager
def compression_session(
    model: nn.Module, inputs, audio_mask: torch.Tensor, config: CompressionConfig, sample: object = None
) -> Iterator[CompressionStats]:
    """Apply ``config`` to every forward of ``model`` inside the block (wrap ``model.generate``).

    ``inputs``: the processor output of one sample (batch size 1); ``audio_mask``: BoolTensor[seq_len]
    marking the audio-token positions of ``inputs["input_ids"]``. Yields a :class:`CompressionStats`
    that is filled in during prefill. Method ``none`` changes nothing (it only records the cache size).
    ``sample``: the sample's id; random methods draw from a generator seeded by (seed, sample, layer).
    Batches of more than one sample, padded samples, static caches and compiled models are refused
    (ValueError).
    """
    from .apply import APPLIERS  # local: keeps config validation import-light

    audio_mask = torch.as_tensor(audio_mask, dtype=torch.bool).flatten()
    batch = batch_of_inputs(inputs)
    if batch is not None:
        check_batch_one(batch)
    for name in ("input_ids", "inputs_embeds"):
        value = inputs[name] if name in inputs else None
        if isinstance(value, torch.Tensor) and value.dim() >= 2 and value.shape[1] != audio_mask.numel():
            raise ValueError(f"audio_mask has {audio_mask.numel()} positions but {name} has {value.shape[1]} tokens")
    if config.active:
        check_not_compiled(model)
        check_unpadded(inputs["attention_mask"] if "attention_mask" in inputs else None, 'inputs["attention_mask"]')
    is_prune = config.kind == "prune"
    stats = CompressionStats(
        method=config.method,
        ratio=float(config.ratio),
        layer=config.layer if is_prune else None,
        press_scope=config.press_scope if config.kind == "press" else None,
        seed=config.seed,
        prompt_tokens=audio_mask.numel(),
        audio_tokens=int(audio_mask.sum()),
    )
    decoder = text_decoder(model)
    n_layers = len(decoder.layers)
    stats.kept_audio_tokens_per_layer = [stats.audio_tokens] * n_layers
    with contextlib.ExitStack() as stack:
        handle = _prefill_cache_recorder(decoder, stats)
        stack.callback(handle.remove)
        if config.active:
            stack.callback(_padding_guard(decoder).remove)
            stack.enter_context(APPLIERS[config.kind](model, decoder, audio_mask, config, stats, sample))
        yield stats
