"""MMAR and AIR-Bench Foundation scoring: its speed on full-size runs, and the size of each flaw of
the official rules that strict mode fixes.

    .venv/bin/python benchmarks/score_benchmarks.py [--repeats 3] [--mmar-meta MMAR-meta.jsonl]

Runs (predictions generated here, seeded): a full-size synthetic MMAR run (1,000 items with the
release's option counts: 815 x 4, 171 x 2, 10 x 3, 3 x 5, 1 x 6; 20 items whose wrong option holds the
answer's words in another order) and an AIR-Bench Foundation run (25 folders x 1,000 = 25,000 items,
2-4 options), each with replies in the styles audio LLMs write (see ``MMAR_STYLES``/``AIR_STYLES``).
Prints markdown: (1) score() time per run and mode (median of --repeats, with and without the
bootstrap), (2) each run's strict and paper scores, (3) the graded reply corpora read by the
official rules and by strict mode (tests/data/replies.jsonl for AIR-Bench's letter rule,
tests/data/mmar_replies.jsonl for MMAR's match), and, with --mmar-meta (the release's metadata),
(4) the items of the real release where the bag-of-words match credits a wrong option, and the
random-guess row per modality.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audiomarathon.prompts import LETTERS  # noqa: E402
from audiomarathon.tasks import FOUNDATION_TASKS  # noqa: E402
from audiomarathon_metric import score  # noqa: E402
from audiomarathon_metric.aggregations import random_guess_accuracy  # noqa: E402
from audiomarathon_metric.airbench_rules import official_letter  # noqa: E402
from audiomarathon_metric.display import fmt1  # noqa: E402
from audiomarathon_metric.extraction import extract_answer  # noqa: E402
from audiomarathon_metric.mmar_rules import official_match  # noqa: E402
from audiomarathon_metric.mmar_rules import official_words  # noqa: E402

WORDS = ("bird whistle engine rain crowd violin piano drum siren bell dog voice wind train laughter guitar "
         "thunder water door clock horn choir bass flute trumpet market street forest river city").split()
MODALITIES = {"sound": 165, "music": 206, "speech": 387, "mix-sound-music": 11, "mix-sound-speech": 218,
              "mix-music-speech": 82, "mix-sound-music-speech": 24}  # sums to 1,093: drawn with these weights
LAYERS = ("Signal Layer", "Perception Layer", "Semantic Layer", "Cultural Layer")
MMAR_COUNTS = [4] * 815 + [2] * 171 + [3] * 10 + [5] * 3 + [6]
# Reply styles and their shares: (name, share).
MMAR_STYLES = (("option_text", 0.45), ("sentence", 0.2), ("bare_letter", 0.1), ("two_options", 0.07),
               ("refusal", 0.08), ("missing", 0.05), ("empty", 0.05))
AIR_STYLES = (("letter", 0.45), ("answer_phrase", 0.15), ("based_on", 0.1), ("certainly", 0.05),
              ("option_text", 0.1), ("refusal", 0.1), ("empty", 0.05))


def _style(rng: random.Random, styles) -> str:
    x, acc = rng.random(), 0.0
    for name, share in styles:
        acc += share
        if x < acc:
            return name
    return styles[-1][0]


def mmar_run(seed: int = 0) -> dict:
    rng = random.Random(seed)
    counts = MMAR_COUNTS[:]
    rng.shuffle(counts)
    swapped = set(rng.sample([i for i, c in enumerate(counts) if c >= 2], 20))
    cols = {"predictions": [], "references": [], "choices": [], "meta": [], "ids": []}
    for i, n in enumerate(counts):
        if i in swapped:  # "From far to near" / "From near to far": the same words, another order
            a, b = rng.sample(WORDS, 2)
            choices = [f"From {a} to {b}", f"From {b} to {a}"] + [" ".join(rng.sample(WORDS, 3)) for _ in range(n - 2)]
        else:
            choices = [" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(n)]
            choices = list(dict.fromkeys(choices)) + [f"option {k}" for k in range(n - len(set(choices)))]
        answer = rng.randrange(n)
        # Swapped items: the model states the wrong option of the pair half the time.
        said = (1 - answer if answer < 2 and rng.random() < 0.5 else answer) if i in swapped else (
            answer if rng.random() < 0.6 else rng.randrange(n))
        style = "option_text" if i in swapped else _style(rng, MMAR_STYLES)
        reply = {"option_text": choices[said], "sentence": f"I think it is {choices[said].lower()}.",
                 "bare_letter": LETTERS[said], "two_options": f"{choices[0]} or {choices[-1]}",
                 "refusal": "I cannot determine this from the audio.", "missing": None, "empty": ""}[style]
        cols["predictions"].append(reply)
        cols["references"].append(LETTERS[answer])
        cols["choices"].append(choices)
        cols["meta"].append({"modality": rng.choices(list(MODALITIES), weights=list(MODALITIES.values()))[0],
                             "category": rng.choice(LAYERS), "sub-category": f"sub-{rng.randrange(16)}"})
        cols["ids"].append(f"mmar-{i}")
    cols["tasks"] = "MMAR"
    return cols


def foundation_run(seed: int = 0, per_folder: int = 1000) -> dict:
    rng = random.Random(seed)
    cols = {"predictions": [], "references": [], "choices": [], "meta": [], "ids": [], "tasks": []}
    for task in FOUNDATION_TASKS:
        for dataset in task.dataset_names:
            for j in range(per_folder):
                n = rng.choice((2, 3, 4, 4, 4))
                choices = [" ".join(rng.sample(WORDS, 2)) for _ in range(n)]
                choices = list(dict.fromkeys(choices)) + [f"option {k}" for k in range(n - len(set(choices)))]
                answer = rng.randrange(n)
                said = answer if rng.random() < 0.6 else rng.randrange(n)
                style = _style(rng, AIR_STYLES)
                reply = {"letter": LETTERS[said], "answer_phrase": f"The answer is {LETTERS[said]}.",
                         "based_on": f"Based on the audio, it is {choices[said]}.",
                         "certainly": f"Certainly, the sound is {choices[said]}.",
                         "option_text": choices[said], "refusal": "Sorry, I cannot tell.", "empty": ""}[style]
                cols["predictions"].append(reply)
                cols["references"].append(LETTERS[answer])
                cols["choices"].append(choices)
                cols["meta"].append({"task_name": task.name, "dataset_name": dataset})
                cols["tasks"].append(task.name)
                cols["ids"].append(f"{task.name}_{dataset}-{j}")
    return cols


def timed(cols: dict, repeats: int, **kw) -> tuple[float, dict]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = score(**cols, **kw)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def speed_and_scores(repeats: int) -> None:
    runs = {"MMAR (1,000 items)": mmar_run(), "AIR-Bench Foundation (25,000 items)": foundation_run()}
    print("## score() time (median of", repeats, "runs)\n")
    print("| run | mode | bootstrap | seconds | items/s | average | invalid % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, cols in runs.items():
        n = len(cols["predictions"])
        for mode in ("strict", "paper"):
            for boot in (1000, 0):
                seconds, out = timed(cols, repeats, mode=mode, n_bootstrap=boot)
                invalid = sum(t["n_invalid"] for t in out["tasks"].values()) / n * 100
                print(f"| {name} | {mode} | {boot} | {seconds:.2f} | {n / seconds:,.0f} | {fmt1(out['average'])} | "
                      f"{fmt1(invalid)} |")
    mmar = runs["MMAR (1,000 items)"]
    strict = score(**mmar, n_bootstrap=0, per_sample=True)["per_sample"]
    paper = score(**mmar, n_bootstrap=0, per_sample=True, mode="paper")["per_sample"]
    swapped_credit = sum(1 for s, p, c in zip(strict, paper, mmar["choices"])
                         if p["correct"] and not s["correct"] and s["parsed"] is not None)
    letters = sum(1 for s, p in zip(strict, paper) if s["rule"] == "bare_letter")
    letters_right = sum(1 for s, p in zip(strict, paper) if s["rule"] == "bare_letter" and s["correct"])
    print(f"\nMMAR run: the match credits {swapped_credit} replies that state another option (the swapped pairs); "
          f"{letters} replies are a bare letter, {letters_right} of them right, all scored 0 by the match.\n")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def airbench_corpus() -> None:
    """The graded corpus's replies to 2-4-option items, read by the official letter rule."""
    rows = [r for r in _rows(ROOT / "tests" / "data" / "replies.jsonl") if 2 <= len(r["choices"]) <= 4]
    tally = {"right letter": 0, "another letter": 0, "letter from no answer": 0, "answer dropped": 0,
             "no answer dropped": 0}
    strict_right = 0
    for r in rows:
        letter, _ = official_letter(r["reply"])
        grade = r["grade"]
        if letter is None:
            tally["answer dropped" if grade else "no answer dropped"] += 1
        elif grade is None:
            tally["letter from no answer"] += 1
        else:
            tally["right letter" if letter == grade else "another letter"] += 1
        strict_right += extract_answer(r["reply"], r["choices"], "Sound_AQA").letter == grade
    print(f"## AIR-Bench's letter rule on the graded corpus ({len(rows)} replies to 2-4 options)\n")
    print("| the official rule reads | replies | share |\n|---|---:|---:|")
    for k, v in tally.items():
        print(f"| {k} | {v} | {fmt1(100 * v / len(rows))}% |")
    print(f"\nStrict mode reads {strict_right} of {len(rows)} as graded ({fmt1(100 * strict_right / len(rows))}%).\n")


