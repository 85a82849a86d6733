"""An option's forms: the texts and patterns by which a reply names it, and the normalised text by
which two spellings of one label are one class ("Urban park - park", "park", "Park").

Used by answer extraction (which option a reply names) and by scoring (which class an option is).
"""

from __future__ import annotations

import re
import unicodedata

from audiomarathon.tasks import Task

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


def option_key(text: str) -> str:
    """Comparison key of an option form: casefolded letters and digits only ("Hip-hop" = "hiphop")."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).casefold()))


def norm_text(text: str) -> str:
    """Casefold, underscores to spaces, strip quotes and end punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("_", " ")
    text = re.sub(r"[\"'`“”‘’]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,:;!?()[]{}")


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
    labels = {norm_text(x) for x in task.labels} if task is not None and task.labels else set()
    whole = set()
    for p in list(phrases):
        if norm_text(p) in labels:
            phrases.update(LABEL_SYNONYMS.get(norm_text(p), ()))
            whole.update(LABEL_WHOLE_REPLY.get(norm_text(p), ()))
    phrases = {p for p in phrases if option_key(p)}
    keys = sorted({option_key(p) for p in phrases | ranges | whole if option_key(p)})
    patterns += [_phrase_pattern(p.replace("(", " ").replace(")", " ").replace("+", " plus ")) for p in phrases]
    return keys, patterns
