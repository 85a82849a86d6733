"""Answer extraction: a raw model reply -> one option letter, or *invalid*.

Never guesses. The reply is cleaned first (markup, echoed prompt lines, an echoed option list);
then rules are tried in tiers, strongest first, and the first tier that finds anything decides.
If that tier finds two different letters the reply is invalid ("conflict"): a reply that asserts
two answers has not answered. Nothing at all -> invalid ("refusal" or "no_answer").

Tiers (``Extraction.rule`` names the one that decided):

1. ``bare_letter``     the whole reply is one letter: "B", "(b)", "B.", "'a'", "**C**"
2. ``option_text``     the whole reply is one option, in any of its forms: "Rock", "metro station",
                       "Indoor shopping mall", "shopping_mall", "Mid Career", "41-50"
   ``letter_text``     the whole reply is a letter plus that option: "B. Rock", "(B) Rock"
3. ``json_field``      a JSON/key-value answer field: {"answer": "C"}, answer = "B. Rock"
   ``answer_phrase``   "Answer: B", "The answer is (B)", "Option B: Rock", "I choose b",
                       "A is the correct answer", "答案是B", "La respuesta es C", or a reply that
                       starts with "B." / "b)" / "B:" / "B\\n"
4. ``lone_letter``     one option letter standing alone in the text: "I'd go with C."
5. ``option_mention``  one option named in the text (any of its forms, or a label synonym):
                       "This is a female voice." "The genre is CLASSICAL." "Rock music"
Negated letters and options ("not A", "A is incorrect", "rather than rock") are never asserted.
Invalid rules: ``empty``, ``too_long``, ``conflict``, ``negated``, ``refusal``, ``no_answer``.

Every step is one pass of a regular expression over text whose whitespace runs have been
collapsed first, or a look at a bounded window around a match, so extraction time is linear in
the reply length. A reply holding more than ``MAX_READ`` characters besides whitespace (about
1,700 words: far beyond any real multiple-choice reply, which is capped by the generation
length, while a model caught in a repetition loop produces such text) is not read: invalid,
``too_long``.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import Task
from audiomarathon.tasks import get_task

INVALID_RULES = ("empty", "too_long", "conflict", "negated", "refusal", "no_answer")
VALID_RULES = ("bare_letter", "option_text", "letter_text", "json_field", "answer_phrase", "lone_letter",
               "option_mention")
RULES = VALID_RULES + INVALID_RULES

# Words a model uses for the two-choice label tasks besides the label itself (HAD's prompt says
# "completely authentic (real)" and "artificially synthesized segments (fake)").
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "real": ("authentic", "genuine", "bona fide", "bonafide", "not fake", "no fake segments"),
    "fake": ("synthesized", "synthetic", "artificial", "artificially synthesized", "spoofed", "deepfake",
             "not real", "not authentic", "not genuine"),
    "male": ("man", "masculine", "men"),
    "female": ("woman", "feminine", "women"),
}

MAX_READ = 10_000
# Whole-reply tiers only look at short replies: an option's text or a letter is never long.
_SHORT = 200
_WINDOW = 48  # characters of context looked at for a negation, before or after a match

# After a mention: "A is incorrect", "rock is not right", "B (metal) is wrong". A bare ", not B"
# after a mention negates B, not the mention.
_NEG_AFTER = re.compile(
    r"^[\"')\]]?[ ]?(?:\([^)]{0,40}\)[ ]?)?"
    r"(?:(?:is|seems|appears|would\sbe|must\sbe|can\sbe|looks|was)[ ](?:not\b|incorrect|wrong|unlikely|ruled\sout|"
    r"excluded|eliminated|false\b)|isn't|is\snot|incorrect|wrong\b|unlikely|can\sbe\sruled\sout|is\sruled\sout)",
    re.IGNORECASE,
)
_REFUSAL = re.compile(  # matched against the lowercased text
    r"\b(?:sorry|cannot|can't|can not|unable|not able|don't know|do not know|not sure|unclear|"
    r"impossible|not possible|no audio|as an ai|i apologi[sz]e|unsure|uncertain|hard to tell|difficult to determine)\b"
    r"|无法|不确定|抱歉|不知道|わかりません",
)
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
# After a letter: what tells a letter used as an answer ("A is correct") from the article ("A dog").
_ANSWER_VERB = r"(?:is|would|will|seems|should|must|looks|appears|fits|matches|it\s+is|it's)\b"
_ASCII_WORD = r"[A-Za-z0-9_'’-]"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# A lowercase letter only counts when nothing word-like follows ("answer is a bit" is not A).
_LOWER_LETTER_END = re.compile(r"[ ]?(?:[.,;:!?)\]\"'”’。，]|$|\n)")
_ARTICLE = re.compile(rf"[ ](?!(?i:{_ANSWER_VERB}))[a-z]")

# A quoted key ({"answer": "C"}) or key = value; a plain "Answer: C" is an answer phrase.
_FIELD = re.compile(
    r"(?:[\"'](?:final_answer|answer|choice|option|prediction|selected_option|letter|label)[\"'][ ]?[:=]|"
    r"\b(?:final_answer|answer|choice|option|prediction)[ ]?=)[ ]?"
    r"(?:\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'|([^\s,;}\"']{1,40}))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Extraction:
    """The letter a reply asserts (None = invalid) and the rule that decided."""

    letter: str | None
    rule: str

    @property
    def valid(self) -> bool:
        return self.letter is not None


def _key(text: str) -> str:
    """Comparison key of an option form: casefolded letters and digits only ("Hip-hop" = "hiphop")."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _norm_text(text: str) -> str:
    """Casefold, underscores to spaces, strip quotes and end punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("_", " ")
    text = re.sub(r"[\"'`“”‘’]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,:;!?()[]{}")


def _collapse_ws(text: str) -> str:
    # Each whitespace run becomes one space, or one newline if it held one: every later pattern
    # then meets runs of length 1, which keeps their backtracking bounded. (str.split runs in C.)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


_TAG = re.compile(r"</?[ ]?[A-Za-z_][\w =\"'-]{0,60}>")
_FENCE = re.compile(r"```[A-Za-z]{0,10}")
_HEADING = re.compile(r"(?m)^[ ]?#{1,6}[ ]?")
_STAR = re.compile(r"(?<!\w)\*(?![\s*])|(?<![\s*])\*(?!\w)")


def _clean_reply(reply: str) -> str:
    """Drop markup that carries no answer: markdown emphasis, headings, code fences, XML-ish tags."""
    text = _collapse_ws(unicodedata.normalize("NFKC", reply))
    if len(text) > MAX_READ:
        return text
    marked = any(c in text for c in "<`*_#")
    if "<" in text:
        text = _TAG.sub(" ", text)  # <answer>B</answer>
    if "`" in text:
        text = _FENCE.sub(" ", text).replace("`", "")
    text = text.replace("**", "").replace("__", " ")
    if "#" in text:
        text = _HEADING.sub("", text)
    if "*" in text:
        text = _STAR.sub("", text)  # *B*
    return (_collapse_ws(text) if marked else text).strip()


def _unquote(text: str) -> str:
    start, end = 0, len(text)
    while end - start >= 2 and text[start] in "\"'“‘" and text[end - 1] in "\"'”’":
        start, end = start + 1, end - 1
    return text[start:end].strip()


# ---------------------------------------------------------------- option forms

_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|—|to)\s*(\d{1,3})$")
_PLUS = re.compile(r"^(\d{1,3})\s*\+$")


def _range_patterns(part: str) -> list[str]:
    """Regex forms of an age range: "18-30" (also "18 to 30", "18–30"), "71+" (also "71 and over")."""
    part = part.strip()
    m = _RANGE.match(part)
    if m:
        return [rf"{m.group(1)}\s?(?:-|–|—|to)\s?{m.group(2)}"]
    m = _PLUS.match(part)
    if m:
        return [rf"{m.group(1)}\s?(?:\+|plus\b|and\s(?:over|above|older)\b|or\s(?:over|above|older)\b)"]
    return []


def _phrase_pattern(phrase: str) -> str:
    # Words joined by any of space, underscore, hyphen or nothing: "hip-hop" ~ "hip hop" ~ "hiphop".
    parts = [re.escape(p) for p in re.split(r"[\s_\-]+", phrase.strip().casefold()) if p]
    return r"[\s_-]?".join(parts)


def option_forms(text: str, task: Task | None = None) -> tuple[list[str], list[str]]:
    """(keys, regex patterns) naming one option: its full text, and for "Display - label" options
    either part (the registry's label and official text where the task has them), for
    "Name (range)" options the name and the range, and the label's synonyms."""
    phrases = {text}
    label = task.option_label(text) if task is not None and task.labels else None
    if label:
        phrases.add(label)
        phrases.add(task.option_text(label))
    for p in list(phrases):
        if " - " in p:
            left, _, right = p.rpartition(" - ")
            phrases.update((left, right))
    patterns: list[str] = []
    ranges: set[str] = set()
    for p in list(phrases):
        m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", p)
        if m:
            phrases.add(m.group(1))
            patterns += _range_patterns(m.group(2))
            ranges.add(m.group(2))  # a whole reply "41-50" names the group; mentions use the range patterns
    for p in list(phrases):
        phrases.update(LABEL_SYNONYMS.get(_norm_text(p), ()))
    phrases = {p for p in phrases if _key(p)}
    keys = sorted({_key(p) for p in phrases | ranges if _key(p)})
    patterns += [_phrase_pattern(p.replace("(", " ").replace(")", " ").replace("+", " plus ")) for p in phrases]
    return keys, patterns


@dataclass(frozen=True)
class _LetterPatterns:
    """Matchers that depend only on the number of options (letters A..)."""

    answer_re: re.Pattern
    leading_re: re.Pattern
    lone_re: re.Pattern
    bare_re: re.Pattern
    letter_text_re: re.Pattern
    list_re: re.Pattern  # two letters joined by "or", "and", ",", "/"
    option_line_re: re.Pattern


@functools.lru_cache(maxsize=None)
def _letter_patterns(n: int) -> _LetterPatterns:
    up = LETTERS[:n]
    low = up.lower()
    q = r"[\"'“”‘’]?"  # optional quote around a letter
    # A lowercase letter only counts when nothing word-like follows ("answer is a bit" is not A).
    letter_group = (rf"(?:\(|\[)?{q}(?:([{up}])(?!{_ASCII_WORD})|([{low}])"
                    rf"(?=[ ]?(?:[.,;:!?)\]\"'”’。，]|$|\n)))")
    # Matched against the ASCII-lowercased text (case-insensitive matching is several times slower
    # in Python's engine); the letter's case is then read from the reply itself.
    answer_re = re.compile(
        rf"(?:\b(?:{_ANSWER_EN_LOW})\b|{_ANSWER_CJK})(?:[ ]?{_COPULA})?(?:[ ]?the[ ])?"
        rf"[ ]?[:=：]?[ ]?(?:option[ ]|letter[ ]|choice[ ]|选项|選項)?(?:\(|\[)?{q}([{low}])(?![a-z0-9_-]|['’][a-z])"
    )
    leading_re = re.compile(
        rf"^{q}(?:\(|\[)?{q}(?:([{up}])|([{low}]))(?:\)|\])?{q}(?:[ ]?[.:)\]]|[ ]?\n|[ ]?$|[ ](?i:{_ANSWER_VERB}))"
    )
    lone_re = re.compile(rf"(?<!{_ASCII_WORD})(?:\(([{up}{low}])\)|([{up}]))(?!{_ASCII_WORD})")
    bare_re = re.compile(rf"^[ ]?(?:\(|\[)?[ ]?([{up}{low}])[ ]?(?:\)|\])?[ ]?[.:!]?[ ]?$")
    # A letter plus text needs a separator: "a female" is an article, "a) female" is a letter.
    letter_text_re = re.compile(
        rf"^(?:\([ ]?([{up}{low}])[ ]?\)|\[[ ]?([{up}{low}])[ ]?\]|([{up}{low}])[ ]?[.:)\-])[ ]?(.+?)[ ]?$", re.DOTALL
    )
    one = rf"(?:\([ ]?[{up}{low}][ ]?\)|{q}[{up}]{q}|[\"'“‘][{low}][\"'”’])"
    list_re = re.compile(rf"(?<!{_ASCII_WORD})({one})[ ]?(?:,|/|&|\bor\b|\band\b|\bnor\b)[ ]?(?:(?i:or)[ ])?({one})"
                         rf"(?!{_ASCII_WORD})")
    option_line_re = re.compile(rf"^[ ]?(?:[-*•][ ]?)?[(\[]?([{up}])[)\].:][ ]?(.+)$")
    return _LetterPatterns(answer_re, leading_re, lone_re, bare_re, letter_text_re, list_re, option_line_re)


@functools.lru_cache(maxsize=16384)
def _option_matcher(text: str, task_name: str) -> tuple[frozenset, re.Pattern | None]:
    """(keys, mention pattern) of one option text, compiled once per text. (Caches are keyed by
    the task's name: hashing the Task dataclass costs more than the lookup saves.)"""
    keys, patterns = option_forms(text, get_task(task_name))
    patterns = sorted(set(patterns), key=lambda p: (-len(p), p))  # longest form first
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE) if patterns else None
    return frozenset(keys), pattern


