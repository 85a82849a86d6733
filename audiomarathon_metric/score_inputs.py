"""What score() and compare() take, and what a task's scorer gives back: the settings
(``ScoreSettings``) and the items (``prepare_items``), each checked once with an error naming the
argument or the index, and one task's result (``TaskResult``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from dataclasses import field
from typing import Callable, Sequence

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import ALL_TASKS
from audiomarathon.tasks import MCQ
from audiomarathon.tasks import OPEN
from audiomarathon.tasks import Task
from audiomarathon.tasks import UnknownTaskError
from audiomarathon.tasks import get_task

from .extraction import default_choices
from .normalizers import get_normalizer
from .option_forms import norm_text

MODES = ("strict", "paper")
# Registry order, AudioMarathon's ten first: their bootstrap streams are as before other benchmarks came.
_TASK_INDEX = {t.name: i for i, t in enumerate(ALL_TASKS)}


class ScoringInputError(ValueError):
    """Bad input to score()/compare(); the message names the offending argument or index."""


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class ScoreSettings:
    """How score() and compare() score; each value is checked when the settings are made, and a bad
    one is refused with an error naming it ("seed must be an integer >= 0, got -1").

    mode: "strict" (an invalid reply is scored as its least favourable wrong answer) or "paper" (each
    task scored as the benchmark authors' script for ``family`` scores it: their reading of replies,
    the pairs they count, the figure they report; a task with no counted pair has score None and is
    listed in unscored_tasks);
    family: paper mode's model family, as ``audiomarathon models`` names it (None: Qwen2.5-Omni's
    scripts, which also score the families the authors wrote none for);
    normalizer: "benchmark", "whisper", "whisper_basic" or a callable (ASR, strict mode);
    n_bootstrap: bootstrap replicates of the 95% CIs (0: none); seed: their seed;
    alpha: significance level of the test against guessing, after Bonferroni;
    per_sample: add the per-item records;
    duration_bins: edges of ``by_duration`` in seconds (default 90/150/210/300); evidence_bins: edges
    of ``by_evidence_position`` in [0, 1] (default thirds).
    compare() uses mode, normalizer, n_bootstrap and seed.
    """

    mode: str = "strict"
    family: str | None = None
    normalizer: str | Callable[[str], str] = "benchmark"
    n_bootstrap: int = 1000
    seed: int = 0
    alpha: float = 0.001
    per_sample: bool = False
    duration_bins: Sequence[float] | None = None
    evidence_bins: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ScoringInputError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not _is_int(self.n_bootstrap) or self.n_bootstrap < 0:
            raise ScoringInputError(f"n_bootstrap must be an integer >= 0, got {self.n_bootstrap!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ScoringInputError(f"seed must be an integer >= 0, got {self.seed!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0.0 < alpha < 1.0:
            raise ScoringInputError(f"alpha must be a number in (0, 1), got {alpha!r}")
        try:
            get_normalizer(self.normalizer)
        except (KeyError, ValueError, TypeError) as err:
            raise ScoringInputError(f"normalizer: {err}") from None
        if self.mode != "paper" and self.family is not None:
            raise ScoringInputError(f"family={self.family!r} chooses the authors' rules of paper mode; strict mode "
                                    f"scores every family alike (pass mode='paper')")
        if self.mode == "paper" and self.normalizer != "benchmark":
            raise ScoringInputError(f"normalizer={self.normalizer!r}: paper mode normalises transcripts as the "
                                    f"authors' scripts do; normalizer applies to strict mode")
        if self.mode == "paper":
            self.family_rules()
        if self.duration_bins is not None or self.evidence_bins is not None:
            from .long_audio import duration_bins
            from .long_audio import evidence_bins

            try:
                for edges, check in ((self.duration_bins, duration_bins), (self.evidence_bins, evidence_bins)):
                    if edges is not None:
                        check(edges)
            except ValueError as err:
                raise ScoringInputError(str(err)) from None

    @classmethod
    def of(cls, settings: ScoreSettings | None, options: dict, caller: str,
           accepted: Sequence[str] | None = None) -> ScoreSettings:
        """``settings`` (default: the defaults) with the keyword arguments ``options`` of ``caller``
        on top; ``accepted``: the names the caller takes as keyword arguments (default: all)."""
        names = [f.name for f in dataclasses.fields(cls)] if accepted is None else list(accepted)
        for name in options:
            if name not in names:
                raise TypeError(f"{caller} got an unexpected keyword argument {name!r}; its settings are "
                                f"{', '.join(names)}")
        if settings is None:
            return cls(**options)
        if not isinstance(settings, cls):
            raise ScoringInputError(f"settings must be a {cls.__name__}, got {type(settings).__name__}")
        return dataclasses.replace(settings, **options) if options else settings

    @property
    def normalizer_name(self) -> str:
        return self.normalizer if isinstance(self.normalizer, str) else "custom"

    def family_rules(self):
        """(the family's name as listed, its paper-mode rule set); an unknown family is refused."""
        from .paper_rules import UnknownFamilyError
        from .paper_rules import resolve_family

        try:
            return resolve_family(self.family)
        except UnknownFamilyError as err:
            raise ScoringInputError(f"family: {err}") from None

    def rng(self, task: Task, stream: int = 0) -> np.random.Generator:
        # One stream per task (by registry position): a task's CI does not depend on which other
        # tasks were scored in the same call.
        return np.random.default_rng([self.seed, _TASK_INDEX[task.name], stream])


@dataclass(frozen=True)
class Item:
    index: int  # position in the caller's lists
    id: str
    task: Task
    reference: str
    choices: tuple[str, ...]
    missing: bool = False  # no reply at all (a failed sample): scored as "" unless a paper rule skips it
    meta: dict = field(default_factory=dict)  # the instance's meta (MMAR modality, Foundation dataset_name, ...)


# ---------------------------------------------------------------- input validation

def _as_list(name: str, value, n: int | None) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise ScoringInputError(f"{name} must be a sequence (list), got {type(value).__name__}")
    value = list(value)
    if n is not None and len(value) != n:
        raise ScoringInputError(f"{name} has {len(value)} entries but predictions has {n}")
    return value


def _check_strings(name: str, values: list) -> None:
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ScoringInputError(f"{name}[{i}] must be a string, got {type(v).__name__}: {v!r}")


def _meta(i: int, value) -> dict:
    """An item's meta: a dict, its JSON text (the dataset's ``meta`` column), or None/"" for none."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as err:
            raise ScoringInputError(f"meta[{i}] is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise ScoringInputError(f"meta[{i}] must be an object (dict or JSON text), got {type(value).__name__}")
    return value


def prepare_items(predictions, references, tasks, choices=None, ids=None, meta=None) -> tuple[list[str], list[Item]]:
    """Validate the inputs and pair them up; every error names the index it is about. An item of a
    benchmark other than AudioMarathon may have the prediction None (no reply: a failed sample, which
    MMAR's script skips); it is returned as "" and its item marked ``missing``."""
    predictions = _as_list("predictions", predictions, None)
    n = len(predictions)
    references = _as_list("references", references, n)
    missing = [p is None for p in predictions]
    for i, p in enumerate(predictions):  # None: checked per item below, once its task is known
        if p is not None and not isinstance(p, str):
            raise ScoringInputError(f"predictions[{i}] must be a string, got {type(p).__name__}: {p!r}")
    predictions = ["" if p is None else p for p in predictions]
    _check_strings("references", references)
    meta_list = [None] * n if meta is None else _as_list("meta", meta, n)
    if isinstance(tasks, (str, Task)):
        task_list = [tasks] * n
    else:
        task_list = _as_list("tasks", tasks, n)
    choice_list = [None] * n if choices is None else _as_list("choices", choices, n)
    id_list = [None] * n if ids is None else _as_list("ids", ids, n)

    resolved: dict[object, Task] = {}
    seen_ids: dict[str, int] = {}
    items = []
    for i in range(n):
        key = task_list[i]
        task = key if isinstance(key, Task) else resolved.get(key)
        if task is None:
            try:
                task = resolved[key] = get_task(key)
            except UnknownTaskError as err:
                raise ScoringInputError(f"tasks[{i}]: {err}") from None
        if task.metric == OPEN:
            raise ScoringInputError(f"tasks[{i}]: {task.name} is open-ended ({task.benchmark}): its replies are scored "
                                    "by an LLM judge, `audiomarathon judge RUN_DIR --api-base URL --model NAME`")
        if missing[i] and task.benchmark == "AudioMarathon":
            raise ScoringInputError(f"predictions[{i}] must be a string, got NoneType: None (a reply that failed "
                                    f"is scored as the empty reply \"\")")
        item_id = f"{task.name}-{i:05d}" if id_list[i] is None else str(id_list[i])
        if item_id in seen_ids:
            raise ScoringInputError(f"ids[{i}] = {item_id!r} repeats ids[{seen_ids[item_id]}]")
        seen_ids[item_id] = i
        item_choices: tuple[str, ...] = ()
        reference = references[i]
        if task.metric == MCQ:
            given = choice_list[i]
            if given is not None and (isinstance(given, str) or not hasattr(given, "__len__")):
                raise ScoringInputError(f"choices[{i}] must be a list of option texts, got {given!r}")
            item_choices = tuple(given) if given else default_choices(task)
            if not item_choices:
                raise ScoringInputError(
                    f"choices[{i}] missing: {task.name} ({task.abbrev}) is multiple-choice and its options "
                    f"vary per item; pass the item's option texts"
                )
            if not 2 <= len(item_choices) <= len(LETTERS):
                raise ScoringInputError(f"choices[{i}] has {len(item_choices)} options; 2..{len(LETTERS)} allowed")
            for j, c in enumerate(item_choices):
                if not isinstance(c, str):
                    raise ScoringInputError(f"choices[{i}][{j}] must be a string, got {type(c).__name__}")
            # The two-way prompts name the letters themselves ("if it is real, answer 'a'"), so other
            # options, or these in another order, would silently swap the classes.
            if task.fixed_choices and item_choices != task.labels and (
                    [norm_text(c) for c in item_choices] != [norm_text(c) for c in task.labels]):
                raise ScoringInputError(
                    f"choices[{i}] = {list(item_choices)!r}: {task.name} ({task.abbrev}) options are fixed by its "
                    f"prompt as {list(task.labels)!r} in that order (or pass no choices)"
                )
            letter = reference.strip().upper()
            if letter not in LETTERS[: len(item_choices)] or len(letter) != 1:
                raise ScoringInputError(
                    f"references[{i}] = {reference!r} is not an option letter "
                    f"({LETTERS[0]}-{LETTERS[len(item_choices) - 1]}) for {task.name}"
                )
            reference = letter
        items.append(Item(i, item_id, task, reference, item_choices, missing[i], _meta(i, meta_list[i])))
    return predictions, items


@dataclass
class TaskResult:
    """What a task's scorer gives back."""

    summary: dict  # goes to the output under tasks[config]
    replicates: np.ndarray  # bootstrap replicates of summary["score"] (for the overall CI)
    samples: list[dict]  # per-sample records, same order as the items
