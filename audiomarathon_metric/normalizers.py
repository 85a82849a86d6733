"""Transcript normalizers for WER, selectable by name.

- ``benchmark``: AudioMarathon's own: lowercase, apostrophes and hyphens removed ("it's" -> "its",
  "twenty-five" -> "twentyfive"), other punctuation to spaces, whitespace collapsed.
- ``whisper``: Whisper's English normalizer (transformers' ``EnglishTextNormalizer``: numbers,
  contractions, titles, hesitation words). Whisper's British->American spelling table
  (``normalizer.json``) ships with Whisper checkpoints on the Hub and is not bundled with
  transformers; offline it runs with an empty table. Pass one with :func:`whisper_english`.
- ``whisper_basic``: Whisper's language-independent ``BasicTextNormalizer``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Callable, Mapping

Normalizer = Callable[[str], str]

_APOSTROPHES_HYPHENS = re.compile(r"['’‘ʼ`´\-‐‑]")


class _PunctuationToSpace(dict):
    """str.translate table: punctuation and symbol characters (Unicode categories P*, S*) -> space,
    anything else kept; filled on first sight of each character, so translate runs in C."""

    def __missing__(self, codepoint: int):
        value = " " if unicodedata.category(chr(codepoint))[0] in "PS" else codepoint
        self[codepoint] = value
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def benchmark(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES_HYPHENS.sub("", text)
    # Every remaining punctuation or symbol character separates words.
    text = text.translate(_PUNCTUATION_TO_SPACE)
    return " ".join(text.split())


def whisper_english(spelling_mapping: Mapping[str, str] | str | Path | None = None) -> Normalizer:
    """Whisper's English normalizer; `spelling_mapping` is a dict or a path to a Whisper
    checkpoint's ``normalizer.json`` (British -> American spellings)."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    if isinstance(spelling_mapping, (str, Path)):
        spelling_mapping = json.loads(Path(spelling_mapping).read_text(encoding="utf-8"))
    return EnglishTextNormalizer(dict(spelling_mapping or {}))


def _whisper_basic() -> Normalizer:
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer

    return BasicTextNormalizer()


# name -> factory (the transformers import is paid only when a Whisper normalizer is used)
NORMALIZERS: dict[str, Callable[[], Normalizer]] = {
    "benchmark": lambda: benchmark,
    "whisper": whisper_english,
    "whisper_basic": _whisper_basic,
}


@functools.lru_cache(maxsize=None)
def _cached(name: str) -> Normalizer:
    return NORMALIZERS[name]()


def get_normalizer(normalizer: str | Normalizer) -> Normalizer:
    """A normalizer by name, or a callable passed through."""
    if callable(normalizer):
        return normalizer
    if normalizer not in NORMALIZERS:
        raise ValueError(f"unknown normalizer {normalizer!r}; choose from: {', '.join(NORMALIZERS)}")
    return _cached(normalizer)
