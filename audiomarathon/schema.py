"""The unified instance schema shared by every config (DESIGN.md §2), defined once."""

from __future__ import annotations

import datasets

from .tasks import SAMPLING_RATE

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

SEGMENT_FEATURE = {
    "source_id": datasets.Value("string"),
    "start": datasets.Value("float32"),
    "end": datasets.Value("float32"),
}


def features(decode_audio: bool = True) -> datasets.Features:
    """The `datasets.Features` of every AudioMarathon config."""
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
            "segments": datasets.List(SEGMENT_FEATURE),
            "meta": datasets.Value("string"),
        }
    )


FEATURES = features()
