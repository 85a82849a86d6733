"""The benchmark registry: MMAR's and AIR-Bench Foundation's tasks and prompts beside AudioMarathon's.

The reference texts below are typed out from the benchmark authors' own material: AIR-Bench's
Inference_Foundation.py (the prompt line and the option lines it prints), MMAR's prompt as its
authors give it (question, "Select one option from the provided choices:", the option texts one
per line), and the 19 ``task_name`` spellings and 25 folders of the Foundation release.
"""

import subprocess
import sys

import pytest

from audiomarathon import TASKS, UnknownTaskError, get_task, resolve_tasks
from audiomarathon.benchmarks import BENCHMARKS, UnknownBenchmarkError, all_tasks, benchmark_of, get_benchmark

# task_name -> (dataset names, category), in the AIR-Bench README's leaderboard order.
FOUNDATION = {
    "Speech_Grounding": ({"librispeech"}, "speech"),
    "Spoken_Language_Identification": ({"covost2"}, "speech"),
    "Speaker_Gender_Recognition": ({"common_voice_13_en", "meld"}, "speech"),
    "Speaker_Emotion_Recontion": ({"iemocap", "meld"}, "speech"),
    "Speaker_Age_Prediction": ({"common_voice_13.0_en"}, "speech"),
    "Speech_Entity_Reconition": ({"slurp"}, "speech"),
    "Speaker_Intent_Classification": ({"slurp"}, "speech"),
    "Speaker_Number_Verification": ({"voxceleb1"}, "speech"),
    "Synthesized_Voice_Detection": ({"fake_or_real"}, "speech"),
    "Audio_Grounding": ({"AudioGrounding"}, "sound"),
    "vocal_sound_classification": ({"VocalSound"}, "sound"),
    "Acoustic_Scene_Classification": ({"CochlScene", "TUT2017"}, "sound"),
    "Sound_AQA": ({"avqa", "clothoaqa"}, "sound"),
    "Music_Instruments_Classfication": ({"nsynth", "MTJ-Jamendo"}, "music"),
    "Music_Genre_Recognition": ({"fma", "MTJ-Jamendo"}, "music"),
    "Music_Midi_Pitch_Analysis": ({"nsynth"}, "music"),
    "Music_Midi_Velocity_Analysis": ({"nsynth"}, "music"),
    "Music_AQA": ({"music_avqa"}, "music"),
    "Music_Mood_Recognition": ({"MTJ-Jamendo"}, "music"),
}

AIR_HEAD = ("Choose the most suitable answer from options A, B, C, and D to respond the question in next line, "
            "you may only choose A or B or C or D.")


def air_authors(question, a, b, c=None, d=None):
    """Inference_Foundation.py's instruction: head, question, four option lines (a missing one is None)."""
    return AIR_HEAD + "\n" + question + "\n" + f"A. {a}\nB. {b}\nC. {c}\nD. {d}"


def mmar_reference(question, choices):
    return question + "\nSelect one option from the provided choices:\n" + "\n".join(choices)


def test_audiomarathon_is_unchanged():
    assert len(TASKS) == 10 and len(resolve_tasks("all")) == 10 and resolve_tasks(None) == list(TASKS)
    assert [t.name for t in resolve_tasks("all")] == [t.name for t in TASKS]
    assert all(t.benchmark == "AudioMarathon" and not t.variable_choices and t.lettered for t in TASKS)
    assert all((t.min_duration, t.max_duration) != (None, None) for t in TASKS)
    assert get_task("ASC").name == "TAU" and get_task("tau").abbrev == "ASC"
    assert get_benchmark("audiomarathon").tasks == TASKS


def test_three_benchmarks_by_name_and_key():
    assert [(b.name, b.key) for b in BENCHMARKS.values()][:3] == [
        ("AudioMarathon", "audiomarathon"), ("MMAR", "mmar"), ("AIR-Bench Foundation", "airbench-foundation")]
    for b in BENCHMARKS.values():
        assert get_benchmark(b.key) is get_benchmark(b.name) is get_benchmark(b.name.upper())
        assert all(benchmark_of(t) is b and benchmark_of(t.name) is b for t in b.tasks)
    assert get_benchmark("mmar").breakdowns == ("modality", "category", "sub-category")
    assert get_benchmark("airbench-foundation").breakdowns == ("task_name", "dataset_name")
    assert len(all_tasks()) == sum(len(b.tasks) for b in BENCHMARKS.values())
    with pytest.raises(UnknownBenchmarkError, match="airbench-foundation"):
        get_benchmark("airbench")


def test_the_19_foundation_tasks_as_released():
    b = get_benchmark("AIR-Bench Foundation")
    assert [t.name for t in b.tasks] == list(FOUNDATION)
    assert {t.name: (set(t.dataset_names), t.category) for t in b.tasks} == FOUNDATION
    assert sum(len(t.dataset_names) for t in b.tasks) == 25
    assert dict(b.groups) == {"foundation": tuple(FOUNDATION)}
    assert [t.name for t in resolve_tasks("foundation")] == list(FOUNDATION)
    assert resolve_tasks("airbench-foundation") == resolve_tasks("FOUNDATION")
    for t in b.tasks:
        assert get_task(t.name) is t and get_task(t.name.lower()) is t
        assert t.variable_choices and t.lettered and t.n_choices == 4 and t.min_duration is None is t.max_duration
    # a task name both releases use: AudioMarathon's TAU is its own task, not Foundation's
    assert get_task("Acoustic_Scene_Classification").benchmark == "AIR-Bench Foundation"
    assert "Acoustic_Scene_Classification" in get_task("TAU").release_names


