"""Paper mode against the benchmark authors' scoring, typed out a second time here.

The reference below restates, script by script, how the authors' evaluation code
(github.com/DabDans/AudioMarathon: src/Qwen_2.5_Omni/Others/*_qwen2.5.py, src/Phi4MM/Others/*_test.py,
src/Voxtral/eval_*.py) reads a reply into its own vocabulary (a letter, "real"/"fake", "male"/"female",
an option's text, or "" for nothing), which pairs its figure keeps, and the figure it reports,
computed with sklearn as the scripts compute it. Each reader also names the step that decided, so
the reply sets can be checked to take every step. Nothing here calls the metric's own readers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jiwer
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from audiomarathon.cli import main
from audiomarathon_metric import score

ROOT = Path(__file__).resolve().parent.parent
ABCD = ["A", "B", "C", "D"]
AGE_GROUPS = ["Young Adult (18-30)", "Early Career (31-40)", "Mid Career (41-50)", "Senior (51-70)", "Elderly (71+)"]
FIXED = {"HAD": ["Real", "Fake"], "VoxGender": ["Male", "Female"]}
FAMILIES = ("Qwen2.5-Omni", "Phi-4-multimodal", "Voxtral")


# ============================================================== the authors' reading, restated

def after_assistant(text):
    # the Qwen scripts that decode prompt and reply together keep what follows the last "assistant\n"
    if "assistant\n" in text:
        text = text[text.rfind("assistant\n") + len("assistant\n"):].strip()
    return text


def voxtral(read):
    # every Voxtral script: an output starting with "ERROR" is a failed call, recorded as "error"
    def reader(text, choices):
        if text.startswith("ERROR"):
            return "error", "error output"
        return read(text, choices)
    reader.inner = read  # for the step check below
    return reader


def first_abcd(text, choices):  # clean_text_response (RACE Qwen/Phi, GTZAN Phi), extract_race_answer (Voxtral)
    up = text.strip().upper()
    for ch in up:
        if ch in "ABCD":
            return ch, "first A-D character"
    words = up.split()
    return (words[0] if words else ""), "no A-D character"


def abcd_regexes(up):
    m = re.search(r"\b([ABCD])\b", up)
    if m:
        return m.group(1), "standalone letter"
    m = re.search(r"[(\[]?([ABCD])[)\].]?", up)
    if m:
        return m.group(1), "letter anywhere"
    return "", "nothing"


def abcd_choice(text, choices):  # extract_answer_choice: DESED/SLUE (Phi, Voxtral), VESUS/Vox (Voxtral)
    if not text:
        return "", "empty"
    up = text.strip().upper()
    if up in ["A", "B", "C", "D"]:
        return up, "letter alone"
    return abcd_regexes(up)


def qwen_desed(text, choices):  # DESED_qwen2.5.py: main loop and extract_answer_choice both cut at assistant
    return abcd_choice(after_assistant(text), choices)


def qwen_slue(text, choices):  # SLUE_qwen2.5.py extract_answer_choice
    if not text:
        return "", "empty"
    up = text.strip().upper()
    if up in ["A", "B", "C", "D"]:
        return up, "letter alone"
    for letter in "ABCD":
        if up.startswith(letter) and len(up) <= 3:
            return letter, "short reply starting with a letter"
    got = abcd_regexes(up)
    if got[0]:
        return got
    m = re.search(r"(?:option|choice)\s+([ABCD])", up)  # unreachable after the scans above
    return (m.group(1), "option word") if m else ("", "nothing")


def qwen_gtzan(text, choices):  # GTZAN_qwen2.5.py extract_gtzan_answer
    if not text:
        return "", "empty"
    up = after_assistant(text).strip().upper()
    if up in ["A", "B", "C", "D"]:
        return up, "letter alone"
    for letter in "ABCD":
        if up == letter or up.startswith(letter + ".") or up.startswith(letter + ")") or up.endswith(" " + letter):
            return letter, "letter first or last"
    low = up.lower()
    for letter in "abcd":
        if "option " + letter in low or "choice " + letter in low or letter + ")" in low:
            return letter.upper(), "option/choice/x)"
    return abcd_regexes(up)


def tau(text, choices):  # extract_acoustic_scene_answer, the same in all three families
    low = text.lower().strip()
    if low in ["a", "b", "c", "d"]:
        return low.upper(), "letter alone"
    for letter in "abcd":
        for start in (letter + ".", letter + ")", letter + ":"):
            if low.startswith(start):
                return letter.upper(), "leading letter"
    for letter in "abcd":
        for said in ("option " + letter, "choice " + letter, letter + ")"):
            if said in low:
                return letter.upper(), "option/choice/x)"
    if choices:
        best, top = None, 0
        for i, option in enumerate(choices):
            if option.lower() in low:
                return "ABCD"[i], "whole option text"
            keywords = option.lower().split(" - ")[0].split()
            count = sum(1 for kw in keywords if kw in low)
            if count > top:
                top, best = count, "ABCD"[i]
        if best and top > 1:
            return best, "two or more display words"
    return "", "nothing"


def qwen_tau(text, choices):  # TAU_qwen2.5.py cuts at assistant in the main loop
    return tau(after_assistant(text), choices)


EMOTIONS = {"angry": ["anger", "frustrated", "mad", "furious"], "happy": ["joy", "cheerful", "pleased", "delighted"],
            "sad": ["sadness", "melancholy", "depressed", "sorrow"], "fearful": ["fear", "anxiety", "scared", "afraid"],
            "monotone": ["flat", "emotionless", "neutral", "bland"]}


def vesus_letters(low):
    for letter in "abcd":
        if low == letter or low.startswith(letter + ".") or low.startswith(letter + ")"):
            return letter.upper(), "leading letter"
    for letter in "abcd":
        if any(p in low for p in ("option " + letter, "choice " + letter, letter + ")", "(" + letter + ")")):
            return letter.upper(), "option/choice/x)"
    return None


def qwen_vesus(text, choices):  # VESUS_qwen2.5.py extract_emotion_answer (after the main loop's cut)
    low = after_assistant(text).lower().strip()
    got = vesus_letters(low)
    if got:
        return got
    for i, option in enumerate(choices):
        for words in EMOTIONS.values():
            if any(w in low for w in words) and any(w in option.lower() for w in words):
                return "ABCD"[i], "emotion keyword"
    return "", "nothing"


def phi_vesus(text, choices):  # VESUS_test.py extract_emotion_answer
    low = text.lower().strip()
    got = vesus_letters(low)
    if got:
        return got
    for i, option in enumerate(choices):
        option = option.lower()
        for emotion, words in EMOTIONS.items():
            if emotion in option or any(w in option for w in words):
                if any(w in low for w in words) or emotion in low:
                    return "ABCD"[i], "emotion keyword"
    return "", "nothing"


def qwen_had(text, choices):  # HAD_qwen2.5.py extract_authenticity_answer (choice_a="real", choice_b="fake")
    low = after_assistant(text).strip().lower().strip()
    if low == "a" or low.startswith("a.") or low.startswith("a)") or low.endswith(" a"):
        return "real", "letter first or last"
    if low == "b" or low.startswith("b.") or low.startswith("b)") or low.endswith(" b"):
        return "fake", "letter first or last"
    if "option a" in low or "choice a" in low or "a)" in low or " a " in low:
        return "real", "option/choice/x)/ a "
    if "option b" in low or "choice b" in low or "b)" in low or " b " in low:
        return "fake", "option/choice/x)/ b "
    if "real" in low and "fake" not in low:
        return "real", "one label"
    if "fake" in low and "real" not in low:
        return "fake", "one label"
    real = re.search(r"\breal\b|\bauthentic\b|\bgenuine\b|\bcompletely authentic\b", low) is not None
    fake = re.search(r"\bfake\b|\bartificial\b|\bsynthetic\b|\bsynthesized\b|\bcontains.*fake\b", low) is not None
    if real != fake:
        return ("real" if real else "fake"), "synonym"
    return "", "nothing"


def phi_had(text, choices):  # HAD_test.py extract_authenticity_answer
    low = text.lower().strip()
    if low == "a" or low.startswith("a.") or low.startswith("a)"):
        return "real", "leading letter"
    if low == "b" or low.startswith("b.") or low.startswith("b)"):
        return "fake", "leading letter"
    if "option a" in low or "choice a" in low or "a)" in low:
        return "real", "option/choice/x)"
    if "option b" in low or "choice b" in low or "b)" in low:
        return "fake", "option/choice/x)"
    if "real" in low and "fake" not in low:
        return "real", "one label"
    if "fake" in low and "real" not in low:
        return "fake", "one label"
    real = re.search(r"\breal\b|\bauthentic\b|\bgenuine\b", low) is not None
    fake = re.search(r"\bfake\b|\bartificial\b|\bsynthetic\b|\bsynthesized\b", low) is not None
    if real != fake:
        return ("real" if real else "fake"), "synonym"
    return "", "nothing"


def voxtral_had(text, choices):  # eval_HAD.py extract_answer_choice: "a" is real, "b" fake
    if not text:
        return "", "empty"
    low = text.strip().lower()
    if low in ["a", "b"]:
        return low, "letter alone"
    m = re.search(r"\b([ab])\b", low)
    if m:
        return m.group(1), "standalone letter"
    m = re.search(r"[(\[]?([ab])[)\].]?", low)
    if m:
        return m.group(1), "letter anywhere"
    if "real" in low and "fake" not in low:
        return "a", "one label"
    if "fake" in low and "real" not in low:
        return "b", "one label"
    return "", "nothing"


def gender(text, choices):  # extract_gender_answer (Qwen and Phi alike), choices male / female
    low = text.lower().strip()
    a, b = choices[0].lower().strip(), choices[1].lower().strip()
    if low == "a" or low.startswith("a.") or low.startswith("a)"):
        return a, "leading letter"
    if low == "b" or low.startswith("b.") or low.startswith("b)"):
        return b, "leading letter"
    if "option a" in low or "choice a" in low or "a)" in low:
        return a, "option/choice/x)"
    if "option b" in low or "choice b" in low or "b)" in low:
        return b, "option/choice/x)"
    if a in low and b not in low:
        return a, "one label"
    if b in low and a not in low:
        return b, "one label"  # never: "female" holds "male"
    male = re.search(r"\bmale\b", low) is not None
    female = re.search(r"\bfemale\b", low) is not None
    if male != female:
        return ("male" if male else "female"), "whole word"
    return "", "nothing"


def qwen_age(text, choices):  # Vox_age_qwen2.5.py extract_age_answer -> the option's text
    low = text.lower().strip()
    by_letter = dict(zip("abcde", choices))
    for letter in "abcde":
        if low == letter or low.startswith(letter + ".") or low.startswith(letter + ")") or low.endswith(" " + letter):
            return by_letter[letter], "letter first or last"
    for letter in "abcde":
        if re.search(rf"\b{letter}\b", low) and not any(re.search(rf"\b{o}\b", low) for o in "abcde" if o != letter):
            return by_letter[letter], "one standalone letter"
    for letter in "abcde":
        if f"option {letter}" in low or f"choice {letter}" in low or f"answer {letter}" in low:
            return by_letter[letter], "option/choice/answer x"
    hits = [c for c in choices if c.lower() in low]
    return (hits[0], "one option text") if len(hits) == 1 else ("", "nothing")


def phi_age(text, choices):  # Vox_age_test.py extract_age_answer
    low = text.lower().strip()
    by_letter = dict(zip("abcde", choices))
    for letter in "abcde":
        if low == letter or low.startswith(letter + ".") or low.startswith(letter + ")"):
            return by_letter[letter], "leading letter"
    for letter in "abcde":
        if f"option {letter}" in low or f"choice {letter}" in low or f"{letter})" in low:
            return by_letter[letter], "option/choice/x)"
    hits = [c for c in choices if c.lower() in low]
    return (hits[0], "one option text") if len(hits) == 1 else ("", "nothing")


def voxtral_age(text, choices):  # eval_Vox_Age.py extract_answer_choice
    if not text:
        return "", "empty"
    low = text.strip().lower()
    by_letter = dict(zip("abcde", choices))
    for letter in "abcde":
        if low == letter or low.startswith(letter + ".") or low.startswith(letter + ")"):
            return by_letter.get(letter, ""), "leading letter"
    m = re.search(r"\b([abcde])\b", low)
    if m:
        return by_letter.get(m.group(1), ""), "standalone letter"
    m = re.search(r"[(\[]?([abcde])[)\].]?", low)
    if m:
        return by_letter.get(m.group(1), ""), "letter anywhere"
    return "", "nothing"


def voxtral_gtzan(text, choices):  # eval_GTZAN.py extract_genre_answer
    if not text:
        return "", "empty"
    low = text.lower().strip()
    m = re.search(r"the answer is ([abcd])", low)
    if m:
        return m.group(1).upper(), "the answer is x"
    m = re.search(r"answer:\s*([abcd])", low)
    if m:
        return m.group(1).upper(), "answer: x"
    genre = dict(zip("abcd", choices))
    for letter in genre:
        if low == letter or low.startswith(letter + ".") or low.startswith(letter + ")"):
            return letter.upper(), "leading letter"
    for letter in genre:
        if f"option {letter}" in low or f"choice {letter}" in low or f"{letter})" in low:
            return letter.upper(), "option/choice/x)"
    for letter, option in genre.items():
        if option.lower() in low:
            return letter.upper(), "whole option text"
    for letter, option in genre.items():
        name = option.split(" - ")[0].lower() if " - " in option else option.lower()
        if name in low:
            return letter.upper(), "display name"
    return "", "nothing"


# ============================================================== the authors' figures, restated

def pairs(gts, preds, keep):
    kept = [(g, p) for g, p in zip(gts, preds) if keep(g, p)]
    return ([g for g, _ in kept], [p for _, p in kept]) if kept else (None, None)


def f1_on(keep, **sk):
    def figure(gts, preds):
        g, p = pairs(gts, preds, keep)
        return None if g is None else f1_score(g, p, zero_division=0, **sk)
    return figure


def letters_kept(g, p):
    return p in ABCD and g in ABCD


def accuracy_all(gts, preds):  # Phi-4's GTZAN, RACE, TAU, VoxAge: correct / all samples
    return float(np.mean([g == p for g, p in zip(gts, preds)]))


def in_references(average, labels=False):  # TAU/VESUS: p in set(ground truths); VoxAge (Qwen): labels=sorted groups
    def figure(gts, preds):
        refs = sorted(set(gts))
        g, p = pairs(gts, preds, lambda g, p: p in refs and g in refs)
        if g is None:
            return None
        return f1_score(g, p, average=average, zero_division=0, **({"labels": refs} if labels else {}))
    return figure


def fake_f1(gts, preds):  # HAD_test.py: TP/FP/FN counted by hand over every sample, fake positive
    tp = sum(g == "fake" and p == "fake" for g, p in zip(gts, preds))
    fp = sum(g == "real" for g in gts) - sum(g == "real" and p == "real" for g, p in zip(gts, preds))
    fn = sum(g == "fake" for g in gts) - tp
    precision = tp / (tp + fp) if tp + fp else 0
    recall = tp / (tp + fn) if tp + fn else 0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0


@dataclass
class Ref:
    read: Callable  # (reply, option texts) -> (answer in the script's vocabulary, step)
    figure: Callable  # (ground truths, answers) -> fraction or None (no pair kept)
    vocab: str = "letter"  # "letter", "real/fake", "a/b", "male/female" or "text"

    def truth(self, letter, choices):
        """A reference letter in the script's vocabulary."""
        if self.vocab == "letter":
            return letter
        words = {"real/fake": ["real", "fake"], "a/b": ["a", "b"], "male/female": ["male", "female"],
                 "text": list(choices)}[self.vocab]
        return words["ABCDE".index(letter)]

    def as_letter(self, answer, choices):
        """The option letter an answer names, None for an answer naming none."""
        if self.vocab == "letter":
            return answer if answer in ABCD else None
        words = {"real/fake": ["real", "fake"], "a/b": ["a", "b"], "male/female": ["male", "female"],
                 "text": list(choices)}[self.vocab]
        return "ABCDE"[words.index(answer)] if answer in words else None


