"""LMMs-Lab Aero-1-Audio (``lmms-lab/Aero-1-Audio-1.5B``): a Whisper-style audio encoder, a projector and
a Qwen2.5-1.5B decoder, shipped as the checkpoint's own Python code (``trust_remote_code``), not as a
transformers class. Loaded the way its model card and the benchmark authors' scripts load it:
``AutoProcessor`` / ``AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)``.

Long audio as the authors feed it: the clip cut into 30 s pieces (480,000 samples at 16 kHz), one
audio entry each; the processor expands each entry's placeholder to that piece's encoder tokens.
The text decoder is transformers' own Qwen2 (``language_model``), so the compression code finds its
layers, final norm and attention as for Qwen2-Audio.
"""

from __future__ import annotations

from pathlib import Path

from .. import tiny_parts as tiny
from .base import (
    SAMPLING_RATE,
    SEGMENTS,
    AudioLMAdapter,
    LongAudioPolicy,
    whisper_frames,
    whisper_tokens,
)

# The authors' split_audio: CHUNK_LIM = 480000 samples at 16 kHz.
AERO_WINDOW_SECONDS = 30.0


class AeroAdapter(AudioLMAdapter):
    model_types = ("aero",)
    model_class = "AeroForConditionalGeneration"  # the checkpoint's own class (auto_map), not transformers'
    family = "Aero-1"
    remote_code = True

    @property
    def policy(self) -> LongAudioPolicy:
        return LongAudioPolicy(SEGMENTS, segment_seconds=AERO_WINDOW_SECONDS)

    @property
    def feature_extractor(self):
        return getattr(self.processor, "feature_extractor", None) or self.processor.audio_processor

    def expected_audio_tokens(self, num_samples: int) -> int:
        hop = self.feature_extractor.hop_length
        seg = int(self.policy.segment_seconds * SAMPLING_RATE)
        return sum(whisper_tokens(whisper_frames(min(seg, num_samples - i), hop)) for i in range(0, num_samples, seg))

    def _process(self, text, entries):
        # The authors' call: processor(text=prompt, audios=chunks, sampling_rate=16000).
        return self.processor(text=text, audios=entries, sampling_rate=SAMPLING_RATE, return_tensors="pt")

    # ------------------------------------------------------------ loading (the checkpoint's own code)
    @classmethod
    def load_processor(cls, path: str, **kwargs):
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(path, trust_remote_code=True, **kwargs)

    @classmethod
    def load_model(cls, path: str, dtype, device, **kwargs):
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, trust_remote_code=True, **kwargs)
        return model.to(device).eval()

    # ------------------------------------------------------------ the tiny model (remote code of ours)
    @classmethod
    def tiny_config(cls, tokens):
        from ..tiny_remote.configuration_aero import AeroConfig

        return AeroConfig(audio_config={"model_type": "qwen2_audio_encoder", **tiny.whisper_encoder()},
                          text_config={"model_type": "qwen2", **tiny.text_config(tokens)},
                          audio_token_index=tokens.ids["audio_token"])

    @classmethod
    def random_model(cls, config):
        from ..tiny_remote.modeling_aero import AeroForConditionalGeneration

        return AeroForConditionalGeneration(config)

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        """The tiny checkpoint with its code: config.json / processor_config.json name the classes in
        ``auto_map`` and ``save_pretrained`` copies their .py files beside the weights."""
        from ..tiny_remote.configuration_aero import AeroConfig
        from ..tiny_remote.modeling_aero import AeroForConditionalGeneration
        from ..tiny_remote.processing_aero import AeroProcessor

        proc, tokens = tiny.chatml_processor(AeroProcessor, "<|audio_bos|><|AUDIO|><|audio_eos|>", "<|AUDIO|>",
                                             "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")
        AeroConfig.register_for_auto_class()
        AeroForConditionalGeneration.register_for_auto_class("AutoModelForCausalLM")
        AeroProcessor.register_for_auto_class("AutoProcessor")
        return tiny.save(path, cls.random_model(cls.tiny_config(tokens)), proc)
