"""MMAR's and AIR-Bench Foundation's metadata, recognized by content like AudioMarathon's.

MMAR: ``MMAR-meta.json`` (a JSON list) or its GitHub copy ``MMAR-meta.jsonl`` (one record a line,
newer rows adding ``thinking``, ``cue``, ``rubric``): ``id``, ``audio_path`` (``./audio/<id>.wav``
beside the metadata, also when ``mmar-audio.tar.gz`` holds it), ``question``, ``choices`` (2-6
option texts), ``answer`` (an option's text), ``modality``, ``category``, ``sub-category`` and
more, all kept in ``meta`` under the release's names.

AIR-Bench Foundation: ``Foundation/Foundation_meta.json``, records of every task in one list:
``path``, ``question``, ``choice_a``..``choice_d`` (c and d optional), ``answer_gt`` (an option's
text), ``task_name``, ``dataset_name``, ``uniq_id``. A record's audio is
``<task_name>_<dataset_name>/<path>`` beside the metadata; ``Audio_Grounding``'s metadata names
``.wav`` files that ship as ``.flac`` (the authors' inference script swaps the suffix).

AudioMarathon's release has records of the same flat shape, and one ``task_name``
(``Acoustic_Scene_Classification``) in common. A record is Foundation's when its
(``task_name``, ``dataset_name``) pair is one of the 25 Foundation folders of the registry
(Acoustic_Scene_Classification with CochlScene or TUT2017; AudioMarathon's says
TAU_Urban_Acoustic_Scenes), AudioMarathon's when a name is one of its tasks' release names; a file
mixing both is refused, never split by guess.

In both benchmarks the answer must equal one option exactly, as the authors' scorers compare it
(``answer_gt == choice_a``, MMAR's ``answer`` among ``choices``): a letter, or another case or
spacing, is a per-record error naming the option it resembles.
"""

from __future__ import annotations

import re
from typing import Any

from audiomarathon.benchmarks import get_benchmark
from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS, Task

from ..report import ANSWER_NOT_IN_OPTIONS, BAD_RECORD, Issue
from .chat_shapes import CHAT_META, CHAT_TASKS, ChatMeta, chat_layout
from .shapes import Context, FlatChoices, JsonShape, SourceRecord, detect_json_shape, first_record, text_field

MMAR_LAYOUT = "MMAR layout"
FOUNDATION_LAYOUT = "AIR-Bench Foundation layout"
FOUNDATION_TASKS: dict[str, Task] = {t.name: t for t in get_benchmark("airbench-foundation").tasks}
FOUNDATION_FOLDERS: dict[tuple[str, str], str] = {
    (t.name, d): t.name for t in FOUNDATION_TASKS.values() for d in t.dataset_names
}
MMAR_TASK = get_benchmark("mmar").tasks[0]
# The task whose metadata lists .wav for audio shipped as .flac.
FLAC_FOR_WAV = "Audio_Grounding"


