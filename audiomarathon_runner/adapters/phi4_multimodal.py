"""Microsoft Phi-4-multimodal-instruct (transformers-native port): native long audio, 12.5 tokens/s."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import tiny_parts as tiny
from .base import SAMPLING_RATE, AudioLMAdapter, AudioOnlyProcessor

if TYPE_CHECKING:  # annotations only: the family's facts load without numpy
    import numpy as np


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


class MissingAdapterError(ValueError):
    """A checkpoint without the adapter its model card requires (Phi-4's speech LoRA)."""


SPEECH_ADAPTER = "speech"  # the adapter name of the transformers docs' audio example
SPEECH_LORA = "speech-lora"  # the checkpoint's sub-folder holding it
# The files load_adapter reads from that folder (hashed into results.json).
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


class Phi4MultimodalAdapter(AudioLMAdapter):
    """The checkpoint ships its audio ability as a LoRA in ``speech-lora/``: without it the model
    is the base language model. It is loaded and switched on the way the transformers docs' audio
    example does (``load_adapter(..., adapter_kwargs={"subfolder": "speech-lora"})`` +
    ``set_adapter("speech")``; the original remote code switches it on with ``input_mode=2``)."""

    model_types = ("phi4_multimodal",)
    model_class = "Phi4MultimodalForCausalLM"
    family = "Phi-4-multimodal"
    audio_encoder_names = ("audio_embed",)
    decoder_view = "phi4_multimodal"

    @classmethod
    def load_model(cls, path, dtype, device, **kwargs):
        import importlib.util

        import transformers

        if importlib.util.find_spec("peft") is None:
            raise ImportError(f"{path}: Phi-4-multimodal's speech LoRA needs peft (pip install peft; "
                              "audiomarathon-hf[gpu] installs it)")
        files = adapter_files(path, **kwargs)  # refuses a checkpoint without speech-lora/ before loading
        model = getattr(transformers, cls.model_class).from_pretrained(path, dtype=dtype, **kwargs)
        with _quiet_adapter_report():
            if os.path.isdir(path):
                # transformers 5.2 looks for a local folder's adapter_config.json at its top, ignoring
                # the subfolder: name the sub-folder itself (the Hub path honours subfolder).
                model.load_adapter(os.path.join(path, SPEECH_LORA), adapter_name=SPEECH_ADAPTER)
            else:
                model.load_adapter(path, adapter_name=SPEECH_ADAPTER,
                                   adapter_kwargs={"subfolder": SPEECH_LORA, **kwargs})
        model.set_adapter(SPEECH_ADAPTER)
        model._audiomarathon_adapter_files = files
        # eval() after the adapter: its injected dropout modules are created in training mode.
        return model.to(device).eval()

    def adapters(self) -> list[dict]:
        files = getattr(self.model, "_audiomarathon_adapter_files", None)
        if not files:
            return []
        if getattr(self, "_adapters", None) is None:
            self._adapters = _describe_adapter(self.model, files)
        return self._adapters

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

    # ------------------------------------------------------------ the tiny model
    NAMED = dict(image_token="<|image|>", audio_token="<|audio|>")

    @classmethod
    def tiny_config(cls, tokens):
        from transformers import Phi4MultimodalConfig

        return Phi4MultimodalConfig(
            # RoPE over 3/4 of each head, as the real checkpoint's partial_rotary_factor.
            **tiny.text_config(tokens, original_max_position_embeddings=4096, rope_parameters={
                "rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.75}),
            vision_config=dict(hidden_size=tiny.HIDDEN, intermediate_size=tiny.FFN, num_hidden_layers=1,
                               num_attention_heads=tiny.HEADS, image_size=28, crop_size=28, patch_size=14,
                               image_token_id=tokens.ids["image_token"]),
            audio_config=dict(hidden_size=tiny.HIDDEN, intermediate_size=tiny.FFN, num_blocks=1,
                              num_attention_heads=tiny.HEADS, ext_pw_out_channel=tiny.HIDDEN,
                              depthwise_separable_out_channel=tiny.HIDDEN, nemo_conv_channels=tiny.HIDDEN,
                              input_size=80, audio_token_id=tokens.ids["audio_token"]),
        )

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        # Phi4MultimodalProcessor requires its fast image processor (torchvision); like the Omni
        # adapter, this one uses tokenizer + audio feature extractor, saved here.
        from transformers import Phi4MultimodalFeatureExtractor

        specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", *cls.NAMED.values()]
        template = tiny.chat_template("<|{{ message['role'] }}|>", "<|end|>", "<|audio|>", "<|assistant|>")
        tok = tiny.byte_level_tokenizer(specials, template, eos_token="<|end|>", pad_token="<|endoftext|>",
                                        extra_special_tokens=cls.NAMED)
        model = cls.random_model(cls.tiny_config(tiny.TinyTokens.of(tok, cls.NAMED)))
        tiny.save(path, model, tok, Phi4MultimodalFeatureExtractor())
        save_speech_lora(model, path)
        return path


# The real checkpoint's speech LoRA targets (transformers' Phi-4 conversion script writes them so); its
# rank is 320 with alpha 640, the tiny model's 4 with alpha 8 (the same scale, 2).
SPEECH_LORA_TARGETS = r"model.layers.\d+.((self_attn.(qkv|o)_proj)|(mlp.(gate_up|down)_proj))"


def save_speech_lora(model, path: Path, rank: int = 4, alpha: int = 8) -> Path:
    """A random, non-zero speech LoRA for a tiny Phi-4 under ``path/speech-lora``, laid out as the real
    checkpoint's: ``adapter_config.json`` + ``adapter_model.safetensors`` with keys such as
    ``model.layers.0.self_attn.qkv_proj.lora_A.weight``. ``model`` (already saved) gets the LoRA
    injected: it is not the saved base model any more."""
    import dataclasses

    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
    from safetensors.torch import save_file

    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=SPEECH_LORA_TARGETS, lora_dropout=0.01,
                        task_type="CAUSAL_LM", init_lora_weights=False)  # False: B is random too, not zero
    inject_adapter_in_model(config, model)
    out = Path(path) / SPEECH_LORA
    dataclasses.replace(config, init_lora_weights=True).save_pretrained(out)
    state = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, out / "adapter_model.safetensors")
    return out


@contextlib.contextmanager
def _quiet_adapter_report():
    """transformers 5.2 lists base weights whose names contain the adapter's name ("speech": the
    audio projections ``up_proj_for_speech``, ...) as "MISSING ... newly initialized" when the LoRA
    loads; load_adapter leaves every base weight as it is (tests/test_model_cards.py checks it).
    That report is silenced; errors still raise."""
    from transformers.utils import logging as hf_logging

    log = hf_logging.get_logger("transformers.integrations.peft")
    level = log.level
    log.setLevel(hf_logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _describe_adapter(model, files) -> list[dict]:
    """name, folder, files, one sha256 over them (name, NUL, bytes, in order), and whether it is active."""
    digest = hashlib.sha256()
    for name, file in files:
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return [{"name": SPEECH_ADAPTER, "path": SPEECH_LORA, "files": [name for name, _ in files],
             "sha256": digest.hexdigest(), "active": SPEECH_ADAPTER in model.active_adapters()}]


def adapter_files(path: str, **kwargs) -> list[tuple[str, str]]:
    """(name, local file) of the speech LoRA's files, resolved as load_adapter resolves them (a local
    folder or the Hub cache); MissingAdapterError naming the folder when the checkpoint has none."""
    from transformers.utils import cached_file

    found = []
    for name in ADAPTER_FILES:
        try:
            file = cached_file(path, name, subfolder=SPEECH_LORA, _raise_exceptions_for_missing_entries=False,
                               **kwargs)
        except OSError:
            file = None
        if file is None or not os.path.isfile(file):
            raise MissingAdapterError(
                f"{path}: no {SPEECH_LORA}/{name}. Phi-4-multimodal hears audio only through its speech LoRA "
                f"(the checkpoint's {SPEECH_LORA}/ folder); without it the model is the base language model. "
                "Use the full checkpoint (microsoft/Phi-4-multimodal-instruct) or copy its speech-lora/ folder.")
        found.append((name, file))
    return found
