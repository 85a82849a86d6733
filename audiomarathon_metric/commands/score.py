"""`audiomarathon score`: score a predictions.jsonl with the metric (the same score() as everywhere).

Each line is one JSON object with the raw reply, the reference (answer letter, or transcript for
ASR), the task, and for multiple-choice items the option texts; the id is optional. Field names
default to prediction/reference/task/choices/id; a few common aliases are accepted. Given a run
folder, the command scores its predictions.jsonl, and paper mode applies the authors' rules for
the model family its results.json records (``--family`` for a run behind an API, or to override).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from audiomarathon.files import write_atomic

from .long_audio_options import MISSING
from .long_audio_options import check_data
from .long_audio_options import long_audio_arguments
from .long_audio_options import long_audio_columns

FIELDS = {
    "prediction": ("prediction", "reply", "response", "output"),
    "reference": ("reference", "answer", "target"),
    "task": ("task",),
    "choices": ("choices",),
    "id": ("id",),
    "duration": ("duration",),
    "evidence_position": ("evidence_position",),
    "meta": ("meta",),
}


def add_arguments(parser) -> None:
    parser.add_argument("predictions", help="JSONL file: one {prediction, reference, task, choices, id} per line; "
                                            "or a run folder (its predictions.jsonl and results.json)")
    parser.add_argument("--out", default=None,
                        help="write the full result JSON to this file (default: print a short table)")
    parser.add_argument("--json", action="store_true", help="print the full result JSON instead of the table")
    parser.add_argument("--mode", choices=("strict", "paper"), default="strict",
                        help="strict: invalid replies count as wrong; paper: each task as the benchmark authors' "
                             "script for the model's family scores it")
    parser.add_argument("--family", default=None,
                        help="paper mode: the model family whose authors' rules apply (default: the family a run "
                             "folder's results.json records; otherwise, and for API runs, Qwen2.5-Omni's)")
    parser.add_argument("--normalizer", choices=("benchmark", "whisper", "whisper_basic"), default="benchmark",
                        help="ASR text normalization before WER")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% CIs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("--alpha", type=float, default=0.001,
                        help="significance level of the test against random guessing (Bonferroni-corrected)")
    parser.add_argument("--per-sample", action="store_true", help="include per-item records in the JSON")
    judge = parser.add_argument_group("an open-ended run (AIR-Bench Chat): scored by an LLM judge")
    judge.add_argument("--judge-api-base", action="append", default=None, metavar="URL",
                       help="score the run folder with `audiomarathon judge` against this OpenAI-compatible "
                            "server (repeatable); see `audiomarathon judge --help` for every option")
    judge.add_argument("--judge-model", default=None, help="the judge model, as its server names it")
    judge.add_argument("--judge-concurrency", type=int, default=4, metavar="N", help="judge requests in flight")
    long_audio_arguments(parser)


def _field(record: dict, name: str, where: str, required: bool = True):
    for key in FIELDS[name]:
        if key in record:
            return record[key]
    if required:
        raise ValueError(f"{where}: missing field {name!r} (accepted: {', '.join(FIELDS[name])})")
    return None


def score_columns(path: Path, results: Path | None = None) -> dict:
    """Columns for score() from a JSONL file, read by the run-record reader (``read_run_records``:
    a runner's retried sample counts once; with ``results``, a run folder's results.json, only
    the records of its run). A failed sample (reply null) is scored as an invalid reply, except that
    MMAR's paper mode skips it, as its script skips an item without a prediction (so it is passed
    on as None for the tasks of benchmarks other than AudioMarathon)."""
    from audiomarathon.records import read_results, read_run_records
    from audiomarathon.tasks import UnknownTaskError, get_task

    cols = {"predictions": [], "references": [], "tasks": [], "choices": [], "ids": [], "durations": [],
            "evidence": [], "meta": []}
    lines = read_run_records(path, read_results(results) if results is not None else None, str(results))
    for lineno, record in lines:
        where = f"{path} line {lineno}"
        prediction = _field(record, "prediction", where)
        task = _field(record, "task", where)
        if prediction is None:
            try:
                keep_none = get_task(task).benchmark != "AudioMarathon"
            except (UnknownTaskError, TypeError):
                keep_none = False  # score() names the unknown task
            prediction = None if keep_none else ""
        cols["predictions"].append(prediction)
        cols["references"].append(_field(record, "reference", where))
        cols["tasks"].append(task)
        cols["choices"].append(_field(record, "choices", where, required=False) or [])
        cols["ids"].append(_field(record, "id", where, required=False) or f"line-{lineno}")
        cols["durations"].append(_field(record, "duration", where, required=False))
        cols["evidence"].append(record.get("evidence_position", MISSING))
        cols["meta"].append(_field(record, "meta", where, required=False))
    if not cols["predictions"]:
        raise ValueError(f"{path}: no records")
    if all(m is None for m in cols["meta"]):
        del cols["meta"]
    return cols


def check_out(out: str | None, predictions: Path) -> None:
    """Refuse a --out that cannot be written before any scoring work (and never the input itself)."""
    from audiomarathon.cli import CommandError

    if out is None:
        return
    target = Path(out)
    if target.is_dir():
        raise CommandError(f"--out {out}: is a folder; give a file name, e.g. {target / 'scores.json'}")
    blocker = next((a for a in target.parents if a.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise CommandError(f"--out {out}: {blocker} is a file, not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file where a folder should be, no permission, ...
        raise CommandError(f"--out {out}: cannot create its folder {target.parent} ({err.strerror or err})") from None
    if target.exists() and target.resolve() == predictions.resolve():
        raise CommandError(f"--out {out}: is the predictions file itself; choose another file")


def format_table(result: dict) -> str:
    """A few lines: per task n, score, 95% CI and invalid rate; the average and whether it is complete;
    then, when the items have durations, the score per duration bin with each task's trend."""
    from audiomarathon_metric.display import fmt1, plural
    from audiomarathon_metric.display import fmt_ci as ci_text
    from audiomarathon_metric.run_compare import duration_table

    if result.get("benchmarks"):
        return benchmark_tables(result)
    lines = [f"{'task':<12} {'n':>5} {'score':>6}  {'95% CI':<13} {'invalid %':>9}"]
    for name, res in result.get("tasks", {}).items():
        invalid = res.get("invalid_rate")  # 0-100
        lines.append(f"{name:<12} {res.get('n', 0):>5} {fmt1(res.get('score')):>6}  {ci_text(res.get('ci95')):<13} "
                     f"{'' if invalid is None else fmt1(invalid):>9}")
    if result.get("average") is not None:
        line = f"{'average':<12} {result.get('n', ''):>5} {fmt1(result['average']):>6}  {ci_text(result.get('average_ci95'))}"
        if not result.get("complete", True):
            absent = [f"{what} {', '.join(result.get(key) or [])}" for what, key in
                      (("missing", "missing_tasks"), ("unscored", "unscored_tasks")) if result.get(key)]
            line += f"  (incomplete: {plural(result.get('n_tasks') or 0, 'task')}; {'; '.join(absent)})"
        lines.append(line)
    if result.get("by_duration"):
        edges = ", ".join(f"{e:g}" for e in result["by_duration"].get("edges") or [])
        lines += ["", f"score by duration (bin edges {edges} s; trend: points per minute, p-value)" if edges
                  else "score by duration (trend: points per minute, p-value)", duration_table(result), ""]
    mode = f"mode {result.get('mode')}"
    if result.get("paper_rules"):
        mode += f" (the authors' {result['paper_rules']} scripts)"
    lines.append(f"{mode}; full JSON with --json or --out FILE")
    return "\n".join(lines)


