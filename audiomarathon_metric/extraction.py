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
5. ``option_mention``  one option named in the text (any of its forms, or a label synonym,
                       Chinese ones included: "男性", "女声", "真实", "合成"): "This is a female
                       voice." "The genre is CLASSICAL." "Rock music" "这是一个女声。"; for the
                       age task an age in years or decades names the group that contains it
                       ("about 35", "late fifties"); one spanning two groups ("30s") names none
                       (see ``ages``)
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

from .ages import AgeGroups
from .ages import age_groups
from .ages import age_mentions
from .ages import age_range

INVALID_RULES = ("empty", "too_long", "conflict", "negated", "refusal", "no_answer")
VALID_RULES = ("bare_letter", "option_text", "letter_text", "json_field", "answer_phrase", "lone_letter",
               "option_mention")
RULES = VALID_RULES + INVALID_RULES

# Words a model uses for the two-choice label tasks besides the label itself (HAD's prompt says
# "completely authentic (real)" and "artificially synthesized segments (fake)"), in English and
# Chinese. They apply only to a task whose registry labels hold that label (HAD, VoxGender).
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "real": ("authentic", "genuine", "bona fide", "bonafide", "not fake", "no fake segments",
             "真实", "是真的", "真人", "非合成", "不是合成", "没有合成", "没有任何合成", "不含合成", "无合成", "未合成",
             "不是伪造", "不是假的"),
    "fake": ("synthesized", "synthetic", "artificial", "artificially synthesized", "spoofed", "deepfake",
             "not real", "not authentic", "not genuine",
             "合成", "伪造", "假的", "虚假", "深度伪造", "不是真实", "不是真的", "非真实"),
    "male": ("man", "masculine", "men", "男", "男性", "男声", "男人", "男生", "男子", "男士"),
    "female": ("woman", "feminine", "women", "女", "女性", "女声", "女人", "女生", "女子", "女士"),
}
# Read only as the whole reply: in a sentence "真的" is also the adverb "really".
LABEL_WHOLE_REPLY: dict[str, tuple[str, ...]] = {"real": ("真的", "真"), "fake": ("假",)}

MAX_READ = 10_000
# Whole-reply tiers only look at short replies: an option's text or a letter is never long.
_SHORT = 200
_WINDOW = 48  # characters of context looked at for a negation, before or after a match

