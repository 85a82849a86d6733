"""The task registry: the single source of truth for every benchmark's tasks.

AudioMarathon's ten tasks (``TASKS``; ``"all"`` selects them), MMAR's one task and AIR-Bench
Foundation's 19, and the benchmarks that group them (``BENCHMARKS``; the benchmark-level API is
``audiomarathon.benchmarks``). Config names, abbreviations, categories, label sets, prompts,
metric kinds and generation lengths are defined here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from functools import cached_property
from typing import Iterable, Mapping

from .prompts import LETTERS, PromptTemplate

SPEECH_CONTENT = "Speech content extraction"
AUDIO_CLASSIFICATION = "Audio classification"
SPEAKER_INFORMATION = "Speaker information"
CATEGORIES = (SPEECH_CONTENT, AUDIO_CLASSIFICATION, SPEAKER_INFORMATION)

# Metric kinds: "mcq" scores letters; "wer" scores transcripts.
MCQ = "mcq"
WER = "wer"
# "open": free-form replies, scored by an LLM judge against a reference answer (AIR-Bench Chat).
OPEN = "open"

SAMPLING_RATE = 16_000

AUDIOMARATHON = "AudioMarathon"  # the benchmark of TASKS (Benchmark.name)

_MCQ_TAIL = "Respond with only the letter of the correct option ({letters})."

# Reply room of the multiple-choice tasks. Models that answer in a sentence ("The most likely scene
# is Traveling by a bus - bus") are cut off at a 5-10 token cap and scored invalid; generation stops
# at the end of the turn, so the room costs only the replies that use it. 128: the 5/10-token caps cut
# off at least a third of the graded reply corpus (tests/data/replies.jsonl), whose longest reply is
# 58 pre-tokenizer pieces, so at least 58 tokens (BENCHMARKS.md, "Reply room"; benchmarks/reply_room.py).
MCQ_REPLY_TOKENS = 128


@dataclass(frozen=True)
class Task:
    """One task of a benchmark (= one dataset config)."""

    name: str  # config name, e.g. "TAU"; a Foundation task's release ``task_name``, typos kept
    abbrev: str  # paper abbreviation, e.g. "ASC"; "" where the benchmark publishes none
    title: str
    category: str
    source: str  # source corpus
    paper_count: int | None  # instances in the paper; None where the paper gives no count per task
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
    # Clip length range an instance must have, in seconds; None: no check (MMAR's and AIR-Bench's
    # clips are 1-60 s; the 90-300 s range is AudioMarathon's).
    min_duration: float | None = 90.0
    max_duration: float | None = 300.0
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
    # The Benchmark.name this task belongs to.
    benchmark: str = AUDIOMARATHON
    # True: each instance brings its own options (MMAR 2-6, Foundation 2-4) and ``n_choices`` is
    # the most an instance may have.
    variable_choices: bool = False
    # False: options are shown unlettered and a reply names an option by its text (MMAR).
    lettered: bool = True
    # The release's ``dataset_name`` values of this task (AIR-Bench Foundation: one audio folder
    # ``<task_name>_<dataset_name>`` each).
    dataset_names: tuple[str, ...] = field(default_factory=tuple)
    # The benchmark authors' own rendering where it differs from ``prompt`` (AIR-Bench's script
    # pads every question to four options with "None"); the runner's ``authors`` profile uses it.
    authors_prompt: PromptTemplate | None = None

    def __post_init__(self) -> None:
        if self.option_texts is not None and (self.labels is None or len(self.option_texts) != len(self.labels)):
            raise ValueError(f"{self.name}: option_texts must pair one text with each label")

    @property
    def is_mcq(self) -> bool:
        return self.metric == MCQ

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(LETTERS[: self.n_choices]) if self.is_mcq else ()

    def render_prompt(self, question: str, choices: Iterable[str] = (), authors: bool = False) -> str:
        """The prompt for ``question`` and its options; ``authors``: the benchmark authors' own
        rendering where the task has one (``authors_prompt``), else the same as without."""
        template = self.authors_prompt if authors and self.authors_prompt is not None else self.prompt
        return template.render(question, list(choices))

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

# MMAR (Ma et al., 2025): one task of 1,000 items, 2-6 option texts each, shown unlettered; the
# prompt is the one the authors give in their issue tracker: the question, a line asking for one of
# the options, and the option texts one per line.
MMAR_BENCHMARK = "MMAR"
MMAR_TASK = Task(
    name="MMAR",
    abbrev="",
    title="Deep reasoning over speech, sound, music and their mix",
    category="MMAR",
    source="MMAR: human-curated clips (mostly YouTube)",
    paper_count=1000,
    prompt=PromptTemplate(
        "{question}\nSelect one option from the provided choices:\n{options}", option_format="{text}"
    ),
    max_new_tokens=MCQ_REPLY_TOKENS,
    n_choices=6,
    variable_choices=True,
    lettered=False,
    min_duration=None,
    max_duration=None,
    release_files=("MMAR-meta.json", "MMAR-meta.jsonl"),
    benchmark=MMAR_BENCHMARK,
)
MMAR_TASKS: tuple[Task, ...] = (MMAR_TASK,)

# AIR-Bench Foundation (Yang et al., 2024): single-choice questions of 2-4 options. The prompt is the
# authors' Inference_Foundation.py text, naming the letters that exist ("A or B" for two options).
# Their script prints every question with four options, "C. None" / "D. None" where there are
# fewer: that is the authors' rendering, used by the runner's ``authors`` profile only.
AIRBENCH_FOUNDATION = "AIR-Bench Foundation"
FOUNDATION_PROMPT = PromptTemplate(
    "Choose the most suitable answer from options {letters_and} to respond the question in next line, "
    "you may only choose {letters_or}.\n{question}\n{options}"
)
FOUNDATION_AUTHORS_PROMPT = replace(FOUNDATION_PROMPT, pad_to=4)


def _foundation(name: str, title: str, category: str, *dataset_names: str) -> Task:
    return Task(
        name=name, abbrev="", title=title, category=category,
        source="AIR-Bench Foundation: " + ", ".join(dataset_names),
        paper_count=None, prompt=FOUNDATION_PROMPT, authors_prompt=FOUNDATION_AUTHORS_PROMPT,
        max_new_tokens=MCQ_REPLY_TOKENS, n_choices=4, variable_choices=True,
        min_duration=None, max_duration=None, benchmark=AIRBENCH_FOUNDATION, dataset_names=dataset_names,
    )


# The 19 tasks as the release's Foundation_meta.json spells ``task_name`` (typos kept: a config
# name must match the release), each with its ``dataset_name`` values: the 25 audio folders
# ``<task_name>_<dataset_name>`` of the Hub dataset qyang1021/AIR-Bench-Dataset. Order and titles
# follow the AIR-Bench README's Foundation leaderboard table; the speech / sound / music grouping
# is its rows 1-9 / 10-13 / 14-19, the grouping under which the README's per-category figures
# (Qwen-Audio-Turbo: speech 63.4, sound 61.0, music 48.9) are the means of its per-task rows.
SPEECH, SOUND, MUSIC = "speech", "sound", "music"
FOUNDATION_CATEGORIES = (SPEECH, SOUND, MUSIC)
FOUNDATION_TASKS: tuple[Task, ...] = (
    _foundation("Speech_Grounding", "Speech grounding", SPEECH, "librispeech"),
    _foundation("Spoken_Language_Identification", "Spoken language identification", SPEECH, "covost2"),
    _foundation("Speaker_Gender_Recognition", "Speaker gender recognition", SPEECH, "common_voice_13_en", "meld"),
    _foundation("Speaker_Emotion_Recontion", "Emotion recognition", SPEECH, "iemocap", "meld"),
    _foundation("Speaker_Age_Prediction", "Speaker age prediction", SPEECH, "common_voice_13.0_en"),
    _foundation("Speech_Entity_Reconition", "Speech entity recognition", SPEECH, "slurp"),
    _foundation("Speaker_Intent_Classification", "Intent classification", SPEECH, "slurp"),
    _foundation("Speaker_Number_Verification", "Speaker number verification", SPEECH, "voxceleb1"),
    _foundation("Synthesized_Voice_Detection", "Synthesized voice detection", SPEECH, "fake_or_real"),
    _foundation("Audio_Grounding", "Audio grounding", SOUND, "AudioGrounding"),
    _foundation("vocal_sound_classification", "Vocal sound classification", SOUND, "VocalSound"),
    _foundation("Acoustic_Scene_Classification", "Acoustic scene classification", SOUND, "CochlScene", "TUT2017"),
    _foundation("Sound_AQA", "Sound question answering", SOUND, "avqa", "clothoaqa"),
    _foundation("Music_Instruments_Classfication", "Music instruments classification", MUSIC, "nsynth", "MTJ-Jamendo"),
    _foundation("Music_Genre_Recognition", "Music genre classification", MUSIC, "fma", "MTJ-Jamendo"),
    _foundation("Music_Midi_Pitch_Analysis", "Music note analysis-pitch", MUSIC, "nsynth"),
    _foundation("Music_Midi_Velocity_Analysis", "Music note analysis-velocity", MUSIC, "nsynth"),
    _foundation("Music_AQA", "Music question answering", MUSIC, "music_avqa"),
    _foundation("Music_Mood_Recognition", "Music emotion detection", MUSIC, "MTJ-Jamendo"),
)


# AIR-Bench Chat (Yang et al., 2024): open questions about speech, sound, music and mixed audio,
# each reply scored by an LLM judge against the release's reference answer (``audiomarathon judge``).
# Task names are the release's ``task_name`` values; the category is the leaderboard column the
# task counts in (cal_score.py's grouping; "mixed" is the mean of its two tasks). The prompt is the
# question alone, as Inference_Chat.py sends it; that script sets no reply cap, this one is ours.
AIRBENCH_CHAT = "AIR-Bench Chat"
MIXED = "mixed"
CHAT_CATEGORIES = (SPEECH, SOUND, MUSIC, MIXED)
CHAT_PROMPT = PromptTemplate("{question}")
CHAT_REPLY_TOKENS = 512


def _chat(name: str, title: str, category: str) -> Task:
    return Task(
        name=name, abbrev="", title=title, category=category, source="AIR-Bench Chat", paper_count=None,
        prompt=CHAT_PROMPT, max_new_tokens=CHAT_REPLY_TOKENS, metric=OPEN, n_choices=0,
        min_duration=None, max_duration=None, benchmark=AIRBENCH_CHAT,
    )


CHAT_TASKS: tuple[Task, ...] = (
    _chat("speech_QA", "Speech question answering", SPEECH),
    _chat("speech_dialogue_QA", "Spoken dialogue question answering", SPEECH),
    _chat("sound_QA", "Sound question answering", SOUND),
    _chat("sound_generation_QA", "Sound generation question answering", SOUND),
    _chat("music_QA", "Music question answering", MUSIC),
    _chat("music_generation_analysis_QA", "Music generation analysis", MUSIC),
    _chat("speech_and_sound_QA", "Speech and sound question answering", MIXED),
    _chat("speech_and_music_QA", "Speech and music question answering", MIXED),
)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its tasks, the dataset configs that group them, and how it is scored.

    ``key`` is its lowercase id on the command line, in results and in the Space; ``groups`` maps a
    dataset config holding several tasks to their names (AudioMarathon's "all", Foundation's
    "foundation"); ``aggregation`` names its aggregation in the metric package; ``breakdowns`` are
    the ``meta`` keys its scores are also reported by.
    """

    name: str
    key: str
    tasks: tuple[Task, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    aggregation: str = ""
    breakdowns: tuple[str, ...] = ()
    citation: str = ""
    homepage: str = ""
    paper_url: str = ""

    def __post_init__(self) -> None:
        names = {t.name for t in self.tasks}
        for group, members in self.groups.items():
            if not set(members) <= names:
                raise ValueError(f"{self.name}: group {group!r} names tasks it does not have: "
                                 f"{sorted(set(members) - names)}")
        if any(t.benchmark != self.name for t in self.tasks):
            raise ValueError(f"{self.name}: every task must name this benchmark in Task.benchmark")
        object.__setattr__(self, "groups", MappingProxyType({k: tuple(v) for k, v in self.groups.items()}))

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks)


