"""Paper mode's rules: per model family, per task, how the benchmark authors' scripts score.

The authors wrote evaluation scripts for three families (github.com/DabDans/AudioMarathon):
Qwen2.5-Omni (``src/Qwen_2.5_Omni/Others/*_qwen2.5.py``), Phi-4-multimodal
(``src/Phi4MM/Others/*_test.py``) and Voxtral (``src/Voxtral/eval_*.py``). A task's rule says how
the script reads a reply (``paper_readers``), whether it compares letters or option texts, which
(reference, answer) pairs enter its figure, and which figure it reports as the task's F1 (or its
accuracy, where that is all it reports). Every other family gets Qwen2.5-Omni's rules, the set
the paper's baselines share. The metric card lists each rule and where it differs from strict mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import get_task

from .paper_readers import ABCD
from .paper_readers import ab_scan
from .paper_readers import age
from .paper_readers import age_letter_scan
from .paper_readers import age_loose
from .paper_readers import authenticity
from .paper_readers import authenticity_loose
from .paper_readers import emotion_keywords_both
from .paper_readers import emotion_names_or_keywords
from .paper_readers import first_letter
from .paper_readers import gender
from .paper_readers import genre_phrases
from .paper_readers import letter_at_edge_scan
from .paper_readers import letter_scan
from .paper_readers import scene_words
from .paper_readers import short_reply_scan
from .paper_readers import Reader

# ---------------------------------------------------------------- which pairs count


@dataclass(frozen=True)
class Answered:
    """Pairs whose answer names an option (the scripts' ``pred in ['A', 'B', 'C', 'D']``, ``pred
    in ['real', 'fake']``, a non-empty answer)."""

    def __call__(self, true_keys: Sequence[str], pred_keys: Sequence[str | None]) -> np.ndarray:
        return np.array([p is not None for p in pred_keys], dtype=bool)


@dataclass(frozen=True)
class InReferences:
    """Pairs whose answer is among the task's reference classes (``p in set(ground_truths)``)."""

    def __call__(self, true_keys, pred_keys) -> np.ndarray:
        refs = set(true_keys)
        return np.array([p is not None and p in refs for p in pred_keys], dtype=bool)


@dataclass(frozen=True)
class InFixedSet:
    """Pairs whose answer and reference are both in a fixed list of option texts."""

    values: tuple[str, ...]

    def __call__(self, true_keys, pred_keys) -> np.ndarray:
        return np.array([p in self.values and t in self.values for t, p in zip(true_keys, pred_keys)], dtype=bool)


@dataclass(frozen=True)
class Everything:
    """Every item; an answer naming no option is wrong."""

    def __call__(self, true_keys, pred_keys) -> np.ndarray:
        return np.ones(len(true_keys), dtype=bool)


# ---------------------------------------------------------------- the figure a script reports


@dataclass(frozen=True)
class Tally:
    """Per-class counts of one sample (B = 1) or of B bootstrap replicates; K = n classes, an
    unread answer counts in no class."""

    tp: np.ndarray  # (B, K)
    true: np.ndarray  # (B, K)
    pred: np.ndarray  # (B, K)

    @property
    def f1(self) -> np.ndarray:
        denom = self.true + self.pred
        return np.divide(2.0 * self.tp, denom, out=np.zeros(denom.shape), where=denom > 0)

    @property
    def n(self) -> np.ndarray:
        return self.true.sum(axis=1)


def tally(y_true: np.ndarray, y_pred: np.ndarray, k: int, weights: np.ndarray) -> Tally:
    """``weights`` (B x n): how often each item counts in each replicate; y_pred == k: unread."""
    n = y_true.size
    onehot_true = np.zeros((n, k))
    onehot_true[np.arange(n), y_true] = 1.0
    onehot_pred = np.zeros((n, k + 1))
    onehot_pred[np.arange(n), y_pred] = 1.0
    onehot_pred = onehot_pred[:, :k]
    return Tally(weights @ (onehot_true * onehot_pred), weights @ onehot_true, weights @ onehot_pred)


@dataclass(frozen=True)
class Macro:
    """sklearn's ``average="macro"``: the mean F1 over the classes present among the counted pairs
    (as a reference or as an answer)."""

    name: str = "macro_f1"

    def __call__(self, t: Tally, classes: Sequence[str], fixed: Sequence[str]) -> np.ndarray:
        present = (t.true + t.pred) > 0
        return t.f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


@dataclass(frozen=True)
class MacroOver:
    """``average="macro", labels=...``: the mean F1 over a fixed class list, a class without a
    reference or an answer counting 0. ``labels=None``: the task's reference classes."""

    labels: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return "macro_f1 over " + ("the reference classes" if self.labels is None else ", ".join(self.labels))

    def __call__(self, t: Tally, classes: Sequence[str], fixed: Sequence[str]) -> np.ndarray:
        labels = set(self.labels if self.labels is not None else fixed)
        cols = [i for i, c in enumerate(classes) if c in labels]
        return t.f1[:, cols].sum(axis=1) / max(len(labels), 1)


