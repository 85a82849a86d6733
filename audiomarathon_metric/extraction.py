"""Answer extraction: a raw model reply -> one option letter, or *invalid*.

Never guesses. Rules are tried in tiers, strongest first; the first tier that finds anything
decides. If that tier finds two different letters the reply is invalid ("conflict"): a reply
that asserts two answers has not answered. Nothing at all -> invalid ("refusal" or "no_answer").

Tiers (``Extraction.rule`` names the one that decided):

1. ``bare_letter``     the whole reply is one letter: "B", "(b)", "B.", "'a'", "**C**"
2. ``option_text``     the whole reply is one option's text: "Rock", "metro station"
   ``letter_text``     the whole reply is a letter plus that option's text: "B. Rock", "(B) Rock"
3. ``answer_phrase``   "Answer: B", "ANSWER: C", "The answer is (B)", "Option B: Rock",
                       "I choose b", or a reply that starts with "B." / "b)" / "B:" / "B\\n"
4. ``lone_letter``     exactly one option letter standing alone in the text: "I'd go with C."
5. ``option_mention``  exactly one option (or a label synonym: real/authentic, fake/synthesized,
                       male/man, female/woman) named in the text, negated mentions ignored:
                       "This is a female voice." "The genre is rock."
Invalid rules: ``empty``, ``conflict``, ``negated``, ``refusal``, ``no_answer``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import Task
from audiomarathon.tasks import get_task

INVALID_RULES = ("empty", "conflict", "negated", "refusal", "no_answer")
VALID_RULES = ("bare_letter", "option_text", "letter_text", "answer_phrase", "lone_letter", "option_mention")
RULES = VALID_RULES + INVALID_RULES

# Words a model uses for the two-choice label tasks besides the label itself (HAD's prompt says
# "completely authentic (real)" and "artificially synthesized segments (fake)").
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "real": ("authentic", "genuine", "bona fide", "bonafide"),
    "fake": ("synthesized", "synthetic", "artificial", "artificially synthesized", "spoofed", "deepfake"),
    "male": ("man", "masculine"),
    "female": ("woman", "feminine"),
}

_NEGATION = re.compile(r"(?:\bnot|\bno|n't|\bnon|\bneither|\bnor|\bwithout)[\s-]+(?:\w+[\s-]+){0,2}$")
_REFUSAL = re.compile(
    r"\b(?:sorry|cannot|can't|can not|unable|not able|don't know|do not know|not sure|unclear|"
    r"impossible|not possible|no audio|as an ai|i apologi[sz]e)\b",
    re.IGNORECASE,
)
_ANSWER_WORDS = (
    r"(?:final\s+answer|correct\s+answer|best\s+answer|answer|correct\s+option|best\s+option|option|"
    r"correct\s+choice|choice|selection|i\s+choose|i\s+select|i\s+pick|i\s+would\s+choose|"
    r"i\s+would\s+select|i'd\s+choose|i'd\s+select|i'd\s+go\s+with|i\s+would\s+go\s+with|"
    r"i\s+would\s+answer|i'd\s+answer|go\s+with|select|choose)"
)


@dataclass(frozen=True)
class Extraction:
    """The letter a reply asserts (None = invalid) and the rule that decided."""

    letter: str | None
    rule: str

    @property
    def valid(self) -> bool:
        return self.letter is not None


def _norm_text(text: str) -> str:
    """Casefold, underscores/hyphens to spaces, strip quotes and end punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("_", " ")
    text = re.sub(r"[\"'`“”‘’]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,:;!?()[]{}")


def _clean_reply(reply: str) -> str:
    """Drop markup that carries no answer: markdown emphasis, headings, code ticks, XML-ish tags."""
    text = unicodedata.normalize("NFKC", reply)
    text = re.sub(r"</?\s*[A-Za-z_][\w\s=\"'-]*>", " ", text)  # <answer>B</answer>
    text = text.replace("**", "").replace("__", " ").replace("`", "")
    text = re.sub(r"(?m)^\s*#+\s*", "", text)  # markdown headings
    text = re.sub(r"(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)", "", text)  # *B*
    return text.strip()


