"""Tiny random audio LLMs with working processors, built entirely in-process (no downloads).

Each builder makes a byte-level tokenizer with the family's special tokens and a chat template,
the family's feature extractor (class defaults, small where a size is free), and a random model
of the family's transformers class with 4 decoder layers of width 32; it saves all of it with
``save_pretrained`` so the runner loads it through the same ``from_pretrained`` path a user hits.

    save_tiny_model("qwen2_audio", tmp_path / "m")

Families are keyed by the model_type written to config.json (the key the adapter registry uses).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

HIDDEN = 32
LAYERS = 4
HEADS = 2
KV_HEADS = 1
FFN = 64

_QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'audio' %}{AUDIO}"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _chatml(audio_placeholder: str) -> str:
    return _QWEN_CHAT_TEMPLATE.replace("{AUDIO}", audio_placeholder)


def byte_level_tokenizer(special_tokens: list[str], chat_template: str, **kwargs):
    """A 256-symbol byte-level BPE (no merges) plus ``special_tokens``: every text encodes, and
    special tokens get ids 256, 257, ... in the order given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(special_tokens)
    return PreTrainedTokenizerFast(tokenizer_object=tok, chat_template=chat_template, **kwargs)


def _text_config(tok, **extra) -> dict:
    cfg = dict(
        vocab_size=len(tok),
        hidden_size=HIDDEN,
        intermediate_size=FFN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        max_position_embeddings=32768,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
    )
    cfg.update(extra)
    return cfg


def _whisper_encoder(**extra) -> dict:
    cfg = dict(num_mel_bins=128, max_source_positions=1500)
    cfg.update(extra)
    return cfg


def _save(path: Path, model, *parts) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    for part in parts:
        part.save_pretrained(path)
    return path


