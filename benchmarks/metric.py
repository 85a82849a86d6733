"""Benchmark: score() on a full-size run (6,567 replies over all 10 tasks, paper counts) with
1,000-replicate bootstrap CIs, on one core; and answer extraction of hostile replies (1 MB, and
20,000 lines). Targets: score() under 1 s, each extraction under 50 ms.

    .venv/bin/python benchmarks/metric.py [--repeats 5] [--n-bootstrap 1000] [--seed 0]

Multiple-choice replies are verbose (~100 words: a rationale, then the answer in one of many
styles, some refusals and hedges); ASR replies are ~400-word transcripts with ~5% word errors (a
150 s LibriSpeech clip holds about 400 words). The process is pinned to one CPU and BLAS to one
thread before numpy loads.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse
import platform
import statistics
import time

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS
from audiomarathon_metric import extract_answer
from audiomarathon_metric import score
from audiomarathon_metric.display import fmt1

STYLES = ("{l}", "Answer: {l}", "The answer is ({l}).", "{t}", "{l}. {t}", "I think it is {t}.", "{lo}",
          "I'm sorry, I cannot determine that.", "{l} or {o}", "{l} is the correct answer.", '{{"answer": "{l}"}}',
          "答案是{l}", "It is not {o}; the correct answer is {l}.")
RATIONALE = ("After listening to the entire recording carefully, several cues stand out. The background "
             "is steady and the main sound source is close to the microphone. There are a few short pauses "
             "and some variation in loudness over time, but the overall character of the audio does not "
             "change much between the beginning and the end. Taking the duration and the consistency of "
             "these acoustic features into account, and comparing them with what each option would sound "
             "like, one option fits noticeably better than the others.").split()
VOCAB = [f"w{i}" for i in range(5000)]
HOSTILE = {
    "1 MB of prose": ("the music has a steady beat and " * 40000)[:1_000_000],
    "1 MB of 'B '": "B " * 500_000,
    "20,000 newlines": "\n" * 20_000,
    "20,000 lines 'B'": "B\n" * 20_000,
    "20,000 lines of prose": "The answer could be\n" * 20_000,
    "10,000 chars of 'is not A, '": ("is not A, " * 1000),
    "9,998 chars of 'A '": "A " * 4999,
    "9,990 chars of prose, then the answer": ("the music has a steady beat and " * 400)[:9974] + " The answer is B.",
}


def make_run(seed: int):
    rng = np.random.default_rng(seed)
    preds, refs, tasks, choices = [], [], [], []
    for task in TASKS:
        for _ in range(task.paper_count):
            tasks.append(task.name)
            if not task.is_mcq:
                words = list(rng.choice(VOCAB, int(rng.integers(300, 500))))
                hyp = [w if rng.random() > 0.05 else str(rng.choice(VOCAB)) for w in words]
                refs.append(" ".join(words))
                preds.append("Spoken Content: " + " ".join(hyp))
                choices.append([])
                continue
            pool = list(task.labels) if task.labels else [f"option text {i}" for i in range(40)]
            opts = list(task.labels) if task.fixed_choices else [str(x) for x in rng.choice(pool, task.n_choices, replace=False)]
            answer = int(rng.integers(task.n_choices))
            guess = answer if rng.random() < 0.6 else int(rng.integers(task.n_choices))
            other = (guess + 1) % task.n_choices
            style = STYLES[int(rng.integers(len(STYLES)))]
            words = (RATIONALE * 2)[: int(rng.integers(80, 120))]
            answer_text = style.format(l=LETTERS[guess], lo=LETTERS[guess].lower(), t=opts[guess], o=LETTERS[other])
            preds.append(" ".join(words) + " " + answer_text)
            refs.append(LETTERS[answer])
            choices.append(opts)
    return preds, refs, tasks, choices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    preds, refs, tasks, choices = make_run(args.seed)
    score(preds[:50], refs[:50], tasks[:50], choices=choices[:50], n_bootstrap=10)  # warm imports (jiwer)
    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = score(preds, refs, tasks, choices=choices, n_bootstrap=args.n_bootstrap, seed=args.seed)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"items: {len(preds)} over {out['n_tasks']} tasks; bootstrap replicates: {args.n_bootstrap}")
    words = np.mean([len(p.split()) for p, t in zip(preds, tasks) if t != "LibriSpeech"])
    print(f"multiple-choice replies: {words:.0f} words on average")
    print(f"score(): median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
          f"over {args.repeats} runs (target < 1 s, one core); CPU time median {statistics.median(cpu):.3f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, reply in HOSTILE.items():
        ex_times = []
        for _ in range(args.repeats):
            start = time.process_time()
            got = extract_answer(reply, ["jazz", "metal", "rock", "pop"], "GTZAN")
            ex_times.append(time.process_time() - start)
        print(f"extract_answer({name}, {len(reply):,} chars): CPU median {1000 * statistics.median(ex_times):.1f} ms, "
              f"max {1000 * max(ex_times):.1f} ms -> {got.rule} (target < 50 ms)")
    print(f"average {fmt1(out['average'])} (95% CI {fmt1(out['average_ci95'][0])}-{fmt1(out['average_ci95'][1])}); "
          f"invalid rate, GTZAN: {fmt1(out['tasks']['GTZAN']['invalid_rate'])}%")


if __name__ == "__main__":
    main()