@dataclass(frozen=True)
class Weighted:
    """``average="weighted"``: per-class F1 weighted by the number of references of the class."""

    name: str = "weighted_f1"

    def __call__(self, t: Tally, classes, fixed) -> np.ndarray:
        return (t.f1 * t.true).sum(axis=1) / np.maximum(t.n, 1)


@dataclass(frozen=True)
class Accuracy:
    name: str = "accuracy"

    def __call__(self, t: Tally, classes, fixed) -> np.ndarray:
        return t.tp.sum(axis=1) / np.maximum(t.n, 1)


@dataclass(frozen=True)
class PositiveClassF1:
    """Binary F1 of one class over every item, from the scripts' hand-counted TP/FP/FN: a
    reference of the other class not answered correctly (an unread answer included) is a false
    positive, a reference of this class not answered with it a false negative."""

    positive: str
    name: str = "f1 of the positive class"

    def __call__(self, t: Tally, classes, fixed) -> np.ndarray:
        pos = list(classes).index(self.positive)
        tp = t.tp[:, pos]
        fp = (t.true - t.tp).sum(axis=1) - (t.true[:, pos] - tp)
        fn = t.true[:, pos] - tp
        denom = 2.0 * tp + fp + fn
        return np.divide(2.0 * tp, denom, out=np.zeros(denom.shape), where=tp > 0)


Figure = Macro | MacroOver | Weighted | Accuracy | PositiveClassF1
Counting = Answered | InReferences | InFixedSet | Everything

# ---------------------------------------------------------------- a task's rule, a family's rules


@dataclass(frozen=True)
class TaskRule:
    """How one script scores a multiple-choice task."""

    script: str  # the authors' file
    read: Reader
    counts: Counting
    figure: Figure
    classes: str = "letters"  # "letters" or "texts": what the script compares, option letters or option texts
    note: str = ""  # where this rule departs from a literal reading of the script, and why


@dataclass(frozen=True)
class AsrRule:
    """How one script scores LibriSpeech: its transcript cleaning and normalisation, per-utterance
    WER (100 where either side is empty after normalisation), averaged."""

    script: str
    error_prefix: bool = False  # a reply starting with "ERROR" is a failed call: WER 100
    after_assistant: bool = False
    skip_empty: bool = True  # drop utterances whose cleaned transcript is empty; else they count, WER 100
    note: str = ""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per family
class RuleSet:
    family: str  # the family whose scripts these are, as ``audiomarathon models`` names it
    source: str  # where the scripts live in the authors' repository
    tasks: Mapping[str, TaskRule | AsrRule]


def _r(read, **flags) -> Reader:
    return Reader(read, **flags)


_QWEN_FOLDER = "src/Qwen_2.5_Omni/Others"
_VOX_AGE_GROUPS = get_task("VoxAge").labels  # the fixed group list of the Voxtral script
# Phi-4's HAD figure takes "fake" as the positive class: its letter, by the registry's fixed order.
_FAKE = LETTERS[get_task("HAD").labels.index("Fake")]

_QWEN_ASR = AsrRule("LibriSpeech_qwen2.5.py", after_assistant=True)

QWEN = RuleSet("Qwen2.5-Omni", _QWEN_FOLDER, {
    "LibriSpeech": _QWEN_ASR,
    "RACE": TaskRule("race_qwen2.5.py", _r(first_letter), Answered(), MacroOver(ABCD)),
    "SLUE": TaskRule("SLUE_qwen2.5.py", _r(short_reply_scan), Answered(), Macro(),
                     note="the script's key 'macro_f1' holds the weighted F1; its 'f1_score' is the macro F1 used here"),
    "TAU": TaskRule("TAU_qwen2.5.py", _r(scene_words, after_assistant=True), InReferences(), Macro()),
    "GTZAN": TaskRule("GTZAN_qwen2.5.py", _r(letter_at_edge_scan, after_assistant=True), Answered(),
                      MacroOver(ABCD),
                      note="the script defines calculate_gtzan_metrics twice; the second (labels A-D) is the one it runs"),
    "DESED": TaskRule("DESED_qwen2.5.py", _r(letter_scan, after_assistant=True), Answered(), Macro()),
    "VESUS": TaskRule("VESUS_qwen2.5.py", _r(emotion_keywords_both, after_assistant=True), InReferences(),
                      Macro()),
    "HAD": TaskRule("HAD_qwen2.5.py", _r(authenticity_loose, after_assistant=True), Answered(), Macro(),
                    note="sklearn's macro F1 (the script's summary also prints a fake-positive F1); the script's "
                         "re-reading of replies over 10 tokens is unreachable under its 5-token cap and not applied"),
    "VoxGender": TaskRule("Vox_qwen2.5.py", _r(gender), Answered(), Weighted()),
    "VoxAge": TaskRule("Vox_age_qwen2.5.py", _r(age_loose), InReferences(), MacroOver(None), classes="texts"),
})

