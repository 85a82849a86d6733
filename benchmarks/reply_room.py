"""Reply room: how long replies are, and how many stop at the reply cap.

    python benchmarks/reply_room.py                       # the graded reply corpus (tests/data/replies.jsonl)
    python benchmarks/reply_room.py RUN_DIR [RUN_DIR ...]  # plus the share at the cap in run folders

Corpus: each reply's length as a LOWER bound on its token count: the pieces of Qwen2's byte-level
BPE pre-tokenizer (a BPE token never spans two pieces), so "at least X% are longer than N tokens".
Run folders: the ``hit_cap`` flag of predictions.jsonl; for runs from before the flag, a reply
that used every allowed token (``timings.output_tokens`` == the run's cap for its task; an upper
bound, since a reply ending its turn on the last allowed token counts too).
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Qwen2's pre-tokenizer pattern (tokenizer.json of the Qwen2 / Qwen2.5 checkpoints).
QWEN2_PRETOKENIZE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                     r"\s*[\r\n]+|\s+(?!\S)|\s+")
CAPS = (5, 10, 16, 32, 64, 128)


def corpus(path: Path) -> None:
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE), behavior="isolated")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lengths = sorted(len(split.pre_tokenize_str(r["reply"])) for r in rows if r["reply"])
    print(f"{path.relative_to(ROOT)}: {len(lengths)} replies, median {lengths[len(lengths) // 2]}, "
          f"longest {lengths[-1]} pieces (a lower bound on tokens)")
    for cap in CAPS:
        over = sum(n > cap for n in lengths)
        print(f"  longer than {cap:>3} tokens: at least {over:>3} ({100 * over / len(lengths):.1f}%)")
    from audiomarathon.tasks import get_task

    for label, cap_of in (("the registry's caps before the reply room (10; 5 for HAD, VoxGender)",
                           lambda task: 5 if task in ("HAD", "VoxGender") else 10),
                          ("the registry's caps now", lambda task: get_task(task).max_new_tokens)):
        answered = [r for r in rows if r["reply"]]
        cut = sum(len(split.pre_tokenize_str(r["reply"])) > cap_of(r["task"]) for r in answered)
        print(f"  cut off under {label}: at least {cut} ({100 * cut / len(answered):.1f}%)")


def run_folder(run: Path) -> None:
    from audiomarathon.records import PREDICTIONS_FILE, RESULTS_FILE, read_predictions, read_results, results_run_id

    results = read_results(run / RESULTS_FILE)
    caps = results["config"]["decoding"]["max_new_tokens"]
    capped, total = collections.Counter(), collections.Counter()
    for rec in read_predictions(run / PREDICTIONS_FILE, results_run_id(results)):
        if rec.get("error"):
            continue
        flag = rec.get("hit_cap")
        if flag is None:
            flag = rec["timings"]["output_tokens"] >= caps[rec["task"]]
        total[rec["task"]] += 1
        capped[rec["task"]] += bool(flag)
    n, k = sum(total.values()), sum(capped.values())
    print(f"{run}: {k} of {n} replies at the cap ({100 * k / n:.1f}%), caps {sorted(set(caps.values()))}")


def main(argv: list[str]) -> None:
    corpus(ROOT / "tests" / "data" / "replies.jsonl")
    for run in argv:
        run_folder(Path(run))


if __name__ == "__main__":
    main(sys.argv[1:])