def benchmark_tables(result: dict) -> str:
    """A run holding MMAR or AIR-Bench Foundation tasks: per benchmark, its tasks, its categories,
    its average (each as its leaderboard aggregates), the random-guess baseline, then its tables."""
    from audiomarathon.benchmarks import get_benchmark
    from audiomarathon_metric.aggregations import NOT_GIVEN
    from audiomarathon_metric.display import fmt1
    from audiomarathon_metric.display import fmt_ci as ci_text

    width = max([12] + [len(name) for name in result.get("tasks", {})])
    lines = []
    for key, section in result["benchmarks"].items():
        bench = get_benchmark(key)
        lines += [f"{bench.name} ({section.get('aggregation')} aggregate)",
                  f"{'task':<{width}} {'n':>6} {'score':>6}  {'95% CI':<13} {'invalid %':>9} {'guess':>6}"]
        for task in bench.tasks:
            res = result["tasks"].get(task.name)
            if res is None:
                continue
            lines.append(f"{task.name:<{width}} {res.get('n', 0):>6} {fmt1(res.get('score')):>6}  "
                         f"{ci_text(res.get('ci95')):<13} {fmt1(res.get('invalid_rate')):>9} "
                         f"{fmt1(res.get('chance_accuracy')):>6}")
        guess = section.get("random_guess") or {}
        for category, value in section.get("categories", {}).items():
            lines.append(f"{'[' + category + ']':<{width}} {'':>6} {fmt1(value):>6}  {'':<13} {'':>9} "
                         f"{fmt1((guess.get('categories') or {}).get(category)):>6}")
        average = f"{'average':<{width}} {section.get('n', ''):>6} {fmt1(section.get('average')):>6}  " \
                  f"{ci_text(section.get('average_ci95')):<13} {'':>9} {fmt1(guess.get('average')):>6}"
        if not section.get("complete", True):
            average += f"  (incomplete: {section.get('n_tasks')} of {len(bench.tasks)} tasks)"
        lines.append(average)
        tables = dict(section.get("tables") or {})
        if section.get("folders"):
            tables["folder"] = section["folders"]
        for name, table in tables.items():
            if list(table) == [NOT_GIVEN] or (name == "folder" and all(k.endswith(NOT_GIVEN) for k in table)):
                lines += ["", f"by {name}: the items carry no meta (records' 'meta', or --data DATASET)"]
                continue
            lines += ["", f"{'by ' + name:<40} {'n':>6} {'accuracy':>8} {'guess':>6}"]
            for value, row in table.items():
                lines.append(f"{value:<40} {row['n']:>6} {fmt1(row['accuracy']):>8} {fmt1(row['random_guess']):>6}")
        lines.append("")
    mode = f"mode {result.get('mode')}"
    lines.append(f"{mode}; 'guess': random-guess accuracy; full JSON with --json or --out FILE")
    return "\n".join(lines)