def _norm(value: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


_AUDIOMARATHON_NAMES = {_norm(n) for t in TASKS for n in t.release_names}


def exact_answer(ctx: Context, file: str, locator: str, answer: Any, choices: list[str]) -> tuple[str, str] | Issue:
    """(letter, option text) of the first option equal to ``answer`` (the authors' scorers take the
    first equal option), or an issue naming the option it only resembles."""
    if isinstance(answer, str) and answer in choices:
        i = choices.index(answer)
        return LETTERS[i], choices[i]
    near = [c for c in choices if isinstance(answer, str) and " ".join(c.split()).casefold() == " ".join(answer.split()).casefold()]
    hint = f"; it differs from the option {near[0]!r} in case or spacing" if near else ""
    return ctx.issue(ANSWER_NOT_IN_OPTIONS, file, locator,
                     f"answer {answer!r} is not exactly one of the options {choices}{hint}")


def _record(ctx: Context, file: str, locator: str, audio, question: Any, choices: list[str], answer: Any,
            meta: dict, key: str) -> SourceRecord | Issue:
    question = text_field({"question": question}, "question")
    if len(choices) < 2:
        return ctx.issue(BAD_RECORD, file, locator, f"record has {len(choices)} option(s); at least 2 needed")
    if len(choices) > ctx.task.n_choices:
        return ctx.issue(BAD_RECORD, file, locator, f"record has {len(choices)} options; {ctx.task.benchmark} "
                                                    f"questions have at most {ctx.task.n_choices}")
    resolved = exact_answer(ctx, file, locator, answer, choices)
    if isinstance(resolved, Issue):
        return resolved
    letter, text = resolved
    return SourceRecord(task=ctx.task.name, file=file, record=locator, audio=audio, question=question,
                        choices=choices, answer=letter, answer_text=text, key=key, meta=meta)


class MmarList(JsonShape):
    """MMAR: a list (JSON, or JSON Lines) of {id, audio_path, question, choices: [...], answer, ...}."""

    name = "mmar_list"
    USED = {"question", "choices", "answer"}
    KEYS = {"id", "audio_path", "question", "choices", "answer"}

    @classmethod
    def items(cls, obj):
        first = first_record(obj)
        if first is not None and cls.KEYS <= first.keys() and isinstance(first["choices"], list):
            return obj
        return None

    def locate(self, item, locator):
        return f"{locator} (id={item['id']})" if item.get("id") is not None else locator

    def parse(self, item, ctx, file, locator):
        options = item["choices"]
        if not isinstance(options, list):
            raise ValueError("'choices' is not a list of option texts")
        choices = [text_field({f"choices[{i}]": o}, f"choices[{i}]") for i, o in enumerate(options)]
        audio = text_field(item, "audio_path")
        ident = text_field(item, "id")
        return _record(ctx, file, locator, ctx.resolve_audio(audio), item["question"], choices, item["answer"],
                       self.extra_fields(item), f"id={ident}")


class FoundationMeta(FlatChoices):
    """AIR-Bench Foundation_meta.json: one list holding every task's records; a task reads its own."""

    name = "airbench_foundation"
    OPTION_KEYS = ("choice_a", "choice_b", "choice_c", "choice_d")
    USED = {"question", "answer_gt", *OPTION_KEYS}

    def wanted(self, item, ctx):
        return isinstance(item, dict) and item.get("task_name") == ctx.task.name

    def parse(self, item, ctx, file, locator):
        task = ctx.task
        dataset = text_field(item, "dataset_name")
        if dataset not in task.dataset_names:
            return ctx.issue(BAD_RECORD, file, locator,
                             f"dataset_name {dataset!r} is not one of {task.name}'s ({', '.join(task.dataset_names)}): "
                             f"no AIR-Bench Foundation folder {task.name}_{dataset}")
        extra = sorted(k for k in item if k.startswith("choice_") and k not in self.OPTION_KEYS
                       and item[k] not in (None, ""))
        if extra:
            return ctx.issue(BAD_RECORD, file, locator, f"options {extra} beyond choice_d; Foundation questions "
                                                        "have at most 4")
        choices, gap = [], ""
        for key in self.OPTION_KEYS:
            value = item.get(key)
            if value is None or value == "":
                gap = gap or key
                continue
            if gap:
                return ctx.issue(BAD_RECORD, file, locator, f"{key} is given but {gap} is empty")
            choices.append(text_field(item, key))
        listed = text_field(item, "path")
        folder = f"{task.name}_{dataset}"
        audio = ctx.resolve_audio(f"{folder}/{listed}")
        if task.name == FLAC_FOR_WAV and listed.lower().endswith(".wav"):
            flac = ctx.resolve_audio(f"{folder}/{listed[:-4]}.flac")
            if flac.is_file() or not audio.is_file():
                audio = flac  # the release's file; a missing one is reported under this name
        meta = self.extra_fields(item)
        ident = item.get("uniq_id")
        key = f"uniq_id={ident}" if ident is not None else f"{folder}/{listed}|{item['question']}"
        return _record(ctx, file, locator, audio, item["question"], choices, item["answer_gt"], meta, key)


MMAR_LIST = MmarList()
FOUNDATION_META = FoundationMeta()


def shape_for(task: Task, obj: Any) -> JsonShape | None:
    """The shape ``task``'s records are read with from ``obj``: MMAR's and Foundation's own for
    their tasks (a Foundation file is flat like AudioMarathon's, but read by its own rules), the
    detected one for AudioMarathon's; None when ``obj`` does not have it."""
    if task.name in FOUNDATION_TASKS:
        return FOUNDATION_META if FlatChoices.items(obj) is not None else None
    if task.name == MMAR_TASK.name:
        return MMAR_LIST if MmarList.items(obj) is not None else None
    if task.name in CHAT_TASKS:
        return CHAT_META if ChatMeta.items(obj) is not None else None
    return detect_json_shape(obj)


def _kind(record: Any) -> str:
    """'foundation', 'audiomarathon' or '' for one flat record (see the module docstring)."""
    if not isinstance(record, dict):
        return ""
    pair = (record.get("task_name"), record.get("dataset_name"))
    if pair in FOUNDATION_FOLDERS:
        return "foundation"
    names = {_norm(record[k]) for k in ("task_name", "dataset_name", "task") if record.get(k)}
    return "audiomarathon" if names & _AUDIOMARATHON_NAMES else ""


class LayoutConflict(ValueError):
    """A file holding both AIR-Bench Foundation and AudioMarathon records."""


def benchmark_layout(obj: Any) -> tuple[str, list[str], list[tuple[int, str]]] | None:
    """How a metadata document belongs to MMAR or AIR-Bench Foundation: (rule, task names, records
    that belong to neither as (index, why)); None when it is neither's (AudioMarathon's rules
    decide). LayoutConflict for a file mixing Foundation and AudioMarathon records."""
    if MmarList.items(obj) is not None:
        return MMAR_LAYOUT, [MMAR_TASK.name], []
    chat = chat_layout(obj)
    if chat is not None:
        return chat
    records = FlatChoices.items(obj)
    if records is None:
        return None
    kinds = [_kind(r) for r in records]
    if "foundation" not in kinds:
        return None
    if "audiomarathon" in kinds:
        first = kinds.index("audiomarathon")
        raise LayoutConflict(f"records of AIR-Bench Foundation (#{kinds.index('foundation')}) and of AudioMarathon "
                             f"(#{first}) in one file")
    present = {r.get("task_name") for r in records if isinstance(r, dict)}
    tasks = [name for name in FOUNDATION_TASKS if name in present]
    stray = [(i, f"task_name {r.get('task_name')!r} is not one of AIR-Bench Foundation's {len(FOUNDATION_TASKS)} tasks"
              if isinstance(r, dict) else f"record is a {type(r).__name__}, not an object")
             for i, r in enumerate(records) if not isinstance(r, dict) or r.get("task_name") not in FOUNDATION_TASKS]
    return FOUNDATION_LAYOUT, tasks, stray
