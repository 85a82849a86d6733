"""Qwen2.5-Omni 3B/7B, thinker only (text output): native long audio, 25 tokens/s."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from .. import tiny_parts as tiny
from .base import (
    SAMPLING_RATE,
    AudioLMAdapter,
    AudioOnlyProcessor,
    whisper_frames,
    whisper_tokens,
)

if TYPE_CHECKING:  # annotations only: the family's facts load without numpy
    import numpy as np


class AudioOnlyOmniProcessor(AudioOnlyProcessor):
    """The audio half of ``Qwen2_5OmniProcessor``: tokenizer + Whisper feature extractor.

    The full processor cannot be built without torchvision (its Qwen2-VL video processor needs
    it) although audio-only evaluation never touches images or video. This reproduces its audio
    path exactly: features padded with ``padding="max_length"``, ``<|AUDIO|>`` expanded to
    ``((frames - 1) // 2 + 1 - 2) // 2 + 1`` tokens. One difference, on purpose: the processor pads
    (and truncates) every clip to one 30 s window unless told otherwise; here the pad length is the
    clip rounded up to whole windows, so 300 s clips reach the encoder whole (the model is native).
    """

    def __call__(self, text: str, audio: list[np.ndarray], return_tensors="pt"):
        from transformers import BatchFeature

        fe = self.feature_extractor
        window = fe.n_samples
        longest = max(a.size for a in audio)
        feats = fe(
            audio,
            sampling_rate=SAMPLING_RATE,
            padding="max_length",
            max_length=math.ceil(longest / window) * window,
            truncation=False,
            return_attention_mask=True,
            return_tensors="pt",
        )
        mask = feats.pop("attention_mask")
        counts = [whisper_tokens(int(n)) for n in mask.sum(-1).tolist()]
        if text.count(self.audio_token) != len(audio):
            raise ValueError(f"{text.count(self.audio_token)} {self.audio_token} in text for {len(audio)} audio entries")
        parts = text.split(self.audio_token)
        text = parts[0] + "".join(self.audio_token * n + rest for n, rest in zip(counts, parts[1:]))
        tokens = self.tokenizer([text], padding=False)
        return BatchFeature(
            data={**tokens, "input_features": feats["input_features"], "feature_attention_mask": mask},
            tensor_type=return_tensors,
        )


class Qwen2_5OmniThinkerAdapter(AudioLMAdapter):
    model_types = ("qwen2_5_omni_thinker", "qwen2_5_omni")
    model_class = "Qwen2_5OmniThinkerForConditionalGeneration"
    family = "Qwen2.5-Omni"
    # The model card's system prompt (its examples send it with every request; the chat template's
    # generic one applies otherwise). Only the thinker runs: text output.
    system_prompt = ("You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of "
                     "perceiving auditory and visual inputs, as well as generating text and speech.")
    decoder_view = "qwen2_5_omni"

    @classmethod
    def load_processor(cls, path, **kwargs):
        from transformers import AutoFeatureExtractor, AutoTokenizer

        return AudioOnlyOmniProcessor(
            AutoTokenizer.from_pretrained(path, **kwargs), AutoFeatureExtractor.from_pretrained(path, **kwargs)
        )

    @classmethod
    def load_model(cls, path, dtype, device, **kwargs):
        from transformers import PretrainedConfig

        config, _ = PretrainedConfig.get_config_dict(path, **kwargs)
        if config.get("model_type") == "qwen2_5_omni":
            # A full Omni checkpoint (thinker + talker + token2wav): load it without the speech
            # generator and keep the thinker, the part that writes text.
            from transformers import Qwen2_5OmniForConditionalGeneration

            full = Qwen2_5OmniForConditionalGeneration.from_pretrained(
                path, dtype=dtype, enable_audio_output=False, **kwargs
            )
            return full.thinker.to(device).eval()
        return super().load_model(path, dtype, device, **kwargs)

    def expected_audio_tokens(self, num_samples: int) -> int:
        return whisper_tokens(whisper_frames(num_samples, self.processor.feature_extractor.hop_length))

    def _process(self, text, entries):
        return self.processor(text=text, audio=entries, return_tensors="pt")

    # ------------------------------------------------------------ the tiny model
    # Special tokens by role (the keyword names the tokenizer takes them under).
    NAMED = dict(image_token="<|IMAGE|>", audio_token="<|AUDIO|>", video_token="<|VIDEO|>",
                 vision_bos_token="<|vision_bos|>", vision_eos_token="<|vision_eos|>",
                 audio_bos_token="<|audio_bos|>", audio_eos_token="<|audio_eos|>")

    @classmethod
    def tiny_config(cls, tokens):
        from transformers.models.qwen2_5_omni import Qwen2_5OmniThinkerConfig

        ids = tokens.ids
        return Qwen2_5OmniThinkerConfig(
            audio_config=tiny.whisper_encoder(n_window=100, output_dim=tiny.HIDDEN),
            vision_config=dict(depth=1, hidden_size=tiny.HIDDEN, intermediate_size=tiny.FFN, num_heads=tiny.HEADS,
                               out_hidden_size=tiny.HIDDEN, fullatt_block_indexes=[0]),
            text_config=tiny.text_config(tokens, rope_parameters={
                "rope_type": "default", "rope_theta": 1e6, "mrope_section": _mrope(tiny.HIDDEN // tiny.HEADS)}),
            audio_token_index=ids["audio_token"], image_token_index=ids["image_token"],
            video_token_index=ids["video_token"], audio_start_token_id=ids["audio_bos_token"],
            audio_end_token_id=ids["audio_eos_token"], vision_start_token_id=ids["vision_bos_token"],
            vision_end_token_id=ids["vision_eos_token"], user_token_id=ids["user"],
        )

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        # Qwen2_5OmniProcessor also requires a Qwen2VL video processor, which needs torchvision; the
        # adapter therefore uses the tokenizer + feature extractor (all audio-only evaluation needs),
        # so the tiny checkpoint saves exactly those.
        from transformers import WhisperFeatureExtractor

        specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *cls.NAMED.values()]
        tok = tiny.byte_level_tokenizer(specials, tiny.chatml("<|audio_bos|><|AUDIO|><|audio_eos|>"),
                                        eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        extra_special_tokens=cls.NAMED)
        config = cls.tiny_config(tiny.TinyTokens.of(tok, {**cls.NAMED, "user": "u"}))
        fe = WhisperFeatureExtractor(feature_size=128, chunk_length=30)
        return tiny.save(path, cls.random_model(config), tok, fe)


def _mrope(head_dim: int) -> list[int]:
    """Split head_dim/2 rotary frequencies over the (t, h, w) axes like Qwen's [16, 24, 24]."""
    half = head_dim // 2
    t = half // 4
    h = (half - t) // 2
    return [t, h, half - t - h]
