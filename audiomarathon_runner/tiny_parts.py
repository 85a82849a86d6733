"""The parts every family's tiny model is built from: one set of sizes, a byte-level tokenizer, the
text-decoder config. Each adapter builds its family's tiny model from them (``AudioLMAdapter.
tiny_config`` / ``build_tiny``); ``audiomarathon_runner.tiny`` saves one or gives its text decoder.

A tiny model is a random model of the family's real transformers class with 4 decoder layers of
width 32 (Gemma-3n: 6, two of them sharing a cache), small where a size is free, so layer K=2 has
layers on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

HIDDEN = 32
LAYERS = 4
HEADS = 2
KV_HEADS = 1
FFN = 64
MAX_POSITIONS = 32768

def chat_template(open_turn: str, close_turn: str, audio: str, model_turn: str, start: str = "") -> str:
    """A chat template: ``start``, then per message ``open_turn`` (which may use the message's
    ``role``), its content (each audio entry as ``audio``, text as it is) and ``close_turn``;
    ``model_turn`` opens the model's reply."""
    return (start + "{% for message in messages %}" + open_turn
            + "{% if message['content'] is string %}{{ message['content'] }}"
            "{% else %}{% for c in message['content'] %}"
            "{% if c['type'] == 'audio' %}" + audio + "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
            "{% endfor %}{% endif %}" + close_turn + "{% endfor %}"
            "{% if add_generation_prompt %}" + model_turn + "{% endif %}")


def chatml(audio_placeholder: str) -> str:
    """Qwen's ChatML template with ``audio_placeholder`` for each audio entry."""
    return chat_template("<|im_start|>{{ message['role'] }}\n", "<|im_end|>\n", audio_placeholder,
                         "<|im_start|>assistant\n")


CHATML_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def chatml_processor(processor_class, audio_entry: str, audio_token: str, *specials: str):
    """(processor, tokens) of a ChatML family whose processor takes a tokenizer and a Whisper feature
    extractor (30 s windows of 128 mel bins, as the real checkpoints'): ``audio_entry`` stands for
    each audio entry in the template, ``audio_token`` is the token the processor expands."""
    from transformers import WhisperFeatureExtractor

    template = chatml(audio_entry)
    tok = byte_level_tokenizer([*CHATML_SPECIALS, *specials], template, eos_token="<|im_end|>",
                               pad_token="<|endoftext|>")
    fe = WhisperFeatureExtractor(feature_size=128, chunk_length=30)
    proc = processor_class(feature_extractor=fe, tokenizer=tok, chat_template=template)
    return proc, TinyTokens.of(tok, {"audio_token": audio_token})


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


@dataclass(frozen=True)
class TinyTokens:
    """The vocabulary a tiny config is made for: its size, the pad/end/begin ids and the special
    tokens' ids by role (``audio_token``, ``image_token``, ...)."""

    vocab_size: int
    pad: int | None
    eos: int | None
    bos: int | None
    ids: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, tok, roles: Mapping[str, str] = {}, **fixed) -> "TinyTokens":
        """A tokenizer's: ``roles`` maps a role to its token's text; ``fixed`` overrides pad/eos/bos."""
        ids = {role: tok.convert_tokens_to_ids(text) for role, text in roles.items()}
        ends = {"pad": tok.pad_token_id, "eos": tok.eos_token_id, "bos": None, **fixed}
        return cls(len(tok), ids=ids, **ends)


# A text decoder on its own needs no tokenizer: a 128-token vocabulary with the pad/end/begin ids at
# the bottom and the special tokens' at the top, above every id ``tiny.tiny_prompt`` draws.
DECODER_VOCAB = 128
DECODER_ROLES = ("audio_token", "image_token", "video_token", "audio_bos_token", "audio_eos_token",
                 "vision_bos_token", "vision_eos_token", "user", "boa_token", "eoa_token", "boi_token", "eoi_token")
DECODER_TOKENS = TinyTokens(DECODER_VOCAB, pad=0, eos=1, bos=2,
                            ids={role: DECODER_VOCAB - 1 - i for i, role in enumerate(DECODER_ROLES)})


def text_config(tokens: TinyTokens, **extra) -> dict:
    """A tiny text decoder's config (every family's language model has these fields)."""
    cfg = dict(vocab_size=tokens.vocab_size, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
               num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=MAX_POSITIONS,
               eos_token_id=tokens.eos, pad_token_id=tokens.pad, bos_token_id=tokens.bos)
    cfg.update(extra)
    return cfg


# The field names of a Whisper-style encoder's width, depth, heads and feed-forward size: the
# Whisper config's own, and the Hugging Face common ones (Audio Flamingo 3, Voxtral).
WHISPER_NAMES = ("d_model", "encoder_layers", "encoder_attention_heads", "encoder_ffn_dim")
COMMON_NAMES = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


def whisper_encoder(names: tuple[str, str, str, str] = WHISPER_NAMES, **extra) -> dict:
    """A one-layer Whisper-style audio encoder at the tiny width, under the family's field ``names``,
    with the real input (128 mel bins, 30 s windows of 1,500 positions); ``extra`` adds or overrides."""
    width, layers, heads, ffn = names
    return {width: HIDDEN, layers: 1, heads: HEADS, ffn: FFN, "num_mel_bins": 128, "max_source_positions": 1500,
            **extra}


def save_chatml_tiny(adapter, path: Path, processor_class, audio_entry: str, audio_token: str, *specials: str) -> Path:
    """Save ``adapter``'s tiny model with a ChatML processor (``chatml_processor``) to ``path``."""
    proc, tokens = chatml_processor(processor_class, audio_entry, audio_token, *specials)
    return save(path, adapter.random_model(adapter.tiny_config(tokens)), proc)


def save(path: Path, model, *parts) -> Path:
    """``model`` and its processor parts, with ``save_pretrained``, under ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    for part in parts:
        part.save_pretrained(path)
    return path
