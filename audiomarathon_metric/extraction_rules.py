"""Reading a reply: an ordered table of rules, each a small class, tried in order until one decides.

A rule looks at the reply as the rows before it left it (a ``Reading``) and either decides, returning
an ``Extraction`` (a letter and the rule's name, or no letter and why the reply is invalid), or
passes (None) to the next row. A few rows only prepare the text for the rows after them (cleaning;
dropping an echoed option list); the last row always decides. Strongest evidence first: a reply that
is only a letter before an answer statement, before a letter standing alone in a sentence, before an
option named in a sentence.

A new answer form is a new row: a ``Rule`` subclass with a ``name`` (what per-sample records, the
per-task ``rules`` counts and the metric card call it) and an ``apply``, put into ``READING_RULES``
where it belongs. Patterns built from the item's option letters are compiled once per number of
options (``letter_patterns``); what several rows need (negation, letters offered together, an
option's forms) is in ``reply_matchers``.
"""

from __future__ import annotations

import bisect
import re
from abc import ABC
from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Sequence

from audiomarathon.prompts import LETTERS

from .ages import age_mentions
from .reply_matchers import ASCII_LOWER
from .reply_matchers import ASCII_WORD
from .reply_matchers import MAX_READ
from .reply_matchers import QUOTE
from .reply_matchers import SHORT
from .reply_matchers import WINDOW
from .reply_matchers import ItemOptions
from .reply_matchers import asserts_another
from .reply_matchers import clean_reply
from .reply_matchers import followed_by_other_option
from .reply_matchers import hedges
from .reply_matchers import negated
from .reply_matchers import negated_before
from .reply_matchers import strip_echo
from .reply_matchers import text_option
from .reply_matchers import unquote

# Why a reply has no letter (``Extraction.rule`` of an invalid reply).
INVALID_RULES = ("empty", "too_long", "conflict", "negated", "refusal", "no_answer")


@dataclass(frozen=True)
class Extraction:
    """The letter a reply asserts (None = invalid) and the rule that decided."""

    letter: str | None
    rule: str

    @property
    def valid(self) -> bool:
        return self.letter is not None


def decide(letters: list[str], rule: str) -> Extraction:
    """One letter, however often said: that letter; two different ones: ``conflict``."""
    if len(set(letters)) == 1:
        return Extraction(letters[0], rule)
    return Extraction(None, "conflict")


class Reading:
    """One reply being read: its text as the rows so far have left it, and what they noticed."""

    __slots__ = ("opts", "n", "depth", "rules", "text", "low", "short", "hedges", "_starts", "negated")

    def __init__(self, opts: ItemOptions, reply: str, depth: int, rules: Sequence[Rule]):
        self.opts = opts
        self.n = len(opts.letters)  # options A.. of the item
        self.depth = depth  # 0: a reply; 1: a value read out of a reply's JSON field
        self.rules = rules
        self.text = reply
        self.short = False  # the cleaned reply is short enough to be read as a whole
        self.low = ""  # the echo-free text ASCII-lowercased: same length and positions as text
        self.hedges: list[tuple[int, int]] = []  # spans of text where two or more letters are offered together
        self._starts: list[int] = []
        self.negated = False  # a letter or an option was seen ruled out ("not A", "isn't rock")

    def set_text(self, text: str) -> None:
        """The text every later row reads, with its lowercase twin and its letter lists."""
        self.text = text
        self.low = text.translate(ASCII_LOWER)
        self.hedges = hedges(self.opts, text)
        self._starts = [a for a, _ in self.hedges]  # sorted and disjoint

    def in_hedge(self, pos: int) -> bool:
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self.hedges[i][1]


class Rule(ABC):
    """One row of the reading table."""

    name: ClassVar[str]
    finds_letter: ClassVar[bool] = True  # False: a row that only prepares the text or says why there is none

    @abstractmethod
    def apply(self, r: Reading) -> Extraction | None:
        """An Extraction to decide, None to pass to the next row."""


