"""How the benchmark authors' evaluation scripts read a reply, one reader per way of reading.

Each reader turns a raw reply into the option letter the script's answer stands for (the script
may return a letter, a label such as "fake" or "male", or an option's text; all three name one
option of the item) or None when the script's answer names no option, plus the name of the step
that decided. The steps and their order are the scripts' own, including their looseness: the
first A-D character anywhere ("Rock" -> C), "x)" anywhere, a lone " a " read as the first option.
Which script uses which reader is in ``paper_rules``.

Steps that scan for "any option letter" implement the scripts' ``[(\\[]?([ABCD])[)\\].]?`` search,
whose group is always the first such letter of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from audiomarathon.prompts import LETTERS

ReadResult = tuple[Optional[str], str]  # (option letter or None, the step that decided)
ReadFn = Callable[[str, Sequence[str]], ReadResult]

NONE = "none"
ABCD = ("A", "B", "C", "D")
_WORD_LETTER = {letters: re.compile(r"\b([" + "".join(letters) + r"])\b") for letters in (ABCD, ("a", "b"), tuple("abcde"))}

# The emotion words of the authors' VESUS scripts (an emotion's name is not among its own words).
EMOTION_WORDS: dict[str, tuple[str, ...]] = {
    "angry": ("anger", "frustrated", "mad", "furious"),
    "happy": ("joy", "cheerful", "pleased", "delighted"),
    "sad": ("sadness", "melancholy", "depressed", "sorrow"),
    "fearful": ("fear", "anxiety", "scared", "afraid"),
    "monotone": ("flat", "emotionless", "neutral", "bland"),
}

# HAD: the words each script takes for "real" / "fake" when a reply holds both or neither label.
_REAL_WORDS_LONG = re.compile(r"\breal\b|\bauthentic\b|\bgenuine\b|\bcompletely authentic\b")
_FAKE_WORDS_LONG = re.compile(r"\bfake\b|\bartificial\b|\bsynthetic\b|\bsynthesized\b|\bcontains.*fake\b")
_REAL_WORDS = re.compile(r"\breal\b|\bauthentic\b|\bgenuine\b")
_FAKE_WORDS = re.compile(r"\bfake\b|\bartificial\b|\bsynthetic\b|\bsynthesized\b")
_MALE, _FEMALE = re.compile(r"\bmale\b"), re.compile(r"\bfemale\b")
_ANSWER_IS = re.compile(r"the answer is ([abcd])")
_ANSWER_COLON = re.compile(r"answer:\s*([abcd])")


def _first_of(text: str, letters: str) -> str | None:
    for ch in text:
        if ch in letters:
            return ch
    return None


def _word_letter(text: str, letters: tuple[str, ...]) -> str | None:
    m = _WORD_LETTER[letters].search(text)
    return m.group(1) if m else None


def _letter(i: int) -> str:
    return LETTERS[i]


def _starts_as_letter(low: str, letter: str, marks: str = ".)") -> bool:
    """The reply is the letter alone or begins with "a." / "a)" (lowercase text, lowercase letter)."""
    return low == letter or any(low.startswith(letter + m) for m in marks)


def _names_option(low: str, letter: str, forms: tuple[str, ...]) -> bool:
    return any(form.format(letter) in low for form in forms)


_OPTION_WORDS = ("option {}", "choice {}", "{})")


# ---------------------------------------------------------------- letters, read from anywhere

def first_letter(reply: str, choices: Sequence[str]) -> ReadResult:
    """The first A-D character of the reply ("The answer is B" -> A)."""
    found = _first_of(reply.strip().upper(), "ABCD")
    return (found, "first_letter") if found else (None, NONE)


def letter_scan(reply: str, choices: Sequence[str]) -> ReadResult:
    """The reply is a letter; else the first standalone A-D; else the first A-D character."""
    text = reply.strip().upper()
    if text in ABCD:
        return text, "exact"
    found = _word_letter(text, ABCD)
    if found:
        return found, "word_letter"
    found = _first_of(text, "ABCD")
    return (found, "any_letter") if found else (None, NONE)


def short_reply_scan(reply: str, choices: Sequence[str]) -> ReadResult:
    """As letter_scan, with a reply of at most 3 characters read by its first character."""
    text = reply.strip().upper()
    if text in ABCD:
        return text, "exact"
    for letter in ABCD:
        if text.startswith(letter) and len(text) <= 3:
            return letter, "short_reply"
    return letter_scan(text, choices)


def letter_at_edge_scan(reply: str, choices: Sequence[str]) -> ReadResult:
    """A letter alone, first ("B." / "B)") or last (" B"); "option b" / "choice b" / "b)"
    anywhere; then letter_scan's standalone letter and first A-D character."""
    if not reply:
        return None, NONE
    text = reply.strip().upper()
    if text in ABCD:
        return text, "exact"
    for letter in ABCD:
        if text == letter or text.startswith(letter + ".") or text.startswith(letter + ")") or text.endswith(" " + letter):
            return letter, "letter_at_edge"
    low = text.lower()
    for letter in ABCD:
        if _names_option(low, letter.lower(), _OPTION_WORDS):
            return letter, "option_phrase"
    return letter_scan(text, choices)