def mmar_corpus() -> None:
    """Every (reply, reference option) pair of the MMAR corpus: is it credited, and should it be?"""
    rows = _rows(ROOT / "tests" / "data" / "mmar_replies.jsonl")
    counts = {rule: {"credited, should not be": 0, "not credited, should be": 0} for rule in ("official", "strict")}
    pairs = 0
    for r in rows:
        said = extract_answer(r["reply"], r["choices"], "MMAR").letter
        for k, answer in enumerate(r["choices"]):
            pairs += 1
            should = r["grade"] == LETTERS[k]
            for rule, got in (("official", official_match(answer, r["reply"], r["choices"])),
                              ("strict", said == LETTERS[k])):
                if got and not should:
                    counts[rule]["credited, should not be"] += 1
                elif should and not got:
                    counts[rule]["not credited, should be"] += 1
    print(f"## MMAR's match on the graded corpus ({len(rows)} replies x each option as the answer = {pairs} pairs)\n")
    print("| rule | credited, should not be | not credited, should be |\n|---|---:|---:|")
    for rule, c in counts.items():
        print(f"| {rule} | {c['credited, should not be']} | {c['not credited, should be']} |")
    print()


def mmar_release(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x.strip()]
    same_words = [r for r in rows if any(c != r["answer"] and official_words(c) == official_words(r["answer"])
                                         for c in r["choices"])]
    credited = [r for r in rows for c in r["choices"] if c != r["answer"] and official_match(r["answer"], c, r["choices"])]
    print(f"## MMAR release metadata ({path.name}, {len(rows)} items)\n")
    print(f"- items with a wrong option of the answer's words in another order: {len(same_words)}; "
          f"a reply stating a wrong option verbatim is credited on {len(credited)} (item, option) pairs")
    examples = "; ".join(f"{r['answer']!r} vs " + " / ".join(
        repr(c) for c in r["choices"] if c != r["answer"] and official_words(c) == official_words(r["answer"]))
        for r in same_words[:3])
    print(f"- e.g. {examples}")
    by: dict[str, list[int]] = {}
    for r in rows:
        by.setdefault(r["modality"], []).append(len(r["choices"]))
    guess = " | ".join(f"{m} {fmt1(random_guess_accuracy(c))}" for m, c in by.items())
    print(f"- random guess mean(1/len(choices)): all {fmt1(random_guess_accuracy([len(r['choices']) for r in rows]))} "
          f"| {guess}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mmar-meta", type=Path, help="the MMAR release's MMAR-meta.json(l), for section 4")
    args = parser.parse_args()
    speed_and_scores(args.repeats)
    airbench_corpus()
    mmar_corpus()
    if args.mmar_meta:
        mmar_release(args.mmar_meta)


if __name__ == "__main__":
    main()
