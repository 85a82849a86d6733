"""The task registry: the single source of truth for the 10 AudioMarathon tasks.

Config names, abbreviations, categories, label sets, prompts, metric kinds and generation
lengths are defined here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
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

# Reply room of the multiple-choice tasks. Models that answer in a sentence ("The most likely scene
# is Traveling by a bus - bus") are cut off at a 5-10 token cap and scored invalid; generation stops
# at the end of the turn, so the room costs only the replies that use it. 128: the 5/10-token caps cut
# off at least a third of the graded reply corpus (tests/data/replies.jsonl), whose longest reply is
# 58 pre-tokenizer pieces, so at least 58 tokens (BENCHMARKS.md, "Reply room"; benchmarks/reply_room.py).
MCQ_REPLY_TOKENS = 128


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
    # The official option text of each label, parallel to ``labels`` ("Airport - airport");
    # None when the option text is the label itself.
    option_texts: tuple[str, ...] | None = None
    # How the authors' release names this task's metadata: its file names, and the values of
    # its records' ``task_name`` / ``dataset_name`` / ``task`` fields.
    release_files: tuple[str, ...] = field(default_factory=tuple)
    release_names: tuple[str, ...] = field(default_factory=tuple)
    # Record fields that only this task's release metadata carries ("scene_label").
    release_fields: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.option_texts is not None and (self.labels is None or len(self.option_texts) != len(self.labels)):
            raise ValueError(f"{self.name}: option_texts must pair one text with each label")

    @property
    def is_mcq(self) -> bool:
        return self.metric == MCQ

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(LETTERS[: self.n_choices]) if self.is_mcq else ()

    def render_prompt(self, question: str, choices: Iterable[str] = ()) -> str:
        return self.prompt.render(question, list(choices))

    def option_text(self, label: str) -> str:
        """The official option text of ``label`` ("shopping_mall" -> "Indoor shopping mall -
        shopping_mall"); the label itself where the task has no display form."""
        if self.labels is None or label not in self.labels:
            raise ValueError(f"{label!r} is not a {self.name} label; labels: {list(self.labels or ())}")
        return self.option_texts[self.labels.index(label)] if self.option_texts else label

    @property
    def choice_texts(self) -> tuple[str, ...]:
        """Every label's official option text, in label order (empty without a label set)."""
        return tuple(self.option_text(lab) for lab in self.labels or ())

    @cached_property
    def _label_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for label, text in zip(self.labels or (), self.choice_texts):
            display = text.rpartition(" - ")[0] if " - " in text else text
            for form in (label, text, display):
                keys.setdefault(_option_key(form), label)
        return keys

    def option_label(self, text: str) -> str | None:
        """The label an option text stands for, whichever form it takes: the official
        "Display - label" text, the bare label, or the display part alone, compared case- and
        whitespace-insensitively; in any other "Display - label" wording the label after the
        last " - " decides. None for a text naming no label, and for tasks without a label set
        (RACE, SLUE, LibriSpeech). For tasks with ``f1_classes == "labels"`` this label is
        the option's F1 class, so "Urban park - park" and "park" score as one class."""
        if not self.labels or not isinstance(text, str):
            return None
        found = self._label_keys.get(_option_key(text))
        if found is None and " - " in text:  # another display wording of a known label
            found = self._label_keys.get(_option_key(text.rpartition(" - ")[2]))
            found = found if found is not None and _option_key(found) == _option_key(text.rpartition(" - ")[2]) else None
        return found


def _option_key(text: str) -> str:
    return " ".join(text.split()).casefold()


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
        max_new_tokens=MCQ_REPLY_TOKENS,
        release_aliases=("raceaudio", "scr"),
        release_files=("race_benchmark.json",),
        release_fields=("article_id",),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        question="Which named entity is mentioned in the audio?",
        release_aliases=("sluevoxpopuli", "ser"),
        release_files=("merged_audio_data.json",),
        release_fields=("entity_types", "entity_count"),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        question="What type of acoustic scene is represented in this audio segment?",
        option_texts=(
            "Airport - airport",
            "Traveling by a bus - bus",
            "Traveling by an underground metro - metro",
            "Metro station - metro_station",
            "Urban park - park",
            "Public square - public_square",
            "Indoor shopping mall - shopping_mall",
            "Pedestrian street - street_pedestrian",
            "Street with medium level of traffic - street_traffic",
            "Traveling by a tram - tram",
        ),
        min_duration=90.0,
        max_duration=210.0,
        release_aliases=("tauurbanacousticscenes2020mobile", "tau2020", "asc"),
        release_files=("acoustic_scene_task_meta.json",),
        release_names=("Acoustic_Scene_Classification", "TAU_Urban_Acoustic_Scenes"),
        release_fields=("scene_label",),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        question="What music genre is represented in this audio segment?",
        option_texts=(
            "Blues - blues",
            "Classical - classical",
            "Country - country",
            "Disco - disco",
            "Hip-hop - hiphop",
            "Jazz - jazz",
            "Metal - metal",
            "Pop - pop",
            "Reggae - reggae",
            "Rock - rock",
        ),
        release_aliases=("gtzangenres", "mc"),
        release_files=("music_genre_classification_meta.json",),
        release_names=("Music_Genre_Classification", "GTZAN_Music_Genre"),
        release_fields=("genre_label",),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        question="Which of the following sound events occurs in the audio?",
        release_aliases=("desedsoundevents", "sed"),
        release_files=("desed_sound_event_detection_task.json",),
        release_fields=("all_events", "primary_event"),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        # the authors' evaluation scripts' question for a VESUS record that carries none
        question="What emotion is expressed in this audio segment?",
        release_aliases=("vesusemotion", "er"),
        release_files=("audio_emotion_dataset.json",),
        release_fields=("emotion_label",),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        fixed_choices=True,
        question=(
            "Is this audio authentic or does it contain artificially synthesized (fake) segments?"
        ),
        min_duration=180.0,
        max_duration=300.0,
        release_aliases=("halftruth", "sd"),
        release_files=("had_audio_classification_task.json",),
        release_names=("Audio_Authenticity_Classification", "HAD_Half_Truth_Audio_Detection"),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        fixed_choices=True,
        question="What is the gender of the speaker in this audio segment?",
        release_aliases=("voxcelebgender", "gender", "sgr"),
        release_files=("gender_id_task_meta.json",),
        release_names=(
            "Speaker_Gender_Identification_From_Concatenated_Audio", "VoxCeleb2_Concatenated", "VoxCeleb_Combined",
        ),
        release_fields=("speaker_gender",),
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
        max_new_tokens=MCQ_REPLY_TOKENS,
        # the public code publishes no VoxAge question; a release's own question is kept on import
        question="What is the age group of the speaker?",
        release_aliases=("voxcelebage", "age", "sar"),
        release_files=("age_classification_task_meta.json",),
        release_names=("Speaker_Age_Classification",),
        release_fields=("speaker_age",),
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
