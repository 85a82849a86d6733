"""Where strict mode and the benchmark authors' scoring (paper mode) part, measured on replies.

    .venv/bin/python benchmarks/paper_vs_strict.py [RUN_DIR ...] [--seed 0]

Reply sets:
* the graded corpus (tests/data/replies.jsonl): multiple-choice replies in the styles audio LLMs
  write, each graded by hand with the option letter it asserts, or none. References are
  simulated (seeded): the graded letter for 70% of the replies that name one, another option
  otherwise, so a reply is right about as often as a good model's;
* run folders given on the command line (e.g. the demo's runs: `make demo`, then
  demo_out/runs/*), read as `audiomarathon score RUN_DIR` reads them;
* for ASR, LibriSpeech-style transcripts written out below in the forms chat models give them
  (typographic apostrophes and dashes, the prompt's "Spoken Content:" marker, an empty reply).

Prints markdown tables: (1) how each rule set reads the graded replies against the human grades;
(2) per task, the strict score and the paper score under each family's rules; (3) the effect of
each difference alone, on the corpus; (4) the same scores on the run folders; and the time
score() takes in paper mode on 6,567 replies.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audiomarathon.prompts import LETTERS  # noqa: E402
from audiomarathon.tasks import get_task  # noqa: E402
from audiomarathon_metric import score  # noqa: E402
from audiomarathon_metric.display import fmt1  # noqa: E402

FAMILIES = ("Qwen2.5-Omni", "Phi-4-multimodal", "Voxtral")
CORPUS = ROOT / "tests" / "data" / "replies.jsonl"


def corpus(seed: int) -> dict[str, dict]:
    """Per task: replies, simulated references, choices, human grades."""
    rng = random.Random(seed)
    tasks: dict[str, dict] = {}
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        task = get_task(row["task"])
        choices = row["choices"] or list(task.labels)
        letters = LETTERS[: len(choices)]
        grade = row["grade"]
        if grade and rng.random() < 0.7:
            ref = grade
        else:
            ref = rng.choice([x for x in letters if x != grade])
        t = tasks.setdefault(task.name, {"replies": [], "references": [], "choices": [], "grades": []})
        for key, value in (("replies", row["reply"]), ("references", ref), ("choices", choices), ("grades", grade)):
            t[key].append(value)
    return tasks


def run_score(t: dict, task: str, mode: str, family: str | None = None) -> dict:
    return score(t["replies"], t["references"], [task] * len(t["replies"]), choices=t["choices"], mode=mode,
                 family=family, n_bootstrap=0, per_sample=True)


def reading_table(tasks: dict) -> list[str]:
    rows = [("strict", None)] + [(f"paper, {f}'s rules", f) for f in FAMILIES]
    out = ["| rules | replies | graded letter read | another letter | a letter from a reply naming none | "
           "nothing from a reply naming one | agree with the grade |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, family in rows:
        counts = np.zeros(4)
        n = 0
        for name, t in tasks.items():
            res = run_score(t, name, "paper" if family else "strict", family)
            for s, grade in zip(res["per_sample"], t["grades"]):
                got = s["parsed"]
                n += 1
                if grade is not None and got == grade:
                    counts[0] += 1
                elif grade is not None and got is not None:
                    counts[1] += 1
                elif grade is None and got is not None:
                    counts[2] += 1
                elif grade is not None and got is None:
                    counts[3] += 1
        agree = n - counts[1:].sum()
        out.append(f"| {label} | {n} | " + " | ".join(f"{fmt1(100 * c / n)}%" for c in counts)
                   + f" | {fmt1(100 * agree / n)}% |")
    return out


def score_table(tasks: dict, title: str) -> list[str]:
    out = [f"| {title} | n | strict | " + " | ".join(f"{f} (Δ)" for f in FAMILIES) + " |",
           "|---|---:|---:|" + "---:|" * len(FAMILIES)]
    strict_all, paper_all = [], {f: [] for f in FAMILIES}
    for name, t in tasks.items():
        s = run_score(t, name, "strict")["tasks"][name]["score"]
        cells = []
        for f in FAMILIES:
            p = run_score(t, name, "paper", f)["tasks"][name]["score"]
            cells.append("n/a" if p is None else f"{fmt1(p)} ({'+' if p >= s else ''}{fmt1(p - s)})")
            if p is not None:
                paper_all[f].append(p - s)
        strict_all.append(s)
        out.append(f"| {name} | {len(t['replies'])} | {fmt1(s)} | " + " | ".join(cells) + " |")
    out.append("| mean Δ over the tasks | | | " + " | ".join(
        f"{'+' if np.mean(d) >= 0 else ''}{fmt1(float(np.mean(d)))}" for d in paper_all.values()) + " |")
    out.append("| mean \\|Δ\\| over the tasks | | | " + " | ".join(
        fmt1(float(np.mean(np.abs(d)))) for d in paper_all.values()) + " |")
    return out


def _sk(y_true, y_pred, **kw) -> float:
    return 100.0 * f1_score(y_true, y_pred, zero_division=0, **kw)


def cause_table(tasks: dict) -> list[str]:
    """Each difference alone, from strict's extraction: the rest held at strict's definition."""
    rows = []
    # 1. Unreadable replies dropped (the scripts) instead of scored as the least favourable wrong
    #    answer (strict): strict on the readable replies only vs strict on all.
    drops = []
    for name, t in tasks.items():
        full = run_score(t, name, "strict")
        keep = [s["parsed"] is not None for s in full["per_sample"]]
        if all(keep) or not any(keep):
            continue
        sub = {k: [v for v, ok in zip(t[k], keep) if ok] for k in ("replies", "references", "choices")}
        drops.append((name, run_score(sub, name, "strict")["tasks"][name]["score"] - full["tasks"][name]["score"],
                      100.0 * (1 - np.mean(keep))))
    rows.append(("Unreadable replies dropped instead of scored as the least favourable wrong answer",
                 "; ".join(f"{n} {'+' if d >= 0 else ''}{fmt1(d)} ({fmt1(r)}% unreadable)" for n, d, r in drops)))
    # 2. Letters as F1 classes (the scripts) instead of the option labels (strict), on strict's
    #    readable replies, for the label tasks whose options are shuffled per item.
    classes = []
    for name in ("TAU", "GTZAN", "VESUS", "VoxAge"):
        t = tasks[name]
        task = get_task(name)
        res = run_score(t, name, "strict")
        pairs = [(ref, s["parsed"], ch) for ref, s, ch in zip(t["references"], res["per_sample"], t["choices"])
                 if s["parsed"] is not None]
        by_letter = _sk([r for r, _, _ in pairs], [p for _, p, _ in pairs], average="macro")

        def label(ch, letter, task=task):
            text = ch[LETTERS.index(letter)]
            return task.option_label(text) or text

        by_label = _sk([label(c, r) for r, _, c in pairs], [label(c, p) for _, p, c in pairs], average="macro")
        classes.append((name, by_letter - by_label))
    rows.append(("Option letters as the F1 classes instead of the option labels (macro F1 on strict's readable "
                 "replies)", "; ".join(f"{n} {'+' if d >= 0 else ''}{fmt1(d)}" for n, d in classes)))
    # 3. The figure each script reports instead of the macro F1, on that script's own pairs.
    for family in FAMILIES:
        figures = []
        for name, t in tasks.items():
            task_out = run_score(t, name, "paper", family)["tasks"][name]
            if task_out["score"] is None or task_out["figure"] == "macro_f1":
                continue
            macro = task_out["macro_f1"]
            if macro is None:  # accuracy / fake-positive F1 over every item: the macro F1 on the readable ones
                macro = _macro_on_read(t, name, family)
            figures.append((name, task_out["figure"], task_out["score"] - macro))
        rows.append((f"{family}: the figure its script reports instead of the macro F1 over the same pairs",
                     "; ".join(f"{n} [{fig}] {'+' if d >= 0 else ''}{fmt1(d)}" for n, fig, d in figures)
                     or "none: every task reports the macro F1"))
    out = ["| difference (alone) | effect on the task score, points (corpus) |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in rows]
    return out


def _macro_on_read(t: dict, name: str, family: str) -> float:
    res = run_score(t, name, "paper", family)
    pairs = [(ref, s["parsed"]) for ref, s in zip(t["references"], res["per_sample"]) if s["parsed"] is not None]
    return _sk([r for r, _ in pairs], [p for _, p in pairs], average="macro") if pairs else 0.0


# (reference, reply): LibriSpeech-style sentences as chat models return them.
ASR_PAIRS = [
    ("HE HOPED THERE WOULD BE STEW FOR DINNER TURNIPS AND CARROTS AND BRUISED POTATOES",
     "Spoken Content: He hoped there would be stew for dinner — turnips and carrots and bruised potatoes."),
    ("IT'S THE SAME OLD STORY SAID THE CAPTAIN", "Spoken Content: “It’s the same old story,” said the captain."),
    ("SHE DIDN'T KNOW WHAT TO SAY", "She didn’t know what to say."),
    ("THE TWENTY-FIRST OF MAY WAS A BRIGHT DAY", "Spoken Content: The twenty‑first of May was a bright day."),
    ("WE'LL MEET AT THE OLD MILL", "Spoken Content: We'll meet at the old mill."),
    ("A WELL-KNOWN FACE IN THE CROWD", "Spoken Content: A well-known face in the crowd…"),
    ("THERE WAS NOTHING LEFT TO DO", "Spoken Content:"),
    ("HE SAID NOTHING AT ALL", ""),
    ("AND THEN THE RAIN CAME DOWN", "Spoken Content: And then the rain came down / and down."),
    ("O'CONNOR'S HOUSE STOOD ON THE HILL", "Spoken Content: O’Connor’s house stood on the hill."),
]


def asr_table() -> list[str]:
    refs, replies = [r for r, _ in ASR_PAIRS], [h for _, h in ASR_PAIRS]
    out = ["| rules | WER (mean per utterance) | utterances scored | task score |", "|---|---:|---:|---:|"]
    for label, kw in (("strict (benchmark normaliser)", {}),) + tuple(
            (f"paper, {f}'s rules", {"mode": "paper", "family": f}) for f in ("Qwen2.5-Omni", "Voxtral")):
        t = score(replies, refs, "ASR", n_bootstrap=0, **kw)["tasks"]["LibriSpeech"]
        out.append(f"| {label} | {fmt1(t['wer'])} | {t['n_scored']} of {t['n']} | {fmt1(t['score'])} |")
    return out


def run_folders(paths: list[str]) -> dict[str, dict]:
    from audiomarathon_metric.commands.score import score_columns

    tasks: dict[str, dict] = {}
    for folder in paths:
        cols = score_columns(Path(folder) / "predictions.jsonl")
        for reply, ref, task, choices in zip(cols["predictions"], cols["references"], cols["tasks"], cols["choices"]):
            name = get_task(task).name
            t = tasks.setdefault(name, {"replies": [], "references": [], "choices": [], "grades": []})
            t["replies"].append(reply)
            t["references"].append(ref)
            t["choices"].append(choices)
    return tasks


def read_share(tasks: dict) -> str:
    """The share of MCQ replies each rule set reads an option letter from."""
    shares = {}
    for label, mode, family in (("strict", "strict", None),) + tuple((f, "paper", f) for f in FAMILIES):
        read = total = 0
        for name, t in tasks.items():
            if get_task(name).is_mcq:
                samples = run_score(t, name, mode, family)["per_sample"]
                read += sum(s["parsed"] is not None for s in samples)
                total += len(samples)
        shares[label] = (read, total)
    return "MCQ replies read as an option letter: " + ", ".join(
        f"{k} {r} of {n} ({fmt1(100 * r / n)}%)" for k, (r, n) in shares.items())


def timing(tasks: dict) -> str:
    """score() in paper mode on 6,567 replies (the corpus repeated; 1,000 bootstrap replicates)."""
    replies, refs, names, choices = [], [], [], []
    while len(replies) < 6567:
        for name, t in tasks.items():
            replies += t["replies"]
            refs += t["references"]
            names += [name] * len(t["replies"])
            choices += t["choices"]
    replies, refs, names, choices = replies[:6567], refs[:6567], names[:6567], choices[:6567]
    best = {}
    for mode, family in (("strict", None), ("paper", "Qwen2.5-Omni"), ("paper", "Voxtral")):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            score(replies, refs, names, choices=choices, mode=mode, family=family)
            times.append(time.perf_counter() - t0)
        best[f"{mode}{'' if family is None else ' ' + family}"] = min(times)
    return "score() on 6,567 replies, 1,000 bootstrap replicates (best of 3): " + ", ".join(
        f"{k} {v:.2f} s" for k, v in best.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="run folders to score too (e.g. demo_out/runs/*)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated references")
    args = parser.parse_args(argv)
    tasks = corpus(args.seed)
    n = sum(len(t["replies"]) for t in tasks.values())
    print(f"### Reading the graded corpus ({n} replies), against the human grades\n")
    print("\n".join(reading_table(tasks)))
    print("\n### Task scores on the graded corpus (simulated references), strict vs paper\n")
    print("\n".join(score_table(tasks, "task")))
    print("\n### Each difference alone (corpus)\n")
    print("\n".join(cause_table(tasks)))
    print("\n### ASR: strict vs the authors' transcript rules\n")
    print("\n".join(asr_table()))
    if args.runs:
        print(f"\n### Task scores on {len(args.runs)} run folder(s): {', '.join(Path(r).name for r in args.runs)}\n")
        runs = run_folders(args.runs)
        print("\n".join(score_table(runs, "task")))
        print("\n" + read_share(runs))
    print("\n" + timing(tasks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
