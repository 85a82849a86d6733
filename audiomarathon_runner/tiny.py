"""Tiny random audio LLMs with working processors, built entirely in-process (no downloads), and
their text decoders alone, for tests, the demo and the CPU benchmarks.

Each family's tiny model is its adapter's (``AudioLMAdapter.tiny_config`` / ``build_tiny``, from the
parts and sizes of ``tiny_parts``): the family's real transformers class, saved with
``save_pretrained`` so the runner loads it through the same ``from_pretrained`` path a user hits.

    save_tiny_model("qwen2_audio", tmp_path / "m")   # a whole model, keyed by config.json's model_type
    build_tiny_decoder("gemma3n")                     # its text decoder alone (compression tests)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from .adapters import ADAPTERS, AudioLMAdapter, Gemma3nAdapter
from .tiny_parts import DECODER_TOKENS, DECODER_VOCAB

# The families with a tiny model, by the model_type their config.json records (the adapter
# registry's key). Voxtral's tokenizer needs mistral_common (optional): listed only where it is
# installed, so loops over every family elsewhere keep working without it.
TINY_FAMILIES: dict[str, type[AudioLMAdapter]] = {
    cls.model_types[0]: cls for cls in dict.fromkeys(ADAPTERS.values())
    if cls is not ADAPTERS.get("voxtral") or importlib.util.find_spec("mistral_common") is not None
}


def _distinct_decoders() -> dict[str, type[AudioLMAdapter]]:
    """One family per kind of text decoder (Audio Flamingo 3's language model is Qwen2-Audio's)."""
    seen: dict[str, type[AudioLMAdapter]] = {}
    for cls in dict.fromkeys(ADAPTERS.values()):
        kind = type(cls.tiny_config(DECODER_TOKENS).get_text_config()).__name__
        seen.setdefault(kind, cls)
    return {cls.model_types[0]: cls for cls in seen.values()}


# The tiny text decoders, one per decoder kind, by a model_type of their family.
TINY_DECODERS: dict[str, type[AudioLMAdapter]] = _distinct_decoders()
VOCAB = DECODER_VOCAB
# The tiny Gemma-3n processor alone (it builds without timm, unlike the model).
gemma3n_processor = Gemma3nAdapter.tiny_processor


def save_tiny_model(family: str, path: str | Path, seed: int = 0) -> Path:
    """Build the tiny model + processor of ``family`` (a TINY_FAMILIES key) and save both to ``path``.

    Same seed => same weights. Returns the directory, ready for ``load_adapter(path)``.
    """
    if family not in TINY_FAMILIES:
        raise KeyError(f"no tiny builder for {family!r}; available: {', '.join(TINY_FAMILIES)}")
    from transformers.utils import logging as hf_logging

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    # A one-shard model of a few MB: save_pretrained's "Writing model shards" bar would be noise.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return TINY_FAMILIES[family].build_tiny(Path(path))
    finally:
        torch.random.set_rng_state(state)
        if bars:
            hf_logging.enable_progress_bar()


def build_tiny_decoder(family: str, seed: int = 0, attn_implementation: str = "sdpa") -> torch.nn.Module:
    """The tiny text decoder of ``family`` (a TINY_DECODERS key), random with ``seed``, in eval mode."""
    if family not in TINY_DECODERS:
        raise ValueError(f"unknown tiny decoder family {family!r}; known: {', '.join(TINY_DECODERS)}")
    torch.manual_seed(seed)
    model = TINY_DECODERS[family].tiny_decoder()
    model.set_attn_implementation(attn_implementation)
    return model.eval()


def tiny_prompt(n_audio: int = 60, n_before: int = 8, n_after: int = 24, seed: int = 0):
    """(inputs, audio_mask) for a tiny decoder: text, an audio span of n_audio tokens, text. Ids
    avoid the pad/end/begin ids and the special tokens' (the top of the vocabulary)."""
    gen = torch.Generator().manual_seed(seed)
    n = n_before + n_audio + n_after
    ids = torch.randint(3, VOCAB - 10, (1, n), generator=gen)
    audio_mask = torch.zeros(n, dtype=torch.bool)
    audio_mask[n_before:n_before + n_audio] = True
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, audio_mask
