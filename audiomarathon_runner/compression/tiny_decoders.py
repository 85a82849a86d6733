"""Tiny random text decoders of every supported family, for compression tests and the CPU benchmark.

Compression acts on the text decoder only, so each entry builds the family's real transformers class
(the language model of Qwen2-Audio / Audio Flamingo 3 = Qwen2, Voxtral = Llama, the Qwen2.5-Omni
thinker with its 3-axis M-RoPE, Phi-4-multimodal with fused qkv and partial RoPE, Gemma-3n with AltUp,
per-layer inputs, sliding layers and KV sharing) with 4+ decoder layers, so that layer K=2 has layers
on both sides. A prompt is a run of text, an "audio" span of placeholder ids, and more text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

VOCAB = 128
HIDDEN = 64
HEADS = 4
KV_HEADS = 2
LAYERS = 4
FFN = 128


def _common(**extra) -> dict:
    cfg = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
               num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=4096,
               pad_token_id=0, eos_token_id=1, bos_token_id=2, tie_word_embeddings=False)
    cfg.update(extra)
    return cfg


def _qwen2() -> nn.Module:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    return Qwen2ForCausalLM(Qwen2Config(**_common()))


def _llama() -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    return LlamaForCausalLM(LlamaConfig(**_common(head_dim=HIDDEN // HEADS)))


def _qwen2_5_omni() -> nn.Module:
    from transformers.models.qwen2_5_omni import Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration

    half = HIDDEN // HEADS // 2
    config = Qwen2_5OmniThinkerConfig(
        audio_config=dict(d_model=32, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32,
                          n_window=50, output_dim=HIDDEN, num_mel_bins=16, max_source_positions=100),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=32, num_heads=2, out_hidden_size=HIDDEN,
                           fullatt_block_indexes=[0]),
        text_config=_common(rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                             "mrope_section": [half // 4, (half - half // 4) // 2,
                                                               half - half // 4 - (half - half // 4) // 2]}),
        audio_token_index=VOCAB - 1, image_token_index=VOCAB - 2, video_token_index=VOCAB - 3,
        audio_start_token_id=VOCAB - 4, audio_end_token_id=VOCAB - 5, vision_start_token_id=VOCAB - 6,
        vision_end_token_id=VOCAB - 7, user_token_id=VOCAB - 8,
    )
    return Qwen2_5OmniThinkerForConditionalGeneration(config)


def _phi4_multimodal() -> nn.Module:
    from transformers import Phi4MultimodalConfig, Phi4MultimodalForCausalLM

    config = Phi4MultimodalConfig(
        **_common(original_max_position_embeddings=4096,
                  rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}),
        vision_config=dict(hidden_size=32, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=28, crop_size=28, patch_size=14, image_token_id=VOCAB - 2),
        audio_config=dict(hidden_size=32, intermediate_size=32, num_blocks=1, num_attention_heads=2,
                          ext_pw_out_channel=32, depthwise_separable_out_channel=32, nemo_conv_channels=32,
                          input_size=80, audio_token_id=VOCAB - 1),
    )
    return Phi4MultimodalForCausalLM(config)


def _gemma3n() -> nn.Module:
    from transformers import Gemma3nForCausalLM, Gemma3nTextConfig

    layers = 6
    config = Gemma3nTextConfig(**_common(
        num_hidden_layers=layers, vocab_size_per_layer_input=VOCAB, hidden_size_per_layer_input=8,
        head_dim=HIDDEN // HEADS, activation_sparsity_pattern=[0.0] * layers, altup_num_inputs=2, laurel_rank=4,
        layer_types=["sliding_attention", "full_attention"] * 3, num_kv_shared_layers=2,
        sliding_window=16,  # shorter than every test prompt, as 512 is for 300 s of audio
    ))
    return Gemma3nForCausalLM(config)


@dataclass(frozen=True)
class TinyDecoder:
    build: Callable[[], nn.Module]
    models: str  # which evaluated models use this decoder family


TINY_DECODERS: dict[str, TinyDecoder] = {
    "qwen2": TinyDecoder(_qwen2, "Qwen2-Audio-7B-Instruct, Audio Flamingo 3 (Qwen2 LM)"),
    "llama": TinyDecoder(_llama, "Voxtral Mini 3B (Llama LM)"),
    "qwen2_5_omni": TinyDecoder(_qwen2_5_omni, "Qwen2.5-Omni thinker (3-axis M-RoPE)"),
    "phi4_multimodal": TinyDecoder(_phi4_multimodal, "Phi-4-multimodal (fused qkv, partial RoPE)"),
    "gemma3n": TinyDecoder(_gemma3n, "Gemma-3n (AltUp, per-layer inputs, sliding + KV-shared layers)"),
}


def build_tiny_decoder(family: str, seed: int = 0, attn_implementation: str = "sdpa") -> nn.Module:
    if family not in TINY_DECODERS:
        raise ValueError(f"unknown tiny decoder family {family!r}; known: {', '.join(TINY_DECODERS)}")
    torch.manual_seed(seed)
    model = TINY_DECODERS[family].build()
    model.set_attn_implementation(attn_implementation)
    return model.eval()


def tiny_prompt(n_audio: int = 60, n_before: int = 8, n_after: int = 24, seed: int = 0):
    """(inputs, audio_mask): text, an audio span of n_audio tokens, text. Ids avoid the special range."""
    gen = torch.Generator().manual_seed(seed)
    n = n_before + n_audio + n_after
    ids = torch.randint(3, VOCAB - 10, (1, n), generator=gen)
    audio_mask = torch.zeros(n, dtype=torch.bool)
    audio_mask[n_before:n_before + n_audio] = True
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, audio_mask
