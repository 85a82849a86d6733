import subprocess
import sys

import pytest

from audiomarathon import TASKS, UnknownTaskError, get_task, resolve_tasks
from audiomarathon.cli import COMMANDS
from audiomarathon.tasks import CATEGORIES, MCQ, WER, task_for_folder

import official_texts as official

PAPER = {  # the paper's task table: abbreviation -> (config, paper instances, category)
    "ASR": ("LibriSpeech", 204, "Speech content extraction"),
    "SCR": ("RACE", 820, "Speech content extraction"),
    "SER": ("SLUE", 490, "Speech content extraction"),
    "ASC": ("TAU", 1145, "Audio classification"),
    "MC": ("GTZAN", 120, "Audio classification"),
    "SED": ("DESED", 254, "Audio classification"),
    "ER": ("VESUS", 185, "Speaker information"),
    "SD": ("HAD", 776, "Speaker information"),
    "SGR": ("VoxGender", 1614, "Speaker information"),
    "SAR": ("VoxAge", 959, "Speaker information"),
}


def test_registry_matches_the_paper():
    assert len(TASKS) == 10
    assert {t.abbrev: (t.name, t.paper_count, t.category) for t in TASKS} == PAPER
    assert sum(t.paper_count for t in TASKS) == 6567
    assert {t.category for t in TASKS} == set(CATEGORIES)


@pytest.mark.parametrize("abbrev,config", [(a, c[0]) for a, c in PAPER.items()])
def test_lookup_by_config_name_or_abbreviation(abbrev, config):
    assert get_task(abbrev) is get_task(config) is get_task(config.lower()) is get_task(f" {abbrev.lower()} ")


def test_unknown_task_lists_valid_names():
    with pytest.raises(UnknownTaskError) as err:
        get_task("TAUX")
    assert "TAUX" in str(err.value) and "TAU (ASC)" in str(err.value) and "VoxAge (SAR)" in str(err.value)


def test_resolve_tasks_accepts_mixed_names_and_all():
    assert [t.name for t in resolve_tasks("ASC,GTZAN,asc")] == ["TAU", "GTZAN"]
    assert len(resolve_tasks("all")) == 10
    with pytest.raises(UnknownTaskError):
        resolve_tasks(" , ")


def test_label_sets_and_choice_counts():
    assert get_task("SAR").labels == (
        "Young Adult (18-30)", "Early Career (31-40)", "Mid Career (41-50)", "Senior (51-70)", "Elderly (71+)")
    assert get_task("SAR").n_choices == 5
    assert get_task("SGR").labels == ("Male", "Female") and get_task("SD").labels == ("Real", "Fake")
    assert len(get_task("TAU").labels) == 10 and len(get_task("GTZAN").labels) == 10
    assert get_task("ASR").metric == WER and all(t.metric == MCQ for t in TASKS if t.abbrev != "ASR")
    assert {t.f1_classes for t in TASKS if t.abbrev in ("SCR", "SER", "SED")} == {"letters"}


def test_prompts_render_as_in_the_benchmark():
    mc = get_task("MC").render_prompt("What genre?", ["rock", "pop", "jazz", "blues"])
    assert mc == (
        "Listen to this audio segment and identify the music genre based on what you hear.\n\n"
        "Question: What genre?\n\nOptions:\nA. rock\nB. pop\nC. jazz\nD. blues\n\n"
        "Respond with only the letter of the correct option (A, B, C, or D)."
    )
    asc = get_task("ASC").render_prompt("", ["park", "bus", "tram", "metro"])
    assert asc == (
        "Listen to this audio and identify the acoustic scene. Choose the most appropriate option.\n"
        "A: park\nB: bus\nC: tram\nD: metro\nRespond with only the letter of your answer (A, B, C, or D)."
    )
    sar = get_task("SAR").render_prompt("Age?", list(get_task("SAR").labels))
    assert sar.endswith("E) Elderly (71+)\n\nPlease select the correct answer (A, B, C, D, or E).")
    er = get_task("ER").render_prompt("Emotion?", ["sad", "happy", "angry", "neutral"])
    assert er.endswith("D) neutral\n\nPlease select the correct answer (A, B, C, or D).")
    sed = get_task("SED").render_prompt("Which event?", ["Dog", "Cat", "Blender", "Frying"])
    assert sed.startswith("Which event?\n\nA. Dog\n") and sed.endswith(
        "Please listen to the audio and select the correct answer. Reply with only the letter (A, B, C, or D).")
    assert "answer 'a'" in get_task("SD").render_prompt("x", ["Real", "Fake"])
    assert "If it is a male, answer 'a'" in get_task("SGR").render_prompt("x", ["Male", "Female"])