@functools.lru_cache(maxsize=None)
def _echo_fragments(task_name: str) -> tuple[str, ...]:
    """Casefolded fixed text of the task's prompt: a reply line holding one is an echo."""
    return tuple(f.strip().casefold() for f in re.split(r"\{[a-z]+\}|\n", get_task(task_name).prompt.template)
                 if len(f.strip()) >= 16)


@dataclass(frozen=True)
class _Options:
    """Matchers for one (choices, task) combination."""

    letters: tuple[str, ...]
    by_key: dict  # option key -> set of letters
    own_keys: tuple[frozenset, ...]  # letter order
    mentions: tuple[tuple[str, re.Pattern], ...]  # (letter, pattern of its forms)
    pat: _LetterPatterns
    echo_fragments: tuple[str, ...]


@functools.lru_cache(maxsize=8192)
def _options(choices: tuple[str, ...], task_name: str) -> _Options:
    task = get_task(task_name)
    n = len(choices) or task.n_choices
    if not 1 <= n <= len(LETTERS):
        raise ValueError(f"an MCQ item needs 1..{len(LETTERS)} choices, got {n}")
    letters = tuple(LETTERS[:n])
    by_key: dict[str, set] = {}
    own: list[frozenset] = []
    mentions = []
    for letter, text in zip(letters, choices):
        keys, pattern = _option_matcher(text, task_name)
        own.append(keys)
        for k in keys:
            by_key.setdefault(k, set()).add(letter)
        if pattern is not None:
            mentions.append((letter, pattern))
    return _Options(letters, {k: frozenset(v) for k, v in by_key.items()}, tuple(own), tuple(mentions),
                    _letter_patterns(n), _echo_fragments(task_name))


