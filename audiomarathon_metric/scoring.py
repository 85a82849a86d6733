"""`score(...)`: the one implementation behind the evaluate module, the runner and the Space.

Raw replies in, per-task scores + leaderboard aggregate + statistics out (a JSON-ready dict).
Definitions: this package's README (the metric card). What it takes (``ScoreSettings``,
``prepare_items``) is in ``score_inputs``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import ALL_TASKS
from audiomarathon.tasks import BENCHMARKS
from audiomarathon.tasks import MCQ
from audiomarathon.tasks import WER
from audiomarathon.tasks import Task
from audiomarathon.tasks import get_task

from .accuracy_scoring import PAPER_READERS
from .accuracy_scoring import benchmark_section
from .accuracy_scoring import benchmarks_of
from .accuracy_scoring import score_accuracy
from .aggregate import aggregate
from .extraction import clean_transcript
from .extraction import extract_answer
from .normalizers import get_normalizer
from .option_forms import norm_text
from .score_inputs import Item
from .score_inputs import ScoreSettings
from .score_inputs import ScoringInputError
from .score_inputs import TaskResult
from .score_inputs import prepare_items
from .stats import bonferroni
from .stats import bootstrap_counts
from .stats import bootstrap_indices
from .stats import f1_scores
from .stats import least_favourable
from .stats import percentile_ci
from .stats import poisson_binomial_sf
from .stats import word_errors

METRIC_VERSION = "1.0"


# ---------------------------------------------------------------- per-task scorers

def _class_key(task: Task, choices: tuple[str, ...], letter: str) -> str:
    # Closed label-set tasks score by label text (option order varies per item); others by letter.
    if task.f1_classes == "labels":
        return _label_class(task.name, choices[LETTERS.index(letter)])
    return letter


@functools.lru_cache(maxsize=65536)
def _label_class(task_name: str, text: str) -> str:
    # "Urban park - park", "park" and "Park" are one class: the registry's label where it knows one.
    return norm_text(get_task(task_name).option_label(text) or text)


@dataclass
class McqArrays:
    """One task's items as class ids; y_pred == n_classes marks an invalid reply."""

    y_true: np.ndarray
    y_pred: np.ndarray
    n_classes: int
    wrong: list[list[int]]  # class ids of each item's wrong options (what an invalid reply is scored as)
    chance: np.ndarray  # 1 / n_choices per item
    letters: list[str | None]
    rules: list[str]

    @property
    def valid(self) -> np.ndarray:
        return self.y_pred < self.n_classes


def encode_classes(items: Sequence[Item], *letter_runs: Sequence[str | None]):
    """Class ids for the references, each run's parsed letters and every item's wrong options,
    over one shared vocabulary (sorted class keys, so ids are deterministic); an invalid reply
    gets id K = n_classes. Returns (y_true, [y_pred per run], K, wrong)."""
    option_keys = [[_class_key(it.task, it.choices, letter) for letter in LETTERS[: len(it.choices)]] for it in items]
    true_keys = [_class_key(it.task, it.choices, it.reference) for it in items]
    classes = sorted(set(true_keys).union(*option_keys))
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    y_true = np.array([index[c] for c in true_keys], dtype=np.int64)
    y_preds = [np.array([k if letter is None else index[_class_key(it.task, it.choices, letter)]
                         for it, letter in zip(items, letters)], dtype=np.int64) for letters in letter_runs]
    wrong = [[index[key] for key in keys if key != true] for keys, true in zip(option_keys, true_keys)]
    return y_true, y_preds, k, wrong


def extract_all(items: Sequence[Item], replies: Sequence[str]) -> list:
    return [extract_answer(replies[it.index], it.choices, it.task) for it in items]


def mcq_arrays(items: Sequence[Item], replies: Sequence[str]) -> McqArrays:
    extracted = extract_all(items, replies)
    letters = [ex.letter for ex in extracted]
    y_true, (y_pred,), k, wrong = encode_classes(items, letters)
    return McqArrays(
        y_true=y_true,
        y_pred=y_pred,
        n_classes=k,
        wrong=wrong,
        chance=np.array([1.0 / len(it.choices) for it in items]),
        letters=letters,
        rules=[ex.rule for ex in extracted],
    )


