"""The benchmark authors' prompts, typed out from their evaluation scripts
(github.com/DabDans/AudioMarathon: src/Qwen_2.5_Omni/Others/*_qwen2.5.py, src/Phi4MM/Others/*_test.py,
src/Voxtral/eval_*.py, src/Aero-1/Others/*_aero*.py) the way those scripts assemble them: the independent reference that
``--profile authors`` is checked against, character by character. Each builder takes the item's
question and choices (choice_a, choice_b, ... in order) as the scripts read them from the metadata.

Where a script cannot be run as written, the choice made and why is written next to it; the
README's profile section says the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

QWEN_SYSTEM = ("You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving "
               "auditory and visual inputs, as well as generating text and speech.")


@dataclass(frozen=True)
class Script:
    system: str | None  # the system message's text (None: the script sends none)
    user: Callable[[str, list], str]  # (question, choices) -> the user message's text
    max_new_tokens: int
    peak_normalize: bool = False
    transcription: str | None = None  # the language of a transcription request (no chat prompt)


def _lettered(choices, fmt):
    """The scripts' loop: formatted_options += f"{letter}. {opt}\\n" over the options."""
    text = ""
    for i, opt in enumerate(choices):
        text += fmt.format(letter=chr(65 + i), opt=opt) + "\n"
    return text


# ------------------------------------------------------------------ Qwen2.5-Omni (Others/*_qwen2.5.py)
def _qwen_asr(question, choices):  # LibriSpeech_qwen2.5.py: asr_doc_to_text + task_instruction
    instruction = "Transcribe this audio accurately. Remove hesitation words like 'um', 'uh'."
    format_text = "Your response should be formatted as follows: Spoken Content:"
    prompt_text = f"{instruction} {format_text} <transcribed text here>"
    task_instruction = ("You are a helpful assistant that transcribes speech audio. Please listen carefully and "
                        "provide the exact transcription of what is spoken in the audio.")
    return f"{task_instruction}\n\n{prompt_text}"


def _race_body(question, choices):  # create_race_prompt (the Qwen, Phi-4 and Voxtral scripts alike)
    instruction = ("Listen to this audio of a passage being read aloud, then answer the multiple-choice question "
                   "based solely on the information from the audio.")
    format_text = "Respond with only the letter of the correct option (A, B, C, or D)."
    formatted_options = _lettered(choices, "{letter}. {opt}")
    return f"{instruction}\n\nQuestion: {question}\n\nOptions:\n{formatted_options.strip()}\n\n{format_text}"


def _qwen_race(question, choices):
    task_instruction = ("You are a helpful assistant that analyzes reading comprehension passages with audio "
                        "narration. Please listen to the passage and answer the multiple-choice question based on "
                        "what you heard.")
    return f"{task_instruction}\n\n{_race_body(question, choices)}"


def _abcd_body(question, choices):  # create_slue_prompt / create_qa_prompt (SLUE, DESED)
    a, b, c, d = choices
    return f"""{question}

A. {a}
B. {b}
C. {c}
D. {d}

Please listen to the audio and select the correct answer. Reply with only the letter (A, B, C, or D)."""


def _qwen_slue(question, choices):
    task_instruction = ("You are a helpful assistant that analyzes speech audio for named entity recognition. "
                        "Please listen carefully and extract the requested named entities from the speech.")
    return f"{task_instruction}\n\n{_abcd_body(question, choices)}"


def _tau_body(question, choices):  # the TAU instruction (Qwen, Phi-4 and Voxtral scripts alike)
    a, b, c, d = choices
    instruction = "Listen to this audio and identify the acoustic scene. Choose the most appropriate option.\n"
    instruction += f"A: {a}\nB: {b}\nC: {c}\nD: {d}\n"
    instruction += "Respond with only the letter of your answer (A, B, C, or D)."
    return instruction