any_letter = f1_on(letters_kept, average="macro")
REFERENCE: dict[str, dict[str, Ref]] = {
    "Qwen2.5-Omni": {
        "RACE": Ref(first_abcd, f1_on(letters_kept, labels=ABCD, average="macro")),
        "SLUE": Ref(qwen_slue, any_letter),  # its 'f1_score' (the key 'macro_f1' holds the weighted F1)
        "TAU": Ref(qwen_tau, in_references("macro")),
        # GTZAN_qwen2.5.py defines calculate_gtzan_metrics twice; Python keeps the second (labels A-D)
        "GTZAN": Ref(qwen_gtzan, f1_on(letters_kept, labels=ABCD, average="macro")),
        "DESED": Ref(qwen_desed, any_letter),
        "VESUS": Ref(qwen_vesus, in_references("macro")),
        "HAD": Ref(qwen_had, f1_on(lambda g, p: p in ("real", "fake"), average="macro"), "real/fake"),
        "VoxGender": Ref(gender, f1_on(lambda g, p: p in ("male", "female"), average="weighted"), "male/female"),
        "VoxAge": Ref(qwen_age, in_references("macro", labels=True), "text"),
    },
    "Phi-4-multimodal": {
        "RACE": Ref(first_abcd, accuracy_all),
        "SLUE": Ref(abcd_choice, f1_on(lambda g, p: bool(p and p.strip()), average="macro")),
        "TAU": Ref(tau, accuracy_all),
        "GTZAN": Ref(first_abcd, accuracy_all),
        "DESED": Ref(abcd_choice, f1_on(lambda g, p: bool(p and p.strip()), average="macro")),
        "VESUS": Ref(phi_vesus, in_references("weighted")),
        "HAD": Ref(phi_had, fake_f1, "real/fake"),
        "VoxGender": Ref(gender, f1_on(lambda g, p: p in ("male", "female"), average="weighted"), "male/female"),
        "VoxAge": Ref(phi_age, accuracy_all, "text"),
    },
    "Voxtral": {  # their "Macro F1" line (average="macro") for every task
        "RACE": Ref(voxtral(first_abcd), any_letter),
        "SLUE": Ref(voxtral(abcd_choice), any_letter),
        "TAU": Ref(voxtral(tau), any_letter),
        "GTZAN": Ref(voxtral(voxtral_gtzan), any_letter),
        "DESED": Ref(voxtral(abcd_choice), any_letter),
        "VESUS": Ref(voxtral(abcd_choice), any_letter),
        "HAD": Ref(voxtral(voxtral_had), f1_on(lambda g, p: p in ("a", "b"), average="macro"), "a/b"),
        "VoxGender": Ref(voxtral(abcd_choice), any_letter),  # eval_Vox.py is the DESED script
        "VoxAge": Ref(voxtral(voxtral_age), f1_on(lambda g, p: p in AGE_GROUPS and g in AGE_GROUPS,
                                                  average="macro"), "text"),
    },
}

