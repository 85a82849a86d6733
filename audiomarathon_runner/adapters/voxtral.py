"""Mistral Voxtral Mini/Small: one audio entry, padded to whole 30 s chunks that the Whisper-style
encoder encodes independently (375 tokens per chunk at 12.5 tokens/s)."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from .base import SAMPLING_RATE, AudioLMAdapter

if TYPE_CHECKING:  # annotations only: the family's facts load without numpy
    import numpy as np


class AudioOnlyVoxtralProcessor:
    """``VoxtralProcessor``'s audio path without its ``apply_chat_template``, which is broken in
    transformers 5.2 (it reads a removed ``mm_load_kwargs`` field). The same steps: the Mistral
    tokenizer (mistral_common) renders the chat and pads the clip to whole chunks, then the
    Whisper feature extractor makes one 3,000-frame window per chunk."""

    audio_token_id = 24  # fixed by VoxtralProcessor for every checkpoint

    def __init__(self, tokenizer, feature_extractor):
        self.tokenizer = tokenizer
        self.feature_extractor = feature_extractor

    @staticmethod
    def audio_kwargs() -> dict:
        """VoxtralProcessor's own feature-extractor defaults (pad to 480,000 samples, 3,000 frames)."""
        from transformers.models.voxtral.processing_voxtral import (
            VoxtralProcessorKwargs,
        )

        return dict(VoxtralProcessorKwargs._defaults["audio_kwargs"])

    @staticmethod
    def _wav(clip: np.ndarray) -> bytes:
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, clip, SAMPLING_RATE, format="WAV", subtype="FLOAT")  # lossless for float32
        return buf.getvalue()

    def __call__(self, prompt: str, audio: list[np.ndarray], system: str | None = None):
        content = [{"type": "audio", "base64": base64.b64encode(self._wav(clip)).decode()} for clip in audio]
        content.append({"type": "text", "text": prompt})
        head = [{"role": "system", "content": system}] if system is not None else []
        enc = self.tokenizer.apply_chat_template([*head, {"role": "user", "content": content}], tokenize=True,
                                                 return_dict=True)
        return self._features(enc["input_ids"], enc["attention_mask"], enc["audio"])

    def transcription(self, audio: list[np.ndarray], language: str | None):
        """The model's transcription mode, as ``VoxtralProcessor.apply_transcription_request`` builds
        it: an OpenAI-style transcription request encoded by the Mistral tokenizer
        ([INST][BEGIN_AUDIO][AUDIO]...[/INST]lang:xx[TRANSCRIBE]), then the same features."""
        from mistral_common.protocol.transcription.request import TranscriptionRequest

        if len(audio) != 1:
            raise ValueError(f"a transcription request takes one clip, got {len(audio)}")
        request = TranscriptionRequest.from_openai({"file": io.BytesIO(self._wav(audio[0])), "language": language})
        enc = self.tokenizer.tokenizer.encode_transcription(request)
        return self._features(enc.tokens, [1] * len(enc.tokens), [a.audio_array for a in enc.audios])

    def _features(self, input_ids: list[int], attention_mask: list[int], padded_audio):
        import torch
        from transformers import BatchFeature

        kwargs = self.audio_kwargs()
        window = kwargs.pop("max_source_positions")
        feats = []
        for padded in padded_audio:
            f = self.feature_extractor(padded, return_tensors="pt", **kwargs)["input_features"]
            feats.append(f.reshape(self.feature_extractor.feature_size, -1, window).transpose(0, 1))
        return BatchFeature(data={"input_ids": [input_ids], "attention_mask": [attention_mask],
                                  "input_features": torch.cat(feats)}, tensor_type="pt")


class VoxtralAdapter(AudioLMAdapter):
    model_types = ("voxtral",)
    model_class = "VoxtralForConditionalGeneration"
    family = "Voxtral"
    # The model card's speech recognition goes through this mode (apply_transcription_request).
    has_transcription_mode = True

    @classmethod
    def load_processor(cls, path, **kwargs):
        # AutoProcessor would convert tekken.json into a plain tokenizer without Voxtral's audio
        # handling; the Mistral backend (mistral_common) is what the checkpoints are made for.
        import importlib.util

        if importlib.util.find_spec("mistral_common") is None:
            raise ImportError(f"{path}: Voxtral's Tekken tokenizer needs mistral_common "
                              "(pip install mistral_common==1.9.1; newer releases require numpy < 2.4)")
        from transformers import AutoFeatureExtractor
        from transformers.tokenization_mistral_common import MistralCommonBackend

        return AudioOnlyVoxtralProcessor(MistralCommonBackend.from_pretrained(path, **kwargs),
                                         AutoFeatureExtractor.from_pretrained(path, **kwargs))

    def _chunk(self) -> int:
        return int(self.processor.feature_extractor.chunk_length * SAMPLING_RATE)

    def expected_audio_tokens(self, num_samples: int) -> int:
        chunks = -(-num_samples // self._chunk())
        per_chunk = self.model.config.audio_config.max_source_positions // 4  # 1,500 encoder frames / 4
        return chunks * per_chunk

    def render_text(self, prompt: str, n_audio: int, system: str | None = None) -> str:
        return prompt  # the Mistral tokenizer renders the chat itself (in _chat_inputs)

    def _chat_inputs(self, prompt, entries, system):
        return self.processor(prompt, entries, system=system)

    def _process(self, text, entries):
        return self.processor(text, entries)

    def _transcription(self, entries, language):
        return self.processor.transcription(entries, language)

    def describe(self) -> dict:
        return {**super().describe(), "long_audio": "native: whole 30 s chunks, each encoded independently"}