ALL = "all"
FOUNDATION = "foundation"  # the config of every AIR-Bench Foundation item
CHAT = "chat"  # the config of every AIR-Bench Chat item
_AIRBENCH_CITATION = """@article{yang2024air,
  title   = {AIR-Bench: Benchmarking Large Audio-Language Models via Generative Comprehension},
  author  = {Yang, Qian and Xu, Jin and Liu, Wenrui and Chu, Yunfei and Jiang, Ziyue and Zhou, Xiaohuan and Leng, Yichong and Lv, Yuanjun and Zhao, Zhou and Zhou, Chang and others},
  journal = {arXiv preprint arXiv:2402.07729},
  year    = {2024}
}"""

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            name=AUDIOMARATHON,
            key="audiomarathon",
            tasks=TASKS,
            groups={ALL: tuple(t.name for t in TASKS)},
            aggregation="audiomarathon",
            breakdowns=(),
            citation="""@article{he2025audiomarathon,
  title   = {AudioMarathon: A Comprehensive Benchmark for Long-Context Audio Understanding and Efficiency in Audio LLMs},
  author  = {He, Peize and Wen, Zichen and Wang, Yubo and Wang, Yuxuan and Liu, Xiaoqian and Huang, Jiajie and Lei, Zehui and Gu, Zhuangcheng and Jin, Xiangqi and Yang, Jiabing and Li, Kai and Liu, Zhifei and Li, Weijia and Wang, Cunxiang and He, Conghui and Zhang, Linfeng},
  journal = {arXiv preprint arXiv:2510.07293},
  year    = {2025}
}""",
            homepage="https://github.com/DabDans/AudioMarathon",
            paper_url="https://arxiv.org/abs/2510.07293",
        ),
        Benchmark(
            name=MMAR_BENCHMARK,
            key="mmar",
            tasks=MMAR_TASKS,
            groups={},
            aggregation="mmar",
            breakdowns=("modality", "category", "sub-category"),
            citation="""@article{ma2025mmar,
  title   = {MMAR: A Challenging Benchmark for Deep Reasoning in Speech, Audio, Music, and Their Mix},
  author  = {Ma, Ziyang and Ma, Yinghao and Zhu, Yanqiao and Yang, Chen and Chao, Yi-Wen and Xu, Ruiyang and others},
  journal = {arXiv preprint arXiv:2505.13032},
  year    = {2025}
}""",
            homepage="https://github.com/ddlBoJack/MMAR",
            paper_url="https://arxiv.org/abs/2505.13032",
        ),
        Benchmark(
            name=AIRBENCH_FOUNDATION,
            key="airbench-foundation",
            tasks=FOUNDATION_TASKS,
            groups={FOUNDATION: tuple(t.name for t in FOUNDATION_TASKS)},
            aggregation="airbench-foundation",
            breakdowns=("task_name", "dataset_name"),
            citation="""@article{yang2024air,
  title   = {AIR-Bench: Benchmarking Large Audio-Language Models via Generative Comprehension},
  author  = {Yang, Qian and Xu, Jin and Liu, Wenrui and Chu, Yunfei and Jiang, Ziyue and Zhou, Xiaohuan and Leng, Yichong and Lv, Yuanjun and Zhao, Zhou and Zhou, Chang and others},
  journal = {arXiv preprint arXiv:2402.07729},
  year    = {2024}
}""",
            homepage="https://github.com/OFA-Sys/AIR-Bench",
            paper_url="https://arxiv.org/abs/2402.07729",
        ),
        Benchmark(
            name=AIRBENCH_CHAT,
            key="airbench-chat",
            tasks=CHAT_TASKS,
            groups={CHAT: tuple(t.name for t in CHAT_TASKS)},
            aggregation="airbench-chat",
            breakdowns=("task_name", "dataset_name"),
            citation=_AIRBENCH_CITATION,
            homepage="https://github.com/OFA-Sys/AIR-Bench",
            paper_url="https://arxiv.org/abs/2402.07729",
        ),
    )
}