class letter_patterns(dict):
    """A rule's patterns, built from its item's option letters by the decorated ``build(upper,
    lower)`` ("ABCD", "abcd"), compiled once per number of options ``n`` and looked up as ``[n]``."""

    def __init__(self, build):
        super().__init__()
        self.build = build

    def __missing__(self, n: int):
        up = LETTERS[:n]
        self[n] = patterns = self.build(up, up.lower())
        return patterns


# ---------------------------------------------------------------- the whole reply

class Clean(Rule):
    """Drops markup and quotes around the whole reply: nothing left is ``empty``; more than
    ``MAX_READ`` characters besides whitespace (a repetition loop, not an answer) is ``too_long``."""

    name = "clean"
    finds_letter = False

    def apply(self, r: Reading) -> Extraction | None:
        reply = r.text
        if len(reply) > 2 * MAX_READ and len(reply) - sum(reply.count(c) for c in " \n\t\r") > MAX_READ:
            return Extraction(None, "too_long")  # decided by C-speed counts, before any pass over the text
        text = unquote(clean_reply(reply))
        if not text:
            return Extraction(None, "empty")
        if len(text) > MAX_READ:
            return Extraction(None, "too_long")
        r.text, r.short = text, len(text) <= SHORT
        return None


class BareLetter(Rule):
    """The whole reply is one letter: "B", "(b)", "B.", "'a'", "**C**"."""

    name = "bare_letter"

    @letter_patterns
    def pattern(up: str, low: str) -> re.Pattern:
        return re.compile(rf"^[ ]?(?:\(|\[)?[ ]?([{up}{low}])[ ]?(?:\)|\])?[ ]?[.:!]?[ ]?$")

    def apply(self, r: Reading) -> Extraction | None:
        if r.short:
            m = self.pattern[r.n].match(r.text)
            if m:
                return Extraction(m.group(1).upper(), self.name)
        return None


class OptionText(Rule):
    """The whole reply is one option in any of its forms: "Rock", "metro station", "shopping_mall",
    "Mid Career", "41-50"."""

    name = "option_text"

    def apply(self, r: Reading) -> Extraction | None:
        if r.short:
            letter = text_option(r.opts, r.text)
            if letter:
                return Extraction(letter, self.name)
        return None


class LetterText(Rule):
    """The whole reply is a letter and that letter's option: "B. Rock", "(B) Rock"; another option's
    text after the letter ("C: jazz" while C is rock) is ``conflict``."""

    name = "letter_text"

    @letter_patterns
    def pattern(up: str, low: str) -> re.Pattern:
        # A letter plus text needs a separator: "a female" is an article, "a) female" is a letter.
        return re.compile(
            rf"^(?:\([ ]?([{up}{low}])[ ]?\)|\[[ ]?([{up}{low}])[ ]?\]|([{up}{low}])[ ]?[.:)\-])[ ]?(.+?)[ ]?$",
            re.DOTALL,
        )

    def apply(self, r: Reading) -> Extraction | None:
        if r.short:
            m = self.pattern[r.n].match(r.text)
            if m:
                said = (m.group(1) or m.group(2) or m.group(3)).upper()
                named = text_option(r.opts, unquote(m.group(4)).rstrip(" .!"))
                if named:
                    return Extraction(said, self.name) if named == said else Extraction(None, "conflict")
        return None


# A quoted key ({"answer": "C"}) or key = value; a plain "Answer: C" is an answer phrase.
_FIELD = re.compile(
    r"(?:[\"'](?:final_answer|answer|choice|option|prediction|selected_option|letter|label)[\"'][ ]?[:=]|"
    r"\b(?:final_answer|answer|choice|option|prediction)[ ]?=)[ ]?"
    r"(?:\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'|([^\s,;}\"']{1,40}))",
    re.IGNORECASE,
)


