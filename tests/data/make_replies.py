"""Writes replies.jsonl: multiple-choice replies in the styles audio LLMs produce, each with the
grade a careful human gives it (a letter, or null for invalid) and a style tag.

    python tests/data/make_replies.py     # rewrites tests/data/replies.jsonl (seeded, byte-stable)

Each template below was graded by hand once, as a template: the grade is the letter the reply
asserts ("L" = the item's target option, "O" = another option) or None when a careful grader
would not accept any answer (refusal, hedge between two options, only a negation, nothing).
Option sets are the registry's official texts ("Indoor shopping mall - shopping_mall", age
groups with ranges) or realistic per-item texts for the content tasks.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import get_task

OUT = Path(__file__).with_name("replies.jsonl")

RACE_OPTIONS = ["Because he missed the last bus.", "She wanted to surprise her mother.", "At the train station.",
                "They decided to stay at home.", "Two hours later.", "He was afraid of the dark.",
                "The teacher praised her work.", "In a small village by the sea."]
SLUE_OPTIONS = ["European Parliament", "Strasbourg", "Angela Merkel", "Brussels", "the Commission", "Greece",
                "Jean-Claude Juncker", "Lisbon Treaty", "Poland", "Council of Europe"]
REASONS = [
    "After listening carefully to the whole recording, the most prominent cues point in one direction.",
    "The recording is long, but the relevant part is clear enough to decide.",
    "Considering the acoustic characteristics and the context of the audio segment,",
    "Having analysed the audio, the evidence is fairly consistent throughout.",
]

# (style, template, grade). Placeholders: {L} target letter, {l} its lowercase, {T} target option
# text, {D} its display part (the text before " - ", or the name of an age group), {lab} its
# label part, {O}/{OT} another option's letter/text, {R} a neutral rationale, {ECHO} the option list.
COMMON = [
    ("bare", "{L}", "L"),
    ("bare", "({L})", "L"),
    ("bare", "{L}.", "L"),
    ("markdown", "**{L}**", "L"),
    ("answer_phrase", "The answer is {L}.", "L"),
    ("answer_phrase", "Answer: {L}", "L"),
    ("answer_phrase", "ANSWER: {L}", "L"),
    ("answer_phrase", "The correct answer is ({L}) {T}.", "L"),
    ("leading_letter", "{L} is the correct answer.", "L"),
    ("leading_letter", "{L} would be my answer.", "L"),
    ("leading_letter", "{L}. {T}", "L"),
    ("verbose", "{R} Therefore, the answer is {L}.", "L"),
    ("verbose", "{R} The correct option is {L}, {T}. The other options do not match what is heard.", "L"),
    ("verbose", "Let me think step by step. {R} Final answer: {L}", "L"),
    ("option_text", "{T}", "L"),
    ("option_text", "{D}", "L"),
    ("json", '{{"answer": "{L}"}}', "L"),
    ("json", '```json\n{{"answer": "{L}", "reason": "clear acoustic cues"}}\n```', "L"),
    ("markdown", "**Answer:** {L}\n\n*Reasoning:* {R}", "L"),
    ("markdown", "### Final Answer\n{L}", "L"),
    ("echo", "Options:\n{ECHO}\n\nThe correct answer is {L}.", "L"),
    ("echo", "{ECHO}\nAnswer: {L}", "L"),
    ("cjk", "答案是{L}", "L"),
    ("cjk", "选项{L}", "L"),
    ("cjk", "正确答案是：{L}。", "L"),
    ("multilingual", "La respuesta es {L}.", "L"),
    ("multilingual", "La réponse est {L}.", "L"),
    ("multilingual", "Die Antwort ist {L}.", "L"),
    ("negation", "The answer is not {O}.", None),
    ("negation", "It is definitely not {O}.", None),
    ("negation", "It is not {O}; the answer is {L}.", "L"),
    ("negation", "{O} is incorrect. The answer is {L}.", "L"),
    ("hedge", "It could be {L} or {O}.", None),
    ("hedge", "I am torn between {L} and {O}; both seem plausible.", None),
    ("refusal", "I'm sorry, but I cannot listen to audio files.", None),
    ("refusal", "I don't know.", None),
    ("refusal", "The audio is unclear, so I cannot determine the answer.", None),
    ("article", "A lot can be heard in this recording, and the answer is {L}.", "L"),
    ("empty", "", None),
]
PER_TASK = {
    "TAU": [("display_label", "The acoustic scene is {D}.", "L"), ("display_label", "{lab}", "L"),
            ("display_label", "{labspace}", "L"), ("display_label", "It sounds like {Dlow}.", "L")],
    "GTZAN": [("display_label", "The genre is {DUP}.", "L"), ("display_label", "{D} music", "L"),
              ("display_label", "This is {Dlow}.", "L")],
    "VoxAge": [("age_group", "{range}", "L"), ("age_group", "The speaker sounds like a {Dlow} adult, roughly {range}.", "L"),
               ("age_group", "{D}", "L"), ("age_group", "Age group: {D} ({range})", "L")],
    "VESUS": [("synonym", "The speaker sounds {Dlow}.", "L"), ("option_text", "{DUP}", "L")],
    "HAD": [("synonym", "The audio is completely authentic.", "real"), ("synonym", "It contains synthesized segments.", "fake"),
            ("bare", "{l}", "L")],
    "VoxGender": [("synonym", "This is a female voice.", "female"), ("synonym", "The speaker is a man.", "male"),
                  ("bare", "{l}", "L")],
    "DESED": [("option_text", "{labspace}", "L"), ("verbose", "I can hear {Dlow} clearly, so the answer is {L}.", "L")],
    "SLUE": [("option_text", "The entity mentioned is {T}.", "L")],
    "RACE": [("verbose", "According to the passage, {T} So the answer is {L}.", "L")],
}


G = ["Jazz - jazz", "Metal - metal", "Rock - rock", "Pop - pop"]
S = ["Indoor shopping mall - shopping_mall", "Metro station - metro_station",
     "Traveling by an underground metro - metro", "Urban park - park"]
AGES = ["Young Adult (18-30)", "Early Career (31-40)", "Mid Career (41-50)", "Senior (51-70)", "Elderly (71+)"]
EMO = ["angry", "happy", "neutral", "sad"]
R = RACE_OPTIONS[:4]
E = ["Greece", "Strasbourg", "Angela Merkel", "Poland"]
D4 = ["Cat", "Dog", "Running_water", "Blender"]
# Written one by one, graded by hand: (task, options, reply, letter or None).
HANDWRITTEN = [
    ("GTZAN", G, "Based on the distorted electric guitars and aggressive drumming, this sounds like metal.", "B"),
    ("GTZAN", G, "The genre of this music is Rock.", "C"),
    ("GTZAN", G, "C: Rock", "C"),
    ("GTZAN", G, "c", "C"),
    ("GTZAN", G, "The answer is C. Rock - rock", "C"),
    ("GTZAN", G, "This could be either jazz or pop.", None),
    ("GTZAN", G, "I think it's jazz, not pop.", "A"),
    ("GTZAN", G, "Not metal. Not rock. It is pop.", "D"),
    ("GTZAN", G, "The music features a saxophone solo and swing rhythm, typical of Jazz.", "A"),
    ("GTZAN", G, "Option D", "D"),
    ("GTZAN", G, "(D) Pop - pop", "D"),
    ("GTZAN", G, "Options:\nA. Jazz - jazz\nB. Metal - metal\nC. Rock - rock\nD. Pop - pop\nAnswer: C", "C"),
    ("GTZAN", G, "A. Jazz - jazz\nB. Metal - metal\nC. Rock - rock\nD. Pop - pop", None),
    ("GTZAN", G, "The answer is: **C**", "C"),
    ("GTZAN", G, "<answer>C</answer>", "C"),
    ("GTZAN", G, "classical", None),
    ("GTZAN", G, "Hip-hop", None),
    ("GTZAN", G, "Rock music", "C"),
    ("GTZAN", G, "The genre is CLASSICAL.", None),
    ("TAU", S, "shopping mall", "A"),
    ("TAU", S, "The recording was made in an indoor shopping mall, with background music and footsteps.", "A"),
    ("TAU", S, "Metro Station", "B"),
    ("TAU", S, "metro_station", "B"),
    ("TAU", S, "It sounds like the inside of an underground metro train.", "C"),
    ("TAU", S, "B) Metro station - metro_station", "B"),
    ("TAU", S, "Urban park", "D"),
    ("TAU", S, "I hear birds and children playing, so it is probably a park.", "D"),
    ("TAU", S, "Respond with only the letter of your answer (A, B, C, or D).\nB", "B"),
    ("TAU", S, "A) Indoor shopping mall", "A"),
    ("TAU", S, "Shopping_Mall", "A"),
    ("VoxAge", AGES, "mid career", "C"),
    ("VoxAge", AGES, "41-50", "C"),
    ("VoxAge", AGES, "Senior", "D"),
    ("VoxAge", AGES, "The speaker is likely in the 51-70 age range.", "D"),
    ("VoxAge", AGES, "Elderly (71+)", "E"),
    ("VoxAge", AGES, "The voice sounds young, probably a young adult.", "A"),
    ("VoxAge", AGES, "Early career, 31 to 40 years old.", "B"),
    ("VoxAge", AGES, "The speaker could be early career or mid career.", None),
    ("VoxAge", AGES, "41–50", "C"),
    ("HAD", [], "a", "A"),
    ("HAD", [], "b) fake", "B"),
    ("HAD", [], "The audio contains artificially synthesized segments, so the answer is b.", "B"),
    ("HAD", [], "Real", "A"),
    ("HAD", [], "I cannot tell whether it is real or fake.", None),
    ("HAD", [], "FAKE", "B"),
    ("HAD", [], "La respuesta es b.", "B"),
    ("VoxGender", [], "Male", "A"),
    ("VoxGender", [], "The speaker is female, so the answer is 'b'.", "B"),
    ("VoxGender", [], "a (male)", "A"),
    ("VoxGender", [], "It's a woman's voice.", "B"),
    ("VoxGender", [], "答案是a", "A"),
    ("RACE", R, "A is the correct answer.", "A"),
    ("RACE", R, "A. Because he missed the last bus.", "A"),
    ("RACE", R, "A would be my answer because the passage says he missed the bus.", "A"),
    ("RACE", R, "The answer is not A.", None),
    ("RACE", R, "The answer is B, not A.", "B"),
    ("RACE", R, "I would not choose A; C fits better.", "C"),
    ("RACE", R, "Between B and D, I choose D.", "D"),
    ("RACE", R, "答案是B", "B"),
    ("RACE", R, "选项D", "D"),
    ("RACE", R, "我认为正确答案是C。", "C"),
    ("RACE", R, "Hmm, I'm not sure. Maybe C?", "C"),
    ("RACE", R, "I'd go with D.", "D"),
    ("SLUE", E, '{"answer": "B", "explanation": "The speaker mentions Strasbourg."}', "B"),
    ("SLUE", E, "The named entity mentioned in the audio is Strasbourg.", "B"),
    ("SLUE", E, "**B** - Strasbourg", "B"),
    ("SLUE", E, "Answer: (B)", "B"),
    ("DESED", D4, "Running water", "C"),
    ("DESED", D4, "The sound of a dog barking can be heard.", "B"),
    ("DESED", D4, "A dog barks in the background, and the answer is B.", "B"),
    ("VESUS", EMO, "happy", "B"),
    ("VESUS", EMO, "The speaker sounds sad rather than angry.", "D"),
    ("VESUS", EMO, "Neutral.", "C"),
    ("VESUS", EMO, "The emotion is not clearly happy or sad.", None),
]

# Written one by one and graded by hand, in the styles a second round of replies from nine audio LLMs
# showed: ages given as numbers or decades, Chinese label words, echoed option lists with lowercase
# letters, and replies that list or assert several letters. (style, task, options, reply, letter).
# Grades: an age names the group whose range contains it; a decade that straddles two groups
# ("30s" = 30-39, "forties" = 40-49) or an age that contradicts the group named is invalid; an
# echoed list alone is invalid; two letters asserted (a list, or an answer then another) is invalid.
AGES_SHUFFLED = ["Senior (51-70)", "Young Adult (18-30)", "Elderly (71+)", "Mid Career (41-50)",
                 "Early Career (31-40)"]  # A Senior, B Young Adult, C Elderly, D Mid Career, E Early Career
STYLED = [
    ("age_number", "VoxAge", AGES, "about 35", "B"),
    ("age_number", "VoxAge", AGES, "The speaker sounds like they are in their twenties.", "A"),
    ("age_number", "VoxAge", AGES, "Late fifties.", "D"),
    ("age_number", "VoxAge", AGES, "The speaker is around 45 years old.", "C"),
    ("age_number", "VoxAge", AGES, "mid-60s", "D"),
    ("age_number", "VoxAge", AGES, "The speaker appears to be in their 30s.", None),
    ("age_number", "VoxAge", AGES, "Based on the voice quality, I estimate the speaker is approximately 28 years old.",
     "A"),
    ("age_number", "VoxAge", AGES, "This voice belongs to an older man, probably in his late seventies.", "E"),
    ("age_number", "VoxAge", AGES, "The speaker is roughly 55.", "D"),
    ("age_number", "VoxAge", AGES_SHUFFLED, "about 35", "E"),
    ("age_number", "VoxAge", AGES_SHUFFLED, "The speaker sounds like a woman in her early twenties.", "B"),
    ("age_number", "VoxAge", AGES_SHUFFLED, "Probably in his sixties.", "A"),
    ("age_number", "VoxAge", AGES, "Estimated age: 42", "C"),
    ("age_number", "VoxAge", AGES, "The speaker is in their forties.", None),
    ("age_number", "VoxAge", AGES, "A 65-year-old speaker, I would guess.", "D"),
    ("age_number", "VoxAge", AGES, "Over 70 years old.", "E"),
    ("age_number", "VoxAge", AGES, "The speaker's age is around 50.", "C"),
    ("age_number", "VoxAge", AGES, "I'd say the speaker is between 25 and 30 years old.", "A"),
    ("age_number", "VoxAge", AGES, "20s", "A"),
    ("age_number", "VoxAge", AGES, "The speaker seems to be in their mid-thirties.", "B"),
    ("age_number", "VoxAge", AGES, "Somewhere in their fifties.", None),
    ("age_number", "VoxAge", AGES, "The voice sounds youthful, probably around 22, so Young Adult.", "A"),
    ("age_number", "VoxAge", AGES, "The speaker is an elderly person, around 60.", None),
    ("age_number", "VoxAge", AGES, "I think the speaker is about 45, so the answer is C.", "C"),
    ("age_number", "VoxAge", AGES, "The speaker is approximately 33 years of age.", "B"),
    ("age_number", "VoxAge", AGES, "The recording is about 20 seconds long and the speaker is calm.", None),
    ("cjk_label", "VoxGender", [], "男", "A"),
    ("cjk_label", "VoxGender", [], "女性", "B"),
    ("cjk_label", "VoxGender", [], "这是一个女声。", "B"),
    ("cjk_label", "VoxGender", [], "说话人是男性。", "A"),
    ("cjk_label", "VoxGender", [], "不是男性，是女性。", "B"),
    ("cjk_label", "VoxGender", [], "声音听起来像一位年轻的女士。", "B"),
    ("cjk_label", "VoxGender", [], "男声", "A"),
    ("cjk_label", "VoxGender", [], "无法判断说话人的性别。", None),
    ("cjk_label", "HAD", [], "真实", "A"),
    ("cjk_label", "HAD", [], "合成", "B"),
    ("cjk_label", "HAD", [], "这段音频是真实的，没有合成痕迹。", "A"),
    ("cjk_label", "HAD", [], "该音频包含人工合成的片段。", "B"),
    ("cjk_label", "HAD", [], "假的", "B"),
    ("cjk_label", "HAD", [], "这段音频是伪造的。", "B"),
    ("cjk_label", "HAD", [], "这段音频不是真实的。", "B"),
    ("cjk_label", "HAD", [], "真的", "A"),
    ("cjk_label", "HAD", [], "这段音频听起来是真的。", "A"),
    ("echo_lowercase", "HAD", [], "a) Real\nb) Fake", None),
    ("echo_lowercase", "HAD", [], "a. real\nb. fake", None),
    ("echo_lowercase", "VoxGender", [], "a) Male\nb) Female", None),
    ("echo_lowercase", "VoxGender", [], "a. male\nb. female\nAnswer: b", "B"),
    ("echo_lowercase", "HAD", [], "a) Real\nb) Fake\n\nThe audio contains synthesized segments, so b.", "B"),
    ("echo_lowercase", "VoxGender", [], "a) male b) female", None),
    ("echo_lowercase", "HAD", [], "Options: a) Real, b) Fake. Answer: a", "A"),
    ("echo_lowercase", "VoxAge", AGES, "a) Young Adult (18-30)\nb) Early Career (31-40)\nc) Mid Career (41-50)\n"
     "d) Senior (51-70)\ne) Elderly (71+)", None),
    ("echo_lowercase", "VESUS", EMO, "a) angry\nb) happy\nc) neutral\nd) sad", None),
    ("echo_lowercase", "VESUS", EMO, "a) angry\nb) happy\nc) neutral\nd) sad\n\nThe speaker sounds sad, so d.", "D"),
    ("echo_lowercase", "VoxGender", [], "b) Female", "B"),
    ("several_letters", "RACE", R, "A\nB\nC\nD", None),
    ("several_letters", "RACE", R, "(A)(B)(C)(D)", None),
    ("several_letters", "RACE", R, "A. B. C. D.", None),
    ("several_letters", "RACE", R, "答案是A或B或C或D", None),
    ("several_letters", "RACE", R, "A and also B", None),
    ("several_letters", "RACE", R, "I choose A. Just kidding, B.", None),
    ("several_letters", "GTZAN", G, "A. Jazz B. Metal C. Rock D. Pop", None),
    ("several_letters", "GTZAN", G, "A. Jazz - jazz B. Metal - metal C. Rock - rock D. Pop - pop", None),
    ("several_letters", "SLUE", E, "A, B, C, or D", None),
    ("several_letters", "RACE", R, "The answer is A, B or C.", None),
    ("several_letters", "SLUE", E, "Between A and C, I would choose C.", "C"),
    ("several_letters", "RACE", R, "It's not D. The answer is B.", "B"),
    ("several_letters", "RACE", R, "Answer: C. Wait, actually it's D.", None),
    ("several_letters", "RACE", R, "A, B, C, D", None),
    ("several_letters", "GTZAN", G, "Either B or C.", None),
    ("several_letters", "VESUS", EMO, "a) or d)", None),
    ("several_letters", "RACE", R, "A/B", None),
    ("several_letters", "RACE", R, "The answer could be A. Or maybe C.", None),
    ("several_letters", "SLUE", E, "B\nD", None),
    ("several_letters", "DESED", D4, "A, B", None),
    ("several_letters", "RACE", R, "I choose A and C.", None),
    ("several_letters", "VoxGender", [], "a\nb", None),
    ("several_letters", "HAD", [], "a or b", None),
    ("several_letters", "RACE", R, "The answer is B.\nThe answer is B.", "B"),
    ("several_letters", "RACE", R, "B. Not A, C or D.", "B"),
    ("several_letters", "GTZAN", G, "The answer is B. Metal - metal", "B"),
    ("several_letters", "RACE", R, "Answer: D\n\nA is wrong because the passage never says so, and C is not mentioned.",
     "D"),
    ("several_letters", "SLUE", E, "The answer is C. Options A and B are cities, not people.", "C"),
    ("several_letters", "GTZAN", G, "Let's analyze each option:\nA. Jazz - no swing rhythm\nB. Metal - distorted guitars "
     "and fast drums\nC. Rock - too heavy for rock\nD. Pop - no catchy hooks\nAnswer: B", "B"),
    ("several_letters", "RACE", R, "The correct answer is C.\n\nA. Incorrect\nB. Incorrect\nC. Correct\nD. Incorrect",
     "C"),
    ("several_letters", "RACE", R, "Answer: B\n\nA: No\nB: Yes\nC: No\nD: No", "B"),
    ("several_letters", "SLUE", E, "B\n\nExplanation: Option A is not mentioned, C is unrelated, and D is never said.",
     "B"),
]


def options_for(task, rng: random.Random) -> list[str]:
    if task.fixed_choices:
        return list(task.labels)
    if task.name == "RACE":
        return rng.sample(RACE_OPTIONS, task.n_choices)
    if task.name == "SLUE":
        return rng.sample(SLUE_OPTIONS, task.n_choices)
    labels = rng.sample(list(task.labels), task.n_choices)
    return [task.option_text(lab) if task.option_texts else lab for lab in labels]


def parts(text: str) -> tuple[str, str, str]:
    """(display, label, range) of an option text."""
    if " - " in text:
        display, _, label = text.rpartition(" - ")
        return display, label, ""
    if text.endswith(")") and "(" in text:
        name, _, rest = text.rpartition("(")
        return name.strip(), text, rest.rstrip(")")
    return text, text, ""


def main() -> None:
    rng = random.Random(13)
    rows = []
    for name in ("RACE", "SLUE", "TAU", "GTZAN", "DESED", "VESUS", "HAD", "VoxGender", "VoxAge"):
        task = get_task(name)
        for style, template, grade in COMMON + PER_TASK.get(name, []):
            if "{range}" in template and task.name != "VoxAge":
                continue
            options = options_for(task, rng)
            target = rng.randrange(len(options))
            if grade in ("real", "fake", "male", "female"):
                target = [lab.casefold() for lab in task.labels].index(grade)
                grade = "L"
            other = rng.choice([i for i in range(len(options)) if i != target])
            display, label, age_range = parts(options[target])
            echo = "\n".join(task.prompt.option_format.format(letter=LETTERS[i], text=t) for i, t in enumerate(options))
            reply = template.format(
                L=LETTERS[target], l=LETTERS[target].lower(), T=options[target], D=display, Dlow=display.casefold(),
                DUP=display.upper(), lab=label, labspace=label.replace("_", " "), O=LETTERS[other], OT=options[other],
                R=rng.choice(REASONS), ECHO=echo, range=age_range)
            letter = LETTERS[target] if grade == "L" else LETTERS[other] if grade == "O" else None
            rows.append({"task": name, "choices": options, "reply": reply, "grade": letter, "style": style})
    for name, options, reply, letter in HANDWRITTEN:
        rows.append({"task": name, "choices": options, "reply": reply, "grade": letter, "style": "handwritten"})
    for style, name, options, reply, letter in STYLED:
        rows.append({"task": name, "choices": options, "reply": reply, "grade": letter, "style": style})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} replies to {OUT}")


if __name__ == "__main__":
    main()
