"""Run profiles: how each model family is asked each task.

A profile fixes, per family and task, the system turn, the words of the prompt, the reply room
(max new tokens), the audio preparation and the default KV-press scope. Two are registered:

``card`` (the default)
    Every family as its model card documents it: the card's system prompt (the adapter registry's
    ``system_prompt``, none where the card sends none), the benchmark's prompt from the task
    registry, the registry's reply room, the clip as the dataset stores it, and the model's own
    transcription mode for speech recognition where it has one (Voxtral).
``authors``
    The benchmark authors' baseline scripts (github.com/DabDans/AudioMarathon: the Qwen2.5-Omni,
    Phi-4-multimodal, Voxtral and Aero-1 evaluation scripts), family by family: their system prompts,
    their instruction prefixes, their option layouts where a family's script words them
    differently, their reply caps, their peak normalisation, and KV presses over every prompt
    position. Families they wrote no script for get their Qwen2.5-Omni procedure.

Benchmarks whose authors wrote one procedure for every model (MMAR, AIR-Bench Foundation) have it
in ``Profile.every_family``: under ``authors``, AIR-Bench Foundation's padded four-option prompt
(the task registry's ``authors_prompt``); their reply room is the registry's in both profiles.

Profiles are data: a ``Profile`` holds one ``Procedure`` per (family, task); nothing here branches
on a family or a task name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from audiomarathon.prompts import LETTERS, letters_phrase
from audiomarathon.benchmarks import all_tasks
from audiomarathon.tasks import WER, Task

from .adapters import ADAPTERS, AeroAdapter, Phi4MultimodalAdapter, Qwen2_5OmniThinkerAdapter, VoxtralAdapter

if TYPE_CHECKING:
    import numpy as np

# A Procedure's ``system`` set to CARD sends the family's own model-card system prompt.
CARD = "\x00card\x00"
DEFAULT_PROFILE = "card"


@dataclass(frozen=True)
class PromptForm:
    """A prompt layout other than the task registry's, for a family whose script words it differently.

    ``template`` may use ``{task_prompt}`` (the registry's prompt for the item), ``{question}``,
    ``{options}`` (each option by ``option_format``, joined by ``option_separator``), ``{letters}``
    ("A, B, C, or D") and ``{letters_lower}``. ``option_format`` may use ``{letter}``, ``{lower}``
    (the letter in lower case), ``{text}`` and ``{text_lower}``. ``fixed_options``: the options are
    the task's labels in registry order (a prompt that names them itself), not the item's choices."""

    template: str
    option_format: str = "{letter}. {text}"
    option_separator: str = "\n"
    fixed_options: bool = False

    def render(self, task: Task, question: str, choices: Sequence[str]) -> str:
        options = list(task.labels or ()) if self.fixed_options else list(choices)
        block = self.option_separator.join(
            self.option_format.format(letter=LETTERS[i], lower=LETTERS[i].lower(), text=text, text_lower=text.lower())
            for i, text in enumerate(options))
        phrase = letters_phrase(len(options))
        return self.template.format(task_prompt=task.render_prompt(question, choices), question=question,
                                    options=block, letters=phrase, letters_lower=phrase.lower())


@dataclass(frozen=True)
class Procedure:
    """How one family is asked one task.

    ``system``: the system turn (None: none; CARD: the family's model-card prompt). ``instruction``:
    a paragraph put before the prompt, a blank line between. ``form``: the prompt's layout (None:
    the task registry's). ``max_new_tokens``: the reply cap (None: the registry's).
    ``peak_normalize``: the clip is scaled to a peak of 1 before the model hears it. ``transcribe``:
    the language given to the family's own transcription mode, for speech recognition, where the
    family has one (otherwise the chat prompt is used). ``authors_prompt``: the task registry's
    rendering by the benchmark's authors (``Task.authors_prompt``: AIR-Bench's "C. None" / "D. None"
    padding) instead of its prompt. ``source``: where the procedure comes from."""

    system: str | None = CARD
    instruction: str | None = None
    form: PromptForm | None = None
    max_new_tokens: int | None = None
    peak_normalize: bool = False
    transcribe: str | None = None
    authors_prompt: bool = False
    source: str = ""

    def user_text(self, task: Task, question: str, choices: Sequence[str]) -> str:
        body = (self.form.render(task, question, choices) if self.form
                else task.render_prompt(question, choices, authors=self.authors_prompt))
        return f"{self.instruction}\n\n{body}" if self.instruction else body


@dataclass(frozen=True)
class Family:
    """What a profile needs to know of a model family (the adapter registry's facts)."""

    name: str | None  # None: a model behind an API whose family is not known
    system_prompt: str | None = None
    has_transcription_mode: bool = False


def family_named(name: str | None) -> Family:
    """The family of that registry name (``audiomarathon models``); ``Family(None)`` for None."""
    if name is None:
        return Family(None)
    for cls in ADAPTERS.values():
        if cls.family == name:
            return Family(cls.family, cls.system_prompt, cls.has_transcription_mode)
    raise ValueError(f"unknown model family {name!r}; families: {', '.join(family_names())}")


def family_names() -> list[str]:
    return list(dict.fromkeys(cls.family for cls in ADAPTERS.values()))


@dataclass(frozen=True)
class Request:
    """What one sample sends: the system turn, the user text, the reply cap, the audio preparation
    and, for a transcription-mode request, its language."""

    system: str | None
    text: str
    max_new_tokens: int
    peak_normalize: bool
    transcribe: str | None


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    press_scope: str  # the KV presses' scope when --press-scope is not given
    default: Mapping[str, Procedure]  # task name -> procedure, for families without a table
    default_owner: str  # whose procedure ``default`` is ("model card", a family name)
    families: Mapping[str, Mapping[str, Procedure]] = field(default_factory=dict)
    # task name -> the procedure every family follows (a benchmark whose authors wrote one for all)
    every_family: Mapping[str, Procedure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for family, table in {"(default)": self.default, **self.families}.items():
            missing = [t.name for t in all_tasks() if t.name not in table and t.name not in self.every_family]
            if missing:
                raise ValueError(f"profile {self.name!r}, family {family}: no procedure for {', '.join(missing)}")

    def procedure(self, family: Family, task: Task) -> Procedure:
        table = self.families.get(family.name, self.default)
        return table[task.name] if task.name in table else self.every_family[task.name]

    def follows(self, family: Family) -> str:
        """Whose procedure ``family`` runs under (results.json and ``audiomarathon models``)."""
        return family.name if family.name in self.families else self.default_owner

    def system(self, family: Family, task: Task) -> str | None:
        proc = self.procedure(family, task)
        return family.system_prompt if proc.system == CARD else proc.system

    def transcription(self, family: Family, task: Task) -> str | None:
        """The transcription-mode language for ``task``, where the family has such a mode (ASR only)."""
        proc = self.procedure(family, task)
        return proc.transcribe if (task.metric == WER and family.has_transcription_mode) else None

    def max_new_tokens(self, family: Family, task: Task, cap: int | None = None) -> int:
        limit = self.procedure(family, task).max_new_tokens or task.max_new_tokens
        return min(limit, cap) if cap else limit

    def request(self, family: Family, task: Task, question: str, choices: Sequence[str],
                cap: int | None = None) -> Request:
        """The request of one item; ``cap`` (``--max-new-tokens``) lowers the reply cap."""
        proc = self.procedure(family, task)
        return Request(system=self.system(family, task), text=proc.user_text(task, question, choices),
                       max_new_tokens=self.max_new_tokens(family, task, cap), peak_normalize=proc.peak_normalize,
                       transcribe=self.transcription(family, task))

    def describe(self, family: Family, tasks: Sequence[Task], cap: int | None = None) -> dict:
        """How ``family`` is asked each of ``tasks`` (results.json's ``config.procedure``)."""
        out = {}
        for task in tasks:
            proc = self.procedure(family, task)
            out[task.name] = {"system": self.system(family, task), "instruction": proc.instruction,
                              "prompt_form": proc.form.template if proc.form else None,
                              "max_new_tokens": self.max_new_tokens(family, task, cap),
                              "peak_normalize": proc.peak_normalize, "transcription": self.transcription(family, task),
                              "authors_prompt": proc.authors_prompt, "source": proc.source}
        return {"profile": self.name, "follows": self.follows(family), "tasks": out}


def peak_normalize(audio: np.ndarray) -> np.ndarray:
    """The clip divided by its largest absolute sample (unchanged when silent), as float32."""
    import numpy as np

    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio / peak).astype(np.float32) if peak > 0 else audio


# ------------------------------------------------------------------ card
CARD_PROFILE = Profile(
    name="card",
    summary="each family as its model card runs it: the card's system prompt, the benchmark's prompts, replies "
            "with room, the model's transcription mode for ASR where it has one; presses evict audio only",
    press_scope="audio",
    default={t.name: Procedure(transcribe="en" if t.metric == WER else None, source="model card")
             for t in all_tasks()},
    default_owner="model card",
)


# ------------------------------------------------------------------ authors
# The authors' baseline scripts (their Others/ folders, and Voxtral's eval_*.py). Where their code is
# inconsistent, the baseline script decides: DART and kvpress scripts word some prompts differently
# and cap replies at 3/5/10/20/64 tokens across folders.
QWEN_INTRO = Qwen2_5OmniThinkerAdapter.system_prompt
_QWEN = "src/Qwen_2.5_Omni/Others/{}_qwen2.5.py"
_PHI4 = "src/Phi4MM/Others/{}_test.py"
_VOXTRAL = "src/Voxtral/eval_{}.py"


def _qwen(task: str, script: str, instruction: str | None = None, system: str | None = QWEN_INTRO,
          max_new_tokens: int = 5, **kw) -> tuple[str, Procedure]:
    return task, Procedure(system=system, instruction=instruction, max_new_tokens=max_new_tokens,
                           source=_QWEN.format(script), **kw)


QWEN_AUTHORS: dict[str, Procedure] = dict([
    _qwen("LibriSpeech", "LibriSpeech", max_new_tokens=1100,
          instruction="You are a helpful assistant that transcribes speech audio. Please listen carefully and provide "
                      "the exact transcription of what is spoken in the audio."),
    _qwen("RACE", "race",
          instruction="You are a helpful assistant that analyzes reading comprehension passages with audio narration. "
                      "Please listen to the passage and answer the multiple-choice question based on what you heard."),
    _qwen("SLUE", "SLUE",
          instruction="You are a helpful assistant that analyzes speech audio for named entity recognition. Please "
                      "listen carefully and extract the requested named entities from the speech."),
    _qwen("TAU", "TAU",
          instruction="You are a helpful assistant that analyzes urban soundscape audio to identify acoustic scenes. "
                      "Please listen to the audio carefully and classify the scene type."),
    _qwen("GTZAN", "GTZAN", system=f"{QWEN_INTRO} You are a helpful audio analysis assistant."),
    _qwen("DESED", "DESED",
          system="You are a helpful assistant that analyzes audio to detect and classify sound events. Please listen "
                 "carefully and select the most appropriate answer from the given choices."),
    _qwen("VESUS", "VESUS", max_new_tokens=10,
          instruction="You are a helpful assistant that analyzes speech audio to recognize emotions. Please listen to "
                      "the voice carefully and identify the emotional state of the speaker."),
    _qwen("HAD", "HAD", system="You are a helpful assistant that analyzes audio to determine authenticity."),
    # Vox_qwen2.5.py hands the model the peak-normalised array; Vox_age_qwen2.5.py normalises one
    # too but hands the model the file path, so the age task hears the clip as stored.
    _qwen("VoxGender", "Vox", peak_normalize=True,
          instruction="You are a helpful assistant that analyzes speech audio to classify speaker gender. Please "
                      "listen to the voice carefully and determine the speaker's gender."),
    _qwen("VoxAge", "Vox_age",
          instruction="You are a helpful assistant that analyzes speech audio to estimate speaker age. Please listen "
                      "to the voice carefully and classify the speaker's age group."),
])


def _phi4(task: str, script: str, max_new_tokens: int = 10, **kw) -> tuple[str, Procedure]:
    return task, Procedure(system=None, max_new_tokens=max_new_tokens, source=script if "/" in script
                           else _PHI4.format(script), **kw)


# No system turn; <|user|><|audio_1|>{prompt}<|end|><|assistant|>, which the checkpoint's chat
# template renders with its own audio token.
PHI4_AUTHORS: dict[str, Procedure] = dict([
    # Others/ has no ASR script: the kvpress folder's is the only one (the registry's prompt, 1,100 tokens).
    _phi4("LibriSpeech", "src/Phi4MM/phi4_kvpress/LibriSpeech_kvpress.py", max_new_tokens=1100),
    _phi4("RACE", "race"),
    # SLUE_test.py and DESED_test.py build their prompt from an undefined name (every sample fails):
    # the registry's prompt, which their kvpress and DART scripts define, with the baseline's cap and
    # peak normalisation.
    _phi4("SLUE", "SLUE", peak_normalize=True),
    _phi4("TAU", "TAU", peak_normalize=True),
    _phi4("GTZAN", "gtzan", max_new_tokens=3),
    _phi4("DESED", "DESED", peak_normalize=True),
    # VESUS_test.py writes "<|user|>\n<audio>\n{question}\nA. ...\n<|assistant|>\n": no answer
    # instruction, and a literal <audio> the processor does not read as the audio slot. Their words,
    # with the audio in the model's own slot and turn format.
    _phi4("VESUS", "VESUS", form=PromptForm("{question}\n{options}")),
    _phi4("HAD", "HAD", max_new_tokens=5, peak_normalize=True),
    _phi4("VoxGender", "Vox", peak_normalize=True),
    # The age groups named in a fixed order in the prompt (not the item's choices).
    _phi4("VoxAge", "Vox_age", peak_normalize=True, form=PromptForm(
        "Listen to this audio and identify the speaker's age group. Choose the most appropriate option: {options}. "
        "Answer with only the letter ({letters_lower}).",
        option_format="({lower}) {text}", option_separator=", ", fixed_options=True)),
])


def _voxtral(task: str, script: str, max_new_tokens: int = 200, **kw) -> tuple[str, Procedure]:
    return task, Procedure(system=None, max_new_tokens=max_new_tokens, source=_VOXTRAL.format(script), **kw)


_VOXTRAL_ANSWER = "Please listen to the audio and select the correct answer. Reply with only the letter"
# No system turn; replies up to 200 tokens.
VOXTRAL_AUTHORS: dict[str, Procedure] = dict([
    _voxtral("LibriSpeech", "LibriSpeech", max_new_tokens=1000, transcribe="en"),
    _voxtral("RACE", "RACE"),
    _voxtral("SLUE", "SLUE"),
    _voxtral("TAU", "TAU"),
    _voxtral("GTZAN", "GTZAN", form=PromptForm(
        "{question}\n\n{options}\n\nPlease listen to the audio and identify the music genre. Reply with only the "
        "letter ({letters}).")),
    _voxtral("DESED", "DESED"),
    _voxtral("VESUS", "VESUS", form=PromptForm(f"{{question}}\n\n{{options}}\n\n{_VOXTRAL_ANSWER} ({{letters}}).")),
    _voxtral("HAD", "HAD", form=PromptForm(f"{{task_prompt}}\n\n{{options}}\n\n{_VOXTRAL_ANSWER} ({{letters_lower}}).",
                                           option_format="{lower}. {text_lower}", fixed_options=True)),
    # eval_Vox.py is a copy of eval_DESED.py (it evaluates DESED): no Voxtral gender script. The
    # gender prompt every other family's script uses, with Voxtral's cap.
    _voxtral("VoxGender", "Vox"),
    _voxtral("VoxAge", "Vox_Age", form=PromptForm(
        f"{{question}}\n\n{{options}}\n\n{_VOXTRAL_ANSWER} ({{letters_lower}}).", option_format="{lower}. {text}")),
])

# The benchmarks whose authors wrote one procedure for every model: where it comes from, by
# Task.benchmark. AIR-Bench's Inference_Foundation.py prints four options to every question ("C. None",
# "D. None" where there are two); MMAR's prompt is the registry's own (the authors' issue tracker).
# Neither script fixes a system turn or a reply cap: the model card's and the registry's.
ONE_PROCEDURE_SOURCES = {
    "MMAR": "github.com/ddlBoJack/MMAR: the prompt given in the authors' issue tracker",
    "AIR-Bench Foundation": "github.com/OFA-Sys/AIR-Bench Inference_Foundation.py",
    # Inference_Chat.py sends the question alone and leaves decoding to the model.
    "AIR-Bench Chat": "github.com/OFA-Sys/AIR-Bench Inference_Chat.py: the question alone",
}
EVERY_FAMILY_AUTHORS: dict[str, Procedure] = {
    t.name: Procedure(authors_prompt=t.authors_prompt is not None, source=ONE_PROCEDURE_SOURCES[t.benchmark])
    for t in all_tasks() if t.benchmark in ONE_PROCEDURE_SOURCES
}

_AERO = "src/Aero-1/Others/{}.py"


def _aero(task: str, script: str, max_new_tokens: int, **kw) -> tuple[str, Procedure]:
    return task, Procedure(system=None, max_new_tokens=max_new_tokens, source=_AERO.format(script), **kw)


_AERO_AGE = PHI4_AUTHORS["VoxAge"].form  # the same fixed list of age groups, word for word
# No system turn, one user turn: an audio entry per 30 s piece, then the text; no normalisation.
# Tasks their Aero-1 scripts do not cover follow the Qwen2.5-Omni procedure, as other families do.
AERO_AUTHORS: dict[str, Procedure] = {**QWEN_AUTHORS, **dict([
    _aero("LibriSpeech", "librispeech_test_aero", 256, form=PromptForm(
        "Transcribe this audio accurately. Remove hesitation words like 'um', 'uh'. Provide only the transcribed "
        "text without any additional comments.")),
    _aero("RACE", "race_test_aero", 3),
    _aero("SLUE", "SLUE_test_aero", 10),
    _aero("TAU", "TAU_test_aero", 10, form=PromptForm(
        "Listen to this audio and identify the acoustic scene. Choose the most appropriate option.\n\n{options}\n\n"
        "Respond with only the letter of your answer ({letters}).", option_format="{letter}: {text}")),
    _aero("GTZAN", "gtzan_test_aero", 3),
    _aero("DESED", "desed_aero1_test_sing_event", 10, form=PromptForm(
        "Listen to the audio carefully and answer the following question.\n\n{question}\n\n{options}\n\n"
        "Please select the correct answer and respond with only the letter ({letters}).")),
    _aero("VESUS", "VESUS_test_aero", 64, form=PromptForm(
        "{question}\n\n{options}\n\nPlease select the correct answer ({letters}).", option_format="{letter}) {text}")),
    _aero("HAD", "HAD_test_aero", 10, form=PromptForm("Is this audio real or fake? Answer with 'real' or 'fake' only.")),
    _aero("VoxGender", "Vox_test_aero", 10),
    _aero("VoxAge", "Vox_age_test_aero", 10, form=_AERO_AGE),
])}

AUTHORS_DEFAULT_FAMILY = Qwen2_5OmniThinkerAdapter.family
AUTHORS_PROFILE = Profile(
    name="authors",
    summary="the benchmark authors' baseline scripts: their system prompts, instruction prefixes, option layouts, "
            "reply caps and peak normalisation; presses over every position. Qwen2.5-Omni's for other families",
    press_scope="all",
    default=QWEN_AUTHORS,
    default_owner=AUTHORS_DEFAULT_FAMILY,
    families={Qwen2_5OmniThinkerAdapter.family: QWEN_AUTHORS, Phi4MultimodalAdapter.family: PHI4_AUTHORS,
              VoxtralAdapter.family: VOXTRAL_AUTHORS, AeroAdapter.family: AERO_AUTHORS},
    every_family=EVERY_FAMILY_AUTHORS,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (CARD_PROFILE, AUTHORS_PROFILE)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; profiles: {', '.join(PROFILES)}") from None
