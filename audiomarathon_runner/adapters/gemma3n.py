"""Google Gemma-3n E2B/E4B: a fixed 188 audio tokens per clip of at most 30 s."""

from __future__ import annotations

from pathlib import Path

from .. import tiny_parts as tiny
from .base import SAMPLING_RATE, SEGMENTS, AudioLMAdapter, LongAudioPolicy


class Gemma3nAdapter(AudioLMAdapter):
    model_types = ("gemma3n",)
    model_class = "Gemma3nForConditionalGeneration"
    family = "Gemma-3n"
    # The model card's examples open with this system turn (the template folds it into the user turn).
    system_prompt = "You are a helpful assistant."
    decoder_view = "gemma3n"

    @property
    def policy(self) -> LongAudioPolicy:
        # The feature extractor truncates at 480,000 samples (30 s): longer clips are split.
        return LongAudioPolicy(SEGMENTS, segment_seconds=30.0)

    def expected_audio_tokens(self, num_samples: int) -> int:
        seg = int(self.policy.segment_seconds * SAMPLING_RATE)
        return self.processor.audio_seq_length * (-(-num_samples // seg))

    def _process(self, text, entries):
        return self.processor(text=text, audio=entries, sampling_rate=SAMPLING_RATE, return_tensors="pt")

    # ------------------------------------------------------------ the tiny model
    NAMED = dict(image_token="<image_soft_token>", boi_token="<start_of_image>", eoi_token="<end_of_image>",
                 audio_token="<audio_soft_token>", boa_token="<start_of_audio>", eoa_token="<end_of_audio>")
    TINY_LAYERS = 6  # the last two share earlier layers' caches, as the real checkpoints' do

    @classmethod
    def tiny_config(cls, tokens):
        from transformers import Gemma3nConfig

        layers = cls.TINY_LAYERS
        ids = tokens.ids
        return Gemma3nConfig(
            text_config=tiny.text_config(
                tokens, num_hidden_layers=layers, vocab_size_per_layer_input=tokens.vocab_size,
                hidden_size_per_layer_input=8, head_dim=tiny.HIDDEN // tiny.HEADS,
                layer_types=["sliding_attention", "full_attention"] * (layers // 2), num_kv_shared_layers=2,
                activation_sparsity_pattern=[0.0] * layers, altup_num_inputs=2, laurel_rank=4,
                sliding_window=16),  # shorter than every test prompt, as 512 is for 300 s of audio
            audio_config=dict(vocab_size=8, hidden_size=tiny.HIDDEN, conf_num_hidden_layers=1,
                              conf_num_attention_heads=tiny.HEADS, sscp_conv_channel_size=[8, 8], input_feat_size=128),
            audio_soft_tokens_per_image=188,
            audio_token_id=ids["audio_token"], boa_token_id=ids["boa_token"], eoa_token_id=ids["eoa_token"],
            image_token_id=ids["image_token"], boi_token_id=ids["boi_token"], eoi_token_id=ids["eoi_token"],
        )

    @classmethod
    def tiny_processor(cls):
        """The tiny model's processor alone (it builds without timm, unlike the model)."""
        from transformers import Gemma3nAudioFeatureExtractor, Gemma3nProcessor, SiglipImageProcessor

        specials = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", *cls.NAMED.values()]
        role = "{{ 'model' if message['role'] == 'assistant' else message['role'] }}"
        template = tiny.chat_template(f"<start_of_turn>{role}\n", "<end_of_turn>\n", "<audio_soft_token>",
                                      "<start_of_turn>model\n", start="{{ bos_token }}")
        tok = tiny.byte_level_tokenizer(specials, template, eos_token="<end_of_turn>", pad_token="<pad>",
                                        bos_token="<bos>", extra_special_tokens=cls.NAMED)
        return Gemma3nProcessor(feature_extractor=Gemma3nAudioFeatureExtractor(),
                                image_processor=SiglipImageProcessor(), tokenizer=tok, chat_template=template,
                                audio_seq_length=188)

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        # Gemma3nForConditionalGeneration always builds a timm vision tower: needs timm (+torchvision).
        proc = cls.tiny_processor()
        tok = proc.tokenizer
        config = cls.tiny_config(tiny.TinyTokens.of(tok, cls.NAMED, bos=tok.bos_token_id))
        return tiny.save(path, cls.random_model(config), proc)
