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


@dataclass(frozen=True)
class PromptTemplate:
    """A task prompt.

    ``template`` may use ``{question}``, ``{options}`` (the options block built with
    ``option_format`` and joined by newlines) and ``{letters}`` ("A, B, C, or D").
    ``response_marker`` is a prefix the model is asked to emit (ASR's "Spoken Content:"),
    stripped from replies before scoring.
    """

    template: str
    option_format: str = "{letter}. {text}"
    response_marker: str | None = None

    def options_block(self, choices: Sequence[str]) -> str:
        return "\n".join(
            self.option_format.format(letter=LETTERS[i], text=text) for i, text in enumerate(choices)
        )

    def render(self, question: str, choices: Sequence[str] = ()) -> str:
        if len(choices) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} choices are supported, got {len(choices)}")
        return self.template.format(
            question=question,
            options=self.options_block(choices),
            letters=letters_phrase(len(choices)),
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
