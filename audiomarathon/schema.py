"""The unified instance schema shared by every config, defined once.

`datasets` is imported on first use of the features, so modules that only move rows around
(worker processes of the importer and builder) start without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .tasks import SAMPLING_RATE

if TYPE_CHECKING:
    import datasets

COLUMNS = (
    "id",
    "task",
    "audio",
    "duration",
    "question",
    "choices",
    "answer",
    "answer_text",
    "segments",
    "meta",
)


def features(decode_audio: bool = True) -> "datasets.Features":
    """The `datasets.Features` of every AudioMarathon config."""
    import datasets

    segment = {
        "source_id": datasets.Value("string"),
        "start": datasets.Value("float32"),
        "end": datasets.Value("float32"),
        # True where the clip holds the answer's evidence; None where the task has no such notion
        # or the data has no annotation for it (imported releases)
        "evidence": datasets.Value("bool"),
    }
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "task": datasets.Value("string"),
            "audio": datasets.Audio(sampling_rate=SAMPLING_RATE, decode=decode_audio),
            "duration": datasets.Value("float32"),
            "question": datasets.Value("string"),
            "choices": datasets.List(datasets.Value("string")),
            "answer": datasets.Value("string"),
            "answer_text": datasets.Value("string"),
            "segments": datasets.List(segment),
            "meta": datasets.Value("string"),
        }
    )


def __getattr__(name: str):
    # FEATURES is built on first access (see the module docstring).
    if name == "FEATURES":
        value = globals()["FEATURES"] = features()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
