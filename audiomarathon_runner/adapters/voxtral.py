"""Mistral Voxtral Mini/Small: one audio entry, padded to whole 30 s chunks that the Whisper-style
encoder encodes independently (375 tokens per chunk at 12.5 tokens/s)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING

from .. import tiny_parts as tiny
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

    # ------------------------------------------------------------ the tiny model
    @classmethod
    def tiny_config(cls, tokens):
        from transformers import VoxtralConfig

        return VoxtralConfig(
            # intermediate_size = 4 x hidden, as the real 5120 = 4 x 1280: the projector takes four
            # encoder frames per token, 12.5 tokens/s, the rate mistral_common counts the tokens at
            audio_config=tiny.whisper_encoder(tiny.COMMON_NAMES, intermediate_size=4 * tiny.HIDDEN,
                                              num_key_value_heads=tiny.HEADS),
            text_config=tiny.text_config(tokens, head_dim=tiny.HIDDEN // tiny.HEADS),
            audio_token_id=tokens.ids["audio_token"],
        )

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        import json
        import tempfile

        from transformers import VoxtralProcessor, WhisperFeatureExtractor
        from transformers.tokenization_mistral_common import MistralCommonBackend

        with tempfile.TemporaryDirectory() as tmp:  # the backend copies its file on save: build it apart
            (Path(tmp) / "tekken.json").write_text(json.dumps(tekken_model_data()), encoding="utf-8")
            tok = MistralCommonBackend.from_pretrained(tmp)
            proc = VoxtralProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok)
            tokens = tiny.TinyTokens(len(tok), pad=11, eos=2, bos=1, ids={"audio_token": proc.audio_token_id})
            return tiny.save(path, cls.random_model(cls.tiny_config(tokens)), proc)


# Tekken special tokens in the order of the real Voxtral checkpoints: VoxtralProcessor hard-codes
# [AUDIO] = 24; [BEGIN_AUDIO] = 25, [TRANSCRIBE] = 34. Unnamed ranks get mistral_common's fillers.
_TEKKEN_SPECIALS = {
    0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]", 5: "[AVAILABLE_TOOLS]", 6: "[/AVAILABLE_TOOLS]",
    7: "[TOOL_RESULTS]", 8: "[/TOOL_RESULTS]", 9: "[TOOL_CALLS]", 10: "[IMG]", 11: "<pad>", 12: "[IMG_BREAK]",
    13: "[IMG_END]", 14: "[PREFIX]", 15: "[MIDDLE]", 16: "[SUFFIX]", 17: "[SYSTEM_PROMPT]", 18: "[/SYSTEM_PROMPT]",
    19: "[TOOL_CONTENT]", 20: "[ARGS]", 21: "[CALL_ID]", 24: "[AUDIO]", 25: "[BEGIN_AUDIO]", 34: "[TRANSCRIBE]",
}
_TEKKEN_NUM_SPECIAL = 100
# mistral_common's tekken pre-tokenizer pattern (tiktoken syntax).
_TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)


def tekken_model_data(frame_rate: float = 12.5, chunk_seconds: float = 30.0) -> dict:
    """A byte-level Tekken tokenizer (256 byte tokens, no merges, 100 special tokens) with Voxtral's
    audio settings, as the ``tekken.json`` mapping mistral_common reads."""
    import base64

    names = max(_TEKKEN_SPECIALS) + 1
    specials = [{"rank": i, "token_str": _TEKKEN_SPECIALS.get(i, f"<SPECIAL_{i}>"), "is_control": True}
                for i in range(names)]
    vocab = [{"rank": b, "token_bytes": base64.b64encode(bytes([b])).decode(), "token_str": None} for b in range(256)]
    return {
        "config": {"pattern": _TEKKEN_PATTERN, "num_vocab_tokens": 256, "default_vocab_size": 256 + _TEKKEN_NUM_SPECIAL,
                   "default_num_special_tokens": _TEKKEN_NUM_SPECIAL, "version": "v11"},
        "vocab": vocab,
        "special_tokens": specials,
        "audio": {"sampling_rate": 16000, "frame_rate": frame_rate, "chunk_length_s": chunk_seconds,
                  "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400}},
    }