def _text_option(opts: _Options, text: str) -> str | None:
    """The letter of the one option one of whose forms is exactly `text` (None if 0 or 2+)."""
    hits = opts.by_key.get(_key(text), ())
    return next(iter(hits)) if len(hits) == 1 else None


def _letter_of(token: str) -> str:
    return re.sub(r"[^A-Za-z]", "", token).upper()


def _decide(letters: list[str], rule: str) -> Extraction:
    distinct = set(letters)
    if len(distinct) == 1:
        return Extraction(letters[0], rule)
    return Extraction(None, "conflict")


_NEG_WORDS = frozenset(("not", "no", "neither", "nor", "without", "except", "unlike", "exclude", "excluding",
                        "eliminate", "never", "non", "isn't", "aren't", "wasn't", "can't", "cannot"))
_NEG_PAIRS = frozenset(("rather than", "instead of", "other than", "rule out", "ruled out", "apart from"))
_FILLERS = frozenset(("option", "choice", "letter", "the", "a", "an", "answer", "be", "is", "it", "its", "choose",
                      "select", "pick", "say", "with", "go", "answer"))
_NEG_CJK = ("不是", "不选", "不", "非", "并非")
_NEG_AFTER_HINTS = ("not", "incorrect", "wrong", "unlikely", "rule", "exclud", "eliminat", "false", "n't")