def test_asr_marker_is_stripped():
    asr = get_task("ASR")
    assert asr.prompt.strip_marker("Spoken Content: hello world") == "hello world"
    assert asr.prompt.strip_marker("spoken content:  hi") == "hi"
    assert asr.prompt.strip_marker("no marker") == "no marker"
    # Room for a sentence before the letter (decoding stops at the end of the turn).
    assert asr.max_new_tokens >= 1000 and all(t.max_new_tokens == 128 for t in TASKS if t.is_mcq)


def test_official_question_and_option_texts():
    tau, gtzan = get_task("ASC"), get_task("MC")
    assert tau.question == official.TAU_QUESTION and gtzan.question == official.GTZAN_QUESTION
    assert dict(zip(tau.labels, tau.choice_texts)) == official.TAU_OPTIONS
    assert dict(zip(gtzan.labels, gtzan.choice_texts)) == official.GTZAN_OPTIONS
    assert get_task("SD").question == official.HAD_QUESTION
    assert list(get_task("SD").choice_texts) == official.HAD_OPTIONS
    assert get_task("SGR").question == official.VOXGENDER_QUESTION
    assert list(get_task("SGR").choice_texts) == official.VOXGENDER_OPTIONS
    assert get_task("SAR").choice_texts == get_task("SAR").labels  # no display form


@pytest.mark.parametrize("task,table", [("TAU", official.TAU_OPTIONS), ("GTZAN", official.GTZAN_OPTIONS)])
def test_option_label_reads_every_form_of_an_option(task, table):
    t = get_task(task)
    for label, text in table.items():
        display = text.split(" - ")[0]
        forms = [text, label, display, text.upper(), f"  {display.lower()} ", f"{display}  -  {label}",
                 f"Some other wording - {label}"]
        assert {t.option_label(f) for f in forms} == {label}, forms
    assert t.option_label("submarine") is None and t.option_label("Airport - submarine") is None
    assert t.option_label("") is None


def test_option_label_of_fixed_and_open_tasks():
    assert get_task("SD").option_label("fake") == "Fake" and get_task("SGR").option_label(" MALE ") == "Male"
    assert get_task("SAR").option_label("senior (51-70)") == "Senior (51-70)"
    assert get_task("SAR").option_label("Senior") is None
    for name in ("RACE", "SLUE", "LibriSpeech"):  # no closed label set
        assert get_task(name).option_label("Dog") is None
    assert get_task("DESED").option_label("dog") == "Dog"  # a label, though DESED scores by letter
    with pytest.raises(ValueError, match="not a TAU label"):
        get_task("TAU").option_text("Airport")


def test_release_folder_names():
    assert task_for_folder("TAU").name == "TAU"
    assert task_for_folder("asc").name == "TAU"
    assert task_for_folder("Vox-Gender").name == "VoxGender"
    assert task_for_folder("LibriSpeech-Long-Form").name == "LibriSpeech"
    assert task_for_folder("random_stuff") is None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "audiomarathon", *args], capture_output=True, text=True)


def test_cli_overview_and_tasks_command():
    out = _cli("--help")
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
    listing = _cli("tasks")
    assert listing.returncode == 0 and all(t.name in listing.stdout for t in TASKS)
    one = _cli("tasks", "ASC")
    assert one.returncode == 0 and "TAU (ASC)" in one.stdout and "street_traffic" in one.stdout
    assert "A: Airport - airport\n" in one.stdout  # the example prompt shows the official option texts
    bad = _cli("tasks", "nope")
    assert bad.returncode == 1 and "unknown task 'nope'" in bad.stderr
    unknown = _cli("frobnicate")
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_has_help(name):
    out = _cli(name, "--help")
    assert out.returncode == 0, out.stderr
    assert f"audiomarathon {name}" in out.stdout