def recorded_family(results: Path | None) -> str | None:
    """The model family a run folder's results.json records: ``config.family`` (the runner's, also
    set for a model behind an API run with ``--family``), else its adapter's; None when neither."""
    from audiomarathon.cli import CommandError
    from audiomarathon.records import RecordError, read_results

    if results is None:
        return None
    try:
        config = read_results(results)["config"]
    except RecordError as err:
        raise CommandError(str(err)) from None
    if isinstance(config.get("family"), str):
        return config["family"]
    adapter = config.get("adapter")
    return adapter.get("family") if isinstance(adapter, dict) else None


def paper_family(args, results: Path | None) -> str | None:
    """The family whose authors' rules paper mode applies: --family, else the run's own (its
    results.json's, ``results``)."""
    from audiomarathon.cli import CommandError
    from audiomarathon_metric.paper_rules import FAMILIES, UnknownFamilyError, resolve_family

    if args.mode != "paper":
        if args.family is not None:
            raise CommandError("--family chooses the authors' rules of --mode paper; strict mode scores every "
                               "family alike")
        return None
    recorded = recorded_family(results)
    if args.family is not None:
        try:
            chosen, _ = resolve_family(args.family)
        except UnknownFamilyError as err:
            raise CommandError(f"--family: {err}") from None
        try:
            same = recorded is None or resolve_family(recorded)[0] == chosen
        except UnknownFamilyError:
            same = False
        if not same:
            print(f"note: scoring with {chosen}'s rules (--family); the run's model family is {recorded}",
                  file=sys.stderr)
        return chosen
    if recorded is not None:
        try:
            resolve_family(recorded)
        except UnknownFamilyError:
            raise CommandError(f"{results}: paper mode has no rules for the run's model family "
                               f"{recorded!r}; pass --family, one of: {', '.join(FAMILIES)}") from None
    return recorded


def _judge(args) -> int:
    """``score RUN_DIR --judge-api-base URL --judge-model NAME`` is ``judge RUN_DIR --api-base URL
    --model NAME``: run through the command table, as the command line would (the metric package
    sends no request itself)."""
    from audiomarathon.cli import CommandError, commands, main

    if not args.judge_model or not args.judge_api_base:
        raise CommandError("an LLM judge needs both --judge-api-base (its server) and --judge-model (the model as "
                           "its server names it)")
    if "judge" not in commands():
        raise CommandError("--judge-api-base: the judge command is not installed (it comes with the runner package)")
    argv = ["judge", args.predictions, "--model", args.judge_model, "--concurrency", str(args.judge_concurrency)]
    for url in args.judge_api_base:
        argv += ["--api-base", url]
    return main(argv + (["--json"] if args.json else []))


def run(args) -> int:
    from audiomarathon.cli import CommandError
    from audiomarathon_metric import score
    from audiomarathon_metric.display import fmt1, plural

    if args.judge_api_base or args.judge_model:
        return _judge(args)

    from audiomarathon.records import RecordError, run_files

    try:
        path, results = run_files(args.predictions)
    except RecordError as err:
        raise CommandError(str(err)) from None
    family = paper_family(args, results)
    check_out(args.out, path)
    check_data(args)
    try:
        cols = score_columns(path, results)
        long_audio_columns(cols, path, args)
        result = score(**cols, mode=args.mode, normalizer=args.normalizer, n_bootstrap=args.n_bootstrap,
                       seed=args.seed, alpha=args.alpha, per_sample=args.per_sample, family=family)
    except (ValueError, KeyError) as err:
        # score() names the index; indices count records, and ids default to line-<n>.
        raise CommandError(f"{path}: {err}") from None
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        try:
            write_atomic(args.out, text)  # a temp file renamed into place: an old file survives a failure
        except OSError as err:
            raise CommandError(f"--out {args.out}: cannot write ({err.strerror or err})") from None
        print(f"wrote {args.out}: average {fmt1(result['average'])} over {plural(result['n_tasks'], 'task')}",
              file=sys.stderr)
    if args.json:
        sys.stdout.write(text)
    elif not args.out:
        print(format_table(result))
    return 0