# Every step of each reader: the reply sets below must take all of them.
STEPS = {
    first_abcd: {"first A-D character", "no A-D character"},
    qwen_slue: {"empty", "letter alone", "short reply starting with a letter", "standalone letter", "letter anywhere",
                "nothing"},
    abcd_choice: {"empty", "letter alone", "standalone letter", "letter anywhere", "nothing"},
    qwen_desed: {"empty", "letter alone", "standalone letter", "letter anywhere", "nothing"},
    qwen_gtzan: {"empty", "letter alone", "letter first or last", "option/choice/x)", "standalone letter",
                 "letter anywhere", "nothing"},
    tau: {"letter alone", "leading letter", "option/choice/x)", "whole option text", "two or more display words",
          "nothing"},
    qwen_vesus: {"leading letter", "option/choice/x)", "emotion keyword", "nothing"},
    phi_vesus: {"leading letter", "option/choice/x)", "emotion keyword", "nothing"},
    qwen_had: {"letter first or last", "option/choice/x)/ a ", "option/choice/x)/ b ", "one label", "synonym",
               "nothing"},
    phi_had: {"leading letter", "option/choice/x)", "one label", "synonym", "nothing"},
    voxtral_had: {"empty", "letter alone", "standalone letter", "letter anywhere", "one label", "nothing"},
    gender: {"leading letter", "option/choice/x)", "one label", "whole word", "nothing"},
    qwen_age: {"letter first or last", "one standalone letter", "option/choice/answer x", "one option text",
               "nothing"},
    phi_age: {"leading letter", "option/choice/x)", "one option text", "nothing"},
    voxtral_age: {"empty", "leading letter", "standalone letter", "letter anywhere", "nothing"},
    voxtral_gtzan: {"empty", "the answer is x", "answer: x", "leading letter", "option/choice/x)",
                    "whole option text", "display name", "nothing"},
}