# After a mention: "A is incorrect", "rock is not right", "B (metal) is wrong". A bare ", not B"
# after a mention negates B, not the mention.
_NEG_AFTER = re.compile(
    r"^[\"')\]]?(?:[.:\-–—](?=[ ]))?[ ]?(?:\([^)]{0,40}\)[ ]?)?"
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
_ARTICLE = re.compile(rf"[ ](?!(?i:{_ANSWER_VERB}))(?!(?:and|or|nor|also|plus|then|but)\b)[a-z0-9]")
# What may follow a letter that stands as a clause of its own ("..., B." / "B\n"); "e.g." is no letter.
_CLAUSE_END = r"[\"'”’)\]]?[ ]?(?:[.!?;,，。；！？](?![a-z])|\n|$)"
_CLAUSE_START = ".!?;:,，。；：！？\n—–-"
_LIST_MARKER = re.compile(r"[)\]]?[.:)][ ]?[^\s]")  # "A. Rock ..." at the start of a line
# Words after which a letter is said as an answer of its own ("actually it's D", "I'd say D").
_LEAD_INS = frozenset(("it's", "it’s", "is", "actually", "rather", "instead", "wait", "no", "mean", "correction",
                       "say", "choose", "pick", "select", "probably", "maybe", "perhaps", "or"))

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
    labels = {_norm_text(x) for x in task.labels} if task is not None and task.labels else set()
    whole = set()
    for p in list(phrases):
        if _norm_text(p) in labels:
            phrases.update(LABEL_SYNONYMS.get(_norm_text(p), ()))
            whole.update(LABEL_WHOLE_REPLY.get(_norm_text(p), ()))
    phrases = {p for p in phrases if _key(p)}
    keys = sorted({_key(p) for p in phrases | ranges | whole if _key(p)})
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
    list_re: re.Pattern  # letters joined by "or", "and", ",", "/", "或", ")(": "A or B", "(A)(B)(C)"
    list_token_re: re.Pattern  # one letter of such a list
    solo_re: re.Pattern  # a letter as a token of its own, either case
    option_line_re: re.Pattern
    marker_re: re.Pattern  # "A." / "b)" / "(C)" before an option's text


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
    sep = (r"(?:[ ]?(?:,|/|&|\bor\b|\band\b|\bnor\b|\bvs\b\.?|\bversus\b|或者|或是|或|和|与|还是|、|，)[ ]?"
           r"(?:(?i:or|and|also|maybe|perhaps|possibly|even)[ ]){0,2}|(?<=\))[ ]?(?=\())")
    # The first letter of a list as `one`, written to start with a character set (then the engine
    # skips ahead in C, several times faster on long replies): what was consumed picks the rest.
    qc = "\"'“”‘’"
    first = (rf"[(\"'“”‘’{up}](?<!{_ASCII_WORD}.)(?:(?<=\()[ ]?[{up}{low}][ ]?\)"
             rf"|(?<=[{qc}])(?:[{up}][{qc}]?|[{low}][\"'”’])|(?<=[{up}])[{qc}]?)")
    list_re = re.compile(rf"{first}(?:{sep}{one})+(?!{_ASCII_WORD})")
    # These two start with a character set, so that the engine skips ahead in C; the letter (and
    # the character before it) are checked behind. A marker "A." is found from its punctuation,
    # rarer than the letters; the letter is the character before the match.
    solo_re = re.compile(rf"[{up}{low}](?<![\w'’-].)(?={_CLAUSE_END})")
    option_line_re = re.compile(rf"^[ ]?(?:[-*•][ ]?)?[(\[]?([{up}{low}])[)\].:][ ]?(.+)$")
    marker_re = re.compile(rf"[)\].:](?<=[{up}{low}].)(?<![\w'’-]..)[ ]?")
    return _LetterPatterns(answer_re, leading_re, lone_re, bare_re, letter_text_re, list_re, re.compile(one), solo_re,
                           option_line_re, marker_re)


@functools.lru_cache(maxsize=16384)
def _option_matcher(text: str, task_name: str) -> tuple[frozenset, re.Pattern | None]:
    """(keys, mention pattern) of one option text, compiled once per text. (Caches are keyed by
    the task's name: hashing the Task dataclass costs more than the lookup saves.)"""
    keys, patterns = option_forms(text, get_task(task_name))
    patterns = sorted(set(patterns), key=lambda p: (-len(p), p))  # longest form first
    # Chinese has no spaces between words: its forms match anywhere ("这是一个女声").
    words = [p for p in patterns if not _has_cjk(p)]
    cjk = [p for p in patterns if _has_cjk(p)]
    parts = ([r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)"] if words else []) + (["|".join(cjk)] if cjk else [])
    pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
    return frozenset(keys), pattern


def _has_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


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
    mention_of: dict  # letter -> pattern of its forms
    pat: _LetterPatterns
    echo_fragments: tuple[str, ...]
    ages: AgeGroups | None  # age-group options of an age task: stated ages are read against them


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
                    dict(mentions), _letter_patterns(n), _echo_fragments(task_name),
                    age_groups(letters, choices) if _age_task(task_name) else None)


@functools.lru_cache(maxsize=None)
def _age_task(task_name: str) -> bool:
    """A task whose registry labels are all age groups "Name (a-b)" (VoxAge)."""
    labels = get_task(task_name).labels
    return bool(labels) and all(age_range(label) for label in labels)


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
_NEG_CJK = ("不是", "不选", "不", "非", "并非", "没有", "没有任何", "不含", "不含任何", "不包含", "不包含任何", "不像")
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
    """Drop echoed prompt lines and an echoed option list (two or more options with their letters,
    "X. <option X>", one per line or all on one line, letters in either case), so that the answer
    after them is read and a reply that is only the list reads nothing."""
    low = text.casefold()
    echoed = opts.echo_fragments and any(f in low for f in opts.echo_fragments)
    lines = [_strip_inline_list(opts, line) for line in text.split("\n")]
    if len(lines) == 1:
        return "" if echoed else lines[0].strip()
    keep = []
    option_lines = {}
    for i, line in enumerate(lines):
        if echoed and any(f in line.casefold() for f in opts.echo_fragments):
            continue
        m = opts.pat.option_line_re.match(line)
        letter = m.group(1).upper() if m else None
        if letter in opts.letters and _key(m.group(2)) in opts.own_keys[opts.letters.index(letter)]:
            option_lines[i] = letter
        keep.append(i)
    if len(set(option_lines.values())) >= 2:
        keep = [i for i in keep if i not in option_lines]
    header = re.compile(r"^[ ]?(?:options|choices|the options are|选项)[ ]?[:：]?[ ]?$", re.IGNORECASE)
    return "\n".join(lines[i] for i in keep if not header.match(lines[i])).strip()


# What may stand between one listed option and the next letter: its range "(18-30)" or label
# "- shopping_mall" where the form matched was the name only, then a separator.
_LIST_GAP = re.compile(r"[ ]?(?:\((?![ ]?[A-Za-z][ ]?\))[^()\n]{0,24}\)|-[ ]?[\w]{1,40})?[ ]?[,;.]?[ ]?")


def _strip_inline_list(opts: _Options, line: str) -> str:
    """One line holding two or more options in a row, each after its own letter ("A. Rock B. Pop
    C. Jazz D. Blues", "a) Real, b) Fake"): the run is an echo and is removed."""
    entries = []  # (start, end, letter) of "X. <a form of option X>"
    for m in opts.pat.marker_re.finditer(line):
        start = m.start() - 1  # the letter
        letter = line[start].upper()
        start = start - 1 if start and line[start - 1] in "([" else start
        pattern = opts.mention_of.get(letter)
        hit = pattern.match(line, m.end()) if pattern is not None else None
        if hit is not None:
            gap = _LIST_GAP.match(line, hit.end())
            entries.append((start, gap.end() if gap else hit.end(), letter))
    runs, run = [], []
    for entry in entries:
        if run and entry[0] != run[-1][1]:
            runs.append(run)
            run = []
        run.append(entry)
    runs.append(run)
    cut = False
    for run in reversed(runs):
        if len({letter for _, _, letter in run}) >= 2:
            line, cut = line[:run[0][0]] + " " + line[run[-1][1]:], True
    return " ".join(line.split()) if cut else line


_CJK_CONNECTORS = re.compile("或者|或是|或|和|与|还是")
_LIST_WORDS = frozenset(("or", "and", "also", "maybe", "perhaps", "nor", "vs", "versus"))


def _letters_only(opts: _Options, line: str) -> set | None:
    """The option letters of a line made of nothing else ("A. B. C. D.", "(A)(B)", "b", "A或B"),
    else None."""
    if len(line) > _SHORT:
        return None
    letters = set()
    for word in re.findall(r"[A-Za-z0-9]+|[^\x00-\x7f，、。；：！？（）]", _CJK_CONNECTORS.sub(" ", line)):
        if len(word) == 1 and word.upper() in opts.letters:
            letters.add(word.upper())
        elif word.lower() not in _LIST_WORDS:
            return None
    return letters or None


def _hedges(opts: _Options, text: str) -> list[tuple[int, int]]:
    """Spans where two or more different letters are offered together: "A or B", "B, C or D",
    "(A)(B)(C)(D)", "答案是A或B", and lines holding only letters ("A\\nB\\nC\\nD", "A. B. C. D.")."""
    spans = [(m.start(), m.end()) for m in opts.pat.list_re.finditer(text)
             if len({_letter_of(t) for t in opts.pat.list_token_re.findall(m.group(0))}) >= 2]
    pos, block, letters = 0, None, set()
    for line in text.split("\n"):
        got = _letters_only(opts, line)
        if got is not None:
            block = (pos if block is None else block[0], pos + len(line))
            letters |= got
        else:
            if block is not None and len(letters) >= 2:
                spans.append(block)
            block, letters = None, set()
        pos += len(line) + 1
    if block is not None and len(letters) >= 2:
        spans.append(block)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _asserts_another(opts: _Options, text: str, letter: str, in_hedge) -> bool:
    """Does the reply, besides its answer `letter`, assert another letter as a clause of its own
    ("I choose A. Just kidding, B.", "Answer: a. Wait, b.")? A later self-correction is still a
    second answer: the reply is invalid. A letter that opens a line and is followed by more text
    ("A. Rock - no guitars", "B. Incorrect") marks an item of a list going through the options."""
    for m in opts.pat.solo_re.finditer(text):
        at = m.start()
        other = text[at].upper()
        if other == letter or in_hedge(at):
            continue
        if at and text[at - 1] == "(" and text[at + 1:at + 2] != ")":
            continue
        before = text[max(0, at - 16):at].rstrip(" \"'“‘([")
        led = bool(before) and before.rsplit(" ", 1)[-1].casefold() in _LEAD_INS
        if before and before[-1] not in _CLAUSE_START and not led:
            continue
        if not led and text[at + 1:at + 4].lstrip("\"'”’)] ")[:1] in ("?", "？"):
            continue  # "A? No.": a question, unless offered ("or C?", "maybe C?")
        line_start = text.rfind("\n", 0, at) + 1
        if not text[line_start:at].strip(" -*•([") and _LIST_MARKER.match(text, at + 1):
            continue
        if _negated(text, at, m.end()):
            continue
        return True
    return False


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

    # "A or B", "B, C", "(A) and (D)", "A\nB\nC": two letters offered together is not an answer,
    # unless an answer statement outside every such list settles it ("Between B and D, I choose D").
    hedges = _hedges(opts, text)

    starts = [a for a, _ in hedges]  # sorted and disjoint

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
        lead = text[max(0, m.start() - _WINDOW):m.start()]  # "not the answer is" / "答案不是"; this line only
        if _negated(text, at, m.end()) or _negated_before(lead[lead.rfind("\n") + 1:]):
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
        got = _decide(found, "answer_phrase")
        if got.valid and _asserts_another(opts, text, got.letter, in_hedge):
            return Extraction(None, "conflict")
        return got
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
    if opts.ages is not None:
        # A stated age names the group that contains it; it must agree with any group named
        # ("in their thirties, early career" -> Early Career), and one that overlaps two groups
        # names neither ("in their thirties" alone is invalid).
        sets = []
        for start, end, letters in age_mentions(opts.ages, low):
            mentioned = True
            if not _negated(text, start, end):
                sets.append(letters)
        if sets:
            candidates = frozenset.intersection(*sets, *([frozenset(asserted[:1])] if asserted else []))
            if len(candidates) == 1 and None not in candidates:
                return Extraction(next(iter(candidates)), "option_mention")
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