PHI4 = RuleSet("Phi-4-multimodal", "src/Phi4MM/Others", {
    "LibriSpeech": AsrRule(_QWEN_ASR.script, after_assistant=True,
                           note="no baseline Phi-4 ASR script: Qwen2.5-Omni's LibriSpeech scoring"),
    "RACE": TaskRule("race_test.py", _r(first_letter), Everything(), Accuracy()),
    "SLUE": TaskRule("SLUE_test.py", _r(letter_scan), Answered(), Macro()),
    "TAU": TaskRule("TAU_test.py", _r(scene_words), Everything(), Accuracy()),
    "GTZAN": TaskRule("gtzan_test.py", _r(first_letter), Everything(), Accuracy()),
    "DESED": TaskRule("DESED_test.py", _r(letter_scan), Answered(), Macro()),
    "VESUS": TaskRule("VESUS_test.py", _r(emotion_names_or_keywords), InReferences(), Weighted()),
    "HAD": TaskRule("HAD_test.py", _r(authenticity), Everything(), PositiveClassF1(_FAKE)),
    "VoxGender": TaskRule("Vox_test.py", _r(gender), Answered(), Weighted()),
    "VoxAge": TaskRule("Vox_age_test.py", _r(age), Everything(), Accuracy(), classes="texts"),
})

_VOXTRAL_NOTE = "the script prints two: 'F1 score' (weighted here) and 'Macro F1'; paper mode takes the macro F1"


def _vx(read) -> Reader:
    return Reader(read, error_prefix=True)


VOXTRAL = RuleSet("Voxtral", "src/Voxtral", {
    "LibriSpeech": AsrRule("eval_LibriSpeech.py", error_prefix=True, skip_empty=False),
    "RACE": TaskRule("eval_RACE.py", _vx(first_letter), Answered(), Macro(), note=_VOXTRAL_NOTE),
    "SLUE": TaskRule("eval_SLUE.py", _vx(letter_scan), Answered(), Macro()),
    "TAU": TaskRule("eval_TAU.py", _vx(scene_words), Answered(), Macro(), note=_VOXTRAL_NOTE),
    "GTZAN": TaskRule("eval_GTZAN.py", _vx(genre_phrases), Answered(), Macro()),
    "DESED": TaskRule("eval_DESED.py", _vx(letter_scan), Answered(), Macro()),
    "VESUS": TaskRule("eval_VESUS.py", _vx(letter_scan), Answered(), Macro(), note=_VOXTRAL_NOTE),
    "HAD": TaskRule("eval_HAD.py", _vx(ab_scan), Answered(), Macro(), note=_VOXTRAL_NOTE),
    "VoxGender": TaskRule("eval_Vox.py", _vx(letter_scan), Answered(), Macro(),
                          note="the published eval_Vox.py is a copy of the DESED script (letters A-D); its rules "
                               "are applied as written"),
    "VoxAge": TaskRule("eval_Vox_Age.py", _vx(age_letter_scan), InFixedSet(_VOX_AGE_GROUPS), Macro(),
                       classes="texts", note=_VOXTRAL_NOTE),
})

RULE_SETS: dict[str, RuleSet] = {rs.family: rs for rs in (QWEN, PHI4, VOXTRAL)}
DEFAULT = QWEN.family

# Every family the runner supports (its adapters' names), and whose scripts score it. Families the
# authors wrote no scripts for get Qwen2.5-Omni's. Earlier runs recorded "Qwen2.5-Omni (thinker)".
FAMILIES: dict[str, str] = {
    "Qwen2.5-Omni": QWEN.family,
    "Phi-4-multimodal": PHI4.family,
    "Voxtral": VOXTRAL.family,
    "Qwen2-Audio": QWEN.family,
    "Gemma-3n": QWEN.family,
    "Audio Flamingo 3": QWEN.family,
    "Aero-1": QWEN.family,  # its scripts' (src/Aero-1/Others) answer rules are not typed out here: Qwen2.5-Omni's
}
ALIASES: dict[str, str] = {"Qwen2.5-Omni (thinker)": "Qwen2.5-Omni"}


class UnknownFamilyError(ValueError):
    """A family name paper mode has no rules for."""


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


_BY_KEY = {_key(name): name for name in (*FAMILIES, *ALIASES)}


def resolve_family(family: str | None) -> tuple[str | None, RuleSet]:
    """(the family's name as listed, the rule set its scores follow); None -> Qwen2.5-Omni's rules.
    Names match case- and whitespace-insensitively."""
    if family is None:
        return None, RULE_SETS[DEFAULT]
    if not isinstance(family, str):
        raise UnknownFamilyError(f"family must be a string, got {type(family).__name__}")
    name = _BY_KEY.get(_key(family))
    if name is None:
        raise UnknownFamilyError(f"no paper-mode rules for family {family!r}; valid families: {', '.join(FAMILIES)}")
    name = ALIASES.get(name, name)
    return name, RULE_SETS[FAMILIES[name]]
