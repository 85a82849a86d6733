"""Microsoft Phi-4-multimodal-instruct (transformers-native port): native long audio, 12.5 tokens/s."""

from __future__ import annotations

import numpy as np

from .base import SAMPLING_RATE, AudioLMAdapter, AudioOnlyProcessor


class AudioOnlyPhi4Processor(AudioOnlyProcessor):
    """The audio half of ``Phi4MultimodalProcessor`` (whose fast image processor needs
    torchvision): the feature extractor's ``audio_embed_sizes`` give how many ``<|audio|>`` tokens
    each placeholder becomes, exactly as the processor does."""

    def __init__(self, tokenizer, feature_extractor):
        super().__init__(tokenizer, feature_extractor)
        self.audio_processor = feature_extractor  # the attribute name Phi-4's processor uses

    def __call__(self, text: str, audio: list[np.ndarray], return_tensors="pt"):
        from transformers import BatchFeature

        feats = self.feature_extractor(audio, sampling_rate=SAMPLING_RATE, return_tensors="pt")
        sizes = [int(n) for n in feats["audio_embed_sizes"].tolist()]
        if text.count(self.audio_token) != len(audio):
            raise ValueError(f"{text.count(self.audio_token)} {self.audio_token} in text for {len(audio)} audio entries")
        parts = text.split(self.audio_token)
        text = parts[0] + "".join(self.audio_token * n + rest for n, rest in zip(sizes, parts[1:]))
        tokens = self.tokenizer([text], padding=False)
        return BatchFeature(data={**tokens, **feats}, tensor_type=return_tensors)


class Phi4MultimodalAdapter(AudioLMAdapter):
    model_types = ("phi4_multimodal",)
    model_class = "Phi4MultimodalForCausalLM"
    family = "Phi-4-multimodal"
    audio_encoder_names = ("audio_embed",)

    @classmethod
    def load_processor(cls, path, **kwargs):
        from transformers import AutoFeatureExtractor, AutoTokenizer

        return AudioOnlyPhi4Processor(
            AutoTokenizer.from_pretrained(path, **kwargs), AutoFeatureExtractor.from_pretrained(path, **kwargs)
        )

    def expected_audio_tokens(self, num_samples: int) -> int:
        fe = self.processor.feature_extractor
        frames = ((num_samples - fe.win_length) // fe.hop_length + 1) * fe.audio_feat_stride
        tokens = -(-frames // fe.audio_compression_rate)
        return -(-tokens // fe.audio_downsample_rate)

    def _process(self, text, entries):
        return self.processor(text=text, audio=entries, return_tensors="pt")