class JsonField(Rule):
    """A JSON or key = value answer field, its value read as a reply by the whole table:
    {"answer": "C"}, answer = "B. Rock", 'option': 'b'."""

    name = "json_field"

    def apply(self, r: Reading) -> Extraction | None:
        text = r.text
        if r.depth or ('"' not in text and "'" not in text and "=" not in text):
            return None  # a field's value is not searched for fields again
        low = text.casefold()
        if not any(k in low for k in ("answer", "choice", "option", "prediction", "letter", "label")):
            return None
        values = []
        for m in _FIELD.finditer(text):
            got = read_reply(r.opts, m.group(1) or m.group(2) or m.group(3), r.depth + 1, r.rules)
            if got.valid:
                values.append(got.letter)
        return decide(values, self.name) if values else None


class DropEcho(Rule):
    """Drops echoed prompt lines and an echoed option list ("A. Rock B. Pop ...", "a) Real\\nb) Fake"):
    nothing left is ``no_answer``. The rows after it read the rest, sentence by sentence."""

    name = "echo"
    finds_letter = False

    def apply(self, r: Reading) -> Extraction | None:
        text = strip_echo(r.opts, r.text)
        if not text:
            return Extraction(None, "no_answer")
        r.set_text(text)
        return None


# ---------------------------------------------------------------- sentences

# After a letter: what tells a letter used as an answer ("A is correct") from the article ("A dog").
_ANSWER_VERB = r"(?:is|would|will|seems|should|must|looks|appears|fits|matches|it\s+is|it's)\b"
_ANSWER_EN = (
    r"final\s+answer|correct\s+answer|right\s+answer|best\s+answer|answer|correct\s+option|best\s+option|"
    r"right\s+option|option|correct\s+choice|best\s+choice|choice|selection|prediction|"
    r"i\s+choose|i\s+select|i\s+pick|i\s+would\s+choose|i\s+would\s+select|i\s+would\s+pick|i'd\s+choose|"
    r"i'd\s+select|i'd\s+pick|i'd\s+go\s+with|i\s+would\s+go\s+with|i\s+will\s+go\s+with|i'll\s+go\s+with|"
    r"i\s+would\s+answer|i'd\s+answer|i\s+answer|go\s+with|select|choose|pick|"
    r"respuesta(?:\s+correcta)?|r[ée]ponse(?:\s+correcte)?|antwort|resposta(?:\s+correta)?|risposta(?:\s+corretta)?"
)
_ANSWER_EN_LOW = _ANSWER_EN.replace(r"\s+", "[ ]")  # for the ASCII-lowercased, whitespace-collapsed text
_ANSWER_CJK = r"正确答案|答案|选项|選項|选择|選擇|我选|应选|应该选|答え|正解|정답|답"
_COPULA = (r"(?:is|would\s+be|will\s+be|should\s+be|must\s+be|=|:|es|est|ist|é|è|是|为|為|は|은|는|"
           r"is\s+therefore|is\s+clearly|is\s+probably|is\s+likely)")
# A lowercase letter only counts when nothing word-like follows ("answer is a bit" is not A).
_LOWER_LETTER_END = re.compile(r"[ ]?(?:[.,;:!?)\]\"'”’。，]|$|\n)")