def _qwen_tau(question, choices):
    task_instruction = ("You are a helpful assistant that analyzes urban soundscape audio to identify acoustic "
                        "scenes. Please listen to the audio carefully and classify the scene type.")
    return f"{task_instruction}\n\n{_tau_body(question, choices)}"


def _gtzan_body(question, choices):  # GTZAN_qwen2.5.py / gtzan_test.py
    instruction = "Listen to this audio segment and identify the music genre based on what you hear."
    format_text = "Respond with only the letter of the correct option (A, B, C, or D)."
    formatted_options = _lettered(choices, "{letter}. {opt}")
    return f"{instruction}\n\nQuestion: {question}\n\nOptions:\n{formatted_options.strip()}\n\n{format_text}"


def _qwen_vesus(question, choices):
    a, b, c, d = choices
    prompt = f"""{question}

A) {a}
B) {b}
C) {c}
D) {d}

Please select the correct answer (A, B, C, or D)."""
    task_instruction = ("You are a helpful assistant that analyzes speech audio to recognize emotions. Please listen "
                        "to the voice carefully and identify the emotional state of the speaker.")
    return f"{task_instruction}\n\n{prompt}"


HAD_INSTRUCTION = ("Listen to this audio clip carefully. Is this audio completely authentic (real) or does it contain "
                   "any artificially synthesized segments (fake)? If it is completely real, answer 'a'. If it "
                   "contains any fake segments, answer 'b'. Answer with only 'a' or 'b'.")
GENDER_INSTRUCTION = ("Listen to this audio and identify the speaker's gender. Is this a male or female voice? If it "
                      "is a male, answer 'a'. If it is a female, answer 'b'. Answer with only 'a' or 'b'.")


def _qwen_gender(question, choices):
    task_instruction = ("You are a helpful assistant that analyzes speech audio to classify speaker gender. Please "
                        "listen to the voice carefully and determine the speaker's gender.")
    return f"{task_instruction}\n\n{GENDER_INSTRUCTION}"


def _qwen_age(question, choices):
    a, b, c, d, e = choices
    prompt = f"""{question}

A) {a}
B) {b}
C) {c}
D) {d}
E) {e}

Please select the correct answer (A, B, C, D, or E)."""
    task_instruction = ("You are a helpful assistant that analyzes speech audio to estimate speaker age. Please "
                        "listen to the voice carefully and classify the speaker's age group.")
    return f"{task_instruction}\n\n{prompt}"


QWEN = {
    "LibriSpeech": Script(QWEN_SYSTEM, _qwen_asr, 1100),
    "RACE": Script(QWEN_SYSTEM, _qwen_race, 5),
    "SLUE": Script(QWEN_SYSTEM, _qwen_slue, 5),
    "TAU": Script(QWEN_SYSTEM, _qwen_tau, 5),
    "GTZAN": Script(f"{QWEN_SYSTEM} You are a helpful audio analysis assistant.", _gtzan_body, 5),
    "DESED": Script("You are a helpful assistant that analyzes audio to detect and classify sound events. Please "
                    "listen carefully and select the most appropriate answer from the given choices.", _abcd_body, 5),
    "VESUS": Script(QWEN_SYSTEM, _qwen_vesus, 10),
    "HAD": Script("You are a helpful assistant that analyzes audio to determine authenticity.",
                  lambda q, c: HAD_INSTRUCTION, 5),
    # Vox_qwen2.5.py gives the model the normalised array (audio_np / max |audio_np|).
    "VoxGender": Script(QWEN_SYSTEM, _qwen_gender, 5, peak_normalize=True),
    # Vox_age_qwen2.5.py normalises an array too, but gives the model the wav path: no normalisation.
    "VoxAge": Script(QWEN_SYSTEM, _qwen_age, 5),
}


# ------------------------------------------------------------------ Phi-4-multimodal (Others/*_test.py)
def phi4_full(text: str) -> str:
    """The scripts' whole prompt: no system turn."""
    return f"<|user|><|audio_1|>{text}<|end|><|assistant|>"


