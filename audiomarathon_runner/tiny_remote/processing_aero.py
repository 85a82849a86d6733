"""The processor of a tiny Aero-shaped audio LLM (remote code of the test checkpoint): each audio
placeholder of the prompt stands for one clip of at most 30 s (a Whisper window) and is expanded
to as many placeholder tokens as the encoder gives for the clip's length."""

import numpy as np
from transformers import BatchFeature, ProcessorMixin


class AeroProcessor(ProcessorMixin):
    def __init__(self, feature_extractor=None, tokenizer=None, chat_template=None, audio_token="<|AUDIO|>"):
        self.audio_token = audio_token
        self.audio_token_id = tokenizer.convert_tokens_to_ids(audio_token)
        super().__init__(feature_extractor, tokenizer, chat_template=chat_template)

    @staticmethod
    def _tokens(frames):
        return ((frames - 1) // 2 + 1 - 2) // 2 + 1

    def __call__(self, text=None, audios=None, audio=None, sampling_rate=16000, return_tensors=None, **kwargs):
        clips = audios if audios is not None else audio
        if isinstance(clips, np.ndarray):
            clips = [clips]
        out = {}
        if clips:
            feats = self.feature_extractor(clips, sampling_rate=sampling_rate, return_attention_mask=True,
                                           padding="max_length", return_tensors="pt")
            counts = [self._tokens(int(n)) for n in feats["attention_mask"].sum(-1)]
            pieces = text.split(self.audio_token)
            if len(pieces) - 1 != len(counts):
                raise ValueError(f"{len(pieces) - 1} audio placeholders in the text for {len(counts)} clips")
            text = pieces[0] + "".join(self.audio_token * n + rest for n, rest in zip(counts, pieces[1:]))
            out = {"input_features": feats["input_features"], "feature_attention_mask": feats["attention_mask"]}
        encoded = self.tokenizer(text, return_tensors=return_tensors, **kwargs)
        return BatchFeature({**encoded, **out}, tensor_type=return_tensors)