class AnswerPhrase(Rule):
    """An answer statement: "Answer: B", "The answer is (B)", "Option B: Rock", "I choose b",
    "A is the correct answer", "答案是B", "La respuesta es C", or a reply that starts with "B." /
    "b)" / "B:" / "B\\n". Two different letters stated, another option's text after the letter, or
    another letter said as a clause of its own ("Answer: C. Wait, actually it's D.") is
    ``conflict``; a letter inside a list ("A or B") or ruled out ("not A") is not stated."""

    name = "answer_phrase"

    @letter_patterns
    def patterns(up: str, low: str) -> tuple[re.Pattern, re.Pattern]:
        q = QUOTE
        # Matched against the ASCII-lowercased text (case-insensitive matching is several times slower
        # in Python's engine); the letter's case is then read from the reply itself.
        statement = re.compile(
            rf"(?:\b(?:{_ANSWER_EN_LOW})\b|{_ANSWER_CJK})(?:[ ]?{_COPULA})?(?:[ ]?the[ ])?"
            rf"[ ]?[:=：]?[ ]?(?:option[ ]|letter[ ]|choice[ ]|选项|選項)?"
            rf"(?:\(|\[)?{q}([{low}])(?![a-z0-9_-]|['’][a-z])"
        )
        leading = re.compile(
            rf"^{q}(?:\(|\[)?{q}(?:([{up}])|([{low}]))(?:\)|\])?{q}(?:[ ]?[.:)\]]|[ ]?\n|[ ]?$|[ ](?i:{_ANSWER_VERB}))"
        )
        return statement, leading

    def apply(self, r: Reading) -> Extraction | None:
        opts, text = r.opts, r.text
        statement, leading = self.patterns[r.n]
        found: list[str] = []
        for m in statement.finditer(r.low):
            at = m.start(1)
            letter = text[at]
            if letter.islower() and not _LOWER_LETTER_END.match(text, at + 1):
                continue
            letter = letter.upper()
            if r.in_hedge(at):
                continue
            lead = text[max(0, m.start() - WINDOW):m.start()]  # "not the answer is" / "答案不是"; this line only
            if negated(text, at, m.end()) or negated_before(lead[lead.rfind("\n") + 1:]):
                r.negated = True
                continue
            if followed_by_other_option(opts, letter, text[m.end():m.end() + SHORT]):
                return Extraction(None, "conflict")
            if found and letter != found[0]:
                return Extraction(None, "conflict")
            found.append(letter)
        m = leading.match(text)
        if m:
            letter = (m.group(1) or m.group(2)).upper()
            at = m.start(1) if m.group(1) else m.start(2)
            if r.in_hedge(at):
                pass
            elif negated(text, at, at + 1):
                r.negated = True
            elif followed_by_other_option(opts, letter, text[at + 1:at + 1 + SHORT]):
                return Extraction(None, "conflict")
            else:
                found.append(letter)
        if not found:
            return None
        got = decide(found, self.name)
        if got.valid and asserts_another(opts, text, got.letter, r.in_hedge):
            return Extraction(None, "conflict")
        return got


class LetterList(Rule):
    """Two or more letters offered together ("A or B", "B, C", "(A) and (D)", "A\\nB\\nC") and no
    answer statement outside the list to settle it: ``conflict``."""

    name = "letter_list"
    finds_letter = False

    def apply(self, r: Reading) -> Extraction | None:
        return Extraction(None, "conflict") if r.hedges else None


_ARTICLE = re.compile(rf"[ ](?!(?i:{_ANSWER_VERB}))(?!(?:and|or|nor|also|plus|then|but)\b)[a-z0-9]")


class LoneLetter(Rule):
    """One option letter standing alone in the text: "I'd go with C.", "(b) seems right". "A" and
    "I" used as words ("A dog barks", "I think") are no letters; "A is right" is one."""

    name = "lone_letter"

    @letter_patterns
    def pattern(up: str, low: str) -> re.Pattern:
        return re.compile(rf"(?<!{ASCII_WORD})(?:\(([{up}{low}])\)|([{up}]))(?!{ASCII_WORD})")

    def apply(self, r: Reading) -> Extraction | None:
        text = r.text
        found: list[str] = []
        for m in self.pattern[r.n].finditer(text):
            letter = (m.group(1) or m.group(2)).upper()
            if found and letter == found[0]:
                continue  # already asserted; a repeat changes nothing
            if m.group(2) in ("A", "I") and _ARTICLE.match(text, m.end()):
                continue
            if negated(text, m.start(), m.end()):
                r.negated = True
                continue
            if found and letter != found[0]:
                return Extraction(None, "conflict")
            found.append(letter)
        return decide(found, self.name) if found else None