# ---------------------------------------------------------------- options named by their text

def scene_words(reply: str, choices: Sequence[str]) -> ReadResult:
    """TAU: a letter alone or leading ("b." "b)" "b:"), "option b" / "choice b" / "b)" anywhere,
    an option's whole text in the reply, else the option whose display words (before " - ") occur
    most often as substrings, if more than one does."""
    low = reply.lower().strip()
    letters = "abcd"
    if low in tuple(letters):
        return low.upper(), "exact"
    for letter in letters:
        if _starts_as_letter(low, letter, ".):"):
            return letter.upper(), "leading_letter"
    for letter in letters:
        if _names_option(low, letter, _OPTION_WORDS):
            return letter.upper(), "option_phrase"
    best, most = None, 0
    for i, text in enumerate(choices):
        option = text.lower()
        if option in low:
            return _letter(i), "choice_text"
        hits = sum(1 for word in option.split(" - ")[0].split() if word in low)
        if hits > most:
            best, most = _letter(i), hits
    if best and most > 1:
        return best, "display_words"
    return None, NONE


def _leading_or_named(low: str, letters: str, forms: tuple[str, ...]) -> ReadResult | None:
    for letter in letters:
        if _starts_as_letter(low, letter):
            return letter.upper(), "leading_letter"
    for letter in letters:
        if _names_option(low, letter, forms):
            return letter.upper(), "option_phrase"
    return None


@dataclass(frozen=True)
class EmotionReader:
    """VESUS: a leading letter, "option a" / "choice a" / "a)" / "(a)", else the first option that
    shares an emotion's words with the reply (a word of the same emotion in both)."""

    names_count: bool  # the emotion's own name is one of its words, on both sides

    def __call__(self, reply: str, choices: Sequence[str]) -> ReadResult:
        low = reply.lower().strip()
        found = _leading_or_named(low, "abcd", _OPTION_WORDS + ("({})",))
        if found:
            return found
        for i, text in enumerate(choices[:4]):
            option = text.lower()
            for emotion, words in EMOTION_WORDS.items():
                words = (emotion, *words) if self.names_count else words
                if any(w in low for w in words) and any(w in option for w in words):
                    return _letter(i), "emotion_keyword"
        return None, NONE


# VESUS (Qwen2.5-Omni): the emotion's own name does not count.
emotion_keywords_both = EmotionReader(names_count=False)
# VESUS (Phi-4-multimodal): it does.
emotion_names_or_keywords = EmotionReader(names_count=True)


def genre_phrases(reply: str, choices: Sequence[str]) -> ReadResult:
    """GTZAN (Voxtral): "the answer is b" / "answer: b" (no word boundary: "the answer is
    definitely ..." is D), a leading letter, "option b" / "choice b" / "b)", an option's whole text,
    then its display name (before " - ")."""
    if not reply:
        return None, NONE
    low = reply.lower().strip()
    for pattern in (_ANSWER_IS, _ANSWER_COLON):
        m = pattern.search(low)
        if m:
            return m.group(1).upper(), "answer_phrase"
    found = _leading_or_named(low, "abcd", _OPTION_WORDS)
    if found:
        return found
    options = list(choices[:4])
    for i, text in enumerate(options):
        if text.lower() in low:
            return _letter(i), "choice_text"
    for i, text in enumerate(options):
        display = text.split(" - ")[0] if " - " in text else text
        if display.lower() in low:
            return _letter(i), "display_name"
    return None, NONE


