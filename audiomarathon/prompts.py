"""Prompt templates as data: one per task, rendered from a question and its options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

LETTERS = "ABCDEFGHIJ"


def letters_phrase(n: int) -> str:
    """'A, B, C, or D' for n=4; 'A or B' for n=2."""
    letters = list(LETTERS[:n])
    if n <= 2:
        return " or ".join(letters)
    return ", ".join(letters[:-1]) + ", or " + letters[-1]


def letters_and(n: int) -> str:
    """'A, B, C, and D' for n=4; 'A and B' for n=2 (AIR-Bench Foundation's wording)."""
    letters = list(LETTERS[:n])
    if n <= 2:
        return " and ".join(letters)
    return ", ".join(letters[:-1]) + ", and " + letters[-1]


def letters_or(n: int) -> str:
    """'A or B or C or D' for n=4 (AIR-Bench Foundation's wording)."""
    return " or ".join(LETTERS[:n])


@dataclass(frozen=True)
class PromptTemplate:
    """A task prompt.

    ``template`` may use ``{question}``, ``{options}`` (the options block built with
    ``option_format`` and joined by newlines), ``{letters}`` ("A, B, C, or D"), ``{letters_and}``
    ("A, B, C, and D") and ``{letters_or}`` ("A or B or C or D"). ``option_format`` may leave the
    letter out ("{text}": options shown unlettered, as MMAR shows them).
    ``response_marker`` is a prefix the model is asked to emit (ASR's "Spoken Content:"),
    stripped from replies before scoring.
    ``pad_to``: list at least this many options, the missing ones as ``pad_text`` (the AIR-Bench
    authors' script prints "C. None" / "D. None" for a two-option question); 0 lists only the
    options given.
    """

    template: str
    option_format: str = "{letter}. {text}"
    response_marker: str | None = None
    pad_to: int = 0
    pad_text: str = "None"

    def options_block(self, choices: Sequence[str]) -> str:
        return "\n".join(
            self.option_format.format(letter=LETTERS[i], text=text) for i, text in enumerate(choices)
        )

    def render(self, question: str, choices: Sequence[str] = ()) -> str:
        if len(choices) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} choices are supported, got {len(choices)}")
        choices = list(choices) + [self.pad_text] * (self.pad_to - len(choices))
        n = len(choices)
        return self.template.format(
            question=question,
            options=self.options_block(choices),
            letters=letters_phrase(n),
            letters_and=letters_and(n),
            letters_or=letters_or(n),
        )

    def strip_marker(self, reply: str) -> str:
        """Remove the response marker (case-insensitive) and surrounding whitespace."""
        text = reply.strip()
        if self.response_marker:
            low = text.lower()
            idx = low.find(self.response_marker.lower())
            if idx >= 0:
                text = text[idx + len(self.response_marker):].strip()
        return text