# ---------------------------------------------------------------- Qwen2-Audio
def _qwen2_audio(path: Path) -> Path:
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]
    template = _chatml("Audio {{ loop.index }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n")
    tok = byte_level_tokenizer(specials, template, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    # Real checkpoints use 30 s windows (3,000 frames); the tiny one too, so the policy is real.
    fe = WhisperFeatureExtractor(feature_size=128, chunk_length=30)
    proc = Qwen2AudioProcessor(feature_extractor=fe, tokenizer=tok, chat_template=template)
    config = Qwen2AudioConfig(
        audio_config=dict(
            d_model=HIDDEN, encoder_layers=1, encoder_attention_heads=HEADS, encoder_ffn_dim=FFN,
            **_whisper_encoder(),
        ),
        text_config=_text_config(tok),
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    return _save(path, Qwen2AudioForConditionalGeneration(config), proc)


# ---------------------------------------------------------------- Qwen2.5-Omni thinker
_OMNI_NAMED = dict(
    image_token="<|IMAGE|>",
    audio_token="<|AUDIO|>",
    video_token="<|VIDEO|>",
    vision_bos_token="<|vision_bos|>",
    vision_eos_token="<|vision_eos|>",
    audio_bos_token="<|audio_bos|>",
    audio_eos_token="<|audio_eos|>",
)


def _qwen2_5_omni_thinker(path: Path) -> Path:
    # Qwen2_5OmniProcessor also requires a Qwen2VL video processor, which needs torchvision; the
    # adapter therefore uses the tokenizer + feature extractor (all audio-only evaluation needs),
    # so the tiny checkpoint saves exactly those.
    from transformers import WhisperFeatureExtractor
    from transformers.models.qwen2_5_omni import (
        Qwen2_5OmniThinkerConfig,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *_OMNI_NAMED.values()]
    template = _chatml("<|audio_bos|><|AUDIO|><|audio_eos|>")
    tok = byte_level_tokenizer(
        specials, template, eos_token="<|im_end|>", pad_token="<|endoftext|>", extra_special_tokens=_OMNI_NAMED
    )
    ids = {k: tok.convert_tokens_to_ids(v) for k, v in _OMNI_NAMED.items()}
    fe = WhisperFeatureExtractor(feature_size=128, chunk_length=30)
    head_dim = HIDDEN // HEADS
    config = Qwen2_5OmniThinkerConfig(
        audio_config=dict(
            d_model=HIDDEN, encoder_layers=1, encoder_attention_heads=HEADS, encoder_ffn_dim=FFN,
            n_window=100, output_dim=HIDDEN, **_whisper_encoder(),
        ),
        vision_config=dict(
            depth=1, hidden_size=HIDDEN, intermediate_size=FFN, num_heads=HEADS, out_hidden_size=HIDDEN,
            fullatt_block_indexes=[0],
        ),
        text_config=_text_config(
            tok,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": _mrope(head_dim)},
        ),
        audio_token_index=ids["audio_token"],
        image_token_index=ids["image_token"],
        video_token_index=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"],
        audio_end_token_id=ids["audio_eos_token"],
        vision_start_token_id=ids["vision_bos_token"],
        vision_end_token_id=ids["vision_eos_token"],
        user_token_id=tok.convert_tokens_to_ids("u"),
    )
    return _save(path, Qwen2_5OmniThinkerForConditionalGeneration(config), tok, fe)


def _mrope(head_dim: int) -> list[int]:
    """Split head_dim/2 rotary frequencies over the (t, h, w) axes like Qwen's [16, 24, 24]."""
    half = head_dim // 2
    t = half // 4
    h = (half - t) // 2
    return [t, h, half - t - h]


# ---------------------------------------------------------------- Audio Flamingo 3
def _audioflamingo3(path: Path) -> Path:
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
        WhisperFeatureExtractor,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<sound>"]
    template = _chatml("<sound>")
    tok = byte_level_tokenizer(specials, template, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fe = WhisperFeatureExtractor(feature_size=128, chunk_length=30)
    proc = AudioFlamingo3Processor(feature_extractor=fe, tokenizer=tok, chat_template=template)
    config = AudioFlamingo3Config(
        audio_config=dict(
            hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=HEADS, intermediate_size=FFN,
            **_whisper_encoder(),
        ),
        text_config=_text_config(tok),
        audio_token_id=tok.convert_tokens_to_ids("<sound>"),
    )
    return _save(path, AudioFlamingo3ForConditionalGeneration(config), proc)


# ---------------------------------------------------------------- Phi-4-multimodal
_PHI4_NAMED = dict(image_token="<|image|>", audio_token="<|audio|>")


def _phi4_multimodal(path: Path) -> Path:
    # Phi4MultimodalProcessor requires its fast image processor (torchvision); like the Omni
    # adapter, the Phi-4 adapter uses tokenizer + audio feature extractor, saved here.
    from transformers import (
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
    )

    specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", *_PHI4_NAMED.values()]
    template = (
        "{% for message in messages %}<|{{ message['role'] }}|>"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for c in message['content'] %}"
        "{% if c['type'] == 'audio' %}<|audio|>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<|end|>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    tok = byte_level_tokenizer(
        specials, template, eos_token="<|end|>", pad_token="<|endoftext|>", extra_special_tokens=_PHI4_NAMED
    )
    fe = Phi4MultimodalFeatureExtractor()
    config = Phi4MultimodalConfig(
        **_text_config(tok, original_max_position_embeddings=4096),
        vision_config=dict(
            hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=1, num_attention_heads=HEADS,
            image_size=28, crop_size=28, patch_size=14,
            image_token_id=tok.convert_tokens_to_ids("<|image|>"),
        ),
        audio_config=dict(
            hidden_size=HIDDEN, intermediate_size=FFN, num_blocks=1, num_attention_heads=HEADS,
            ext_pw_out_channel=HIDDEN, depthwise_separable_out_channel=HIDDEN, nemo_conv_channels=HIDDEN,
            input_size=80, audio_token_id=tok.convert_tokens_to_ids("<|audio|>"),
        ),
    )
    model = Phi4MultimodalForCausalLM(config)
    _save(path, model, tok, fe)
    save_speech_lora(model, path)
    return path


# The real checkpoint's speech LoRA targets (transformers' Phi-4 conversion script writes them so); its
# rank is 320 with alpha 640, here 4 with alpha 8 (the same scale, 2).
PHI4_SPEECH_LORA_TARGETS = r"model.layers.\d+.((self_attn.(qkv|o)_proj)|(mlp.(gate_up|down)_proj))"


def save_speech_lora(model, path: Path, rank: int = 4, alpha: int = 8) -> Path:
    """A random, non-zero speech LoRA for the tiny Phi-4 under ``path/speech-lora``, laid out as the real
    checkpoint's: ``adapter_config.json`` + ``adapter_model.safetensors`` with keys such as
    ``model.layers.0.self_attn.qkv_proj.lora_A.weight``. ``model`` (already saved) gets the LoRA
    injected: it is not the saved base model any more."""
    import dataclasses

    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
    from safetensors.torch import save_file

    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=PHI4_SPEECH_LORA_TARGETS, lora_dropout=0.01,
                        task_type="CAUSAL_LM", init_lora_weights=False)  # False: B is random too, not zero
    inject_adapter_in_model(config, model)
    out = Path(path) / "speech-lora"
    dataclasses.replace(config, init_lora_weights=True).save_pretrained(out)
    state = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, out / "adapter_model.safetensors")
    return out