# ---------------------------------------------------------------- two-way prompts (a / b)

def _two_way(low: str, a: str, b: str, at_edge: bool, lone: bool) -> ReadResult | None:
    """The a/b steps shared by the HAD and VoxGender readers; at_edge: a reply ending " a" counts,
    lone: " a " anywhere counts (Qwen2.5-Omni's HAD reader)."""
    for letter in "ab":
        if _starts_as_letter(low, letter) or (at_edge and low.endswith(" " + letter)):
            return letter.upper(), "leading_letter"
    forms = _OPTION_WORDS + ((" {} ",) if lone else ())
    for letter in "ab":
        if _names_option(low, letter, forms):
            return letter.upper(), "option_phrase"
    if a in low and b not in low:
        return "A", "label_word"
    if b in low and a not in low:
        return "B", "label_word"
    return None


def _labels(choices: Sequence[str]) -> tuple[str, str]:
    return choices[0].lower().strip(), choices[1].lower().strip()


def _exclusive(low: str, first: re.Pattern, second: re.Pattern) -> ReadResult:
    one, two = first.search(low) is not None, second.search(low) is not None
    if one and not two:
        return "A", "synonym"
    if two and not one:
        return "B", "synonym"
    return None, NONE


@dataclass(frozen=True)
class TwoWayReader:
    """The HAD and VoxGender readers: a leading letter, "option a" / "choice a" / "a)" anywhere, a
    label present without the other (the steps of ``_two_way``), then, for the options ``synonyms``
    names, ``first``'s words without ``second``'s or the other way round."""

    at_edge: bool  # a reply ending " a" counts as a leading letter does
    lone: bool  # " a " anywhere counts as "option a" does
    synonyms: tuple[str, str]  # the option labels whose words are read
    first: re.Pattern
    second: re.Pattern

    def __call__(self, reply: str, choices: Sequence[str]) -> ReadResult:
        low = reply.lower().strip()
        a, b = _labels(choices)
        found = _two_way(low, a, b, at_edge=self.at_edge, lone=self.lone)
        if found:
            return found
        if (a, b) == self.synonyms:
            return _exclusive(low, self.first, self.second)
        return None, NONE


# HAD (Qwen2.5-Omni): a trailing letter counts too, and " a " anywhere ("this is a fake" is real).
authenticity_loose = TwoWayReader(at_edge=True, lone=True, synonyms=("real", "fake"), first=_REAL_WORDS_LONG,
                                  second=_FAKE_WORDS_LONG)
# HAD (Phi-4-multimodal).
authenticity = TwoWayReader(at_edge=False, lone=False, synonyms=("real", "fake"), first=_REAL_WORDS,
                            second=_FAKE_WORDS)
# VoxGender: "female" holds "male", so the label step never reads "female"; then the whole words.
gender = TwoWayReader(at_edge=False, lone=False, synonyms=("male", "female"), first=_MALE, second=_FEMALE)


def ab_scan(reply: str, choices: Sequence[str]) -> ReadResult:
    """HAD (Voxtral): "a"/"b", a standalone a/b, the first a/b character (so "fake" is a), then
    "real" / "fake" (reached only by a reply without either letter)."""
    if not reply:
        return None, NONE
    low = reply.strip().lower()
    if low in ("a", "b"):
        return low.upper(), "exact"
    found = _word_letter(low, ("a", "b"))
    if found:
        return found.upper(), "word_letter"
    found = _first_of(low, "ab")
    if found:
        return found.upper(), "any_letter"
    if "real" in low and "fake" not in low:
        return "A", "label_word"
    if "fake" in low and "real" not in low:
        return "B", "label_word"
    return None, NONE


# ---------------------------------------------------------------- age groups (a-e)

def _one_option_text(low: str, choices: Sequence[str]) -> ReadResult:
    named = [i for i, text in enumerate(choices) if text.lower() in low]
    return (_letter(named[0]), "choice_text") if len(named) == 1 else (None, NONE)


