"""What a cleaned reply says about one item's options and letters: the matchers the reading rules
(``extraction_rules``) share.

Cleaning (markup, quotes), the forms of each option compiled once per option text, negation
("not A", "A is incorrect", "不是A"), letters offered together ("A or B"), an echoed option list,
and a second letter said as a clause of its own. Every matcher is one pass of a regular
expression over text whose whitespace runs have been collapsed, or a look at a bounded window
around a match, so reading a reply takes time linear in its length.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import get_task

from .ages import AgeGroups
from .ages import age_groups
from .ages import age_range
from .option_forms import option_forms
from .option_forms import option_key

# A reply holding more than this many characters besides whitespace is not read (see extraction).
MAX_READ = 10_000
# Whole-reply rules only look at short replies: an option's text or a letter is never long.
SHORT = 200
WINDOW = 48  # characters of context looked at for a negation, before or after a match

# After a mention: "A is incorrect", "rock is not right", "B (metal) is wrong". A bare ", not B"
# after a mention negates B, not the mention.
_NEG_AFTER = re.compile(
    r"^[\"')\]]?(?:[.:\-–—](?=[ ]))?[ ]?(?:\([^)]{0,40}\)[ ]?)?"
    r"(?:(?:is|seems|appears|would\sbe|must\sbe|can\sbe|looks|was)[ ](?:not\b|incorrect|wrong|unlikely|ruled\sout|"
    r"excluded|eliminated|false\b)|isn't|is\snot|incorrect|wrong\b|unlikely|can\sbe\sruled\sout|is\sruled\sout)",
    re.IGNORECASE,
)
ASCII_WORD = r"[A-Za-z0-9_'’-]"
QUOTE = r"[\"'“”‘’]?"  # an optional quote around a letter
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What may follow a letter that stands as a clause of its own ("..., B." / "B\n"); "e.g." is no letter.
_CLAUSE_END = r"[\"'”’)\]]?[ ]?(?:[.!?;,，。；！？](?![a-z])|\n|$)"
_CLAUSE_START = ".!?;:,，。；：！？\n—–-"
_LIST_MARKER = re.compile(r"[)\]]?[.:)][ ]?[^\s]")  # "A. Rock ..." at the start of a line
# Words after which a letter is said as an answer of its own ("actually it's D", "I'd say D").
_LEAD_INS = frozenset(("it's", "it’s", "is", "actually", "rather", "instead", "wait", "no", "mean", "correction",
                       "say", "choose", "pick", "select", "probably", "maybe", "perhaps", "or"))


def _collapse_ws(text: str) -> str:
    # Each whitespace run becomes one space, or one newline if it held one: every later pattern
    # then meets runs of length 1, which keeps their backtracking bounded. (str.split runs in C.)
    return "\n".join(filter(None, [" ".join(line.split()) for line in text.splitlines()]))


_TAG = re.compile(r"</?[ ]?[A-Za-z_][\w =\"'-]{0,60}>")
_FENCE = re.compile(r"```[A-Za-z]{0,10}")
_HEADING = re.compile(r"(?m)^[ ]?#{1,6}[ ]?")
_STAR = re.compile(r"(?<!\w)\*(?![\s*])|(?<![\s*])\*(?!\w)")


def clean_reply(reply: str) -> str:
    """Drop markup that carries no answer: markdown emphasis, headings, code fences, XML-ish tags."""
    text = _collapse_ws(unicodedata.normalize("NFKC", reply))
    if len(text) > MAX_READ:
        return text
    if not ("<" in text or "`" in text or "*" in text or "_" in text or "#" in text):
        return text.strip()  # no markup (most replies)
    if "<" in text:
        text = _TAG.sub(" ", text)  # <answer>B</answer>
    if "`" in text:
        text = _FENCE.sub(" ", text).replace("`", "")
    text = text.replace("**", "").replace("__", " ")
    if "#" in text:
        text = _HEADING.sub("", text)
    if "*" in text:
        text = _STAR.sub("", text)  # *B*
    return _collapse_ws(text).strip()


def unquote(text: str) -> str:
    """The text inside any pairs of quotes around the whole of it."""
    start, end = 0, len(text)
    while end - start >= 2 and text[start] in "\"'“‘" and text[end - 1] in "\"'”’":
        start, end = start + 1, end - 1
    return text[start:end].strip()


@dataclass(frozen=True)
class _LetterPatterns:
    """The shared matchers that depend only on the number of options (letters A..)."""

    list_re: re.Pattern  # letters joined by "or", "and", ",", "/", "或", ")(": "A or B", "(A)(B)(C)"
    list_token_re: re.Pattern  # one letter of such a list
    solo_re: re.Pattern  # a letter as a token of its own, either case
    option_line_re: re.Pattern
    marker_re: re.Pattern  # "A." / "b)" / "(C)" before an option's text


@functools.lru_cache(maxsize=None)
def _letter_patterns(n: int) -> _LetterPatterns:
    up = LETTERS[:n]
    low = up.lower()
    q = QUOTE
    one = rf"(?:\([ ]?[{up}{low}][ ]?\)|{q}[{up}]{q}|[\"'“‘][{low}][\"'”’])"
    sep = (r"(?:[ ]?(?:,|/|&|\bor\b|\band\b|\bnor\b|\bvs\b\.?|\bversus\b|或者|或是|或|和|与|还是|、|，)[ ]?"
           r"(?:(?i:or|and|also|maybe|perhaps|possibly|even)[ ]){0,2}|(?<=\))[ ]?(?=\())")
    # The first letter of a list as `one`, written to start with a character set (then the engine
    # skips ahead in C, several times faster on long replies): what was consumed picks the rest.
    qc = "\"'“”‘’"
    first = (rf"[(\"'“”‘’{up}](?<!{ASCII_WORD}.)(?:(?<=\()[ ]?[{up}{low}][ ]?\)"
             rf"|(?<=[{qc}])(?:[{up}][{qc}]?|[{low}][\"'”’])|(?<=[{up}])[{qc}]?)")
    list_re = re.compile(rf"{first}(?:{sep}{one})+(?!{ASCII_WORD})")
    # These two start with a character set, so that the engine skips ahead in C; the letter (and
    # the character before it) are checked behind. A marker "A." is found from its punctuation,
    # rarer than the letters; the letter is the character before the match.
    solo_re = re.compile(rf"[{up}{low}](?<![\w'’-].)(?={_CLAUSE_END})")
    option_line_re = re.compile(rf"^[ ]?(?:[-*•][ ]?)?[(\[]?([{up}{low}])[)\].:][ ]?(.+)$")
    marker_re = re.compile(rf"[)\].:](?<=[{up}{low}].)(?<![\w'’-]..)[ ]?")
    return _LetterPatterns(list_re, re.compile(one), solo_re, option_line_re, marker_re)


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
class ItemOptions:
    """Matchers for one (choices, task) combination."""

    letters: tuple[str, ...]
    by_key: dict  # option key -> set of letters
    own_keys: tuple[frozenset, ...]  # letter order
    mentions: tuple[tuple[str, re.Pattern], ...]  # (letter, pattern of its forms)
    mention_of: dict  # letter -> pattern of its forms
    pat: _LetterPatterns
    echo_fragments: tuple[str, ...]
    ages: AgeGroups | None  # age-group options of an age task: stated ages are read against them
    choices: tuple[str, ...] = ()  # the option texts, letter order


@functools.lru_cache(maxsize=8192)
def item_options(choices: tuple[str, ...], task_name: str) -> ItemOptions:
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
    return ItemOptions(letters, {k: frozenset(v) for k, v in by_key.items()}, tuple(own), tuple(mentions),
                       dict(mentions), _letter_patterns(n), _echo_fragments(task_name),
                       age_groups(letters, choices) if _age_task(task_name) else None, tuple(choices))


@functools.lru_cache(maxsize=None)
def _age_task(task_name: str) -> bool:
    """A task whose registry labels are all age groups "Name (a-b)" (VoxAge)."""
    labels = get_task(task_name).labels
    return bool(labels) and all(age_range(label) for label in labels)


def text_option(opts: ItemOptions, text: str) -> str | None:
    """The letter of the one option one of whose forms is exactly `text` (None if 0 or 2+)."""
    hits = opts.by_key.get(option_key(text), ())
    return next(iter(hits)) if len(hits) == 1 else None


def _letter_of(token: str) -> str:
    return re.sub(r"[^A-Za-z]", "", token).upper()


_NEG_WORDS = frozenset(("not", "no", "neither", "nor", "without", "except", "unlike", "exclude", "excluding",
                        "eliminate", "never", "non", "isn't", "aren't", "wasn't", "can't", "cannot"))
_NEG_PAIRS = frozenset(("rather than", "instead of", "other than", "rule out", "ruled out", "apart from"))
_FILLERS = frozenset(("option", "choice", "letter", "the", "a", "an", "answer", "be", "is", "it", "its", "choose",
                      "select", "pick", "say", "with", "go", "answer"))
_NEG_CJK = ("不是", "不选", "不", "非", "并非", "没有", "没有任何", "不含", "不含任何", "不包含", "不包含任何", "不像")
_NEG_AFTER_HINTS = ("not", "incorrect", "wrong", "unlikely", "rule", "exclud", "eliminat", "false", "n't")


def negated_before(before: str) -> bool:
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


def negated(text: str, start: int, end: int) -> bool:
    """A mention is negated by what stands just before it ("not", "rather than", "不是") or
    just after it ("A is incorrect", "rock is not right")."""
    before = text[max(0, start - WINDOW):start]
    if "\n" in before:
        before = before[before.rindex("\n") + 1:]
    if negated_before(before):
        return True
    after = text[end:end + WINDOW]
    low = after.casefold()
    return any(h in low for h in _NEG_AFTER_HINTS) and bool(_NEG_AFTER.match(after))


def followed_by_other_option(opts: ItemOptions, letter: str, rest: str) -> bool:
    """True when the letter is followed by another option's text ("B: Jazz" while B is Rock)."""
    line = rest[:SHORT].split("\n", 1)[0]
    line = re.sub(r"^[ ]?[.:)\]\-]?[ ]?", "", line)
    if not line:
        return False
    named = text_option(opts, line.rstrip(" .!"))
    own = opts.own_keys[opts.letters.index(letter)] if letter in opts.letters else frozenset()
    return named is not None and named != letter and option_key(line) not in own