class OptionMention(Rule):
    """One option named in the text, in any of its forms or a label synonym ("This is a female
    voice.", "The genre is CLASSICAL.", "这是一个女声。"); two named is ``conflict``. A mention inside
    a longer one of another option ("metro" in "metro station") is that longer one's. For an age
    task, an age in years or decades names the group that contains it and must agree with any group
    named; one spanning two groups names none (``conflict``)."""

    name = "option_mention"

    def apply(self, r: Reading) -> Extraction | None:
        opts, text = r.opts, r.text
        spans = sorted(((m.start(), -m.end(), letter) for letter, pattern in opts.mentions
                        for m in pattern.finditer(text)))
        asserted: list[str] = []
        mentioned, reach, prev = False, -1, None
        for start, neg_end, letter in spans:
            end = -neg_end
            if end <= reach and (start, end) != prev:
                continue
            reach, prev = max(reach, end), (start, end)
            mentioned = True
            if asserted and letter == asserted[0]:
                continue
            if not negated(text, start, end):
                asserted.append(letter)
                if asserted[-1] != asserted[0]:
                    return Extraction(None, "conflict")
        if opts.ages is not None:
            sets = []
            for start, end, letters in age_mentions(opts.ages, r.low):
                mentioned = True
                if not negated(text, start, end):
                    sets.append(letters)
            if sets:
                candidates = frozenset.intersection(*sets, *([frozenset(asserted[:1])] if asserted else []))
                if len(candidates) == 1 and None not in candidates:
                    return Extraction(next(iter(candidates)), self.name)
                return Extraction(None, "conflict")
        if asserted:
            return decide(asserted, self.name)
        if mentioned:
            r.negated = True  # every option named was ruled out
        return None


_REFUSAL = re.compile(  # matched against the lowercased text
    r"\b(?:sorry|cannot|can't|can not|unable|not able|don't know|do not know|not sure|unclear|"
    r"impossible|not possible|no audio|as an ai|i apologi[sz]e|unsure|uncertain|hard to tell|difficult to determine)\b"
    r"|无法|不确定|抱歉|不知道|わかりません",
)


class NoLetter(Rule):
    """No row found a letter: ``negated`` if a letter or option was only ruled out, ``refusal`` if
    the reply declines ("I'm sorry, I cannot ...", "无法判断"), else ``no_answer``."""

    name = "no_letter"
    finds_letter = False

    def apply(self, r: Reading) -> Extraction:
        if r.negated:
            return Extraction(None, "negated")
        if _REFUSAL.search(r.low):
            return Extraction(None, "refusal")
        return Extraction(None, "no_answer")


# The table, in the order its rows are tried.
READING_RULES: tuple[Rule, ...] = (
    Clean(),
    BareLetter(),
    OptionText(),
    LetterText(),
    JsonField(),
    DropEcho(),
    AnswerPhrase(),
    LetterList(),
    LoneLetter(),
    OptionMention(),
    NoLetter(),
)
# The rules that find a letter, in table order (``Extraction.rule`` of a valid reply).
VALID_RULES = tuple(rule.name for rule in READING_RULES if rule.finds_letter)


_APPLY = tuple(rule.apply for rule in READING_RULES)  # looked up once: every reply goes through them


def read_reply(opts: ItemOptions, reply: str, depth: int = 0,
               rules: Sequence[Rule] = READING_RULES) -> Extraction:
    """The first decision of the table's rows on one reply of an item with options ``opts``."""
    r = Reading(opts, reply, depth, rules)
    for apply in _APPLY if rules is READING_RULES else [rule.apply for rule in rules]:
        got = apply(r)
        if got is not None:
            return got
    raise ValueError(f"no row of the reading table decided; its last row must always decide ({rules[-1].name})")