def age_loose(reply: str, choices: Sequence[str]) -> ReadResult:
    """VoxAge (Qwen2.5-Omni): a leading or trailing letter; one standalone a-e and no other
    ("a young adult" is A); "option c" / "choice c" / "answer c"; exactly one option's text."""
    low = reply.lower().strip()
    letters = "abcde"[: len(choices)]
    for letter in letters:
        if _starts_as_letter(low, letter) or low.endswith(" " + letter):
            return letter.upper(), "letter_at_edge"
    for letter in letters:
        others = [x for x in "abcde" if x != letter]
        if re.search(rf"\b{letter}\b", low) and not any(re.search(rf"\b{x}\b", low) for x in others):
            return letter.upper(), "lone_letter"
    for letter in letters:
        if _names_option(low, letter, ("option {}", "choice {}", "answer {}")):
            return letter.upper(), "option_phrase"
    return _one_option_text(low, choices)


def age(reply: str, choices: Sequence[str]) -> ReadResult:
    """VoxAge (Phi-4-multimodal): a leading letter, "option c" / "choice c" / "c)", exactly one
    option's text."""
    low = reply.lower().strip()
    found = _leading_or_named(low, "abcde"[: len(choices)], _OPTION_WORDS)
    return found if found else _one_option_text(low, choices)


def age_letter_scan(reply: str, choices: Sequence[str]) -> ReadResult:
    """VoxAge (Voxtral): a leading letter, the first standalone a-e, the first a-e character."""
    if not reply:
        return None, NONE
    low = reply.strip().lower()
    for letter in "abcde":
        if _starts_as_letter(low, letter):
            found, step = letter, "leading_letter"
            break
    else:
        found, step = _word_letter(low, tuple("abcde")), "word_letter"
        if not found:
            found, step = _first_of(low, "abcde"), "any_letter"
    if not found:
        return None, NONE
    # The script looks the letter up among the item's options; one past the last reads nothing.
    return (found.upper(), step) if "abcde".index(found) < len(choices) else (None, step)


# ---------------------------------------------------------------- what the scripts do before reading

@dataclass(frozen=True)
class Reader:
    """A reader with the pre-steps its script applies to the decoded reply."""

    read: ReadFn
    # The script decodes prompt and reply together and keeps the text after the last "assistant\n":
    # for a reply alone, the part after its own last "assistant\n", if any.
    after_assistant: bool = False
    # The script takes a reply starting with "ERROR" for a failed model call and reads nothing.
    error_prefix: bool = False

    def __call__(self, reply: str, choices: Sequence[str]) -> ReadResult:
        if self.error_prefix and reply.startswith("ERROR"):
            return None, "error_prefix"
        if self.after_assistant and "assistant\n" in reply:
            reply = reply[reply.rfind("assistant\n") + len("assistant\n"):].strip()
        return self.read(reply, choices)


# ---------------------------------------------------------------- transcripts

_MARKERS = ("spoken content:", "content:", "transcription:", "transcript:")
_SEP = re.compile(r"<sep>.*?($|<|$)")
_LEADING_LABEL = re.compile(r"(?i)^(spoken\s+(?:text|content)|content|transcript|transcription):\s*")
_TO_SPACE = re.compile(r'[.!?,;:"()\[\]{}]')
_DELETED = re.compile(r"[\-']")
_SPACES = re.compile(r"\s+")


def authors_transcript(reply: str) -> str:
    """The transcript the authors' ASR scripts score: the text after the first format marker (up to
    a second one), without the prompt's placeholder, a "<sep>" tail or a leading label."""
    if not reply or not reply.strip():
        return ""
    for marker in _MARKERS:
        if marker in reply.lower():
            parts = re.split(re.escape(marker), reply, flags=re.IGNORECASE)
            if len(parts) > 1:
                reply = parts[1].strip()
                break
    reply = reply.replace("<transcribed text here>", "")
    reply = _SEP.sub("", reply)
    reply = _LEADING_LABEL.sub("", reply.strip())
    return reply.strip()


def authors_normalize(text: str) -> str:
    """The authors' WER normalisation: lowercase; only . ! ? , ; : " ( ) [ ] { } become spaces;
    only the ASCII hyphen and apostrophe are deleted; whitespace collapsed. Other punctuation
    (curly quotes, dashes, slashes) stays part of the word."""
    if not text:
        return ""
    text = _DELETED.sub("", _TO_SPACE.sub(" ", text.lower()))
    return _SPACES.sub(" ", text).strip()
