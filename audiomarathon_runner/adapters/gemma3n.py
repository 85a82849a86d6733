"""Google Gemma-3n E2B/E4B: a fixed 188 audio tokens per clip of at most 30 s."""

from __future__ import annotations

from .base import SAMPLING_RATE, SEGMENTS, AudioLMAdapter, LongAudioPolicy


class Gemma3nAdapter(AudioLMAdapter):
    model_types = ("gemma3n",)
    model_class = "Gemma3nForConditionalGeneration"
    family = "Gemma-3n"
    # The model card's examples open with this system turn (the template folds it into the user turn).
    system_prompt = "You are a helpful assistant."

    @property
    def policy(self) -> LongAudioPolicy:
        # The feature extractor truncates at 480,000 samples (30 s): longer clips are split.
        return LongAudioPolicy(SEGMENTS, segment_seconds=30.0)

    def expected_audio_tokens(self, num_samples: int) -> int:
        seg = int(self.policy.segment_seconds * SAMPLING_RATE)
        return self.processor.audio_seq_length * (-(-num_samples // seg))

    def _process(self, text, entries):
        return self.processor(text=text, audio=entries, sampling_rate=SAMPLING_RATE, return_tensors="pt")
