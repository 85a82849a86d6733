"""Answer extraction: a table of realistic replies, property tests, transcripts."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS, get_task
from audiomarathon_metric import RULES, Extraction, clean_transcript, extract_answer
from audiomarathon_metric.extraction import INVALID_RULES, VALID_RULES
from audiomarathon_metric.extraction_rules import READING_RULES, Rule, read_reply
from audiomarathon_metric.reply_matchers import item_options

GENRES = ["jazz", "metal", "rock", "pop"]  # A jazz, B metal, C rock, D pop
SCENES = ["metro", "metro_station", "park", "street_traffic"]
AGES = ["Young Adult (18-30)", "Early Career (31-40)", "Mid Career (41-50)", "Senior (51-70)", "Elderly (71+)"]
EMOTIONS = ["angry", "happy", "neutral", "sad"]
RACE = ["He was tired.", "She lost her keys.", "They went home early.", "Nobody knows."]
SED = ["Dog", "Blender", "Speech", "Frying"]
NONE = []  # HAD / VoxGender: fixed options from the registry
OFFICIAL_SCENES = [get_task("TAU").option_text(x) for x in ("shopping_mall", "metro_station", "metro", "park")]
OFFICIAL_GENRES = [get_task("GTZAN").option_text(x) for x in ("blues", "classical", "jazz", "rock")]

# (reply, task, choices, expected letter or None, expected rule)
CASES = [
    # bare letters, any decoration
    ("B", "MC", GENRES, "B", "bare_letter"),
    ("b", "MC", GENRES, "B", "bare_letter"),
    ("(B)", "MC", GENRES, "B", "bare_letter"),
    ("B.", "MC", GENRES, "B", "bare_letter"),
    ("  C  \n", "MC", GENRES, "C", "bare_letter"),
    ("[D]", "MC", GENRES, "D", "bare_letter"),
    ("**C**", "MC", GENRES, "C", "bare_letter"),
    ("`A`", "MC", GENRES, "A", "bare_letter"),
    ("'a'", "SD", NONE, "A", "bare_letter"),
    ('"b"', "SGR", NONE, "B", "bare_letter"),
    ("a", "SGR", NONE, "A", "bare_letter"),
    ("E", "SAR", AGES, "E", "bare_letter"),
    ("<answer>D</answer>", "SCR", RACE, "D", "bare_letter"),
    ("### B", "SER", ["Paris", "Berlin", "Rome", "Madrid"], "B", "bare_letter"),
    # the option's text, alone or with its letter
    ("rock", "MC", GENRES, "C", "option_text"),
    ("Rock.", "MC", GENRES, "C", "option_text"),
    ('"metal"', "MC", GENRES, "B", "option_text"),
    ("metro station", "ASC", SCENES, "B", "option_text"),
    ("Metro", "ASC", SCENES, "A", "option_text"),
    ("Female", "SGR", NONE, "B", "option_text"),
    ("fake", "SD", NONE, "B", "option_text"),
    ("Senior (51-70)", "SAR", AGES, "D", "option_text"),
    ("B. metal", "MC", GENRES, "B", "letter_text"),
    ("(C) rock", "MC", GENRES, "C", "letter_text"),
    ("A) Young Adult (18-30)", "SAR", AGES, "A", "letter_text"),
    ("D: street_traffic", "ASC", SCENES, "D", "letter_text"),
    ("b) female", "SGR", NONE, "B", "letter_text"),
    # explicit answer statements
    ("Answer: B", "MC", GENRES, "B", "answer_phrase"),
    ("ANSWER: C", "MC", GENRES, "C", "answer_phrase"),
    ("answer: c", "MC", GENRES, "C", "answer_phrase"),
    ("The answer is B.", "MC", GENRES, "B", "answer_phrase"),
    ("The correct answer is (D).", "SCR", RACE, "D", "answer_phrase"),
    ("The correct option is C because the passage says so.", "SCR", RACE, "C", "answer_phrase"),
    ("Option B: metal", "MC", GENRES, "B", "answer_phrase"),
    ("**Answer:** A", "ER", EMOTIONS, "A", "answer_phrase"),
    ("Final answer: E", "SAR", AGES, "E", "answer_phrase"),
    ("I choose b.", "SD", NONE, "B", "answer_phrase"),
    ("I would answer 'a'.", "SGR", NONE, "A", "answer_phrase"),
    ("Answer: b", "SD", NONE, "B", "answer_phrase"),
    ("A dog is barking in the background, so the answer is C.", "SED", SED, "C", "answer_phrase"),
    ("C\n\nThe distorted guitars suggest rock.", "MC", GENRES, "C", "answer_phrase"),
    ("B. The speaker mentions Berlin twice.", "SER", ["Paris", "Berlin", "Rome", "Madrid"], "B", "answer_phrase"),
    ("The answer is B. A is not supported by the audio.", "SCR", RACE, "B", "answer_phrase"),
    ("Based on the audio, my answer is D", "SED", SED, "D", "answer_phrase"),
    # a letter standing alone
    ("I'd say C.", "MC", GENRES, "C", "lone_letter"),
    ("Probably (b), the voice is high.", "SGR", NONE, "B", "lone_letter"),
    ("It has to be D given the sizzling sound.", "SED", SED, "D", "lone_letter"),
    # an option named in a sentence
    ("This is a female voice.", "SGR", NONE, "B", "option_mention"),
    ("The speaker is male.", "SGR", NONE, "A", "option_mention"),
    ("It sounds like a man speaking.", "SGR", NONE, "A", "option_mention"),
    ("The audio is completely authentic with no fake segments.", "SD", NONE, "A", "option_mention"),
    ("The recording contains artificially synthesized segments.", "SD", NONE, "B", "option_mention"),
    ("The genre is rock.", "MC", GENRES, "C", "option_mention"),
    ("It's not jazz, it's rock.", "MC", GENRES, "C", "option_mention"),
    ("The scene is a metro station.", "ASC", SCENES, "B", "option_mention"),
    ("The speaker sounds happy and excited.", "ER", EMOTIONS, "B", "option_mention"),
    # invalid: nothing, two answers, negation only, refusals
    # the real reply styles: "Display - label" options, age groups, leading letters, negations,
    # echoed option lists, CJK answer phrases
    ("shopping mall", "ASC", OFFICIAL_SCENES, "A", "option_text"),
    ("Indoor shopping mall", "ASC", OFFICIAL_SCENES, "A", "option_text"),
    ("The genre is CLASSICAL.", "MC", OFFICIAL_GENRES, "B", "option_mention"),
    ("Rock music", "MC", OFFICIAL_GENRES, "D", "option_mention"),
    ("mid career", "SAR", AGES, "C", "option_text"),
    ("41-50", "SAR", AGES, "C", "option_text"),
    ("Senior", "SAR", AGES, "D", "option_text"),
    ("The speaker is probably between 31 to 40.", "SAR", AGES, "B", "option_mention"),
    ("A is the correct answer.", "SCR", RACE, "A", "answer_phrase"),
    ("A would be my answer.", "SCR", RACE, "A", "answer_phrase"),
    ("The answer is not A.", "SCR", RACE, None, "negated"),
    ("I would not choose A; C fits better.", "SCR", RACE, "C", "lone_letter"),
    ("Between B and D, I choose D.", "SCR", RACE, "D", "answer_phrase"),
    ("A. jazz\nB. metal\nC. rock\nD. pop\nThe correct answer is B.", "MC", GENRES, "B", "answer_phrase"),
    ("A. jazz\nB. metal\nC. rock\nD. pop", "MC", GENRES, None, "no_answer"),
    ("答案是B", "SCR", RACE, "B", "answer_phrase"),
    ("选项D", "SCR", RACE, "D", "answer_phrase"),
    ("", "MC", GENRES, None, "empty"),
    ("B " * 6000, "MC", GENRES, None, "too_long"),  # a repetition loop past MAX_READ is not read
    ("   \n", "MC", GENRES, None, "empty"),
    ("A or B", "MC", GENRES, None, "conflict"),
    ("B, C", "MC", GENRES, None, "conflict"),
    ("(A) and (D)", "SCR", RACE, None, "conflict"),
    ("I think it's B, but it could be A.", "MC", GENRES, None, "conflict"),
    ("Answer: A. Actually, the answer is C.", "MC", GENRES, None, "conflict"),
    ("C: jazz", "MC", GENRES, None, "conflict"),
    ("Option B: rock", "MC", GENRES, None, "conflict"),
    ("Please select the correct answer (A, B, C, D, or E).", "SAR", AGES, None, "no_answer"),  # the prompt, echoed
    ("Answer with only 'a' or 'b'.", "SD", NONE, None, "conflict"),
    ("It could be jazz or rock.", "MC", GENRES, None, "conflict"),
    ("The voice could be male or female.", "SGR", NONE, None, "conflict"),
    ("It is not fake.", "SD", NONE, "A", "option_mention"),  # "not fake" is HAD's other label
    ("It is not rock.", "MC", GENRES, None, "negated"),
    ('{"answer": "C"}', "MC", GENRES, "C", "json_field"),
    ('```json\n{"answer": "B. metal", "confidence": 0.8}\n```', "MC", GENRES, "B", "json_field"),
    ("Definitely not metal.", "MC", GENRES, None, "negated"),
    ("I'm sorry, but I cannot listen to audio files.", "MC", GENRES, None, "refusal"),
    ("I am unable to determine the speaker's age.", "SAR", AGES, None, "refusal"),
    ("The answer is a bit unclear to me.", "ER", EMOTIONS, None, "refusal"),
    ("As an AI language model, I do not have access to the recording.", "SD", NONE, None, "refusal"),
    ("The music has a steady beat and some vocals.", "MC", GENRES, None, "no_answer"),
    ("A person is talking in a quiet room.", "SED", ["Dog", "Blender", "Cat", "Frying"], None, "no_answer"),
    ("F", "MC", GENRES, None, "no_answer"),  # not one of the four letters
    # ages as numbers or decades: the VoxAge group that contains them; one spanning two groups: none
    ("about 35", "SAR", AGES, "B", "option_mention"),
    ("in their twenties", "SAR", AGES, "A", "option_mention"),
    ("late fifties", "SAR", AGES, "D", "option_mention"),
    ("around 45 years old", "SAR", AGES, "C", "option_mention"),
    ("mid-60s", "SAR", AGES, "D", "option_mention"),
    ("The speaker is in their 30s.", "SAR", AGES, None, "conflict"),  # 30-39: Young Adult and Early Career
    ("over 50", "SAR", AGES, None, "conflict"),
    ("in their thirties, early career", "SAR", AGES, "B", "option_mention"),  # the group named settles it
    ("a young adult, about 45", "SAR", AGES, None, "conflict"),  # the age contradicts the group named
    ("The speaker is not in their twenties.", "SAR", AGES, None, "negated"),
    ("The clip is about 20 seconds long.", "SAR", AGES, None, "no_answer"),  # not an age
    ("about 35", "SCR", RACE, None, "no_answer"),  # ages are read for the age task only
    # Chinese label words (HAD, VoxGender)
    ("女性", "SGR", NONE, "B", "option_text"),
    ("这是一个男声。", "SGR", NONE, "A", "option_mention"),
    ("不是男性，是女性。", "SGR", NONE, "B", "option_mention"),
    ("不是男性", "SGR", NONE, None, "negated"),
    ("合成", "SD", NONE, "B", "option_text"),
    ("这段音频是真实的。", "SD", NONE, "A", "option_mention"),
    ("这段音频不是真实的。", "SD", NONE, "B", "option_mention"),
    ("真的很难判断。", "SD", NONE, None, "no_answer"),  # "真的" in a sentence is "really"
    # echoed option lists, lowercase letters or on one line: an echo, not answer A
    ("a) Real\nb) Fake", "SD", NONE, None, "no_answer"),
    ("a. male\nb. female", "SGR", NONE, None, "no_answer"),
    ("a) Real\nb) Fake\nAnswer: b", "SD", NONE, "B", "answer_phrase"),
    ("A. jazz B. metal C. rock D. pop", "MC", GENRES, None, "no_answer"),
    ("Options: A. jazz B. metal C. rock D. pop. The answer is C.", "MC", GENRES, "C", "answer_phrase"),
    # a reply that asserts more than one option is invalid, in every form
    ("A\nB\nC\nD", "SCR", RACE, None, "conflict"),
    ("(A)(B)(C)(D)", "SCR", RACE, None, "conflict"),
    ("A. B. C. D.", "SCR", RACE, None, "conflict"),
    ("答案是A或B或C或D", "SCR", RACE, None, "conflict"),
    ("A and also B", "SCR", RACE, None, "conflict"),
    ("I choose A. Just kidding, B.", "SCR", RACE, None, "conflict"),
    ("Answer: C. Wait, actually it's D.", "SCR", RACE, None, "conflict"),
    ("The answer is A, B or C.", "SCR", RACE, None, "conflict"),
    ("It is not B; the answer is A.", "SCR", RACE, "A", "answer_phrase"),
    ("The answer is B.\nThe answer is B.", "SCR", RACE, "B", "answer_phrase"),  # one letter, said twice
    ("Answer: D\n\nA is wrong, and C is not mentioned.", "SCR", RACE, "D", "answer_phrase"),
    ("A 35-year-old speaker.", "SAR", AGES, "B", "option_mention"),  # "A" an article before a number
    ("B is correct. A? No. C? No.", "SCR", RACE, "B", "answer_phrase"),  # questions, answered "no"
    ("The answer is B. Maybe C?", "SCR", RACE, None, "conflict"),  # a second letter offered
    # going through the options one per line is no second answer
    ("The answer is C.\n\nA. Incorrect\nB. Incorrect\nC. Correct\nD. Incorrect", "SCR", RACE, "C", "answer_phrase"),
    ("Let's check each option:\nA. jazz - no swing\nB. metal - yes\nC. rock - no\nD. pop - no\nAnswer: B", "MC", GENRES,
     "B", "answer_phrase"),
]


def test_table_is_large_and_covers_every_rule():
    assert len(CASES) >= 60
    assert {case[4] for case in CASES} == set(RULES)


@pytest.mark.parametrize("reply,task,choices,letter,rule", CASES, ids=[f"{i:02d}:{c[0][:30]!r}" for i, c in enumerate(CASES)])
def test_realistic_reply(reply, task, choices, letter, rule):
    got = extract_answer(reply, choices, task)
    assert got == Extraction(letter, rule)
    assert got.valid == (letter is not None)
    assert got.rule in (VALID_RULES if got.valid else INVALID_RULES)


CORPUS = Path(__file__).parent / "data" / "replies.jsonl"


def test_reply_corpus_scores_at_least_98_percent():
    """Replies in the styles audio LLMs write (tests/data/make_replies.py), each with the letter a
    careful human grader assigns, or null for invalid: at least 98% read as graded, and never a
    letter other than the grade (in particular none from a reply graded invalid)."""
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500
    got = [extract_answer(r["reply"], r["choices"], r["task"]).letter for r in rows]
    wrong = [(r["task"], r["reply"], r["grade"], g) for r, g in zip(rows, got) if g != r["grade"]]
    assert 1 - len(wrong) / len(rows) >= 0.98, wrong
    assert not [w for w in wrong if w[3] is not None], "a letter the grader did not give"
    styles = {r["style"] for r in rows}
    assert {"verbose", "echo", "refusal", "hedge", "multilingual", "cjk", "json", "markdown", "negation",
            "display_label", "age_group", "leading_letter", "handwritten", "age_number", "cjk_label",
            "echo_lowercase", "several_letters"} <= styles
    for style in ("age_number", "cjk_label", "echo_lowercase", "several_letters"):
        assert sum(r["style"] == style for r in rows) >= 10, style
    assert {r["task"] for r in rows} == {t.name for t in TASKS if t.is_mcq}


# The rule names as results files and the metric card record them, strongest first (typed out here).
CARD_VALID_RULES = ["bare_letter", "option_text", "letter_text", "json_field", "answer_phrase", "lone_letter",
                    "option_mention"]
CARD_INVALID_RULES = ["empty", "too_long", "conflict", "negated", "refusal", "no_answer"]


def test_the_reading_table_names_the_rules_of_the_metric_card_in_order():
    assert list(VALID_RULES) == CARD_VALID_RULES and list(INVALID_RULES) == CARD_INVALID_RULES
    names = [rule.name for rule in READING_RULES]
    assert len(set(names)) == len(names)
    assert [n for n in names if n in CARD_VALID_RULES] == CARD_VALID_RULES
    card = (Path(__file__).parents[1] / "audiomarathon_metric" / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in card for name in CARD_VALID_RULES + CARD_INVALID_RULES)


class OptionNumber(Rule):
    """A row as a benchmark would add one: "option 2" names the second option."""

    name = "option_number"

    def apply(self, r):
        m = re.fullmatch(r"option (\d)", r.text.casefold())
        if m and 1 <= int(m.group(1)) <= r.n:
            return Extraction("ABCDE"[int(m.group(1)) - 1], self.name)
        return None


def test_a_new_answer_form_is_a_new_row_of_the_table():
    names = [rule.name for rule in READING_RULES]
    at = names.index("answer_phrase")
    table = READING_RULES[:at] + (OptionNumber(),) + READING_RULES[at:]
    opts = item_options(tuple(GENRES), "GTZAN")
    assert read_reply(opts, "Option 3") == Extraction(None, "no_answer")  # not a form the table reads
    assert read_reply(opts, "Option 3", rules=table) == Extraction("C", "option_number")
    assert read_reply(opts, "option 9", rules=table) == Extraction(None, "no_answer")  # no ninth option
    # The rows before it still decide first, and a JSON field's value is read by the same table.
    assert read_reply(opts, "B", rules=table) == Extraction("B", "bare_letter")
    assert read_reply(opts, '{"answer": "option 2"}', rules=table) == Extraction("B", "json_field")


def test_answer_c_is_c_not_a():
    # The original scripts read "ANSWER: C" as A (the first capital A-D in the string).
    for reply in ("ANSWER: C", "ANSWER:C", "Answer - C", "ANSWER IS C"):
        assert extract_answer(reply, GENRES, "GTZAN").letter == "C", reply


def test_task_objects_and_abbreviations_are_equivalent():
    assert extract_answer("b", [], get_task("VoxGender")) == extract_answer("b", [], "SGR")


def test_asr_task_is_rejected_and_non_strings_too():
    with pytest.raises(ValueError, match="clean_transcript"):
        extract_answer("A", [], "ASR")
    with pytest.raises(TypeError, match="string"):
        extract_answer(3, GENRES, "MC")


def test_extraction_never_guesses_same_input_same_output():
    replies = ["hmm", "I don't know", "maybe", "C?", "??"]
    first = [extract_answer(r, GENRES, "MC") for r in replies]
    assert first == [extract_answer(r, GENRES, "MC") for r in replies]
    assert [e.letter for e in first] == [None, None, None, "C", None]


# --------------------------------------------------------------------- property tests

MCQ_TASKS = [t for t in TASKS if t.is_mcq]
option_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)


@st.composite
def item(draw):
    task = draw(st.sampled_from(MCQ_TASKS))
    texts = draw(st.lists(option_word, min_size=task.n_choices, max_size=task.n_choices, unique=True))
    # Option texts are distinct and none contains another as a word ("metro" vs "metro station").
    index = draw(st.integers(0, task.n_choices - 1))
    return task, texts, index


@settings(max_examples=300, deadline=None)
@given(item(), st.sampled_from(["{l}", "{l}.", "({l})", "{lo}", "'{lo}'", " {l} ", "[{l}]", "**{l}**"]))
def test_a_reply_that_is_one_letter_parses_to_it(it, fmt):
    task, texts, index = it
    letter = LETTERS[index]
    reply = fmt.format(l=letter, lo=letter.lower())
    assert extract_answer(reply, texts, task) == Extraction(letter, "bare_letter")


@settings(max_examples=300, deadline=None)
@given(item(), st.sampled_from(["{t}", "{T}", "{t}.", '"{t}"', "  {t}\n"]))
def test_a_reply_that_is_one_exact_option_text_parses_to_it(it, fmt):
    task, texts, index = it
    text = texts[index]
    reply = fmt.format(t=text, T=text.upper())
    assert extract_answer(reply, texts, task) == Extraction(LETTERS[index], "option_text")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MCQ_TASKS), st.text(max_size=80))
def test_any_text_yields_a_known_rule_and_a_valid_letter_or_none(task, reply):
    choices = list(task.labels[: task.n_choices]) if task.labels else ["one", "two", "three", "four"][: task.n_choices]
    got = extract_answer(reply, choices, task)
    assert got.rule in RULES
    assert got.letter is None or got.letter in LETTERS[: len(choices)]
    assert (got.letter is None) == (got.rule in INVALID_RULES)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("ABCD"), min_size=2, max_size=2, unique=True), st.sampled_from([" or ", ", ", " and ", "/"]))
def test_two_letters_offered_together_are_invalid(pair, sep):
    assert extract_answer(pair[0] + sep + pair[1], GENRES, "MC") == Extraction(None, "conflict")


# --------------------------------------------------------------------- ages

# The VoxAge groups as the benchmark defines them (first and last age; None = open), the reference.
VOXAGE_GROUPS = {"Young Adult": (18, 30), "Early Career": (31, 40), "Mid Career": (41, 50), "Senior": (51, 70),
                 "Elderly": (71, None)}
DECADE_WORDS = ["twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties", "nineties"]
DECADE_PARTS = {"": (0, 9), "early ": (0, 3), "mid-": (4, 6), "late ": (7, 9)}  # early x0-x3, mid x4-x6, late x7-x9


def group_containing(lo, hi):
    """The one VoxAge group containing every age in lo..hi, else None."""
    for name, (first, last) in VOXAGE_GROUPS.items():
        if first <= lo and (last is None or hi <= last):
            return name
    return None


def voxage_options(rng):
    labels = list(get_task("VoxAge").labels)
    rng.shuffle(labels)
    return labels


def letter_of_group(options, name):
    return None if name is None else LETTERS[[o.split(" (")[0] for o in options].index(name)]


def test_registry_age_groups_are_the_reference_groups():
    assert [label.split(" (")[0] for label in get_task("VoxAge").labels] == list(VOXAGE_GROUPS)


@pytest.mark.parametrize("template", ["about {n}", "{n} years old", "The speaker is around {n} years old.",
                                      "aged {n}", "A {n}-year-old speaker.", "{n}", "I think the speaker is {n}."])
def test_an_age_in_years_names_the_group_that_contains_it(template):
    rng = random.Random(template)
    for n in range(10, 100):
        options = voxage_options(rng)
        expected = letter_of_group(options, group_containing(n, n))
        reply = template.format(n=n)
        assert extract_answer(reply, options, "VoxAge").letter == expected, (reply, options)


@pytest.mark.parametrize("part", list(DECADE_PARTS))
def test_a_decade_names_a_group_only_when_one_group_contains_it(part):
    rng = random.Random(part)
    first, last = DECADE_PARTS[part]
    for i, word in enumerate(DECADE_WORDS):
        decade = 10 * (i + 2)
        expected_name = group_containing(decade + first, decade + last)
        for reply in (f"in their {part}{word}", f"The speaker sounds like someone in their {part}{decade}s.",
                      f"{part}{decade}s"):
            options = voxage_options(rng)
            got = extract_answer(reply, options, "VoxAge")
            assert got.letter == letter_of_group(options, expected_name), (reply, options)
            if expected_name is None and decade + last >= 18:
                assert got.rule == "conflict", reply  # spans two groups: never a guess


def test_age_ranges_and_bounds():
    options = list(get_task("VoxAge").labels)
    for reply, lo, hi in (("between 35 and 38 years old", 35, 38), ("28-35 years old", 28, 35),
                          ("over 70 years old", 71, 200), ("over 50", 51, 200), ("at least 71", 71, 200)):
        expected = letter_of_group(options, group_containing(lo, hi))
        assert extract_answer(reply, options, "VoxAge").letter == expected, reply


# --------------------------------------------------------------------- several letters, echoes

@settings(max_examples=150, deadline=None)
@given(item(), st.data())
def test_a_reply_that_asserts_two_letters_is_invalid(it, data):
    task, texts, _ = it
    x, y = data.draw(st.lists(st.sampled_from(LETTERS[: task.n_choices]), min_size=2, max_size=2, unique=True))
    fmt = data.draw(st.sampled_from([
        "{x}\n{y}", "({x})({y})", "{x}. {y}.", "答案是{x}或{y}", "{x} and also {y}", "I choose {x}. Just kidding, {y}.",
        "Answer: {x}. Wait, actually it's {y}.", "{x}, {y}", "{x}/{y}", "The answer is {x} or {y}.",
        "{x}\n{y}\n{x}", "- {x}\n- {y}", "**{x}** or **{y}**", "{lx}\n{ly}"]))
    reply = fmt.format(x=x, y=y, lx=x.lower(), ly=y.lower())
    assert extract_answer(reply, texts, task) == Extraction(None, "conflict"), reply


@settings(max_examples=150, deadline=None)
@given(item(), st.booleans(), st.booleans(), st.sampled_from(["\n", " "]), st.booleans())
def test_an_echoed_option_list_is_not_an_answer(it, lowercase, answered, joiner, parenthesised):
    """The options in the task's own option format (or "(A) text"), one per line or in a row,
    letters in either case: no answer; followed by an answer statement: that answer."""
    task, texts, index = it
    letters = LETTERS[: task.n_choices].lower() if lowercase else LETTERS[: task.n_choices]
    fmt = "({letter}) {text}" if parenthesised else task.prompt.option_format
    echo = joiner.join(fmt.format(letter=l, text=t) for l, t in zip(letters, texts))
    if answered:
        assert extract_answer(echo + f"\nAnswer: {LETTERS[index]}", texts, task).letter == LETTERS[index], echo
    else:
        assert extract_answer(echo, texts, task) == Extraction(None, "no_answer"), echo


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(LETTERS[:4]), min_size=2, max_size=2, unique=True))
def test_a_list_settled_by_an_answer_outside_it_is_that_answer(pair):
    x, y = pair
    assert extract_answer(f"Between {x} and {y}, I choose {y}.", GENRES, "MC").letter == y
    assert extract_answer(f"It is not {x}; the answer is {y}.", GENRES, "MC").letter == y
    assert extract_answer(f"The answer is {y}, not {x}.", GENRES, "MC").letter == y


# Words of replies that name no option: no letter, no option text, numbers only with units.
PROSE = ["the", "speaker", "sounds", "calm", "recording", "is", "about", "20 seconds", "long", "and", "there",
         "background", "noise", "maybe", "it", "unclear", "3 minutes", "in", "clip", "voice", "音频", "声音",
         "很难判断", "真的很难说", "也许", "the 1990s", "30s of silence", "score", "of 45%", "a bit", "a lot", "I think"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MCQ_TASKS), st.lists(st.sampled_from(PROSE), min_size=1, max_size=25),
       st.sampled_from([" ", "\n", ", ", ". "]))
def test_never_a_letter_from_a_reply_that_names_none(task, words, joiner):
    if task.fixed_choices or task.name == "VoxAge":
        choices = list(task.labels[: task.n_choices])
    else:
        choices = ["jazz", "metal", "rock", "pop"][: task.n_choices]
    reply = joiner.join(words)
    assert extract_answer(reply, choices, task).letter is None, reply


# --------------------------------------------------------------------- transcripts

@pytest.mark.parametrize(
    "reply,expected",
    [
        ("Spoken Content: hello world", "hello world"),
        ("spoken content:   Hello, world.  ", "Hello, world."),
        ("**Spoken Content:** it was late", "it was late"),
        ("no marker here", "no marker here"),
        ("", ""),
    ],
)
def test_clean_transcript_strips_the_registry_marker(reply, expected):
    assert clean_transcript(reply) == expected
    assert clean_transcript(reply, "ASR") == expected