def _negated_before(before: str) -> bool:
    """Does the text before a mention end in a negation, up to two filler words away
    ("not", "not option", "rather than the", "isn't", "不是")?"""
    if before.rstrip(" \"'([“‘").endswith(_NEG_CJK):
        return True
    words = [w.strip("\"'([“‘,:") for w in before.casefold().replace("-", " ").split()[-4:]]
    skipped = 0
    while words and words[-1] in _FILLERS and skipped < 2:
        words.pop()
        skipped += 1
    if not words:
        return False
    last = words[-1]
    return last in _NEG_WORDS or last.endswith("n't") or " ".join(words[-2:]) in _NEG_PAIRS


def _negated(text: str, start: int, end: int) -> bool:
    """A mention is negated by what stands just before it ("not", "rather than", "不是") or
    just after it ("A is incorrect", "rock is not right")."""
    before = text[max(0, start - _WINDOW):start]
    if "\n" in before:
        before = before[before.rindex("\n") + 1:]
    if _negated_before(before):
        return True
    after = text[end:end + _WINDOW]
    low = after.casefold()
    return any(h in low for h in _NEG_AFTER_HINTS) and bool(_NEG_AFTER.match(after))


def _followed_by_other_option(opts: _Options, letter: str, rest: str) -> bool:
    """True when the letter is followed by another option's text ("B: Jazz" while B is Rock)."""
    line = rest[:_SHORT].split("\n", 1)[0]
    line = re.sub(r"^[ ]?[.:)\]\-]?[ ]?", "", line)
    if not line:
        return False
    named = _text_option(opts, line.rstrip(" .!"))
    own = opts.own_keys[opts.letters.index(letter)] if letter in opts.letters else frozenset()
    return named is not None and named != letter and _key(line) not in own


