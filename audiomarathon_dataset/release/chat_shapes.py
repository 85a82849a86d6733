"""AIR-Bench Chat's metadata, recognized by content: ``Chat/Chat_meta.json``.

One JSON list of every task's records: ``meta_info`` (the text description of the audio that the
judge reads; for the dialogue task a JSON *string* of speaker / speaking time / transcription
entries, kept as that string), ``question``, ``answer_gt`` (a reference answer, free text: there
are no options), ``path``, ``task_name``, ``dataset_name``, ``uniq_id``. A record's audio is
``<task_name>_<dataset_name>/<path>`` beside the metadata, as Inference_Chat.py reads it.

A file is Chat's when its records carry ``meta_info`` and ``answer_gt`` but no options, and name
Chat tasks; records naming another ``task_name`` are reported and skipped. Each row keeps the
reference as ``answer_text`` (``answer`` empty, ``choices`` empty) and the record's other fields
in ``meta`` (``meta_info``, ``task_name``, ``dataset_name``, ``uniq_id``).
"""

from __future__ import annotations

from typing import Any

from audiomarathon.benchmarks import get_benchmark

from ..report import BAD_RECORD
from .shapes import JsonShape, SourceRecord, first_record, text_field

CHAT_LAYOUT = "AIR-Bench Chat layout"
CHAT_TASKS = {t.name: t for t in get_benchmark("airbench-chat").tasks}
CHOICE_PREFIX = "choice_"


class ChatMeta(JsonShape):
    """Chat_meta.json: one list holding every Chat task's records; a task reads its own."""

    name = "airbench_chat"
    USED = {"question", "answer_gt", "path"}
    KEYS = {"meta_info", "question", "answer_gt", "path", "task_name"}

    @classmethod
    def items(cls, obj):
        first = first_record(obj)
        if first is None or not cls.KEYS <= first.keys() or any(k.startswith(CHOICE_PREFIX) for k in first):
            return None
        return obj

    def wanted(self, item, ctx):
        return isinstance(item, dict) and item.get("task_name") == ctx.task.name

    def locate(self, item, locator):
        return f"{locator} (uniq_id={item['uniq_id']})" if item.get("uniq_id") is not None else locator

    def parse(self, item, ctx, file, locator):
        question = text_field(item, "question")
        reference = text_field(item, "answer_gt")
        meta_info = text_field(item, "meta_info")
        if not reference.strip():
            return ctx.issue(BAD_RECORD, file, locator, "answer_gt is empty: no reference answer for the judge")
        if not meta_info.strip():
            return ctx.issue(BAD_RECORD, file, locator, "meta_info is empty: no audio description for the judge")
        dataset = text_field(item, "dataset_name")
        listed = text_field(item, "path")
        folder = f"{ctx.task.name}_{dataset}"
        ident = item.get("uniq_id")
        key = f"uniq_id={ident}" if ident is not None else f"{folder}/{listed}|{question}"
        return SourceRecord(task=ctx.task.name, file=file, record=locator,
                            audio=ctx.resolve_audio(f"{folder}/{listed}"), question=question, choices=[],
                            answer="", answer_text=reference, key=key, meta=self.extra_fields(item))


CHAT_META = ChatMeta()


def chat_layout(obj: Any) -> tuple[str, list[str], list[tuple[int, str]]] | None:
    """(rule, Chat task names present, records of no Chat task as (index, why)), or None when
    ``obj`` is not Chat metadata."""
    records = ChatMeta.items(obj)
    if records is None:
        return None
    present = {r.get("task_name") for r in records if isinstance(r, dict)}
    tasks = [name for name in CHAT_TASKS if name in present]
    if not tasks:
        return None
    stray = [(i, f"task_name {r.get('task_name')!r} is not one of AIR-Bench Chat's {len(CHAT_TASKS)} tasks"
              if isinstance(r, dict) else f"record is a {type(r).__name__}, not an object")
             for i, r in enumerate(records) if not isinstance(r, dict) or r.get("task_name") not in CHAT_TASKS]
    return CHAT_LAYOUT, tasks, stray