def _pct(x) -> float:
    return 100.0 * float(x)


def _score_mcq(task: Task, items: Sequence[Item], replies: Sequence[str], settings: ScoreSettings) -> TaskResult:
    arr = mcq_arrays(items, replies)
    n = len(items)
    valid = arr.valid
    # strict: every item, an invalid reply scored as its least favourable wrong answer; paper: valid
    # replies only.
    scored = valid if settings.mode == "paper" else np.ones(n, dtype=bool)
    y_true, chance = arr.y_true[scored], arr.chance[scored]
    wrong = [w for w, keep in zip(arr.wrong, scored) if keep]
    y_pred = arr.y_pred[scored]
    # Each figure takes the wrong answers least favourable to it (they differ only in what the
    # invalid replies are scored as; accuracy is the same for any of them).
    y_weighted = least_favourable(y_true, y_pred, arr.n_classes, wrong, weighted=True)
    y_pred = least_favourable(y_true, y_pred, arr.n_classes, wrong)
    n_scored = int(scored.sum())
    correct = int((arr.y_true == arr.y_pred)[scored].sum())
    rule_counts: dict[str, int] = {}
    for r in arr.rules:
        rule_counts[r] = rule_counts.get(r, 0) + 1
    summary = {"score": None, "n": n, "n_scored": n_scored, "n_invalid": int(n - valid.sum()),
               "accuracy": None, "macro_f1": None, "weighted_f1": None,
               "invalid_rate": 100.0 * float(1.0 - valid.mean()) if n else 0.0,
               "chance_accuracy": _pct(chance.mean()) if n_scored else None,
               "ci95": None, "p_value": None, "rules": dict(sorted(rule_counts.items()))}
    replicates = np.empty(0)
    if n_scored:
        point = f1_scores(y_true, y_pred, arr.n_classes)
        weighted = f1_scores(y_true, y_weighted, arr.n_classes).weighted_f1
        if settings.n_bootstrap > 0:
            counts = bootstrap_counts(n_scored, settings.n_bootstrap, settings.rng(task))
            replicates = 100.0 * f1_scores(y_true, y_pred, arr.n_classes, counts).macro_f1
        summary.update(score=_pct(point.macro_f1), accuracy=_pct(point.accuracy), macro_f1=_pct(point.macro_f1),
                       weighted_f1=_pct(weighted), ci95=percentile_ci(replicates),
                       p_value=poisson_binomial_sf(correct, chance))
    samples = [
        {"index": it.index, "id": it.id, "task": task.name, "parsed": letter, "rule": rule,
         "reference": it.reference, "correct": letter == it.reference}
        for it, letter, rule in zip(items, arr.letters, arr.rules)
    ]
    return TaskResult(summary, replicates, samples)


def _score_asr(task: Task, items: Sequence[Item], replies: Sequence[str], settings: ScoreSettings) -> TaskResult:
    normalize = get_normalizer(settings.normalizer)
    errors = np.empty(len(items))
    words = np.empty(len(items))
    empty = np.zeros(len(items), dtype=bool)
    samples = []
    for j, it in enumerate(items):
        hyp = normalize(clean_transcript(replies[it.index], task))
        ref = normalize(it.reference)
        if not ref.split():
            raise ScoringInputError(f"references[{it.index}] ({task.name}) is empty after normalization")
        empty[j] = not hyp.split()
        errors[j], words[j] = word_errors(ref, hyp)
        samples.append({"index": it.index, "id": it.id, "task": task.name, "parsed": hyp, "rule": "transcript",
                        "wer": 100.0 * errors[j] / words[j], "correct": None})
    # strict: an empty transcript is all deletions (WER 100); paper: skipped, as the authors'
    # LibriSpeech scoring skips utterances with an empty hypothesis.
    scored = ~empty if settings.mode == "paper" else np.ones(len(items), dtype=bool)
    errors, words = errors[scored], words[scored]
    n_scored = int(scored.sum())
    summary = {"score": None, "n": len(items), "n_scored": n_scored, "n_empty": int(empty.sum()),
               "wer": None, "corpus_wer": None, "ci95": None, "corpus_wer_ci95": None,
               "normalizer": settings.normalizer_name}
    replicates = np.empty(0)
    if n_scored:
        per_utt = 100.0 * errors / words
        wer = float(per_utt.mean())
        corpus_ci = None
        if settings.n_bootstrap > 0:
            idx = bootstrap_indices(n_scored, settings.n_bootstrap, settings.rng(task))
            replicates = np.clip(100.0 - per_utt[idx].mean(axis=1), 0.0, 100.0)
            corpus_ci = percentile_ci(100.0 * errors[idx].sum(axis=1) / words[idx].sum(axis=1))
        summary.update(score=float(np.clip(100.0 - wer, 0.0, 100.0)), wer=wer,
                       corpus_wer=float(100.0 * errors.sum() / words.sum()), ci95=percentile_ci(replicates),
                       corpus_wer_ci95=corpus_ci)
    return TaskResult(summary, replicates, samples)