def strip_echo(opts: ItemOptions, text: str) -> str:
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
        if letter in opts.letters and option_key(m.group(2)) in opts.own_keys[opts.letters.index(letter)]:
            option_lines[i] = letter
        keep.append(i)
    if len(set(option_lines.values())) >= 2:
        keep = [i for i in keep if i not in option_lines]
    header = re.compile(r"^[ ]?(?:options|choices|the options are|选项)[ ]?[:：]?[ ]?$", re.IGNORECASE)
    return "\n".join(lines[i] for i in keep if not header.match(lines[i])).strip()


# What may stand between one listed option and the next letter: its range "(18-30)" or label
# "- shopping_mall" where the form matched was the name only, then a separator.
_LIST_GAP = re.compile(r"[ ]?(?:\((?![ ]?[A-Za-z][ ]?\))[^()\n]{0,24}\)|-[ ]?[\w]{1,40})?[ ]?[,;.]?[ ]?")


def _strip_inline_list(opts: ItemOptions, line: str) -> str:
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


def _letters_only(opts: ItemOptions, line: str) -> set | None:
    """The option letters of a line made of nothing else ("A. B. C. D.", "(A)(B)", "b", "A或B"),
    else None."""
    if len(line) > SHORT:
        return None
    letters = set()
    for word in re.findall(r"[A-Za-z0-9]+|[^\x00-\x7f，、。；：！？（）]", _CJK_CONNECTORS.sub(" ", line)):
        if len(word) == 1 and word.upper() in opts.letters:
            letters.add(word.upper())
        elif word.lower() not in _LIST_WORDS:
            return None
    return letters or None


def hedges(opts: ItemOptions, text: str) -> list[tuple[int, int]]:
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


def asserts_another(opts: ItemOptions, text: str, letter: str, in_hedge) -> bool:
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
        if negated(text, at, m.end()):
            continue
        return True
    return False
