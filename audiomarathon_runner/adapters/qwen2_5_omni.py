"""Qwen2.5-Omni 3B/7B, thinker only (text output): native long audio, 25 tokens/s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

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
