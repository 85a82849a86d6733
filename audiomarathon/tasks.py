"""The task registry: the single source of truth for the 10 AudioMarathon tasks.

Config names, abbreviations, categories, label sets, prompts, metric kinds and generation
lengths are defined here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from .prompts import LETTERS, PromptTemplate

SPEECH_CONTENT = "Speech content extraction"
AUDIO_CLASSIFICATION = "Audio classification"
SPEAKER_INFORMATION = "Speaker information"
CATEGORIES = (SPEECH_CONTENT, AUDIO_CLASSIFICATION, SPEAKER_INFORMATION)

# Metric kinds: "mcq" scores letters; "wer" scores transcripts.
MCQ = "mcq"
WER = "wer"

SAMPLING_RATE = 16_000

_MCQ_TAIL = "Respond with only the letter of the correct option ({letters})."


@dataclass(frozen=True)
class Task:
    """One AudioMarathon task (= one dataset config)."""

    name: str  # config name, e.g. "TAU"
    abbrev: str  # paper abbreviation, e.g. "ASC"
    title: str
    category: str
    source: str  # source corpus
    paper_count: int  # instances in the paper
    prompt: PromptTemplate
    max_new_tokens: int
    metric: str = MCQ
    n_choices: int = 4
    labels: tuple[str, ...] | None = None  # closed label set, when there is one
    # F1 classes: "labels" (closed label-set tasks score by label text) or "letters".
    f1_classes: str = "letters"
    question: str = ""  # default question text used when composing instances
    # The prompt names the options itself ("If it is a male, answer 'a'"), so choices must be
    # exactly ``labels`` in registry order.
    fixed_choices: bool = False
    min_duration: float = 90.0
    max_duration: float = 300.0
    # Folder names under which an official release may store this task (normalized).
    release_aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_mcq(self) -> bool:
        return self.metric == MCQ

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(LETTERS[: self.n_choices]) if self.is_mcq else ()

    def render_prompt(self, question: str, choices: Iterable[str] = ()) -> str:
        return self.prompt.render(question, list(choices))


TASKS: tuple[Task, ...] = (
    Task(
        name="LibriSpeech",
        abbrev="ASR",
        title="Automatic speech recognition",
        category=SPEECH_CONTENT,
        source="LibriSpeech test-clean (long-form)",
        paper_count=204,
        metric=WER,
        n_choices=0,
        prompt=PromptTemplate(
            "Transcribe this audio accurately. Remove hesitation words like 'um', 'uh'. "
            "Your response should be formatted as follows: Spoken Content: <transcribed text here>",
            response_marker="Spoken Content:",
        ),
        max_new_tokens=1100,
        question="Transcribe this audio.",
        release_aliases=("librispeechlongform", "librispeechlong", "asr"),
    ),
    Task(
        name="RACE",
        abbrev="SCR",
        title="Speech content reasoning",
        category=SPEECH_CONTENT,
        source="RACE passages read aloud",
        paper_count=820,
        prompt=PromptTemplate(
            "Listen to this audio of a passage being read aloud, then answer the multiple-choice "
            "question based solely on the information from the audio.\n\nQuestion: {question}"
            "\n\nOptions:\n{options}\n\n" + _MCQ_TAIL
        ),
        max_new_tokens=10,
        release_aliases=("raceaudio", "scr"),
    ),
    Task(
        name="SLUE",
        abbrev="SER",
        title="Speech entity recognition",
        category=SPEECH_CONTENT,
        source="SLUE-VoxPopuli (named entities)",
        paper_count=490,
        prompt=PromptTemplate(
            "{question}\n\n{options}\n\nPlease listen to the audio and select the correct answer. "
            "Reply with only the letter ({letters})."
        ),
        max_new_tokens=10,
        question="Which named entity is mentioned in the audio?",
        release_aliases=("sluevoxpopuli", "ser"),
    ),
    Task(
        name="TAU",
        abbrev="ASC",
        title="Acoustic scene classification",
        category=AUDIO_CLASSIFICATION,
        source="TAU Urban Acoustic Scenes 2020 Mobile",
        paper_count=1145,
        labels=(
            "airport",
            "bus",
            "metro",
            "metro_station",
            "park",
            "public_square",
            "shopping_mall",
            "street_pedestrian",
            "street_traffic",
            "tram",
        ),
        f1_classes="labels",
        prompt=PromptTemplate(
            "Listen to this audio and identify the acoustic scene. Choose the most appropriate "
            "option.\n{options}\nRespond with only the letter of your answer ({letters}).",
            option_format="{letter}: {text}",
        ),
        max_new_tokens=10,
        question="Which acoustic scene is this recording from?",
        min_duration=90.0,
        max_duration=210.0,
        release_aliases=("tauurbanacousticscenes2020mobile", "tau2020", "asc"),
    ),
    Task(
        name="GTZAN",
        abbrev="MC",
        title="Music classification",
        category=AUDIO_CLASSIFICATION,
        source="GTZAN genres",
        paper_count=120,
        labels=(
            "blues",
            "classical",
            "country",
            "disco",
            "hiphop",
            "jazz",
            "metal",
            "pop",
            "reggae",
            "rock",
        ),
        f1_classes="labels",
        prompt=PromptTemplate(
            "Listen to this audio segment and identify the music genre based on what you hear."
            "\n\nQuestion: {question}\n\nOptions:\n{options}\n\n" + _MCQ_TAIL
        ),
        max_new_tokens=10,
        question="What is the music genre of this audio?",
        release_aliases=("gtzangenres", "mc"),
    ),
    Task(
        name="DESED",
        abbrev="SED",
        title="Sound event detection",
        category=AUDIO_CLASSIFICATION,
        source="DESED domestic sound events",
        paper_count=254,
        labels=(
            "Alarm_bell_ringing",
            "Blender",
            "Cat",
            "Dishes",
            "Dog",
            "Electric_shaver_toothbrush",
            "Frying",
            "Running_water",
            "Speech",
            "Vacuum_cleaner",
        ),
        f1_classes="letters",  # questions vary per instance; score by letter
        prompt=PromptTemplate(
            "{question}\n\n{options}\n\nPlease listen to the audio and select the correct answer. "
            "Reply with only the letter ({letters})."
        ),
        max_new_tokens=10,
        question="Which of the following sound events occurs in the audio?",
        release_aliases=("desedsoundevents", "sed"),
    ),
    Task(
        name="VESUS",
        abbrev="ER",
        title="Emotion recognition",
        category=SPEAKER_INFORMATION,
        source="VESUS emotional speech",
        paper_count=185,
        labels=("angry", "fearful", "happy", "neutral", "sad"),
        f1_classes="labels",
        prompt=PromptTemplate(
            "{question}\n\n{options}\n\nPlease select the correct answer ({letters}).",
            option_format="{letter}) {text}",
        ),
        max_new_tokens=10,
        question="What emotion is expressed by the speaker in this audio?",
        release_aliases=("vesusemotion", "er"),
    ),
    Task(
        name="HAD",
        abbrev="SD",
        title="Speech (deepfake) detection",
        category=SPEAKER_INFORMATION,
        source="HAD half-truth speech",
        paper_count=776,
        n_choices=2,
        labels=("Real", "Fake"),
        f1_classes="labels",
        prompt=PromptTemplate(
            "Listen to this audio clip carefully. Is this audio completely authentic (real) or "
            "does it contain any artificially synthesized segments (fake)? If it is completely "
            "real, answer 'a'. If it contains any fake segments, answer 'b'. Answer with only "
            "'a' or 'b'."
        ),
        max_new_tokens=5,
        fixed_choices=True,
        question=(
            "Is this audio authentic or does it contain artificially synthesized (fake) segments?"
        ),
        min_duration=180.0,
        max_duration=300.0,
        release_aliases=("halftruth", "sd"),
    ),
    Task(
        name="VoxGender",
        abbrev="SGR",
        title="Speaker gender recognition",
        category=SPEAKER_INFORMATION,
        source="VoxCeleb1/2",
        paper_count=1614,
        n_choices=2,
        labels=("Male", "Female"),
        f1_classes="labels",
        prompt=PromptTemplate(
            "Listen to this audio and identify the speaker's gender. Is this a male or female "
            "voice? If it is a male, answer 'a'. If it is a female, answer 'b'. Answer with only "
            "'a' or 'b'."
        ),
        max_new_tokens=5,
        fixed_choices=True,
        question="What is the gender of the speaker?",
        release_aliases=("voxcelebgender", "gender", "sgr"),
    ),
    Task(
        name="VoxAge",
        abbrev="SAR",
        title="Speaker age recognition",
        category=SPEAKER_INFORMATION,
        source="VoxCeleb (age labels)",
        paper_count=959,
        n_choices=5,
        labels=(
            "Young Adult (18-30)",
            "Early Career (31-40)",
            "Mid Career (41-50)",
            "Senior (51-70)",
            "Elderly (71+)",
        ),
        f1_classes="labels",
        prompt=PromptTemplate(
            "{question}\n\n{options}\n\nPlease select the correct answer ({letters}).",
            option_format="{letter}) {text}",
        ),
        max_new_tokens=10,
        question="What is the age group of the speaker?",
        release_aliases=("voxcelebage", "age", "sar"),
    ),
)

ALL = "all"
TASK_NAMES: tuple[str, ...] = tuple(t.name for t in TASKS)
_BY_KEY: dict[str, Task] = {}
for _t in TASKS:
    _BY_KEY[_t.name.lower()] = _t
    _BY_KEY[_t.abbrev.lower()] = _t


class UnknownTaskError(KeyError, ValueError):
    """Raised for a name that is neither a config name nor an abbreviation."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