def inner(read):
    """The reader a wrapper (the Voxtral error check, a Qwen cut at "assistant") wraps."""
    return getattr(read, "inner", read)


qwen_tau.inner = tau
qwen_desed.inner = abcd_choice
STEPS[voxtral_had].discard("one label")  # unreachable: "real" and "fake" both hold an "a"


# ============================================================== replies that take every step

G = ["Jazz - jazz", "Metal - metal", "Rock - rock", "Pop - pop"]
S = ["Indoor shopping mall - shopping_mall", "Metro station - metro_station", "Urban park - park",
     "Traveling by a tram - tram"]
E = ["angry", "happy", "neutral", "sad"]
R = ["Two hours later.", "At the train station.", "He was afraid of the dark.", "In a small village by the sea."]
N = ["Strasbourg", "Angela Merkel", "Greece", "Poland"]
EV = ["Cat", "Dog", "Running_water", "Blender"]
AGES_SHUFFLED = [AGE_GROUPS[i] for i in (2, 0, 4, 1, 3)]

CASES = {
    # task: (options per item (cycled), reference letters (cycled), replies)
    # No D either (references or readings): Qwen2.5-Omni's macro over A-D differs from one over the
    # classes present.
    "RACE": ([R], "ABCABC", ["B", "The answer is B", "I'm not sure", "ERROR: timeout", "Option C", "", "   ",
                             "c", "(A) Two hours later.", "A", "b"]),
    "SLUE": ([N], "ABCDAC", ["", "C", "B)", "A:", "The answer is D", "Greece", "Brussels", "I'm not sure",
                             "ERROR: rate limit", "b", "  D  ", "Poland is mentioned", "(c)", "A"]),
    "TAU": ([S, S[::-1]], "ABCABC", ["c", "b: metro station", "I pick option d", "Urban park - park",
                                     "an indoor shopping center", "no idea", "A)", "a.", "choice b",
                                     "It sounds like a tram", "ERROR", "Traveling by a tram - tram", "assistant\nb",
                                     "metro station, I think"]),
    # No reference is D and no reply reads D for Qwen2.5-Omni: its figure (macro over A-D) then differs
    # from a macro over the classes present.
    "GTZAN": ([G], "ABCABC", ["", "b", "C. Rock - rock", "I choose B", "option a please", "It is C for sure",
                               "Rock", "I'm not sure", "The answer is B", "Answer: c", "Rock - rock is my guess",
                               "jazz", "The answer is definitely jazz", "ERROR: rock", "assistant\nA", "Metal music"]),
    "DESED": ([EV], "ABCDBA", ["", "B", "A dog barks. assistant\nC", "The answer is C", "Dog", "I'm not sure", "d",
                               "ERROR", "Running water", "(b)", "A", "assistant\nD"]),
    "VESUS": ([E, E[::-1]], "ABCABC", ["b) happy", "I think (c)", "choice d", "The speaker sounds flat and emotionless",
                                       "The speaker sounds happy", "no idea", "a.", "Furious and mad", "sad",
                                       "ERROR", "C", "fear in the voice", "Neutral tone", "angry", "",
                                       "I'm not sure"]),
    "HAD": ([FIXED["HAD"]], "ABABBA", ["a", "The answer is b", "This is a fake", "option b", "Real",
                                       "The fakery is unreal; it is authentic", "It contains synthesized segments",
                                       "I cannot tell whether it is real or fake", "", "I'm not sure", "b) fake",
                                       "FAKE", "ERROR", "assistant\na", "Fake.", "A", "I'd say b) here"]),
    "VoxGender": ([FIXED["VoxGender"]], "ABBBAB", ["b", "a) male", "Male", "She is female", "Male or female?",
                                                   "The speaker is female", "", "ERROR", "option b", "A",
                                                   "female", "I'm not sure"]),
    # The only Elderly reference (the last item) is unread: Qwen2.5-Omni's figure still counts the group.
    "VoxAge": ([AGE_GROUPS, AGES_SHUFFLED], "ABCDABABDAABDAE", ["c", "I choose e", "Probably a young adult",
                                                                "option d, not e.", "Mid Career (41-50)",
                                                                "in their forties", "", "hmm, 71+", "d) senior",
                                                                "ERROR", "b.", "answer b!", "Senior (51-70)", "a",
                                                                "hmm"]),
}


