"""One prediction record, as both backends build it: a model run here (``sample_runner.py``) and a
model behind an API (``api/runner.py``). The record's shape is ``audiomarathon.records.PredictionRecord``."""

from __future__ import annotations

import traceback

from audiomarathon.records import RUN_ID_FIELD
from audiomarathon.tasks import OPEN

from .samples import Sample


def new_record(sample: Sample, run_id: str, **backend) -> dict:
    """The record of ``sample`` before it runs: no reply yet and no error. ``backend``: fields
    of one backend (an API run's ``api``), placed before the item's own."""
    return {"id": sample.id, "task": sample.task, "reply": None, "parsed": None, "rule": None,
            "reference": sample.reference, "choices": list(sample.choices), "timings": {},
            "compression": None, RUN_ID_FIELD: run_id, "error": None, **backend, **sample.record_fields()}


def parse_reply(reply: str, sample: Sample) -> tuple[str | None, str]:
    """The runner's reading of a reply: (letter, extraction rule), or for speech recognition the
    cleaned transcript. Informative only: the metric reads the raw reply again."""
    from audiomarathon_metric import clean_transcript, extract_answer

    task = sample.task_info
    if task.metric == OPEN:  # a free-form answer: the judge reads the reply itself
        return None, "open-ended"
    if task.is_mcq:
        ex = extract_answer(reply, sample.choices, task.name)
        return ex.letter, ex.rule
    return clean_transcript(reply, task.name), "transcript"


def set_reply(record: dict, reply: str, sample: Sample, hit_cap: bool | None) -> None:
    """The reply, its reading, and whether it stopped at the reply cap (None: not known)."""
    parsed, rule = parse_reply(reply, sample)
    record.update(reply=reply, parsed=parsed, rule=rule, hit_cap=hit_cap)


def set_error(record: dict, err: BaseException, context: str = "", with_traceback: bool = True) -> None:
    """A failed sample: ``error`` names the exception (after ``context``, e.g. the sample); a
    traceback when the failure was unexpected. The metric scores it as an invalid reply."""
    record["error"] = f"{type(err).__name__}: {context}{err}"
    if with_traceback:
        record["traceback"] = traceback.format_exc(limit=6)