# ---------------------------------------------------------------- Gemma-3n
_GEMMA_NAMED = dict(
    image_token="<image_soft_token>",
    boi_token="<start_of_image>",
    eoi_token="<end_of_image>",
    audio_token="<audio_soft_token>",
    boa_token="<start_of_audio>",
    eoa_token="<end_of_audio>",
)


def gemma3n_processor():
    """The tiny Gemma-3n processor alone (it builds without timm, unlike the model)."""
    from transformers import (
        Gemma3nAudioFeatureExtractor,
        Gemma3nProcessor,
        SiglipImageProcessor,
    )

    specials = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", *_GEMMA_NAMED.values()]
    template = (
        "{{ bos_token }}{% for message in messages %}<start_of_turn>"
        "{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for c in message['content'] %}"
        "{% if c['type'] == 'audio' %}<audio_soft_token>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<end_of_turn>\n{% endfor %}"
        "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
    )
    tok = byte_level_tokenizer(
        specials, template, eos_token="<end_of_turn>", pad_token="<pad>", bos_token="<bos>",
        extra_special_tokens=_GEMMA_NAMED,
    )
    fe = Gemma3nAudioFeatureExtractor()
    proc = Gemma3nProcessor(
        feature_extractor=fe, image_processor=SiglipImageProcessor(), tokenizer=tok, chat_template=template,
        audio_seq_length=188,
    )
    return proc