def case(task):
    options, refs, replies = CASES[task]
    choices = [options[i % len(options)] for i in range(len(replies))]
    references = [refs[i % len(refs)] for i in range(len(replies))]
    return replies, references, choices


def reference_score(ref: Ref, replies, references, choices):
    answers = [ref.read(r, c)[0] for r, c in zip(replies, choices)]
    gts = [ref.truth(letter, c) for letter, c in zip(references, choices)]
    value = ref.figure(gts, answers)
    return answers, (None if value is None else 100.0 * value)


def paper(replies, references, task, choices, family, **kw):
    return score(replies, references, [task] * len(replies), choices=choices, mode="paper", family=family,
                 n_bootstrap=0, per_sample=True, **kw)


# ============================================================== every family x task, every step

@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("task", list(CASES))
def test_paper_mode_equals_the_authors_rules_on_every_step(family, task):
    ref = REFERENCE[family][task]
    replies, references, choices = case(task)
    steps = {ref.read(r, c)[1] for r, c in zip(replies, choices)}
    expected_steps = STEPS[inner(ref.read)] | ({"error output"} if family == "Voxtral" else set())
    assert steps == expected_steps, f"steps not taken: {expected_steps - steps}"
    answers, expected = reference_score(ref, replies, references, choices)
    out = paper(replies, references, task, choices, family)
    got = out["tasks"][task]
    assert [s["parsed"] for s in out["per_sample"]] == [ref.as_letter(a, c) for a, c in zip(answers, choices)]
    assert got["score"] == pytest.approx(expected, abs=1e-9)
    assert out["paper_rules"] == family and out["mode"] == "paper"


# ============================================================== a rule off by one step is caught

def _read_with(read):
    return lambda ref: Ref(read, ref.figure, ref.vocab)


def _figure_with(figure):
    return lambda ref: Ref(ref.read, figure, ref.vocab)


def last_abcd(text, choices):
    found = [ch for ch in text.strip().upper() if ch in "ABCD"]
    return (found[-1], "last") if found else ("", "nothing")


def male_first(text, choices):  # "female" holds "male": reading male first mislabels every woman
    low = text.lower()
    return ("male", "") if "male" in low else ("female", "") if "female" in low else gender(text, choices)


def had_without_lone_a(text, choices):
    return qwen_had(text.replace(" a ", " one "), choices)


def keep_answered(average, **sk):
    return f1_on(lambda g, p: p not in ("", None, "error"), average=average, **sk)


def had_dropping_unread(gts, preds):  # Phi-4's fake F1 if unread replies were dropped instead of counted
    kept = [(g, p) for g, p in zip(gts, preds) if p in ("real", "fake")]
    return fake_f1([g for g, _ in kept], [p for _, p in kept])