TASK_NAMES: tuple[str, ...] = tuple(t.name for t in TASKS)
# Every benchmark's tasks, in registry order (benchmarks in BENCHMARKS order).
ALL_TASKS: tuple[Task, ...] = tuple(t for b in BENCHMARKS.values() for t in b.tasks)
_BY_KEY: dict[str, Task] = {}
for _t in ALL_TASKS:
    for _key in (_t.name, _t.abbrev):
        if _key:
            if _BY_KEY.setdefault(_key.lower(), _t) is not _t:
                raise ValueError(f"task name {_key!r} is used twice in the registry")
# Selections naming several tasks: a benchmark's key and its groups ("all" = AudioMarathon's ten).
_SELECTIONS: dict[str, tuple[Task, ...]] = {}
for _b in BENCHMARKS.values():
    _SELECTIONS[_b.key] = _b.tasks
    for _group, _members in _b.groups.items():
        _SELECTIONS[_group.lower()] = tuple(t for t in _b.tasks if t.name in _members)


class UnknownTaskError(KeyError, ValueError):
    """Raised for a name that is neither a config name nor an abbreviation."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


def _valid_names() -> str:
    return "; ".join(
        f"{b.name}: " + ", ".join(f"{t.name} ({t.abbrev})" if t.abbrev else t.name for t in b.tasks)
        for b in BENCHMARKS.values()
    )


def get_task(name: str) -> Task:
    """Look any benchmark's task up by config name or abbreviation, case-insensitively."""
    task = _BY_KEY.get(str(name).strip().lower())
    if task is None:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {_valid_names()}")
    return task


def resolve_tasks(spec: str | Iterable[str] | None) -> list[Task]:
    """Parse a task selection: 'all' (AudioMarathon's ten), 'TAU,GTZAN', 'ASC', a benchmark's
    key ('mmar', 'airbench-foundation') or group ('foundation'), or an iterable of these.

    Order follows the registry; duplicates are removed.
    """
    if spec is None:
        return list(TASKS)
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise UnknownTaskError(
            f"no task given; valid tasks: {_valid_names()}; or one of: {', '.join(_SELECTIONS)}")
    chosen: set[str] = set()
    for n in names:
        group = _SELECTIONS.get(n.lower())
        if group is not None:
            chosen.update(t.name for t in group)
        else:
            try:
                chosen.add(get_task(n).name)
            except UnknownTaskError:
                raise UnknownTaskError(f"unknown task {n!r}; valid tasks: {_valid_names()}; "
                                       f"or one of: {', '.join(_SELECTIONS)}") from None
    return [t for t in ALL_TASKS if t.name in chosen]


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
    return [t for t in ALL_TASKS if t.category == category]
