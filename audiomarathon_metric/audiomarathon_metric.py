"""AudioMarathon metric for 🤗 evaluate: answer extraction, per-task scores, leaderboard aggregate.

A thin wrapper: every number comes from audiomarathon_metric.score(), the implementation the
runner and the Space also call. Load it with evaluate.load(<this folder>) or, once exported with
`python -m audiomarathon_metric.export OUT` and pushed as a Space, evaluate.load("<org>/audiomarathon").
"""

# One import per line: evaluate's dependency scan reads each import line on its own, and the
# exporter rewrites these lines into relative imports of the vendored copies. Every module the
# metric needs is imported here directly, because evaluate copies only direct local imports.
import datasets
import evaluate
from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import ALL
from audiomarathon.tasks import resolve_tasks
from audiomarathon_metric.accuracy_scoring import PAPER_READERS
from audiomarathon_metric.ages import age_range
from audiomarathon_metric.aggregate import aggregate
from audiomarathon_metric.aggregations import AGGREGATIONS
from audiomarathon_metric.aggregations import random_guess_accuracy
from audiomarathon_metric.airbench_rules import official_letter
from audiomarathon_metric.comparison import compare
from audiomarathon_metric.display import fmt1
from audiomarathon_metric.extraction import extract_answer
from audiomarathon_metric.extraction_rules import READING_RULES
from audiomarathon_metric.long_audio import DEFAULT_DURATION_BINS
from audiomarathon_metric.mmar_rules import official_match
from audiomarathon_metric.normalizers import NORMALIZERS
from audiomarathon_metric.option_forms import option_forms
from audiomarathon_metric.paper_readers import authors_normalize
from audiomarathon_metric.paper_rules import FAMILIES
from audiomarathon_metric.paper_scoring import scorers
from audiomarathon_metric.published import PUBLISHED
from audiomarathon_metric.reply_matchers import MAX_READ
from audiomarathon_metric.score_inputs import ScoreSettings
from audiomarathon_metric.score_inputs import prepare_items
from audiomarathon_metric.scoring import METRIC_VERSION
from audiomarathon_metric.scoring import score
from audiomarathon_metric.stats import percentile_ci

_CITATION = """\
@article{he2025audiomarathon,
  title   = {AudioMarathon: A Comprehensive Benchmark for Long-Context Audio Understanding and Efficiency in Audio LLMs},
  author  = {He, Peize and Wen, Zichen and Wang, Yubo and Wang, Yuxuan and Liu, Xiaoqian and Huang, Jiajie and
             Lei, Zehui and Gu, Zhuangcheng and Jin, Xiangqi and Yang, Jiabing and Li, Kai and Liu, Zhifei and
             Li, Weijia and Wang, Cunxiang and He, Conghui and Zhang, Linfeng},
  journal = {arXiv preprint arXiv:2510.07293},
  year    = {2025}
}
"""

_DESCRIPTION = """\
Scores raw audio-LLM replies on the 10 AudioMarathon tasks, and on MMAR and AIR-Bench Foundation
(accuracy; paper mode reproduces their official scoring scripts, strict mode fixes their flaws; each
benchmark aggregated as its leaderboard publishes it, under "benchmarks"). Multiple-choice replies are parsed
into a letter or *invalid* by documented rules (no random fallback); the headline task score is
macro-F1 (0-100), with accuracy, weighted F1, invalid rate, a seeded bootstrap 95% CI and an exact
Poisson-binomial test against random guessing (Bonferroni-corrected). ASR (LibriSpeech) is scored
as 100 - WER after normalization. The benchmark average is the plain mean of the task scores.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): raw model replies.
    references (list of str): answer letters ("A".."E") for multiple-choice tasks; reference
        transcripts for ASR (LibriSpeech).
    tasks (str or list of str, optional): each item's task (config name or abbreviation; "MMAR", a
        Foundation task_name such as "Sound_AQA"). Defaults to the config name when that is a task;
        required for configs naming several ("all", "default", "foundation", "airbench-foundation").
    choices (list of list of str, optional): each item's option texts in letter order. Required for
        multiple-choice items except HAD and VoxGender (fixed options); [] for ASR items.
    ids (list of str, optional): item ids, echoed in per-sample records; must be unique.
    meta (list of dict or JSON str, optional): each item's meta (the dataset's "meta" column):
        MMAR's modality / category / sub-category and Foundation's dataset_name give the benchmarks'
        breakdown and per-folder tables.
    mode ("strict" | "paper"): strict counts invalid replies as wrong (default); paper scores each
        task as the benchmark authors' script for the model's family does (MMAR, Foundation: their
        official script, the same for every family).
    family (str, optional): paper mode's model family ("Qwen2.5-Omni", "Phi-4-multimodal",
        "Voxtral", ...; default: Qwen2.5-Omni's scripts, which also cover the other families).
    normalizer ("benchmark" | "whisper" | "whisper_basic"): transcript normalizer for WER.
    n_bootstrap (int): bootstrap replicates for the 95% CIs (0 disables them). Default 1000.
    seed (int): bootstrap seed. Default 0.
    alpha (float): significance level of the test against guessing, after Bonferroni. Default 0.001.
    per_sample (bool): include per-item records (parsed letter, rule, correct). Default False.
    durations (list of float, optional): each item's duration in seconds; adds "by_duration" (scores,
        n and CIs per duration bin, per task and for the average, plus a trend test per task).
    duration_bins (list of float, optional): bin edges in seconds. Default (90, 150, 210, 300).
    evidence (list of float or None, optional): relative centre (0..1) of each item's evidence
        segments, None where none is marked; adds "by_evidence_position".
    evidence_bins (list of float, optional): edges in [0, 1]. Default thirds.
    settings (ScoreSettings, optional): the options above (mode .. evidence_bins) as one object,
        checked when it is made; options given as well override its fields.
    The per-item arguments may also be given with the replies: add_batch(predictions=...,
    references=..., tasks=[...], choices=[...]) or add(prediction=..., reference=..., task=...,
    choices=[...]), then compute() with the other options.
Returns:
    dict with "tasks" ({config: {"score", "n", "accuracy", "macro_f1", "weighted_f1",
    "invalid_rate", "ci95", "p_value", "p_value_bonferroni", "significant", ...} or for ASR
    {"score", "n", "wer", "corpus_wer", "ci95", ...}}), "categories", "average", "average_ci95",
    "complete" (all 10 tasks present), "mode", and "per_sample" when asked. With MMAR or Foundation
    items also "benchmarks" ({key: {"average", "categories", "random_guess", "tables", "folders",
    ...}}); their tasks' summaries give "accuracy", "n_scored", "chance_accuracy" (random guess).
Examples:
    >>> import evaluate
    >>> metric = evaluate.load("audiomarathon_metric", "GTZAN")  # from the repository root
    >>> out = metric.compute(predictions=["B", "ANSWER: C"], references=["B", "C"],
    ...                      choices=[["jazz", "rock", "pop", "metal"]] * 2, n_bootstrap=0)
    >>> out["tasks"]["GTZAN"]["accuracy"]
    100.0
"""


