"""Controlled builds: the evidence at a chosen position, the same item at several lengths.

``build --evidence-position start|middle|end`` and ``build --durations 90,180,300`` replace the
composer's planner with ``plan_controlled``. Per base item, from a group's (seeded) clip order:

* an *anchor* clip holding the evidence is taken first (tasks with an evidence rule: DESED's
  asked event, SLUE's named entity); what the question asks is fixed from it (seeded) and
  recorded in ``meta.controlled.evidence_key``;
* *distractor* clips follow in the group's order, skipping any that would also hold the evidence
  (the asked event or entity) or, for DESED, pass the task's budget of distinct events;
* for each length L, the distractors fill L minus the anchor exactly (the last one is cut to fit);
  the anchor goes first (start), last (end), or in the middle: the distractor crossing the
  midpoint is split in two so the anchor's centre sits at L / 2.

So every length of a base item has the same anchor, the same question and options (made once, on
the longest version, whose distractors include every shorter version's) and a prefix of the same
distractor material. All lengths of one item are rows of the task's config, longest first, told
apart by ``meta.controlled`` = ``{base, duration_target, evidence_position, evidence_key,
evidence_source_id}`` (filter on it, or score with ``duration_bins`` at the lengths' midpoints).
Tasks without an evidence rule take the lengths only (a prefix of the same clips).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from . import report as rp
from .composer import (
    TOLERANCE,
    AudioOptions,
    Composition,
    InstancePlan,
    PlannedClip,
    probe_seconds,
    rng_for,
)
from .audio_io import AudioError
from .report import Issue

POSITIONS = ("start", "middle", "end")
RELATIVE = {"start": 0.0, "middle": 0.5, "end": 1.0}


@dataclass(frozen=True)
class Anchor:
    """What in a clip a question can be fixed to, and whether another clip also holds it."""

    keys: Callable  # ClipRef -> sorted candidate keys
    holds: Callable  # (ClipRef, key) -> bool


def _event_keys(ref) -> list[str]:
    return sorted(ref.labels)


def _entity_keys(ref) -> list[str]:
    return sorted({phrase for phrase, _ in ref.entities})


ANCHORS: dict[str, Anchor] = {
    # keyed like evidence.EVIDENCE_RULES: the rule that marks the anchor as evidence afterwards
    "asked_event": Anchor(_event_keys, lambda ref, key: key in ref.labels),
    "named_entity": Anchor(_entity_keys, lambda ref, key: any(p == key for p, _ in ref.entities)
                           or key.lower() in ref.text.lower()),
}
# question makers whose answer needs the whole recording: no cut-to-length variant exists
UNSUPPORTED = {"transcript": "its reference transcript covers the whole recording",
               "own_options": "its questions are about one whole article"}


@dataclass(frozen=True)
class Controlled:
    evidence_position: str | None = None  # start | middle | end
    lengths: tuple[float, ...] | None = None  # seconds, each a separate row of the same item

    def __post_init__(self):
        if self.evidence_position is not None and self.evidence_position not in POSITIONS:
            raise ValueError(f"evidence position must be one of {', '.join(POSITIONS)}, got {self.evidence_position!r}")
        if self.lengths is not None:
            if not self.lengths or any(not (x > 0) for x in self.lengths) or len(set(self.lengths)) != len(self.lengths):
                raise ValueError(f"durations must be distinct positive seconds, got {list(self.lengths)!r}")
            object.__setattr__(self, "lengths", tuple(sorted(float(x) for x in self.lengths)))

    @property
    def active(self) -> bool:
        return self.evidence_position is not None or self.lengths is not None

    @property
    def position(self) -> str:
        return self.evidence_position or "middle"


def check_task(task_name: str, questions: str, evidence: str | None, controlled: Controlled) -> None:
    """Refuse, before any work, a task the controlled build cannot make."""
    if questions in UNSUPPORTED:
        raise ValueError(f"{task_name}: no controlled build ({UNSUPPORTED[questions]})")
    if controlled.evidence_position is not None and evidence not in ANCHORS:
        raise ValueError(f"{task_name}: --evidence-position needs evidence held by one clip "
                         f"(tasks: DESED, SLUE); {task_name}'s answer is spread over the recording")


def _fill(distractors: list[PlannedClip], seconds: float) -> list[PlannedClip]:
    """A prefix of ``distractors`` lasting exactly ``seconds`` (the last one cut)."""
    out, total = [], 0.0
    for pc in distractors:
        if total >= seconds - 1e-9:
            break
        take = min(pc.seconds, seconds - total)
        out.append(pc if take >= pc.seconds else
                   PlannedClip(replace(pc.ref, end=round(pc.ref.start + take, 6)), round(take, 6)))
        total += take
    return out


def _split(pc: PlannedClip, at: float) -> tuple[PlannedClip, PlannedClip]:
    cut = round(pc.ref.start + at, 6)
    first = PlannedClip(replace(pc.ref, end=cut), round(at, 6))
    second = PlannedClip(replace(pc.ref, start=cut), round(pc.seconds - at, 6))
    return first, second


def arrange(anchor: PlannedClip | None, distractors: list[PlannedClip], length: float, position: str
            ) -> list[PlannedClip]:
    """The clips of one instance of ``length`` seconds with the anchor at ``position``."""
    if anchor is None:
        return _fill(distractors, length)
    fill = _fill(distractors, length - anchor.seconds)
    if position == "start":
        return [anchor, *fill]
    if position == "end":
        return [*fill, anchor]
    half = (length - anchor.seconds) / 2.0
    before, total = [], 0.0
    for k, pc in enumerate(fill):
        if total + pc.seconds <= half + 1e-9:
            before.append(pc)
            total += pc.seconds
            continue
        if half - total > 1e-6:
            head, tail = _split(pc, half - total)
            return [*before, head, anchor, tail, *fill[k + 1:]]
        return [*before, anchor, *fill[k:]]
    return [*before, anchor]


def plan_controlled(group, *, task: str, corpus: str, rule: Composition, low: float, high: float,
                    evidence: str | None, controlled: Controlled, seed: int, audio: AudioOptions = AudioOptions(),
                    stats: dict | None = None) -> Iterator[InstancePlan | Issue]:
    """Instance plans of one group for a controlled build (see the module docstring)."""
    rng = rng_for(seed, corpus, group.key, "controlled")
    order = list(rng.permutation(len(group.clips))) if rule.shuffle else list(range(len(group.clips)))
    pool: deque[int] = deque(int(i) for i in order)
    seconds: dict[int, float | None] = {}
    anchor_rule = ANCHORS.get(evidence)

    def length(i: int):
        if i not in seconds:
            try:
                seconds[i] = probe_seconds(group.clips[i], audio.render_speech)
            except AudioError as err:
                seconds[i] = None
                return Issue(err.kind, task, group.clips[i].source_id, f"group={group.key}", f"{err.message}; clip skipped")
        return None

    base = 0
    while pool and (rule.max_instances_per_group is None or base < rule.max_instances_per_group):
        lengths = controlled.lengths or (round(low + (high - low) * float(rng.random()), 4),)
        anchor, key = None, None
        if anchor_rule is not None:
            for i in list(pool):
                issue = length(i)
                if issue is not None:
                    pool.remove(i)
                    yield issue
                    continue
                keys = anchor_rule.keys(group.clips[i])
                if seconds[i] is not None and keys and seconds[i] <= min(lengths) + TOLERANCE:
                    anchor, key = i, keys[int(rng.integers(len(keys)))]
                    pool.remove(i)
                    break
            if anchor is None:
                break
        labels = set(group.clips[anchor].labels) if anchor is not None else set()
        need = max(lengths) - (seconds[anchor] if anchor is not None else 0.0)
        chosen: list[PlannedClip] = []
        total, skipped = 0.0, []
        while total < need - 1e-9 and pool:
            i = pool.popleft()
            issue = length(i)
            if issue is not None:
                yield issue
                continue
            ref = group.clips[i]
            if key is not None and anchor_rule.holds(ref, key):
                skipped.append(i)  # would hold the evidence too
                continue
            if rule.max_distinct_labels is not None and len(labels | ref.labels) > rule.max_distinct_labels:
                skipped.append(i)
                continue
            labels |= ref.labels
            chosen.append(PlannedClip(ref, seconds[i]))
            total += seconds[i]
        pool.extendleft(reversed(skipped))
        if total < need - 1e-9:
            break  # the rest of the group cannot fill another item (reported below if none was made)
        anchor_pc = PlannedClip(group.clips[anchor], seconds[anchor]) if anchor is not None else None
        for target in sorted(lengths, reverse=True):  # longest first: its question serves every length
            clips = arrange(anchor_pc, chosen, target, controlled.position)
            info = {"base": f"{group.key}#{base}", "duration_target": target,
                    "evidence_position": controlled.position if anchor is not None else None,
                    "evidence_key": key,
                    "evidence_source_id": group.clips[anchor].source_id if anchor is not None else None}
            yield InstancePlan(
                task=task, corpus=corpus, group_key=group.key, group_file=group.file, index=base,
                clips=tuple(clips), target=target, min_duration=target - 0.05, max_duration=target + 0.05,
                truncate=True, audio=audio, label=group.label, group_meta={**group.meta, "controlled": info},
            )
        base += 1
    if base == 0:
        yield Issue(rp.TOO_SHORT, task, group.file, f"group={group.key}", "no controlled instance could be made "
                    "(no clip holding evidence, or too little distractor material)")
