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
to near"); two options named is invalid (``conflict``), and so is a reply that only echoes the
option list. A bare letter ("B", "(b)") is read as the option at that position, unless another
option holds that letter as a word ("C" while the options are "C major", "A minor", ...: ambiguous,
``conflict``). Letters inside sentences ("I'd go with C", "Answer: B") are not read: the prompt
showed none, and "C" there is as likely a note or a chord. A reply that restates only part of an
option ("three" for "Three speakers") names none. An unread reply is invalid and scored as a wrong
answer; every item stays in the denominator.
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
from .extraction_rules import Rule
from .reply_matchers import text_option

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


def _letter_words(choices_text: Sequence[str], letter: str) -> set[int]:
    """Positions of the options holding ``letter`` as a word of their text ("C major", "B")."""
    word = re.compile(rf"(?<![^\W_]){letter}(?![^\W_])", re.IGNORECASE)
    return {i for i, text in enumerate(choices_text) if word.search(text)}


class UnletteredLetter(BareLetter):
    """The whole reply is one letter, read as the option at that position; ambiguous
    (``conflict``) when another option holds that letter as a word of its text ("C" while the
    options are "C major", "A minor", "G major")."""

    def apply(self, r: Reading) -> Extraction | None:
        got = super().apply(r)
        if got is None:
            return None
        if _letter_words(r.opts.choices, got.letter) - {r.opts.letters.index(got.letter)}:
            return Extraction(None, "conflict")
        return got


class UnletteredEcho(Rule):
    """Drops an echoed option list: lines that are each a whole option, two or more different
    options among them (the prompt lists them one per line). Nothing left is ``no_answer``."""

    name = "echo"
    finds_letter = False

    def apply(self, r: Reading) -> Extraction | None:
        lines = r.text.split("\n")
        if len(lines) < 2:
            return None
        named = {i: text_option(r.opts, line.strip(" .")) for i, line in enumerate(lines)}
        if len({letter for letter in named.values() if letter}) < 2:
            return None
        rest = "\n".join(line for i, line in enumerate(lines) if not named[i]).strip()
        if not rest:
            return Extraction(None, "no_answer")
        r.text = rest
        return None


# The reading table for options shown without letters (see the module docstring).
UNLETTERED_RULES = (
    Clean(),
    UnletteredLetter(),
    OptionText(),
    LetterText(),
    JsonField(),
    UnletteredEcho(),
    DropEcho(),
    OptionMention(),
    NoLetter(),
)