SCORERS: dict[str, Callable[[Task, Sequence[Item], Sequence[str], ScoreSettings], TaskResult]] = {
    MCQ: _score_mcq,
    WER: _score_asr,
}


def _scorers_for(settings: ScoreSettings) -> tuple[dict, dict]:
    """Strict mode: this metric's scorers. Paper mode: those of the rules the authors' scripts
    apply to the settings' family, and what the output records about them."""
    if settings.mode != "paper":
        return SCORERS, {}
    from .paper_scoring import scorers

    name, rules = settings.family_rules()
    return scorers(rules), {"normalizer": "authors", "family": name, "paper_rules": rules.family}


def scorer_of(task: Task, scorers: dict) -> Callable:
    """A task's scorer: its benchmark's accuracy scorer (MMAR, AIR-Bench Foundation; both modes),
    else the mode's scorer of its metric kind (AudioMarathon)."""
    return score_accuracy if task.benchmark in PAPER_READERS else scorers[task.metric]


def group_by_task(items: Sequence[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = {t.name: [] for t in ALL_TASKS}
    for it in items:
        groups[it.task.name].append(it)
    return {name: group for name, group in groups.items() if group}


# ---------------------------------------------------------------- the public function

def score(
    predictions: Sequence[str],
    references: Sequence[str],
    tasks: Sequence[str] | str,
    choices: Sequence[Sequence[str]] | None = None,
    ids: Sequence[str] | None = None,
    *,
    durations: Sequence[float] | None = None,
    evidence: Sequence[float | None] | None = None,
    meta: Sequence[dict | str | None] | None = None,
    settings: ScoreSettings | None = None,
    **options,
) -> dict:
    """Score raw model replies.

    predictions: raw replies; references: answer letters (MCQ) or transcripts (ASR);
    tasks: one task (config name or abbreviation) for all items, or one per item;
    choices: per-item option texts (may be omitted for HAD and VoxGender, whose options are fixed);
    ids: per-item ids (default "<task>-<index>"), echoed in the per-sample records;
    durations: seconds per item -> ``by_duration`` (scores per duration bin and a trend test per
    task); evidence: relative evidence centre per item (0..1, None where unmarked) ->
    ``by_evidence_position`` (both over AudioMarathon's items only);
    meta: per-item meta (a dict or the dataset's JSON text; MMAR's modality / category /
    sub-category, Foundation's dataset_name) -> the benchmark's breakdown tables.
    A run holding tasks of MMAR or AIR-Bench Foundation also gets ``benchmarks``: per benchmark
    key, its aggregate as its leaderboard publishes it, its tables and its random-guess baseline;
    the top-level aggregate fields are AudioMarathon's when the run has its tasks, else those of
    the run's only benchmark (None when it mixes two others).
    How to score: ``settings`` (a ScoreSettings), or its fields as keyword arguments (mode, family,
    normalizer, n_bootstrap, seed, alpha, per_sample, duration_bins, evidence_bins), which override
    the fields of ``settings`` when both are given. Every figure, invalid_rate included, is on the
    0-100 scale. See the metric card for every field.
    """
    settings = ScoreSettings.of(settings, options, "score()")
    scorers, rules_out = _scorers_for(settings)
    replies, items = prepare_items(predictions, references, tasks, choices, ids, meta)
    long_inputs = None
    if durations is not None or evidence is not None:
        from .long_audio import prepare_inputs

        long_inputs = prepare_inputs(len(items), durations, settings.duration_bins, evidence, settings.evidence_bins,
                                     ScoringInputError)
    results = {name: scorer_of(group[0].task, scorers)(group[0].task, group, replies, settings)
               for name, group in group_by_task(items).items()}

    # A task none of whose items could be scored (paper mode, no valid reply) has score None: it is
    # named in unscored_tasks and left out of every average rather than counted as 0.
    n_tests = sum(1 for res in results.values() if res.summary.get("p_value") is not None)
    task_out = {}
    for name, res in results.items():
        summary = dict(res.summary)
        if get_task(name).metric == MCQ:
            p = summary.get("p_value")
            summary["p_value_bonferroni"] = None if p is None else bonferroni(p, n_tests)
            summary["significant"] = None if p is None else bool(summary["p_value_bonferroni"] < settings.alpha)
        task_out[name] = summary

    audiomarathon = [name for name in results if get_task(name).benchmark == "AudioMarathon"]
    others = [b for b in benchmarks_of(results) if b.name != "AudioMarathon"]
    sections = {b.key: benchmark_section(b, results, settings.n_bootstrap) for b in others}
    if audiomarathon or not others:
        agg = aggregate({name: task_out[name]["score"] for name in audiomarathon})
        scored = [results[name] for name in audiomarathon if task_out[name]["score"] is not None]
        overall_ci = None
        if settings.n_bootstrap > 0 and scored and all(r.replicates.size for r in scored):
            overall_ci = percentile_ci(np.mean([r.replicates for r in scored], axis=0))
        top = {"categories": agg["categories"], "average": agg["average"], "average_ci95": overall_ci,
               "n_tasks": agg["n_tasks"], "complete": agg["complete"], "missing_tasks": agg["missing"],
               "unscored_tasks": agg["unscored"]}
        if others:
            sections = {BENCHMARKS["AudioMarathon"].key: {"name": "AudioMarathon", "aggregation": "audiomarathon",
                                                          **top, "n": sum(len(g) for n, g in group_by_task(items).items()
                                                                          if n in audiomarathon)},
                        **sections}
    elif len(others) == 1:
        top = {k: sections[others[0].key][k] for k in ("categories", "average", "average_ci95", "n_tasks", "complete",
                                                        "missing_tasks", "unscored_tasks")}
    else:  # two benchmarks other than AudioMarathon: their averages do not combine
        top = {"categories": {}, "average": None, "average_ci95": None, "n_tasks": len(results), "complete": False,
               "missing_tasks": [], "unscored_tasks": [n for n, s in task_out.items() if s["score"] is None]}
    out = {
        "tasks": task_out,
        **top,
        "n": len(items),
        "mode": settings.mode,
        "normalizer": settings.normalizer_name,
        "n_bootstrap": settings.n_bootstrap,
        "seed": settings.seed,
        "alpha": settings.alpha,
        "bonferroni_tests": n_tests,
        "metric_version": METRIC_VERSION,
        **rules_out,
    }
    if sections:
        out["benchmarks"] = sections
    if rules_out and not audiomarathon:  # MMAR's and Foundation's official rules are the same for every family
        for key in rules_out:
            out.pop(key)
        out["normalizer"] = settings.normalizer_name
    long_groups = {name: group for name, group in group_by_task(items).items() if name in audiomarathon}
    if long_inputs and long_groups:
        from .long_audio import long_audio_sections

        # Duration bins and evidence positions are AudioMarathon's long-audio analysis (90-300 s items).
        out.update(long_audio_sections(long_groups, replies, settings, scorers, results, **long_inputs))
    if settings.per_sample:
        samples = [s for res in results.values() for s in res.samples]
        out["per_sample"] = sorted(samples, key=lambda s: s["index"])
    return out