def _phi4_asr(question, choices):  # phi4_kvpress/LibriSpeech_kvpress.py (Others/ has no ASR script)
    instruction = "Transcribe this audio accurately. Remove hesitation words like 'um', 'uh'."
    format_text = "Your response should be formatted as follows: Spoken Content:"
    return f"{instruction} {format_text} <transcribed text here>"


def phi4_vesus_literal(question, choices):
    """VESUS_test.py's whole prompt as written: a literal ``<audio>`` (not the processor's
    ``<|audio_1|>`` slot), no answer instruction, no ``<|end|>``."""
    a, b, c, d = choices
    return f"<|user|>\n<audio>\n{question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\n<|assistant|>\n"


def _phi4_vesus(question, choices):
    # Their words between the turn markers; the profile puts the audio in the model's own slot and
    # closes the turn as the checkpoint's template does (tested against phi4_vesus_literal).
    return phi4_vesus_literal(question, choices)[len("<|user|>\n<audio>\n"):-len("\n<|assistant|>\n")]


PHI4_AGE_INSTRUCTION = ("Listen to this audio and identify the speaker's age group. Choose the most appropriate "
                        "option: (a) Young Adult (18-30), (b) Early Career (31-40), (c) Mid Career (41-50), (d) Senior "
                        "(51-70), (e) Elderly (71+). Answer with only the letter (a, b, c, d, or e).")

PHI4 = {
    "LibriSpeech": Script(None, _phi4_asr, 1100),
    "RACE": Script(None, _race_body, 10),
    # SLUE_test.py / DESED_test.py return f"...{prompt_text}..." with prompt_text never assigned
    # (a NameError on every item); the prompt_text their kvpress and DART scripts assign:
    "SLUE": Script(None, _abcd_body, 10, peak_normalize=True),
    "TAU": Script(None, _tau_body, 10, peak_normalize=True),
    "GTZAN": Script(None, _gtzan_body, 3),
    "DESED": Script(None, _abcd_body, 10, peak_normalize=True),
    "VESUS": Script(None, _phi4_vesus, 10),
    "HAD": Script(None, lambda q, c: HAD_INSTRUCTION, 5, peak_normalize=True),
    "VoxGender": Script(None, lambda q, c: GENDER_INSTRUCTION, 10, peak_normalize=True),
    "VoxAge": Script(None, lambda q, c: PHI4_AGE_INSTRUCTION, 10, peak_normalize=True),
}


# ------------------------------------------------------------------ Voxtral (src/Voxtral/eval_*.py)
def _voxtral_gtzan(question, choices):
    formatted_options = _lettered(choices, "{letter}. {opt}")
    return f"""{question}

{formatted_options.strip()}

Please listen to the audio and identify the music genre. Reply with only the letter (A, B, C, or D)."""


def _voxtral_vesus(question, choices):
    prompt_text = f"""{question}

"""
    for i, choice in enumerate(choices):
        if i < 4:
            letter = chr(ord('A') + i)
            prompt_text += f"{letter}. {choice}\n"
    prompt_text += "\nPlease listen to the audio and select the correct answer. Reply with only the letter (A, B, C, or D)."
    return prompt_text


def _voxtral_had(question, choices):
    # load_had_dataset: question = the HAD instruction, choice_a = "real", choice_b = "fake"
    question, choice_a, choice_b = HAD_INSTRUCTION, "real", "fake"
    return f"""{question}

a. {choice_a}
b. {choice_b}

Please listen to the audio and select the correct answer. Reply with only the letter (a or b)."""


def _voxtral_age(question, choices):
    a, b, c, d, e = choices
    return f"""{question}

a. {a}
b. {b}
c. {c}
d. {d}
e. {e}

Please listen to the audio and select the correct answer. Reply with only the letter (a, b, c, d, or e)."""