def _gemma3n(path: Path) -> Path:
    # Gemma3nForConditionalGeneration always builds a timm vision tower: needs timm (+torchvision).
    from transformers import Gemma3nConfig, Gemma3nForConditionalGeneration

    proc = gemma3n_processor()
    tok = proc.tokenizer
    ids = {k: tok.convert_tokens_to_ids(v) for k, v in _GEMMA_NAMED.items()}
    config = Gemma3nConfig(
        text_config=dict(
            vocab_size=len(tok), vocab_size_per_layer_input=len(tok), hidden_size=HIDDEN,
            hidden_size_per_layer_input=8, intermediate_size=FFN, num_hidden_layers=LAYERS,
            num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HIDDEN // HEADS,
            layer_types=["sliding_attention", "full_attention"] * (LAYERS // 2), num_kv_shared_layers=0,
            activation_sparsity_pattern=[0.0] * LAYERS, altup_num_inputs=2, laurel_rank=4,
            sliding_window=64, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
            bos_token_id=tok.bos_token_id,
        ),
        audio_config=dict(
            vocab_size=8, hidden_size=HIDDEN, conf_num_hidden_layers=1, conf_num_attention_heads=HEADS,
            sscp_conv_channel_size=[8, 8], input_feat_size=128,
        ),
        audio_soft_tokens_per_image=188,
        audio_token_id=ids["audio_token"],
        boa_token_id=ids["boa_token"],
        eoa_token_id=ids["eoa_token"],
        image_token_id=ids["image_token"],
        boi_token_id=ids["boi_token"],
        eoi_token_id=ids["eoi_token"],
    )
    return _save(path, Gemma3nForConditionalGeneration(config), proc)


# ---------------------------------------------------------------- Voxtral
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


def _voxtral(path: Path) -> Path:
    import json
    import tempfile

    from transformers import (
        VoxtralConfig,
        VoxtralForConditionalGeneration,
        VoxtralProcessor,
        WhisperFeatureExtractor,
    )
    from transformers.tokenization_mistral_common import MistralCommonBackend

    with tempfile.TemporaryDirectory() as tmp:  # the backend copies its file on save: build it apart
        (Path(tmp) / "tekken.json").write_text(json.dumps(tekken_model_data()), encoding="utf-8")
        tok = MistralCommonBackend.from_pretrained(tmp)
        proc = VoxtralProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok)
        config = VoxtralConfig(
            # intermediate_size = 4 x hidden, as the real 5120 = 4 x 1280: the projector takes four
            # encoder frames per token, 12.5 tokens/s, the rate mistral_common counts the tokens at
            audio_config=dict(hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=HEADS,
                              intermediate_size=4 * HIDDEN, num_key_value_heads=HEADS, **_whisper_encoder()),
            text_config=dict(vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=FFN,
                             num_hidden_layers=LAYERS, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                             head_dim=HIDDEN // HEADS, max_position_embeddings=32768, bos_token_id=1,
                             eos_token_id=2, pad_token_id=11),
            audio_token_id=proc.audio_token_id,
        )
        return _save(path, VoxtralForConditionalGeneration(config), proc)


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class TinyFamily:
    model_type: str  # config.json's model_type == the adapter registry key
    model_class: str
    build: Callable[[Path], Path]


TINY_FAMILIES: dict[str, TinyFamily] = {
    f.model_type: f
    for f in (
        TinyFamily("qwen2_5_omni_thinker", "Qwen2_5OmniThinkerForConditionalGeneration", _qwen2_5_omni_thinker),
        TinyFamily("qwen2_audio", "Qwen2AudioForConditionalGeneration", _qwen2_audio),
        TinyFamily("phi4_multimodal", "Phi4MultimodalForCausalLM", _phi4_multimodal),
        TinyFamily("gemma3n", "Gemma3nForConditionalGeneration", _gemma3n),
        TinyFamily("audioflamingo3", "AudioFlamingo3ForConditionalGeneration", _audioflamingo3),
    )
}
# Voxtral's tokenizer needs mistral_common (optional): listed only where it is installed, so loops
# over every family elsewhere keep working without it.
if importlib.util.find_spec("mistral_common") is not None:
    TINY_FAMILIES["voxtral"] = TinyFamily("voxtral", "VoxtralForConditionalGeneration", _voxtral)


def save_tiny_model(family: str, path: str | Path, seed: int = 0) -> Path:
    """Build the tiny model + processor of ``family`` (a TINY_FAMILIES key) and save both to ``path``.

    Same seed => same weights. Returns the directory, ready for ``load_adapter(path)``.
    """
    if family not in TINY_FAMILIES:
        raise KeyError(f"no tiny builder for {family!r}; available: {', '.join(TINY_FAMILIES)}")
    from transformers.utils import logging as hf_logging

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    # A one-shard model of a few MB: save_pretrained's "Writing model shards" bar would be noise.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return TINY_FAMILIES[family].build(Path(path))
    finally:
        torch.random.set_rng_state(state)
        if bars:
            hf_logging.enable_progress_bar()