# Per-item columns, by their name in add_batch()/compute() and in add().
PER_ITEM = {"tasks": "task", "choices": "choices", "ids": "id", "durations": "duration", "evidence": "evidence",
            "meta": "meta"}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Audiomarathon(evaluate.Metric):
    """AudioMarathon scores; config name = a task (config name or abbreviation) or "all"."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            homepage="https://arxiv.org/abs/2510.07293",
            codebase_urls=["https://github.com/DabDans/AudioMarathon"],
            reference_urls=["https://arxiv.org/abs/2510.07293"],
        )

    def _default_task(self):
        name = (self.config_name or "default").strip()
        if name.lower() in (ALL, "default"):
            return None
        chosen = resolve_tasks(name)  # raises for an unknown config, listing the valid ones
        return chosen[0].name if len(chosen) == 1 else None  # a benchmark or group: tasks=[...] per item

    def _download_and_prepare(self, dl_manager):
        self._default_task()  # fail at load time on a bad config name

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add replies; the per-item columns (tasks, choices, ids, durations, evidence) may come along."""
        n = len(predictions) if predictions is not None else 0
        self._keep_columns({name: kwargs.pop(name) for name in list(kwargs) if name in PER_ITEM}, n)
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one reply; its task, choices, id, duration or evidence may come along."""
        columns = {plural: [kwargs.pop(single)] for plural, single in PER_ITEM.items() if single in kwargs}
        self._keep_columns(columns, 1)
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _keep_columns(self, columns, n):
        # evaluate's add()/add_batch() take only the declared features (predictions, references);
        # declaring the per-item columns as features would make them mandatory in every call, so
        # they are kept here, in order, and handed to compute() (one process).
        kept = self.__dict__.setdefault("_kept_columns", {})
        added = self.__dict__.get("_kept_rows", 0)
        columns = {name: [v] * n if isinstance(v, str) else list(v) for name, v in columns.items()}
        for name, values in columns.items():  # check everything before keeping anything
            if len(values) != n:
                raise ValueError(f"{name}: {len(values)} values for {n} predictions")
            if name not in kept and added:
                raise ValueError(f"{name} is given now but was not given with the {added} items added before")
        missing = sorted(name for name in kept if name not in columns)
        if missing and n:
            raise ValueError(f"{', '.join(missing)} given with the items added before but not with these")
        for name, values in columns.items():
            kept.setdefault(name, []).extend(values)
        self._kept_rows = added + n

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Score raw replies (see the arguments below); returns the score() dict.\n"""
        kept = self.__dict__.get("_kept_columns") or {}
        for name, values in kept.items():
            if name in kwargs:
                raise ValueError(f"{name} was given to add()/add_batch() and again to compute()")
            kwargs[name] = values
        # Validate before evaluate's Arrow encoding so errors name the offending index.
        tasks = kwargs.get("tasks") or self._default_task()
        if tasks is None:
            raise ValueError(
                f"config {self.config_name!r} scores several tasks: pass tasks=[...] (one per item), "
                f"or load the metric with a task as config name"
            )
        kwargs["tasks"] = tasks
        if predictions is not None or references is not None:
            prepare_items(predictions, references, tasks, kwargs.get("choices"), kwargs.get("ids"), kwargs.get("meta"))
        try:
            return super().compute(predictions=predictions, references=references, **kwargs)
        finally:  # evaluate's compute() adds the given replies through add_batch(): start the next round clean
            self._kept_columns, self._kept_rows = {}, 0

    def _compute(self, predictions, references, tasks=None, choices=None, ids=None, durations=None, evidence=None,
                 meta=None, **settings):
        # The options (mode, family, n_bootstrap, ...) are ScoreSettings' fields, checked there.
        return score(predictions, references, tasks, choices=choices, ids=ids, durations=durations,
                     evidence=evidence, meta=meta, **settings)


# Names re-exported for users of the loaded module file (and to keep each import above in use).
__all__ = ["AGGREGATIONS", "Audiomarathon", "DEFAULT_DURATION_BINS", "PAPER_READERS", "official_letter",
           "official_match", "random_guess_accuracy", "FAMILIES", "LETTERS", "MAX_READ", "NORMALIZERS", "PUBLISHED",
           "METRIC_VERSION", "READING_RULES", "ScoreSettings", "age_range", "aggregate", "authors_normalize", "compare", "extract_answer",
           "fmt1", "option_forms", "percentile_ci", "score", "scorers"]
