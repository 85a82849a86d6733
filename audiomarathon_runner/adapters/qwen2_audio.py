"""Qwen2-Audio-7B(-Instruct): Whisper encoder limited to one 30 s window per audio entry."""

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


class Qwen2AudioAdapter(AudioLMAdapter):
    model_types = ("qwen2_audio",)
    model_class = "Qwen2AudioForConditionalGeneration"
    family = "Qwen2-Audio"
    # The model card's audio-analysis example (also its chat template's default system turn).
    system_prompt = "You are a helpful assistant."

    @property
    def policy(self) -> LongAudioPolicy:
        # The encoder's position table covers exactly one feature-extractor window (30 s on the
        # real checkpoints): longer clips become several "Audio k:" entries in one user turn.
        return LongAudioPolicy(SEGMENTS, segment_seconds=float(self.processor.feature_extractor.chunk_length))

    def expected_audio_tokens(self, num_samples: int) -> int:
        hop = self.processor.feature_extractor.hop_length
        seg = int(self.policy.segment_seconds * SAMPLING_RATE)
        sizes = [min(seg, num_samples - i) for i in range(0, num_samples, seg)]
        return sum(whisper_tokens(whisper_frames(s, hop)) for s in sizes)

    def _process(self, text, entries):
        return self.processor(text=text, audio=entries, sampling_rate=SAMPLING_RATE, return_tensors="pt")

    # ------------------------------------------------------------ the tiny model
    @classmethod
    def tiny_config(cls, tokens):
        from transformers import Qwen2AudioConfig

        return Qwen2AudioConfig(
            audio_config=tiny.whisper_encoder(),
            text_config=tiny.text_config(tokens),
            audio_token_index=tokens.ids["audio_token"],
        )

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        from transformers import Qwen2AudioProcessor

        # 30 s windows (3,000 frames) as the real checkpoints', so the long-audio policy is real.
        return tiny.save_chatml_tiny(cls, path, Qwen2AudioProcessor,
                                     "Audio {{ loop.index }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n",
                                     "<|AUDIO|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")
