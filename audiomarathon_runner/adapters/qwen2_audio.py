"""Qwen2-Audio-7B(-Instruct): Whisper encoder limited to one 30 s window per audio entry."""

from __future__ import annotations

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