@dataclass(frozen=True)
class _Options:
    """Precompiled matchers for one (choices, task) combination."""

    letters: tuple[str, ...]
    texts: tuple[str, ...]  # normalized option texts, letter order
    mention: tuple[tuple[str, re.Pattern], ...]  # (letter, pattern matching the option or a synonym)
    answer_re: re.Pattern
    leading_re: re.Pattern
    lone_re: re.Pattern
    bare_re: re.Pattern
    letter_text_re: re.Pattern
    list_re: re.Pattern  # two letters joined by "or", "and", ",", "/"


def _word_pattern(phrase: str) -> str:
    parts = [re.escape(p) for p in re.split(r"[\s_-]+", phrase) if p]
    return r"(?<![\w])" + r"[\s_-]+".join(parts) + r"(?![\w])"


@functools.lru_cache(maxsize=4096)
def _options(choices: tuple[str, ...], n_choices: int) -> _Options:
    n = len(choices) or n_choices
    if not 1 <= n <= len(LETTERS):
        raise ValueError(f"an MCQ item needs 1..{len(LETTERS)} choices, got {n}")
    letters = tuple(LETTERS[:n])
    texts = tuple(_norm_text(c) for c in choices)
    mention = []
    for letter, text in zip(letters, texts):
        if not text:
            continue
        words = (text, *LABEL_SYNONYMS.get(text, ()))
        mention.append((letter, re.compile("|".join(_word_pattern(w) for w in words), re.IGNORECASE)))
    up = "".join(letters)
    low = up.lower()
    q = r"[\"'“”‘’]?"  # optional quote around a letter
    # A lowercase letter only counts when nothing word-like follows ("answer is a bit" is not A).
    letter_group = rf"(?:\(|\[)?{q}(?:([{up}])(?![\w'-])|([{low}])(?=\s*(?:[.,;:!?)\]\"'”’]|$)))"
    answer_re = re.compile(rf"(?i:\b{_ANSWER_WORDS})\b(?:\s+(?:is|would\s+be|will\s+be|should\s+be|=|:))?"
                           rf"\s*[:=]?\s*(?i:option\s+|letter\s+|choice\s+)?{letter_group}")
    leading_re = re.compile(rf"^{q}(?:\(|\[)?{q}(?:([{up}])|([{low}]))(?:\)|\])?{q}(?:\s*[.:)\]]|\s*\n|\s*$)")
    lone_re = re.compile(rf"(?<![\w'’-])(?:\(([{up}{low}])\)|([{up}]))(?![\w'’-])")
    bare_re = re.compile(rf"^\s*(?:\(|\[)?\s*([{up}{low}])\s*(?:\)|\])?\s*[.:!]?\s*$")
    # A letter plus text needs a separator: "a female" is an article, "a) female" is a letter.
    letter_text_re = re.compile(
        rf"^\s*(?:\(\s*([{up}{low}])\s*\)|\[\s*([{up}{low}])\s*\]|([{up}{low}])\s*[.:)\-])\s*(.+?)\s*$", re.DOTALL
    )
    one = rf"(?:\(\s*[{up}{low}]\s*\)|{q}[{up}]{q}|[\"'“‘][{low}][\"'”’])"
    list_re = re.compile(rf"(?<![\w'’-])({one})\s*(?:,|/|&|\bor\b|\band\b|\bnor\b)\s*({one})(?![\w'’-])")
    return _Options(letters, texts, tuple(mention), answer_re, leading_re, lone_re, bare_re, letter_text_re, list_re)


