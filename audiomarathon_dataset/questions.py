"""Question, choices and answer of a composed instance, per task (registered by name).

All label texts, option counts and default questions come from the task registry. Random
choices (distractors, option order, which event or entity is asked about) use the
generator the builder passes, seeded per instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import Task

from .composer import Composed


@dataclass(frozen=True)
class QA:
    question: str
    choices: list[str]
    answer: str  # letter; "" for ASR
    answer_text: str
    meta: dict = field(default_factory=dict)


class NoQuestion(ValueError):
    """The instance supports no valid question (e.g. no named entity, too few absent events)."""


Maker = Callable[[Task, Composed, np.random.Generator, Sequence], list[QA]]


def annotations(inst: Composed) -> list[dict]:
    """The clips' timed annotations moved to instance time and cut to what is audible."""
    out = []
    for p in inst.placed:
        for span in p.ref.spans:
            onset = p.start + (span.onset - p.clip_start)
            offset = p.start + (span.offset - p.clip_start)
            onset, offset = max(onset, p.start), min(offset, p.end)
            if offset > onset:
                out.append({"label": span.label, "onset": round(onset, 3), "offset": round(offset, 3)})
    return out


def fixed_key(inst: Composed) -> str | None:
    """What a controlled build fixed the question to (the anchor clip's event or entity)."""
    return (inst.plan.group_meta.get("controlled") or {}).get("evidence_key")


def _with_distractors(rng: np.random.Generator, answer: str, pool: Sequence[str], n: int) -> tuple[list[str], int]:
    """``answer`` plus n-1 distinct picks from ``pool``, shuffled; returns (choices, answer index)."""
    pool = [p for p in pool if p != answer]
    if len(pool) < n - 1:
        raise NoQuestion(f"only {len(pool)} distractor(s) available, {n - 1} needed")
    picks = [pool[int(i)] for i in sorted(rng.choice(len(pool), size=n - 1, replace=False))]
    choices = [answer, *picks]
    order = rng.permutation(n)
    choices = [choices[int(i)] for i in order]
    return choices, choices.index(answer)


def _qa(question: str, choices: list[str], index: int, meta: dict | None = None) -> QA:
    return QA(question, choices, LETTERS[index], choices[index], meta or {})


def _label_meta(task: Task, label: str) -> dict:
    # the field the official release stores the label under ("scene_label"), when it has one
    return {task.release_fields[0]: label} if task.release_fields else {}


def label_choice(task: Task, inst: Composed, rng, vocabulary) -> list[QA]:
    """The official form of TAU, GTZAN and VESUS items: the group's option text plus distinct
    distractor option texts drawn from the rest of the task's label set, shuffled."""
    n = min(task.n_choices, len(task.labels))
    choices, idx = _with_distractors(rng, task.option_text(inst.plan.label), task.choice_texts, n)
    return [_qa(task.question, choices, idx, _label_meta(task, inst.plan.label))]


def fixed_labels(task: Task, inst: Composed, rng, vocabulary) -> list[QA]:
    """Every option text in registry order (Real/Fake, Male/Female, the five age groups):
    these prompts name the options by position ("If it is a male, answer 'a'")."""
    choices = list(task.choice_texts)
    meta = {}
    spans = annotations(inst)
    if spans:
        fake = [s for s in spans if s["label"] == "fake"]
        meta = {"fake_spans": fake, "fake_seconds": round(sum(s["offset"] - s["onset"] for s in fake), 3)}
    return [_qa(task.question, choices, choices.index(task.option_text(inst.plan.label)), meta)]


def transcript(task: Task, inst: Composed, rng, vocabulary) -> list[QA]:
    """ASR: the joined transcripts of the utterances, in the order they are heard."""
    text = " ".join(p.ref.text for p in inst.placed if p.ref.text)
    return [QA(task.question, [], "", text, {"utterances": [p.ref.source_id for p in inst.placed]})]


def own_options(task: Task, inst: Composed, rng, vocabulary) -> list[QA]:
    """RACE keeps each of the article's questions with its own four options."""
    out = []
    for q in inst.plan.group_meta["questions"]:
        idx = LETTERS.index(q["answer"])
        out.append(_qa(q["question"], list(q["options"]), idx, {"question_idx": q["question_idx"]}))
    return out


def event_present(task: Task, inst: Composed, rng, vocabulary) -> list[QA]:
    """DESED: one event heard in the instance, three events absent from all of it."""
    events = annotations(inst)
    present = sorted({e["label"] for e in events})
    if not present:
        raise NoQuestion("no sound event is audible in the instance")
    absent = [lab for lab in task.labels if lab not in present]
    asked = present[int(rng.integers(len(present)))]
    asked = fixed_key(inst) or asked
    choices, idx = _with_distractors(rng, asked, absent, task.n_choices)
    return [_qa(task.question, choices, idx, {"events": events, "all_events": present, "primary_event": asked})]


def entity_mentioned(task: Task, inst: Composed, rng, vocabulary: Sequence[tuple[str, str]]) -> list[QA]:
    """SLUE: an entity spoken in the instance; distractors are corpus entities never said in it
    (same entity type first)."""
    heard: list[tuple[str, str]] = []
    for p in inst.placed:
        for ent in p.ref.entities:
            if ent not in heard:
                heard.append(ent)
    if not heard:
        raise NoQuestion("no named entity is spoken in the instance")
    spoken = " ".join(p.ref.text for p in inst.placed).lower()
    phrase, kind = heard[int(rng.integers(len(heard)))]
    if fixed_key(inst):
        phrase, kind = next(e for e in heard if e[0] == fixed_key(inst))
    seen = {phrase.lower()}
    same, other = [], []
    for cand, ckind in vocabulary:
        low = cand.lower()
        if low in seen or low in spoken:
            continue
        seen.add(low)
        (same if ckind == kind else other).append(cand)
    need = task.n_choices - 1
    pool = same if len(same) >= need else same + other
    choices, idx = _with_distractors(rng, phrase, pool, task.n_choices)
    return [_qa(task.question, choices, idx, {"entity_type": kind, "entities": [list(e) for e in heard],
                                               "transcript": " ".join(p.ref.text for p in inst.placed)})]


QUESTION_MAKERS: dict[str, Maker] = {
    "label_choice": label_choice,
    "fixed_labels": fixed_labels,
    "transcript": transcript,
    "own_options": own_options,
    "event_present": event_present,
    "entity_mentioned": entity_mentioned,
}
