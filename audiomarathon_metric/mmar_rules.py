"""MMAR's reading of a reply: the authors' bag-of-words match (paper mode) and this metric's
reading of option texts (strict mode).

MMAR shows its options without letters, so a reply names an option by its text.

Paper mode, as the authors' ``evaluation.py`` scores (adapted from MMAU's): a reply and each option
become sets of lowercase ``\\b\\w+\\b`` words; a reply is correct when it holds every word of the
answer and none of the words that another option has and the answer has not (an option whose word
set equals the answer's adds none); an empty word set is wrong; an item with no reply at all is
skipped (left out of the denominator); accuracy is the plain share over the items kept.

Its flaws, fixed by strict mode:
- word order is ignored: with options "From far to near" / "From near to far" (or "Ratio is 3:1" /
  "Ratio is 1:3") a reply stating the wrong one holds exactly the answer's words and is credited;
- a reply that is the option's letter ("B"), or that restates the answer in other words, is wrong;
- a reply naming the answer and another option whose words all occur in the answer is credited.
Strict mode reads which option a reply states with this package's extraction, restricted to what
an unlettered prompt allows (``UNLETTERED_RULES``): the whole reply is one option (any of its
forms), a letter plus that same option ("B. Dense Forest"), a JSON answer field, or one option
named in the text (order-sensitive: a phrase matches as written, so "near to far" never names "far
to near"); two options named is invalid (``conflict``). A bare letter ("B", "(b)") is read as the
option at that position, unless an option's own text is that letter at another position
(``conflict``: the reply is ambiguous). Letters inside sentences ("I'd go with C", "Answer: B") are
not read: the prompt showed none, and "C" there is as likely a note or a chord. An unread reply is
invalid and scored as a wrong answer; every item stays in the denominator.
"""

from __future__ import annotations

import re
from typing import Sequence

from .extraction_rules import BareLetter
from .extraction_rules import Clean
from .extraction_rules import DropEcho
from .extraction_rules import Extraction
from .extraction_rules import JsonField
from .extraction_rules import LetterText
from .extraction_rules import NoLetter
from .extraction_rules import OptionMention
from .extraction_rules import OptionText
from .extraction_rules import Reading
from .option_forms import option_key

_WORD = re.compile(r"\b\w+\b")


def official_words(text: str) -> frozenset[str]:
    """The bag the official match compares: the set of lowercase ``\\b\\w+\\b`` words."""
    return frozenset(_WORD.findall(text.lower()))


def official_match(answer: str, reply: str, choices: Sequence[str]) -> bool:
    """The authors' string match of one reply against its answer text and the item's options."""
    said = official_words(reply)
    if not said:
        return False
    right = official_words(answer)
    others: set[str] = set()
    for choice in choices:
        words = official_words(choice)
        if words != right:
            others |= words - right
    return right <= said and said.isdisjoint(others)


class UnletteredLetter(BareLetter):
    """The whole reply is one letter, read as the option at that position; ambiguous
    (``conflict``) when an option's own text is that letter at another position."""

    def apply(self, r: Reading) -> Extraction | None:
        got = super().apply(r)
        if got is None:
            return None
        holders = r.opts.by_key.get(option_key(got.letter), frozenset())
        if holders and holders != {got.letter}:
            return Extraction(None, "conflict")
        return got


# The reading table for options shown without letters (see the module docstring).
UNLETTERED_RULES = (
    Clean(),
    UnletteredLetter(),
    OptionText(),
    LetterText(),
    JsonField(),
    DropEcho(),
    OptionMention(),
    NoLetter(),
)