MUTATIONS = {
    "RACE takes the last A-D character": ("Qwen2.5-Omni", "RACE", _read_with(last_abcd)),
    "VoxGender reads male before female": ("Qwen2.5-Omni", "VoxGender", _read_with(male_first)),
    "VoxGender reads male before female (Phi-4)": ("Phi-4-multimodal", "VoxGender", _read_with(male_first)),
    "HAD without the lone ' a ' step": ("Qwen2.5-Omni", "HAD", _read_with(had_without_lone_a)),
    "VESUS with Phi-4's emotion rule": ("Qwen2.5-Omni", "VESUS", _read_with(phi_vesus)),
    "VESUS with Qwen's emotion rule": ("Phi-4-multimodal", "VESUS", _read_with(qwen_vesus)),
    "GTZAN's first calculate_gtzan_metrics (no labels)":
        ("Qwen2.5-Omni", "GTZAN", _figure_with(f1_on(letters_kept, average="macro"))),
    "RACE macro over the classes present": ("Qwen2.5-Omni", "RACE", _figure_with(any_letter)),
    "SLUE's key 'macro_f1' (weighted)": ("Qwen2.5-Omni", "SLUE", _figure_with(f1_on(letters_kept, average="weighted"))),
    "HAD as the summary's fake-positive F1": ("Qwen2.5-Omni", "HAD", _figure_with(fake_f1)),
    "VoxGender macro instead of weighted": ("Qwen2.5-Omni", "VoxGender", _figure_with(
        f1_on(lambda g, p: p in ("male", "female"), average="macro"))),
    "TAU keeps answers outside the references": ("Qwen2.5-Omni", "TAU", _figure_with(keep_answered("macro"))),
    "VoxAge over the groups present": ("Qwen2.5-Omni", "VoxAge", _figure_with(in_references("macro"))),
    "Phi-4 HAD drops unread replies": ("Phi-4-multimodal", "HAD", _figure_with(had_dropping_unread)),
    "Phi-4 GTZAN drops unread replies": ("Phi-4-multimodal", "GTZAN", _figure_with(
        lambda g, p: accuracy_all(*zip(*[(a, b) for a, b in zip(g, p) if b in ABCD])))),
    "Voxtral HAD's 'F1 score' line (weighted)": ("Voxtral", "HAD", _figure_with(
        f1_on(lambda g, p: p in ("a", "b"), average="weighted"))),
    "Voxtral without the ERROR check": ("Voxtral", "GTZAN", _read_with(voxtral_gtzan)),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_the_reply_sets_tell_each_rule_from_its_near_miss(name):
    """The reply sets above separate every rule from a plausible misreading of the script, so an
    implementation of the misreading fails test_paper_mode_equals_the_authors_rules_on_every_step."""
    family, task, mutate = MUTATIONS[name]
    ref = REFERENCE[family][task]
    replies, references, choices = case(task)
    right = reference_score(ref, replies, references, choices)
    wrong = reference_score(mutate(ref), replies, references, choices)
    assert [ref.as_letter(a, c) for a, c in zip(right[0], choices)] != [
        ref.as_letter(a, c) for a, c in zip(wrong[0], choices)] or right[1] != pytest.approx(wrong[1])


def test_families_score_the_same_replies_differently():
    for task in CASES:
        replies, references, choices = case(task)
        scores = {f: paper(replies, references, task, choices, f)["tasks"][task]["score"] for f in FAMILIES}
        assert len({round(v, 9) for v in scores.values()}) > 1, (task, scores)


# ============================================================== the graded reply corpus

CORPUS = [json.loads(line) for line in (ROOT / "tests" / "data" / "replies.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("family", FAMILIES)
def test_graded_corpus_is_read_and_scored_as_the_authors_do(family):
    by_task: dict[str, list] = {}
    for i, row in enumerate(CORPUS):
        choices = row["choices"] or FIXED[row["task"]]
        letters = "ABCDE"[: len(choices)]
        # the graded letter as the reference for two replies in three, another letter for the third
        reference = row["grade"] if row["grade"] and i % 3 else letters[(i * 7) % len(letters)]
        by_task.setdefault(row["task"], []).append((row["reply"], reference, choices))
    for task, rows in by_task.items():
        replies, references, choices = (list(x) for x in zip(*rows))
        ref = REFERENCE[family][task]
        answers, expected = reference_score(ref, replies, references, choices)
        out = paper(replies, references, task, choices, family)
        assert [s["parsed"] for s in out["per_sample"]] == [ref.as_letter(a, c) for a, c in zip(answers, choices)]
        assert out["tasks"][task]["score"] == pytest.approx(expected, abs=1e-9), task


# ============================================================== ASR

def clean_transcript(resp):  # clean_response (Qwen) = clean_asr_response (Voxtral)
    if not resp or resp.strip() == "":
        return ""
    for marker in ["spoken content:", "content:", "transcription:", "transcript:"]:
        if marker.lower() in resp.lower():
            parts = re.split(re.escape(marker), resp, flags=re.IGNORECASE)
            if len(parts) > 1:
                resp = parts[1].strip()
                break
    resp = re.sub(r"<transcribed text here>", "", resp)
    resp = re.sub(r"<sep>.*?($|<|$)", "", resp)
    resp = re.sub(r"(?i)^(spoken\s+(?:text|content)|content|transcript|transcription):\s*", "", resp.strip())
    return resp.strip()


def standardize(text):
    if not text:
        return ""
    text = re.sub(r'[.!?,;:"()\[\]{}]', " ", text.lower())
    text = re.sub(r"[\-']", "", text)
    return re.sub(r"\s+", " ", text).strip()


def qwen_asr(references, replies):  # LibriSpeech_qwen2.5.py: calculate_librispeech_metrics' wer_mean
    wers = []
    for ref, resp in zip(references, replies):
        hyp = clean_transcript(after_assistant(resp))
        if ref and hyp:
            r, h = standardize(ref), standardize(hyp)
            wers.append(100.0 if not r or not h else 100.0 * jiwer.wer(r, h))
    return wers


def edit_distance(hyp, ref):
    d = [[0] * (len(ref) + 1) for _ in range(len(hyp) + 1)]
    for i in range(len(hyp) + 1):
        for j in range(len(ref) + 1):
            d[i][j] = i + j if not i or not j else min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                                                       d[i - 1][j - 1] + (hyp[i - 1] != ref[j - 1]))
    return d[-1][-1]


def voxtral_asr(references, replies):  # eval_LibriSpeech.py: total_wer / total_samples
    wers = []
    for ref, out in zip(references, replies):
        if out.startswith("ERROR"):
            wers.append(100.0)
            continue
        r, h = standardize(ref), standardize(clean_transcript(out))
        wers.append(100.0 if not r or not h else 100.0 * edit_distance(h.split(), r.split()) / len(r.split()))
    return wers


ASR_REFS = ["Hello, world.", "the cat sat on the mat", "It's a well-known fact.", "one two three", "state of the art",
            "good morning", "error failed twice", "red green blue", "alpha beta", "one two", "x y z", "yes",
            "the end of it"]
ASR_REPLIES = ["Spoken Content: Hello, world!", "", "content: it’s a well—known fact", "Spoken Content:", ".",
               "Transcript: state-of-the-art", "ERROR: failed", "Spoken Content: foo assistant\nbar baz",
               "Spoken Content: red <sep> junk", "Spoken Content: alpha Spoken Content: beta",
               "Transcription: one one one one two two two", "Spoken Content: <transcribed text here> yes",
               "spoken text: the end of it"]


@pytest.mark.parametrize("family, restated", [("Qwen2.5-Omni", qwen_asr), ("Phi-4-multimodal", qwen_asr),
                                              ("Voxtral", voxtral_asr)])
def test_asr_paper_mode_is_the_authors_wer(family, restated):
    wers = restated(ASR_REFS, ASR_REPLIES)
    got = paper(ASR_REPLIES, ASR_REFS, "ASR", None, family)["tasks"]["LibriSpeech"]
    assert got["n_scored"] == len(wers) and got["wer"] == pytest.approx(float(np.mean(wers)))
    assert got["score"] == pytest.approx(float(np.clip(100.0 - np.mean(wers), 0, 100)))
    assert got["normalizer"] == "authors"


def test_asr_paper_branches():
    qwen = paper(ASR_REPLIES, ASR_REFS, "ASR", None, "Qwen2.5-Omni")
    vox = paper(ASR_REPLIES, ASR_REFS, "ASR", None, "Voxtral")
    q, v = ({s["id"]: s for s in out["per_sample"]} for out in (qwen, vox))
    ids = [s["id"] for s in qwen["per_sample"]]
    # Qwen skips the two empty transcripts; "." is kept with WER 100; Voxtral counts all, an ERROR
    # output and the empty ones at WER 100.
    assert [q[i]["scored"] for i in ids] == [True, False, True, False] + [True] * 9
    assert q[ids[4]]["wer"] == 100.0 and all(v[i]["scored"] for i in ids)
    assert v[ids[6]]["wer"] == 100.0 and q[ids[6]]["wer"] < 100.0
    # Only ASCII ' and - are deleted: the curly apostrophe and the em dash stay inside the words.
    assert q[ids[2]]["wer"] == pytest.approx(100.0 * jiwer.wer("its a wellknown fact", "it’s a well—known fact"))
    # Qwen keeps what follows the last "assistant\n"; Voxtral reads the whole reply.
    assert q[ids[7]]["parsed"] == "bar baz" and v[ids[7]]["parsed"] == "foo assistant\nbar baz"
    # The WER above 100 (insertions): the mean is the scripts' own, the task score is clipped.
    big = paper(["Transcription: one one one one two two two"], ["one two"], "ASR", None, None)["tasks"]["LibriSpeech"]
    assert big["wer"] == pytest.approx(250.0) and big["score"] == 0.0


# ============================================================== families, modes and the command

def test_family_names_and_the_rule_set_applied():
    replies, references, choices = case("VoxGender")
    base = paper(replies, references, "VoxGender", choices, None)
    assert base["paper_rules"] == "Qwen2.5-Omni" and base["family"] is None
    for spelling in ("qwen2.5-omni", " QWEN2.5-Omni ", "Qwen2.5-Omni (thinker)", "qwen2.5-omni(thinker)"):
        out = paper(replies, references, "VoxGender", choices, spelling)
        assert out["family"] == "Qwen2.5-Omni" and out["tasks"] == base["tasks"]
    for other in ("Qwen2-Audio", "gemma-3n", "AudioFlamingo3", "audio flamingo 3"):
        out = paper(replies, references, "VoxGender", choices, other)
        assert out["paper_rules"] == "Qwen2.5-Omni" and out["tasks"] == base["tasks"]
    assert paper(replies, references, "VoxGender", choices, "phi-4-MULTIMODAL")["family"] == "Phi-4-multimodal"
    with pytest.raises(ValueError, match=r"family: no paper-mode rules for family 'Llama'; valid families: "
                                         r"Qwen2.5-Omni, Phi-4-multimodal, Voxtral, Qwen2-Audio, Gemma-3n"):
        paper(replies, references, "VoxGender", choices, "Llama")
    with pytest.raises(ValueError, match=r"family='Voxtral' chooses the authors' rules of paper mode"):
        score(replies, references, "VoxGender", choices=choices, family="Voxtral")
    with pytest.raises(ValueError, match=r"paper mode normalises transcripts as the authors' scripts do"):
        score(["x"], ["x"], "ASR", mode="paper", normalizer=str.upper)


def test_every_runner_family_has_paper_rules():
    from audiomarathon_metric.paper_rules import FAMILIES as PAPER_FAMILIES, resolve_family
    from audiomarathon_runner.adapters import ADAPTERS

    runner = {cls.family for cls in ADAPTERS.values()}
    assert {resolve_family(name)[0] for name in runner} == set(PAPER_FAMILIES)


def test_strict_mode_is_unchanged_by_paper_mode():
    replies, references, choices = case("GTZAN")
    strict = score(replies, references, "GTZAN", choices=choices, n_bootstrap=0)
    assert strict["mode"] == "strict" and "paper_rules" not in strict and strict["normalizer"] == "benchmark"
    assert strict == score(replies, references, "GTZAN", choices=choices, n_bootstrap=0, mode="strict")


def test_paper_ci_resamples_items_and_recomputes_the_authors_figure():
    from audiomarathon.tasks import TASKS

    replies, references, choices = case("GTZAN")
    ref = REFERENCE["Qwen2.5-Omni"]["GTZAN"]
    n, b = len(replies), 200
    out = score(replies, references, "GTZAN", choices=choices, mode="paper", n_bootstrap=b, seed=3)
    rng = np.random.default_rng([3, [t.name for t in TASKS].index("GTZAN"), 0])
    draws = rng.integers(0, n, size=(b, n))
    reps = [reference_score(ref, *([x[i] for i in d] for x in (replies, references, choices)))[1] or 0.0
            for d in draws]
    assert out["tasks"]["GTZAN"]["ci95"] == pytest.approx(list(np.percentile(reps, [2.5, 97.5])))


def test_paper_mode_by_duration_scores_each_bin_by_the_authors_rules():
    replies, references, choices = case("HAD")
    durations = [100.0 if i % 2 else 200.0 for i in range(len(replies))]
    out = paper(replies, references, "HAD", choices, "Phi-4-multimodal", durations=durations)
    ref = REFERENCE["Phi-4-multimodal"]["HAD"]
    for row in out["by_duration"]["tasks"]["HAD"]["bins"]:
        idx = [i for i, d in enumerate(durations) if row["low"] <= d < row["high"]]
        expected = reference_score(ref, *([x[i] for i in idx] for x in (replies, references, choices)))[1]
        assert row["score"] == pytest.approx(expected)


def _run_folder(path: Path, family: str | None, replies, references, task, choices,
                config_family: str | None = None) -> Path:
    from audiomarathon.records import write_results

    path.mkdir(parents=True)
    lines = [{"id": f"{task}-{i}", "task": task, "reply": r, "reference": ref, "choices": c, "config_hash": "abc"}
             for i, (r, ref, c) in enumerate(zip(replies, references, choices))]
    (path / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    adapter = None if family is None else {"family": family, "model_type": "x"}
    write_results(path / "results.json", {"schema": 2, "config": {"model": "m", "method": "none", "ratio": 0.0,
                                                                  "config_hash": "abc", "adapter": adapter,
                                                                  "family": config_family},
                                          "dataset": {"fingerprint": "f"}})
    return path


def test_score_command_scores_a_run_folder_by_its_own_family(tmp_path, capsys):
    replies, references, choices = case("VESUS")
    ids = [f"VESUS-{i}" for i in range(len(replies))]

    def expected(family):
        return json.loads(json.dumps(score(replies, references, "VESUS", choices=choices, ids=ids, mode="paper",
                                           family=family, n_bootstrap=0)))

    notes = []

    def run(*argv):
        assert main(["score", *map(str, argv), "--json", "--n-bootstrap", "0"]) == 0
        captured = capsys.readouterr()
        notes.append(captured.err)
        return json.loads(captured.out)

    phi = _run_folder(tmp_path / "phi", "Phi-4-multimodal", replies, references, "VESUS", choices)
    assert run(phi, "--mode", "paper") == expected("Phi-4-multimodal")
    api = _run_folder(tmp_path / "api", None, replies, references, "VESUS", choices)  # behind an API: no adapter
    assert run(api, "--mode", "paper")["paper_rules"] == "Qwen2.5-Omni"
    assert run(api, "--mode", "paper", "--family", "voxtral") == expected("Voxtral")
    # an API run told its family (run --family) records it as config.family: paper mode follows it
    named = _run_folder(tmp_path / "api-named", None, replies, references, "VESUS", choices, "Phi-4-multimodal")
    assert run(named, "--mode", "paper") == expected("Phi-4-multimodal")
    assert run(phi, "--mode", "paper", "--family", "Voxtral") == expected("Voxtral")
    assert "scoring with Voxtral's rules (--family); the run's model family is Phi-4-multimodal" in notes[-1]
    assert run(phi, "--mode", "paper", "--family", "phi-4-multimodal") == expected("Phi-4-multimodal")
    assert notes[-1] == ""
    assert run(phi / "predictions.jsonl", "--mode", "paper")["paper_rules"] == "Qwen2.5-Omni"  # a file: no family
    assert run(phi)["mode"] == "strict"
    odd = _run_folder(tmp_path / "odd", "Whisperish", replies, references, "VESUS", choices)
    assert main(["score", str(odd), "--mode", "paper"]) == 1
    assert "no rules for the run's model family 'Whisperish'; pass --family" in capsys.readouterr().err
    assert main(["score", str(phi), "--family", "Voxtral"]) == 1
    assert "--family chooses the authors' rules of --mode paper" in capsys.readouterr().err
    assert main(["score", str(tmp_path), "--mode", "paper"]) == 1
    assert "a folder without predictions.jsonl" in capsys.readouterr().err
    assert main(["score", str(phi), "--mode", "paper", "--n-bootstrap", "0"]) == 0
    assert "mode paper (the authors' Phi-4-multimodal scripts)" in capsys.readouterr().out


def test_evaluate_module_passes_the_family_through():
    from audiomarathon_metric.audiomarathon_metric import Audiomarathon

    replies, references, choices = case("HAD")
    kw = dict(tasks=["HAD"] * len(replies), choices=choices, mode="paper", n_bootstrap=0)
    got = Audiomarathon._compute(None, replies, references, family="Voxtral", **kw)
    assert got["paper_rules"] == "Voxtral"
    assert got == score(replies, references, family="Voxtral", **kw)
