"""Which segments of a built instance hold the evidence for its answer (``segments[i].evidence``).

A rule per task, named in the task's recipe: DESED marks the clips where the asked event is
audible, SLUE the utterances that say the asked entity, HAD the clips with a fake part (a real
instance has none). Tasks whose answer is spread over the whole recording (a scene, a genre, a
speaker) have no rule and carry ``evidence = None`` on every segment; so do imported releases,
which have no clip-level annotations: "unknown", never "not evidence".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .composer import Placed
from .questions import QA

EvidenceRule = Callable[[Placed, QA], bool]


def _audible(p: Placed, label: str) -> bool:
    """A span of ``label`` overlaps the part of the clip that was kept."""
    for span in p.ref.spans:
        onset = p.start + (span.onset - p.clip_start)
        offset = p.start + (span.offset - p.clip_start)
        if span.label == label and min(offset, p.end) > max(onset, p.start):
            return True
    return False


def asked_event(p: Placed, qa: QA) -> bool:
    return _audible(p, qa.meta["primary_event"])


def named_entity(p: Placed, qa: QA) -> bool:
    return any(phrase == qa.answer_text for phrase, _ in p.ref.entities)


def fake_part(p: Placed, qa: QA) -> bool:
    return _audible(p, "fake")


EVIDENCE_RULES: dict[str, EvidenceRule] = {
    "asked_event": asked_event,
    "named_entity": named_entity,
    "fake_part": fake_part,
}


def segments_with_evidence(placed: Sequence[Placed], qa: QA, rule: str | None) -> list[dict]:
    """The ``segments`` column of one row: every clip's position, and its evidence mark."""
    mark = EVIDENCE_RULES[rule] if rule is not None else None
    return [{"source_id": p.ref.source_id, "start": p.start, "end": p.end,
             "evidence": None if mark is None else bool(mark(p, qa))} for p in placed]