VOXTRAL = {
    "LibriSpeech": Script(None, lambda q, c: "", 1000, transcription="en"),
    "RACE": Script(None, _race_body, 200),
    "SLUE": Script(None, _abcd_body, 200),
    "TAU": Script(None, _tau_body, 200),
    "GTZAN": Script(None, _voxtral_gtzan, 200),
    "DESED": Script(None, _abcd_body, 200),
    "VESUS": Script(None, _voxtral_vesus, 200),
    "HAD": Script(None, _voxtral_had, 200),
    # eval_Vox.py evaluates DESED (a copy of eval_DESED.py): no Voxtral gender script. The gender
    # instruction of the other families' scripts, with Voxtral's reply cap.
    "VoxGender": Script(None, lambda q, c: GENDER_INSTRUCTION, 200),
    "VoxAge": Script(None, _voxtral_age, 200),
}

# ------------------------------------------------------------------ Aero-1 (src/Aero-1/Others/*_aero*.py)
# Every script: messages = [{"role": "user", "content": [one audio part per 30 s chunk..., text]}]
# (no system turn), processor.apply_chat_template(messages, add_generation_prompt=True), the
# librosa-loaded clip as it is (no normalisation), model.generate(max_new_tokens=...).
def _aero_tau(question, choices):  # TAU_test_aero.py
    instruction = "Listen to this audio and identify the acoustic scene. Choose the most appropriate option."
    option_text = f"A: {choices[0]}\nB: {choices[1]}\nC: {choices[2]}\nD: {choices[3]}"
    format_instruction = "Respond with only the letter of your answer (A, B, C, or D)."
    return f"{instruction}\n\n{option_text}\n\n{format_instruction}"


def _aero_desed(question, choices):  # desed_aero1_test_sing_event.py: create_aero_qa_prompt
    a, b, c, d = choices
    return f"""Listen to the audio carefully and answer the following question.

{question}

A. {a}
B. {b}
C. {c}
D. {d}

Please select the correct answer and respond with only the letter (A, B, C, or D)."""


def _aero_vesus(question, choices):  # VESUS_test_aero.py
    a, b, c, d = choices
    return f"""{question}

A) {a}
B) {b}
C) {c}
D) {d}

Please select the correct answer (A, B, C, or D)."""


AERO_ASR = ("Transcribe this audio accurately. Remove hesitation words like 'um', 'uh'. Provide only the transcribed "
            "text without any additional comments.")
AERO_HAD = "Is this audio real or fake? Answer with 'real' or 'fake' only."
AERO_AGE = ("Listen to this audio and identify the speaker's age group. Choose the most appropriate option: (a) Young "
            "Adult (18-30), (b) Early Career (31-40), (c) Mid Career (41-50), (d) Senior (51-70), (e) Elderly (71+). "
            "Answer with only the letter (a, b, c, d, or e).")

AERO = {
    "LibriSpeech": Script(None, lambda q, c: AERO_ASR, 256),  # librispeech_test_aero.py
    "RACE": Script(None, _race_body, 3),  # race_test_aero.py
    "SLUE": Script(None, _abcd_body, 10),  # SLUE_test_aero.py
    "TAU": Script(None, _aero_tau, 10),
    "GTZAN": Script(None, _gtzan_body, 3),  # gtzan_test_aero.py
    "DESED": Script(None, _aero_desed, 10),
    "VESUS": Script(None, _aero_vesus, 64),
    "HAD": Script(None, lambda q, c: AERO_HAD, 10),  # HAD_test_aero.py
    "VoxGender": Script(None, lambda q, c: GENDER_INSTRUCTION, 10),  # Vox_test_aero.py
    "VoxAge": Script(None, lambda q, c: AERO_AGE, 10),  # Vox_age_test_aero.py
}

# Families the authors wrote no script for follow the Qwen2.5-Omni scripts.
BY_FAMILY = {"Qwen2.5-Omni": QWEN, "Phi-4-multimodal": PHI4, "Voxtral": VOXTRAL, "Aero-1": AERO}
