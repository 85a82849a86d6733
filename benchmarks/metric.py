"""Benchmark: score() on a full-size run (6,567 replies over all 10 tasks, paper counts) with
1,000-replicate bootstrap CIs. Target: under 2 s.

    .venv/bin/python benchmarks/metric.py [--repeats 5] [--n-bootstrap 1000] [--seed 0]

Replies are synthetic but realistic: a mix of reply styles ("B", "Answer: C", option text,
sentences, refusals) for multiple-choice items and ~400-word transcripts with ~5% word errors for
ASR (a 150 s LibriSpeech clip holds about 400 words).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import TASKS
from audiomarathon_metric import score

STYLES = ("{l}", "Answer: {l}", "The answer is ({l}).", "{t}", "{l}. {t}", "I think it is {t}.", "{lo}",
          "I'm sorry, I cannot determine that.", "{l} or {o}")
VOCAB = [f"w{i}" for i in range(5000)]


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
            opts = [str(x) for x in rng.choice(pool, task.n_choices, replace=False)]
            answer = int(rng.integers(task.n_choices))
            guess = answer if rng.random() < 0.6 else int(rng.integers(task.n_choices))
            other = (guess + 1) % task.n_choices
            style = STYLES[int(rng.integers(len(STYLES)))]
            preds.append(style.format(l=LETTERS[guess], lo=LETTERS[guess].lower(), t=opts[guess], o=LETTERS[other]))
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
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = score(preds, refs, tasks, choices=choices, n_bootstrap=args.n_bootstrap, seed=args.seed)
        times.append(time.perf_counter() - start)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"items: {len(preds)} over {out['n_tasks']} tasks; bootstrap replicates: {args.n_bootstrap}")
    print(f"score(): median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
          f"over {args.repeats} runs (target < 2 s)")
    print(f"average {out['average']:.1f} (95% CI {out['average_ci95'][0]:.1f}-{out['average_ci95'][1]:.1f}); "
          f"invalid rate, GTZAN: {out['tasks']['GTZAN']['invalid_rate']:.3f}")


if __name__ == "__main__":
    main()