def _unquote(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        text = text[1:-1].strip()
    return text


def _text_option(opts: _Options, text: str) -> str | None:
    """The letter of the one option whose normalized text equals `text` (None if 0 or 2+)."""
    norm = _norm_text(text)
    hits = [letter for letter, t in zip(opts.letters, opts.texts) if t and t == norm]
    return hits[0] if len(hits) == 1 else None


def _letter_of(token: str) -> str:
    return re.sub(r"[^A-Za-z]", "", token).upper()


def _decide(letters: list[str], rule: str) -> Extraction:
    distinct = set(letters)
    if len(distinct) == 1:
        return Extraction(letters[0], rule)
    return Extraction(None, "conflict")


def _followed_by_other_option(opts: _Options, letter: str, rest: str) -> bool:
    """True when the letter is followed by another option's text ("B: Jazz" while B is Rock)."""
    rest = re.sub(r"^\s*[.:)\]\-]?\s*", "", rest)
    own = opts.texts[opts.letters.index(letter)] if letter in opts.letters and opts.texts else ""
    norm = _norm_text(rest.split("\n", 1)[0])
    if not norm or (own and norm.startswith(own)):
        return False
    return any(t and t != own and (norm == t or norm.startswith(t + " ")) for t in opts.texts)


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
    opts = _options(choices, t.n_choices)
    text = _unquote(_clean_reply(reply))
    if not text:
        return Extraction(None, "empty")

    # Tier 1: the reply is a letter.
    m = opts.bare_re.match(text)
    if m:
        return Extraction(m.group(1).upper(), "bare_letter")

    # Tier 2: the reply is an option's text, or a letter plus its option's text.
    letter = _text_option(opts, text)
    if letter:
        return Extraction(letter, "option_text")
    m = opts.letter_text_re.match(text)
    if m:
        said = (m.group(1) or m.group(2) or m.group(3)).upper()
        named = _text_option(opts, _unquote(m.group(4)))
        if named:
            return Extraction(said, "letter_text") if named == said else Extraction(None, "conflict")

    # "A or B", "B, C", "(A) and (D)": two letters offered together is not an answer.
    for m in opts.list_re.finditer(text):
        if _letter_of(m.group(1)) != _letter_of(m.group(2)):
            return Extraction(None, "conflict")

    # Tier 3: explicit answer statements and a leading "B." / "b)".
    found: list[str] = []
    for m in opts.answer_re.finditer(text):
        found.append((m.group(1) or m.group(2)).upper())
        if _followed_by_other_option(opts, found[-1], text[m.end():]):
            return Extraction(None, "conflict")
    m = opts.leading_re.match(text)
    if m:
        found.append((m.group(1) or m.group(2)).upper())
        if _followed_by_other_option(opts, found[-1], text[m.end() - 1:]):
            return Extraction(None, "conflict")
    if found:
        return _decide(found, "answer_phrase")

    # Tier 4: letters standing alone ("I'd go with C.", "(b) seems right").
    for m in opts.lone_re.finditer(text):
        letter = (m.group(1) or m.group(2)).upper()
        # "A dog barks" / "I think": an article or pronoun, not an option letter.
        if m.group(2) in ("A", "I") and re.match(r"\s+[a-z]", text[m.end():]):
            continue
        found.append(letter)
    if found:
        return _decide(found, "lone_letter")

    # Tier 5: option texts (and label synonyms) named in the text, negations ignored.
    spans: list[tuple[int, int, str, bool]] = []
    for letter, pattern in opts.mention:
        for m in pattern.finditer(text):
            negated = bool(_NEGATION.search(text[: m.start()].lower()[-40:]))
            spans.append((m.start(), m.end(), letter, negated))
    # Drop a mention inside a longer one of another option ("metro" inside "metro station").
    spans = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0])
                                         for o in spans)]
    asserted = [s[2] for s in spans if not s[3]]
    if asserted:
        return _decide(asserted, "option_mention")
    if spans:
        return Extraction(None, "negated")
    if _REFUSAL.search(text):
        return Extraction(None, "refusal")
    return Extraction(None, "no_answer")


def clean_transcript(reply: str, task: str | Task = "LibriSpeech") -> str:
    """An ASR reply without the prompt's response marker ("Spoken Content:") and markup."""
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a string, got {type(reply).__name__}")
    t = _resolve_task(task)
    return t.prompt.strip_marker(_clean_reply(reply))
