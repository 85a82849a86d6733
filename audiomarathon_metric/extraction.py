"""Answer extraction: a raw model reply -> one option letter, or *invalid*.

Never guesses. The reply is cleaned first (markup, echoed prompt lines, an echoed option list:
two or more options each after its letter, one per line or in a row on one line, letters in either
case: "a) Real\\nb) Fake", "A. Rock B. Pop C. Jazz D. Blues"); then rules are tried in tiers,
strongest first, and the first tier that finds anything decides. Nothing at all -> invalid
("refusal" or "no_answer").

A reply that offers or asserts two different letters has not answered: invalid ("conflict"), in
every form: letters joined into a list ("A or B", "A, B, C", "(A)(B)(C)(D)", "A and also B",
"A或B", lines holding only letters: "A\\nB\\nC\\nD", "A. B. C. D."); two answer statements; an
answer statement and another letter said as a clause of its own ("I choose A. Just kidding, B.",
"Answer: C. Wait, actually it's D." -- a self-correction is a second answer, not a replacement).
A list is settled only by an answer statement outside it ("Between B and D, I choose D." -> D);
a negated letter is no assertion ("It is not B; the answer is A." -> A).

Tiers (``Extraction.rule`` names the one that decided; each is a row of the table
``extraction_rules.READING_RULES``, where a new answer form is added as a row):

1. ``bare_letter``     the whole reply is one letter: "B", "(b)", "B.", "'a'", "**C**"
2. ``option_text``     the whole reply is one option, in any of its forms: "Rock", "metro station",
                       "Indoor shopping mall", "shopping_mall", "Mid Career", "41-50"
   ``letter_text``     the whole reply is a letter plus that option: "B. Rock", "(B) Rock"
3. ``json_field``      a JSON/key-value answer field: {"answer": "C"}, answer = "B. Rock"
   ``answer_phrase``   "Answer: B", "The answer is (B)", "Option B: Rock", "I choose b",
                       "A is the correct answer", "答案是B", "La respuesta es C", or a reply that
                       starts with "B." / "b)" / "B:" / "B\\n"
4. ``lone_letter``     one option letter standing alone in the text: "I'd go with C."
5. ``option_mention``  one option named in the text (any of its forms, or a label synonym,
                       Chinese ones included: "男性", "女声", "真实", "合成"): "This is a female
                       voice." "The genre is CLASSICAL." "Rock music" "这是一个女声。"; for the
                       age task an age in years or decades names the group that contains it
                       ("about 35", "late fifties"); one spanning two groups ("30s") names none
                       (see ``ages``)
Negated letters and options ("not A", "A is incorrect", "rather than rock") are never asserted.
A task whose prompt shows its options without letters (MMAR) is read by a shorter table
(``mmar_rules.UNLETTERED_RULES``): letters inside sentences are not read there.
Invalid rules: ``empty``, ``too_long``, ``conflict``, ``negated``, ``refusal``, ``no_answer``.

Every step is one pass of a regular expression over text whose whitespace runs have been
collapsed first, or a look at a bounded window around a match (``reply_matchers``), so extraction
time is linear in the reply length. A reply holding more than ``MAX_READ`` characters besides
whitespace (about 1,700 words: far beyond any real multiple-choice reply, which is capped by the
generation length, while a model caught in a repetition loop produces such text) is not read:
invalid, ``too_long``.
"""

from __future__ import annotations

from typing import Sequence

from audiomarathon.tasks import Task
from audiomarathon.tasks import get_task

from .extraction_rules import INVALID_RULES
from .extraction_rules import VALID_RULES
from .extraction_rules import Extraction
from .extraction_rules import read_reply
from .reply_matchers import MAX_READ
from .reply_matchers import clean_reply
from .reply_matchers import item_options

RULES = VALID_RULES + INVALID_RULES

__all__ = ["INVALID_RULES", "MAX_READ", "RULES", "VALID_RULES", "Extraction", "clean_transcript", "default_choices",
           "extract_answer"]


def _resolve_task(task: str | Task) -> Task:
    return task if isinstance(task, Task) else get_task(task)


def default_choices(task: str | Task) -> tuple[str, ...]:
    """Choices implied by the task when an item carries none: the fixed labels of tasks whose
    options never change (HAD: Real/Fake, VoxGender: Male/Female); otherwise ()."""
    t = _resolve_task(task)
    if t.is_mcq and t.labels and len(t.labels) == t.n_choices:
        return tuple(t.labels)
    return ()


def extract_answer(reply: str, choices: Sequence[str], task: str | Task) -> Extraction:
    """Read the option letter a reply asserts. See the module docstring for the rules."""
    t = _resolve_task(task)
    if not t.is_mcq:
        raise ValueError(f"task {t.name} is not multiple-choice; use clean_transcript for its replies")
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a string, got {type(reply).__name__}")
    choices = tuple(choices) if choices else default_choices(t)
    if not t.lettered:  # options shown as texts only (MMAR): see mmar_rules
        from .mmar_rules import UNLETTERED_RULES

        return read_reply(item_options(choices, t.name), reply, rules=UNLETTERED_RULES)
    return read_reply(item_options(choices, t.name), reply)


def clean_transcript(reply: str, task: str | Task = "LibriSpeech") -> str:
    """An ASR reply without the prompt's response marker ("Spoken Content:") and markup."""
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a string, got {type(reply).__name__}")
    t = _resolve_task(task)
    return t.prompt.strip_marker(clean_reply(reply))
