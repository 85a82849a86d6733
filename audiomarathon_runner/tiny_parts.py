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

_QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'audio' %}{AUDIO}"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def chatml(audio_placeholder: str) -> str:
    """Qwen's ChatML template with ``audio_placeholder`` for each audio entry."""
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


def whisper_encoder(**extra) -> dict:
    """A Whisper-style audio encoder's fields at their real values (128 mel bins, 30 s windows)."""
    cfg = dict(num_mel_bins=128, max_source_positions=1500)
    cfg.update(extra)
    return cfg


def save(path: Path, model, *parts) -> Path:
    """``model`` and its processor parts, with ``save_pretrained``, under ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    for part in parts:
        part.save_pretrained(path)
    return path