def _valid_names() -> str:
    return ", ".join(f"{t.name} ({t.abbrev})" for t in TASKS)


def get_task(name: str) -> Task:
    """Look a task up by config name or abbreviation, case-insensitively."""
    task = _BY_KEY.get(str(name).strip().lower())
    if task is None:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {_valid_names()}")
    return task


def resolve_tasks(spec: str | Iterable[str] | None) -> list[Task]:
    """Parse a task selection: 'all', 'TAU,GTZAN', 'ASC', or an iterable of names.

    Order follows the registry; duplicates are removed.
    """
    if spec is None:
        return list(TASKS)
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise UnknownTaskError(f"no task given; valid tasks: {_valid_names()} or 'all'")
    if any(n.lower() == ALL for n in names):
        return list(TASKS)
    chosen = {get_task(n).name for n in names}
    return [t for t in TASKS if t.name in chosen]


def normalize_folder_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def task_for_folder(folder_name: str) -> Task | None:
    """Match a release folder name ('TAU', 'asc', 'VoxCeleb-Gender', ...) to a task."""
    key = normalize_folder_name(folder_name)
    for t in TASKS:
        if key in {normalize_folder_name(t.name), normalize_folder_name(t.abbrev), *t.release_aliases}:
            return t
    return None


def tasks_in_category(category: str) -> list[Task]:
    return [t for t in TASKS if t.category == category]