def _strip_echo(opts: _Options, text: str) -> str:
    """Drop echoed prompt lines and an echoed option list (two or more lines "X. <option X>"),
    so that the answer after them is read."""
    low = text.casefold()
    echoed = opts.echo_fragments and any(f in low for f in opts.echo_fragments)
    if "\n" not in text:  # one line: an option list needs two
        return "" if echoed else text
    lines = text.split("\n")
    keep = []
    option_lines = []
    for i, line in enumerate(lines):
        if echoed and any(f in line.casefold() for f in opts.echo_fragments):
            continue
        m = opts.pat.option_line_re.match(line)
        if m and m.group(1) in opts.letters and _key(m.group(2)) in opts.own_keys[opts.letters.index(m.group(1))]:
            option_lines.append(i)
        keep.append(i)
    if len({lines[i].lstrip(" -*•([")[:1] for i in option_lines}) >= 2:
        dropped = set(option_lines)
        keep = [i for i in keep if i not in dropped]
    header = re.compile(r"^[ ]?(?:options|choices|the options are|选项)[ ]?[:：]?[ ]?$", re.IGNORECASE)
    return "\n".join(lines[i] for i in keep if not header.match(lines[i])).strip()


def _resolve_task(task: str | Task) -> Task:
    return task if isinstance(task, Task) else get_task(task)


def default_choices(task: str | Task) -> tuple[str, ...]:
    """Choices implied by the task when an item carries none: the fixed labels of tasks whose
    options never change (HAD: Real/Fake, VoxGender: Male/Female); otherwise ()."""
    t = _resolve_task(task)
    if t.is_mcq and t.labels and len(t.labels) == t.n_choices:
        return tuple(t.labels)
    return ()


def _json_answer(opts: _Options, text: str, depth: int) -> Extraction | None:
    """{"answer": "C"}, answer: "B. Rock", 'option': 'b' -> the field's value read as a reply."""
    if '"' not in text and "'" not in text and "=" not in text:
        return None
    low = text.casefold()
    if not any(k in low for k in ("answer", "choice", "option", "prediction", "letter", "label")):
        return None
    values = []
    for m in _FIELD.finditer(text):
        value = m.group(1) or m.group(2) or m.group(3)
        got = _extract(opts, value, depth + 1)
        if got.valid:
            values.append(got.letter)
    return _decide(values, "json_field") if values else None


def extract_answer(reply: str, choices: Sequence[str], task: str | Task) -> Extraction:
    """Read the option letter a reply asserts. See the module docstring for the rules."""
    t = _resolve_task(task)
    if not t.is_mcq:
        raise ValueError(f"task {t.name} is not multiple-choice; use clean_transcript for its replies")
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a string, got {type(reply).__name__}")
    choices = tuple(choices) if choices else default_choices(t)
    return _extract(_options(choices, t.name), reply, 0)


