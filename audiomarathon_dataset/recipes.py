"""How each task is built: its source corpus, composition rule and question maker.

Keyed by the registry's config names and checked against it at import, so a task added to
the registry without a recipe (or a recipe for an unknown task) fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audiomarathon.tasks import TASK_NAMES, get_task

from .composer import Composition
from .evidence import EVIDENCE_RULES
from .questions import QUESTION_MAKERS
from .sources import CORPORA


@dataclass(frozen=True)
class Recipe:
    corpus: str  # key of sources.CORPORA
    composition: Composition
    questions: str  # key of questions.QUESTION_MAKERS
    reader_options: dict = field(default_factory=dict)
    evidence: str | None = None  # key of evidence.EVIDENCE_RULES: which segments hold the answer


def _desed_budget() -> int:
    task = get_task("SED")
    return len(task.labels) - (task.n_choices - 1)  # leave enough classes absent for the distractors


_ONE_PER_SPEAKER = Composition(max_instances_per_group=1)

RECIPES: dict[str, Recipe] = {
    get_task("ASR").name: Recipe("librispeech", Composition(shuffle=False, truncate=False), "transcript"),
    get_task("SCR").name: Recipe("race", Composition(shuffle=False, truncate=False, max_instances_per_group=1),
                                 "own_options"),
    get_task("SER").name: Recipe("slue", Composition(truncate=False), "entity_mentioned",
                                 evidence="named_entity"),
    get_task("ASC").name: Recipe("tau", Composition(), "label_choice"),
    get_task("MC").name: Recipe("gtzan", Composition(), "label_choice"),
    get_task("SED").name: Recipe("desed", Composition(max_distinct_labels=_desed_budget()), "event_present",
                                 evidence="asked_event"),
    get_task("ER").name: Recipe("vesus", Composition(), "label_choice"),
    get_task("SD").name: Recipe("had", Composition(), "fixed_labels", evidence="fake_part"),
    get_task("SGR").name: Recipe("voxceleb", _ONE_PER_SPEAKER, "fixed_labels", {"label": "gender"}),
    get_task("SAR").name: Recipe("voxceleb", _ONE_PER_SPEAKER, "fixed_labels", {"label": "age"}),
}

if set(RECIPES) != set(TASK_NAMES):  # pragma: no cover - guards registry edits
    raise RuntimeError(f"recipes {sorted(RECIPES)} do not match the task registry {sorted(TASK_NAMES)}")
for _name, _r in RECIPES.items():
    if _r.corpus not in CORPORA or _r.questions not in QUESTION_MAKERS or (
            _r.evidence is not None and _r.evidence not in EVIDENCE_RULES):  # pragma: no cover
        raise RuntimeError(f"recipe {_name} names an unknown corpus, question maker or evidence rule")