def test_foundation_categories_reproduce_the_published_category_scores():
    """The AIR-Bench README: Qwen-Audio-Turbo's per-task accuracies (Foundation leaderboard) and its
    category figures (speech 63.4, sound 61.0, music 48.9, average 57.8), typed out from it."""
    per_task = {
        "Speech grounding": 45.4, "Spoken language identification": 95.9, "Speaker gender recognition": 82.5,
        "Emotion recognition": 60.0, "Speaker age prediction": 58.8, "Speech entity recognition": 48.1,
        "Intent classification": 56.4, "Speaker number verification": 54.3, "Synthesized voice detection": 69.3,
        "Audio grounding": 41.6, "Vocal sound classification": 78.1, "Acoustic scene classification": 61.3,
        "Sound question answering": 62.8, "Music instruments classification": 59.6,
        "Music genre classification": 77.1, "Music note analysis-pitch": 30.1, "Music note analysis-velocity": 25.1,
        "Music question answering": 62.5, "Music emotion detection": 39.0,
    }
    tasks = get_benchmark("airbench-foundation").tasks
    assert sorted(t.title for t in tasks) == sorted(per_task)
    means = {}
    for category in ("speech", "sound", "music"):
        scores = [per_task[t.title] for t in tasks if t.category == category]
        means[category] = round(sum(scores) / len(scores), 1)
    assert means == {"speech": 63.4, "sound": 61.0, "music": 48.9}
    assert round(sum(means.values()) / 3, 1) == 57.8


def test_mmar_task():
    t = get_task("mmar")
    assert resolve_tasks("MMAR") == [t] and benchmark_of(t).key == "mmar"
    assert (t.name, t.category, t.n_choices, t.variable_choices, t.lettered) == ("MMAR", "MMAR", 6, True, False)
    assert t.min_duration is None and t.max_duration is None and t.paper_count == 1000


def test_mixed_selections_follow_the_registry_order():
    got = [t.name for t in resolve_tasks("Sound_AQA,mmar,TAU,speech_grounding")]
    assert got == ["TAU", "MMAR", "Speech_Grounding", "Sound_AQA"]
    assert len(resolve_tasks(["all", "foundation", "mmar"])) == 30
    with pytest.raises(UnknownTaskError, match="foundation"):
        resolve_tasks("foundations")


@pytest.mark.parametrize("choices", [
    ["teens to twenties", "thirties to fourties", "fifties to sixties", "seventies to eighties"],
    ["yes", "no", "maybe"],
    ["Male", "Female"],
])
def test_foundation_authors_prompt_is_the_official_script_text(choices):
    question = "Which age range do you believe best matches the speaker's voice?"
    for t in get_benchmark("airbench-foundation").tasks:
        assert t.render_prompt(question, choices, authors=True) == air_authors(question, *choices)


def test_foundation_prompt_lists_only_the_options_that_exist():
    t = get_task("Synthesized_Voice_Detection")
    q = "Is this voice real or synthesized?"
    assert t.render_prompt(q, ["real", "fake"]) == (
        "Choose the most suitable answer from options A and B to respond the question in next line, "
        "you may only choose A or B.\nIs this voice real or synthesized?\nA. real\nB. fake")
    assert t.render_prompt(q, ["x", "y", "z"]) == (
        "Choose the most suitable answer from options A, B, and C to respond the question in next line, "
        "you may only choose A or B or C.\nIs this voice real or synthesized?\nA. x\nB. y\nC. z")
    four = ["w", "x", "y", "z"]
    assert t.render_prompt(q, four) == air_authors(q, *four) == t.render_prompt(q, four, authors=True)


@pytest.mark.parametrize("choices", [
    ["From near to far", "From far to near"],
    ["Mountain Canyon", "Dense Forest", "Open Grassland", "City Streets"],
    ["1", "2", "3", "4", "5", "6"],
])
def test_mmar_prompt_is_the_authors_text(choices):
    q = "What type of natural environment might this music originate from"
    t = get_task("MMAR")
    assert t.render_prompt(q, choices) == mmar_reference(q, choices)
    assert t.render_prompt(q, choices, authors=True) == mmar_reference(q, choices)


def test_audiomarathon_prompts_have_no_authors_variant():
    for t in TASKS:
        assert t.authors_prompt is None
        assert t.render_prompt("Q?", ["a", "b"], authors=True) == t.render_prompt("Q?", ["a", "b"])


def test_tasks_command_lists_each_benchmark():
    out = subprocess.run([sys.executable, "-m", "audiomarathon", "tasks"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for b in BENCHMARKS.values():
        assert b.name in out.stdout and f"--tasks {b.key}" in out.stdout
    assert "Speaker_Emotion_Recontion" in out.stdout and "'foundation' = its 19 tasks" in out.stdout
    one = subprocess.run([sys.executable, "-m", "audiomarathon", "tasks", "Audio_Grounding"],
                         capture_output=True, text=True)
    assert one.returncode == 0 and "C. None" in one.stdout and "AudioGrounding" in one.stdout