def _extract(opts: _Options, reply: str, depth: int) -> Extraction:
    if len(reply) > 2 * MAX_READ and len(reply) - sum(reply.count(c) for c in " \n\t\r") > MAX_READ:
        return Extraction(None, "too_long")  # decided by C-speed counts, before any pass over the text
    text = _unquote(_clean_reply(reply))
    if not text:
        return Extraction(None, "empty")
    if len(text) > MAX_READ:
        return Extraction(None, "too_long")
    short = len(text) <= _SHORT

    # Tier 1: the reply is a letter.
    if short:
        m = opts.pat.bare_re.match(text)
        if m:
            return Extraction(m.group(1).upper(), "bare_letter")

    # Tier 2: the reply is an option (any form), or a letter plus its option.
    if short:
        letter = _text_option(opts, text)
        if letter:
            return Extraction(letter, "option_text")
        m = opts.pat.letter_text_re.match(text)
        if m:
            said = (m.group(1) or m.group(2) or m.group(3)).upper()
            named = _text_option(opts, _unquote(m.group(4)).rstrip(" .!"))
            if named:
                return Extraction(said, "letter_text") if named == said else Extraction(None, "conflict")

    if depth == 0:
        got = _json_answer(opts, text, depth)
        if got is not None:
            return got
    text = _strip_echo(opts, text)
    if not text:
        return Extraction(None, "no_answer")
    low = text.translate(_ASCII_LOWER)  # same length and positions as text

    # "A or B", "B, C", "(A) and (D)": two letters offered together is not an answer, unless an
    # answer statement outside every such list settles it ("Between B and D, I choose D").
    hedges = [(m.start(), m.end()) for m in opts.pat.list_re.finditer(text)
              if _letter_of(m.group(1)) != _letter_of(m.group(2))]

    starts = [a for a, _ in hedges]  # finditer spans: sorted and disjoint

    def in_hedge(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos < hedges[i][1]

    # Tier 3: explicit answer statements and a leading "B." / "b)" / "A is correct".
    found: list[str] = []
    negated = False
    for m in opts.pat.answer_re.finditer(low):
        at = m.start(1)
        letter = text[at]
        if letter.islower() and not _LOWER_LETTER_END.match(text, at + 1):
            continue
        letter = letter.upper()
        if in_hedge(at):
            continue
        if _negated(text, at, m.end()) or _negated_before(text[max(0, m.start() - _WINDOW):m.start()]):
            negated = True
            continue
        if _followed_by_other_option(opts, letter, text[m.end():m.end() + _SHORT]):
            return Extraction(None, "conflict")
        if found and letter != found[0]:
            return Extraction(None, "conflict")
        found.append(letter)
    m = opts.pat.leading_re.match(text)
    if m:
        letter = (m.group(1) or m.group(2)).upper()
        at = m.start(1) if m.group(1) else m.start(2)
        if in_hedge(at):
            pass
        elif _negated(text, at, at + 1):
            negated = True
        elif _followed_by_other_option(opts, letter, text[at + 1:at + 1 + _SHORT]):
            return Extraction(None, "conflict")
        else:
            found.append(letter)
    if found:
        return _decide(found, "answer_phrase")
    if hedges:
        return Extraction(None, "conflict")

    # Tier 4: letters standing alone ("I'd go with C.", "(b) seems right").
    for m in opts.pat.lone_re.finditer(text):
        letter = (m.group(1) or m.group(2)).upper()
        if found and letter == found[0]:
            continue  # already asserted; a repeat changes nothing
        # "A dog barks" / "I think": an article or pronoun, not an option letter ("A is right" is one).
        if m.group(2) in ("A", "I") and _ARTICLE.match(text, m.end()):
            continue
        if _negated(text, m.start(), m.end()):
            negated = True
            continue
        if found and letter != found[0]:
            return Extraction(None, "conflict")
        found.append(letter)
    if found:
        return _decide(found, "lone_letter")

    # Tier 5: options (any form, or a label synonym) named in the text, negations ignored. A mention
    # inside a longer one of another option ("metro" in "metro station") is that longer one's.
    spans = sorted(((m.start(), -m.end(), letter) for letter, pattern in opts.mentions
                    for m in pattern.finditer(text)))
    asserted, mentioned, reach, prev = [], False, -1, None
    for start, neg_end, letter in spans:
        end = -neg_end
        if end <= reach and (start, end) != prev:
            continue
        reach, prev = max(reach, end), (start, end)
        mentioned = True
        if asserted and letter == asserted[0]:
            continue
        if not _negated(text, start, end):
            asserted.append(letter)
            if asserted[-1] != asserted[0]:
                return Extraction(None, "conflict")
    if asserted:
        return _decide(asserted, "option_mention")
    if mentioned or negated:
        return Extraction(None, "negated")
    if _REFUSAL.search(low):
        return Extraction(None, "refusal")
    return Extraction(None, "no_answer")


def clean_transcript(reply: str, task: str | Task = "LibriSpeech") -> str:
    """An ASR reply without the prompt's response marker ("Spoken Content:") and markup."""
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a string, got {type(reply).__name__}")
    t = _resolve_task(task)
    return t.prompt.strip_marker(_clean_reply(reply))
