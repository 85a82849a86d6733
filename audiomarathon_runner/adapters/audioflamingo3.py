"""NVIDIA Audio Flamingo 3: the processor cuts the clip into 30 s windows (up to 600 s)."""

from __future__ import annotations

from pathlib import Path

from .. import tiny_parts as tiny
from .base import (
    NATIVE,
    SAMPLING_RATE,
    AudioLMAdapter,
    LongAudioPolicy,
    whisper_frames,
    whisper_tokens,
)


class AudioFlamingo3Adapter(AudioLMAdapter):
    model_types = ("audioflamingo3",)
    model_class = "AudioFlamingo3ForConditionalGeneration"
    family = "Audio Flamingo 3"

    @property
    def policy(self) -> LongAudioPolicy:
        # One <sound> entry; the processor windows it itself. Beyond max_audio_len it would
        # silently truncate, so longer clips are refused instead.
        return LongAudioPolicy(NATIVE, max_seconds=float(self.processor.max_audio_len))

    def _window(self) -> int:
        return int(SAMPLING_RATE * self.processor.feature_extractor.chunk_length)

    def expected_audio_tokens(self, num_samples: int) -> int:
        hop = self.processor.feature_extractor.hop_length
        w = self._window()
        frames = sum(whisper_frames(min(w, num_samples - i), hop) for i in range(0, num_samples, w))
        return whisper_tokens(frames)

    def _process(self, text, entries):
        (audio,) = entries
        return self.processor(text=text, audio=audio, return_tensors="pt")

    # ------------------------------------------------------------ the tiny model
    @classmethod
    def tiny_config(cls, tokens):
        from transformers import AudioFlamingo3Config

        return AudioFlamingo3Config(
            audio_config=tiny.whisper_encoder(tiny.COMMON_NAMES),
            text_config=tiny.text_config(tokens),
            audio_token_id=tokens.ids["audio_token"],
        )

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        from transformers import AudioFlamingo3Processor

        return tiny.save_chatml_tiny(cls, path, AudioFlamingo3Processor, "<sound>", "<sound>", "<sound>")
