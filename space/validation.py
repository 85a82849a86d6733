"""Submission validation: parse the runner's predictions.jsonl + results.json, match them to one of
the server's answer keys, and re-score the raw replies with the metric's function API.

Submitted scores, references and choices are never read. Every problem is reported with the file
and line it comes from; a rejected submission never touches the store.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from audiomarathon.records import PREDICTIONS_FILE as PREDICTIONS
from audiomarathon.records import RESULTS_FILE as RESULTS
from audiomarathon.records import RecordError, parse_prediction_lines, records_of_run
from audiomarathon.records import parse_results as parse_results_record
from audiomarathon.run_identity import display_model_name, run_id, run_identity
from audiomarathon.benchmarks import all_tasks, get_benchmark
from audiomarathon_metric.display import fmt1

from space.answer_key import AnswerKey
from space.claims import check_method, check_size, claimed_parameters
from space.store import BENCHMARK, OVERALL, VERIFIED, DuplicateEntry, Entry, Store, duplicate_message

MAX_PROBLEMS_SHOWN = 12


@dataclass(frozen=True)
class Limits:
    max_predictions_bytes: int = 32 * 2**20  # a full run is ~3 MB; ASR replies are the long ones
    max_results_bytes: int = 4 * 2**20
    max_reply_chars: int = 20_000
    # What of results.json's "config" is stored: every row's config is parsed again on each table
    # request, so unknown or oversized values are dropped at submission, not kept forever.
    max_config_keys: int = 64
    max_config_value_chars: int = 500
    max_config_nested_bytes: int = 8_192


class SubmissionRejected(ValueError):
    """A submission that cannot be accepted; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; ... and {more} more problem(s)" if more > 0 else "")
        super().__init__(text)


@dataclass(frozen=True)
class Prediction:
    id: str
    reply: str
    task: str | None
    line: int
    prefill_ms: float | None = None  # None for a failed sample and for the process's warm-up sample


@dataclass
class Submission:
    entry: Entry
    key: AnswerKey
    predictions_jsonl: bytes
    warnings: list[str] = field(default_factory=list)


# --- parsing ------------------------------------------------------------------------------------

def _text(data: bytes, name: str, limit: int) -> str:
    if len(data) > limit:
        raise SubmissionRejected([f"{name}: {len(data):,} bytes is over the size limit of {limit:,} bytes"])
    if not data.strip():
        raise SubmissionRejected([f"{name}: the file is empty"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionRejected([f"{name}: not UTF-8 text (byte {exc.start})"]) from None


def parse_results(data: bytes, limits: Limits = Limits()) -> dict:
    """results.json checked against the run-record format (the error names the field at fault)."""
    text = _text(data, RESULTS, limits.max_results_bytes)
    try:
        obj = parse_results_record(text, RESULTS)
    except RecordError as exc:
        raise SubmissionRejected([str(exc)]) from None
    except ValueError as exc:  # e.g. an integer literal too long to convert
        raise SubmissionRejected([f"{RESULTS}: {exc}"]) from None
    # What is stored or shown must hold real numbers: no Infinity, NaN or 400-digit integers.
    problems = [problem for name in ("config", "dataset") if isinstance(obj.get(name), dict)
                for problem in bad_numbers(obj[name], f"{RESULTS}: {name}")]
    if problems:
        raise SubmissionRejected(problems)
    return obj


def parse_predictions(data: bytes, limits: Limits = Limits(), results: dict | None = None) -> list[Prediction]:
    """The records of predictions.jsonl in the run-record format; with ``results`` (results.json)
    only the records of its run (the run-record format's pairing rule): a folder that also holds
    another configuration's records submits the one results.json describes, and a file none of
    whose records is of that run is refused."""
    text = _text(data, PREDICTIONS, limits.max_predictions_bytes)
    problems: list[str] = []
    lines = parse_prediction_lines(text.encode("utf-8"), PREDICTIONS, torn_tail_ok=False, problems=problems)
    if results is not None:
        try:
            lines = records_of_run(lines, results, PREDICTIONS, RESULTS)
        except RecordError as exc:
            raise SubmissionRejected(problems + [str(exc)]) from None
    preds: list[Prediction] = []
    first_line: dict[str, int] = {}
    for lineno, rec in lines:
        where = f"{PREDICTIONS} line {lineno}"
        ident = rec["id"]
        if not ident:
            problems.append(f"{where}: \"id\" is empty")
            continue
        if ident in first_line:
            problems.append(f"{where}: duplicate id {ident!r} (first on line {first_line[ident]})")
            continue
        first_line[ident] = lineno
        # A failed sample (reply null, error set) is scored as an invalid reply, never dropped.
        reply = rec["reply"] if rec["reply"] is not None else ""
        if len(reply) > limits.max_reply_chars:
            problems.append(f"{where}: reply of {len(reply):,} characters is over {limits.max_reply_chars:,} (id {ident!r})")
            continue
        timings = rec["timings"]
        prefill = None if timings.get("warmup") else timings.get("prefill_ms")
        prefill = float(prefill) if isinstance(prefill, (int, float)) and prefill >= 0 else None
        preds.append(Prediction(ident, reply, rec["task"], lineno, prefill))
    if problems:
        raise SubmissionRejected(problems)
    if not preds:
        raise SubmissionRejected([f"{PREDICTIONS}: no predictions found"])
    return preds


MAX_EXACT_INT = 2**63  # SQLite's INTEGER range; a count or size beyond it is not a real run's


def bad_numbers(obj, where: str, max_items: int = 100_000) -> list[str]:
    """Every non-finite number (NaN, Infinity, 1e400) and out-of-range integer (10**400) in `obj`,
    named by its field path (e.g. "results.json: config.num_parameters"). Iterative: no depth limit."""
    problems: list[str] = []
    stack = [(obj, where)]
    seen = 0
    while stack and seen < max_items and len(problems) < MAX_PROBLEMS_SHOWN:
        value, path = stack.pop()
        seen += 1
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{path}: {value!r} is not a finite number")
        elif isinstance(value, int) and abs(value) >= MAX_EXACT_INT:
            digits = len(str(abs(value)))
            problems.append(f"{path}: an integer of {digits} digits is out of range (at most {len(str(MAX_EXACT_INT))})")
        elif isinstance(value, dict):
            stack.extend((v, f"{path}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return problems


def clean_config(config: dict, limits: Limits = Limits()) -> tuple[dict, list[str]]:
    """The config as it will be stored: scalars (strings up to a length) and small objects; anything
    else is dropped, and the returned notes say what was dropped (shown to the submitter)."""
    kept: dict = {}
    dropped: list[str] = []
    for key, value in config.items():
        if len(kept) >= limits.max_config_keys or not isinstance(key, str) or len(key) > 64:
            dropped.append(str(key)[:64])
            continue
        if isinstance(value, str):
            ok = len(value) <= limits.max_config_value_chars
        elif isinstance(value, (dict, list)):
            try:
                ok = len(json.dumps(value, ensure_ascii=False)) <= limits.max_config_nested_bytes
            except (ValueError, RecursionError):
                ok = False
        else:
            ok = value is None or isinstance(value, (bool, int, float))
        if ok:
            kept[key] = value
        else:
            dropped.append(key)
    notes = []
    if dropped:
        shown = ", ".join(repr(k) for k in dropped[:8]) + (f" and {len(dropped) - 8} more" if len(dropped) > 8 else "")
        notes.append(f"{RESULTS}: config field(s) {shown} not stored (too large or too many fields)")
    return kept, notes


# --- matching to an answer key ------------------------------------------------------------------

def _sample(ids, n: int = 5) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:n]) + (f" (+{len(ids) - n} more)" if len(ids) > n else "")


def choose_answer_key(preds: Sequence[Prediction], results: dict, keys: Sequence[AnswerKey]) -> AnswerKey:
    """The declared dataset fingerprint picks the key; without one, the key holding the most ids."""
    if not keys:
        raise SubmissionRejected(["this leaderboard has no answer key yet: the server was started without a dataset"])
    known = ", ".join(k.fingerprint for k in keys)
    declared = (results.get("dataset") or {}).get("fingerprint")
    if declared:
        for key in keys:
            if key.fingerprint == declared:
                return key
        raise SubmissionRejected(
            [f"{RESULTS}: dataset fingerprint {declared!r} is another dataset version than the one this "
             f"leaderboard scores ({known}); re-run on the current release"]
        )
    ids = {p.id for p in preds}
    return max(keys, key=lambda k: len(ids.intersection(k.items)))


def check_against_key(preds: Sequence[Prediction], key: AnswerKey) -> None:
    problems = []
    ids = {p.id for p in preds}
    unknown = ids.difference(key.items)
    if unknown:
        problems.append(
            f"{PREDICTIONS}: {len(unknown)} id(s) are not in dataset version {key.fingerprint} "
            f"(ids of another dataset version?): {_sample(unknown)}"
        )
    missing = set(key.items).difference(ids)
    if missing:
        problems.append(
            f"{PREDICTIONS}: {len(missing)} id(s) of dataset version {key.fingerprint} have no prediction: "
            f"{_sample(missing)}"
        )
    for p in preds:
        item = key.items.get(p.id)
        if item is not None and p.task is not None and p.task != item.task:
            problems.append(
                f"{PREDICTIONS} line {p.line}: id {p.id!r} is a {item.task} item but its task says "
                f"{p.task!r} (another dataset version?)"
            )
            if len(problems) > MAX_PROBLEMS_SHOWN:
                break
    if problems:
        raise SubmissionRejected(problems)


# --- scoring ------------------------------------------------------------------------------------

def rescore(preds: Sequence[Prediction], key: AnswerKey, mode: str = "strict") -> dict:
    """Score the raw replies against the server's key with the metric's function API."""
    from audiomarathon_metric import score

    items = [key.items[p.id] for p in preds]
    return score(
        predictions=[p.reply for p in preds],
        references=[it.reference for it in items],
        tasks=[it.task for it in items],
        choices=[list(it.choices) for it in items],
        ids=[p.id for p in preds],
        meta=[it.meta or None for it in items],  # MMAR's modality, Foundation's dataset name: the breakdowns
        mode=mode,
    )


_SIZE = re.compile(r"(?<![A-Za-z0-9.])[Ee]?(\d+(?:\.\d+)?)\s*[Bb](?![A-Za-z])")


def size_from_name(model: str) -> float | None:
    """Billions of parameters as a model's name states them ("Qwen2.5-Omni-7B": 7)."""
    match = _SIZE.search(str(model).rsplit("/", 1)[-1])
    return float(match.group(1)) if match else None


def model_size_b(results: dict) -> float | None:
    """Billions of parameters: the run's recorded count when present, else read from the name."""
    counted = claimed_parameters(results)
    return counted / 1e9 if counted is not None else size_from_name(results.get("config", {}).get("model", ""))


def _scalars(d: dict) -> dict:
    out = {k: v for k, v in d.items() if isinstance(v, (int, float, str, bool)) or v is None}
    ci = d.get("ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        out["ci95_low"], out["ci95_high"] = ci
    return out


def _overall(scored: dict) -> dict:
    """The run's 95% CI of the average and its invalid rate over every scored reply."""
    # Multiple-choice tasks only: a transcript is never "invalid".
    mcq = [v for v in scored.get("tasks", {}).values() if v.get("n_invalid") is not None]
    n = sum(v.get("n", 0) for v in mcq)
    invalid = sum(v["n_invalid"] for v in mcq)
    ci = scored.get("average_ci95") or (None, None)
    return {"ci95_low": ci[0], "ci95_high": ci[1], "invalid_rate": invalid / n if n else None, "n": n}


def replies_hash(preds: Sequence[Prediction], fingerprint: str) -> str:
    """One name for a run's replies on one dataset version, whatever its settings say: two
    submissions with the same hash gave the same reply to every item."""
    blob = json.dumps([fingerprint, sorted((p.id, p.reply) for p in preds)], ensure_ascii=False,
                      separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def benchmark_figures(scored: dict, benchmark: str) -> tuple[float | None, dict, dict]:
    """(average, categories, breakdown tables) of one benchmark in the metric's output: its own
    section where the output has one (MMAR, AIR-Bench Foundation), else the top-level figures
    (AudioMarathon). A table holds each value's accuracy (0-100): MMAR's per modality, layer and
    sub-category, Foundation's per task and folder."""
    section = (scored.get("benchmarks") or {}).get(benchmark) or scored
    tables = {name: {value: row.get("accuracy") for value, row in table.items()}
              for name, table in (section.get("tables") or {}).items()}
    categories = {c: float(v) if not isinstance(v, dict) else float(v.get("score"))
                  for c, v in (section.get("categories") or {}).items() if v is not None}
    average = section.get("average")
    return (None if average is None else float(average)), categories, tables


TASK_NAMES = frozenset(t.name for t in all_tasks())


def build_entry(results: dict, scored: dict, key: AnswerKey, preds: Sequence[Prediction],
                method: str, ratio: float, size: tuple[float | None, str], run: str) -> Entry:
    """The row of a checked submission: ``method``/``ratio`` as check_method gave them, ``size``
    as (billions, where it comes from), ``run`` its run id. It ranks on the board of its answer
    key's benchmark."""
    config = dict(results["config"])
    tasks = scored.get("tasks", {})
    [benchmark] = key.benchmarks
    average, categories, tables = benchmark_figures(scored, benchmark)
    prefills = [p.prefill_ms for p in preds if p.prefill_ms is not None]
    # A local run loads public weights; an API run declares its model's ("weights": "closed").
    closed = config.get("weights") == "closed"
    size_b, size_source = (None, None) if closed else size
    name = config.get("name")  # run --name: a label shown beside the model, never part of the run id
    return Entry(
        model=display_model_name(config["model"]),
        source=VERIFIED,
        weights="closed" if closed else "open",
        size_b=size_b,
        method=method,
        ratio=ratio,
        config=config,
        run_id=run,
        name=(" ".join(name.split()) or None) if isinstance(name, str) else None,
        scores={t: float(v["score"]) for t, v in tasks.items() if t in TASK_NAMES and v.get("score") is not None},
        categories=categories,
        average=average,
        prefill_s=sum(prefills) / len(prefills) / 1000.0 if prefills else None,  # mean, warm-up excluded
        dataset_fingerprint=key.fingerprint,
        details={**{t: _scalars(v) for t, v in tasks.items()},
                 OVERALL: {**_overall(scored), "size_source": size_source, BENCHMARK: benchmark,
                           **({"tables": tables} if tables else {})}},
        replies_hash=replies_hash(preds, key.fingerprint),
    )


def validate_submission(predictions: bytes, results: bytes, keys: Sequence[AnswerKey],
                        limits: Limits = Limits(), already_stored=None) -> Submission:
    """Parse, match and re-score. `already_stored(run_id) -> bool` rejects a run already on the board
    before the (slower) re-scoring; the store's UNIQUE constraint stays the real guard. The run id
    is the server's own, from the submission's settings (the identity the runner resumes under), so
    where and how fast a run happened, a model name's case or spacing and keys the identity does
    not know never make two entries."""
    problems = []
    parsed_results = parsed_preds = None
    try:
        parsed_results = parse_results(results, limits)
    except SubmissionRejected as exc:
        problems += exc.problems
    try:
        parsed_preds = parse_predictions(predictions, limits, parsed_results)
    except SubmissionRejected as exc:
        problems += exc.problems
    if problems:
        raise SubmissionRejected(problems)
    parsed_results["config"], notes = clean_config(parsed_results["config"], limits)
    # What the run says about itself and the server cannot re-compute: checked before scoring.
    method, ratio, problems = check_method(parsed_results["config"])
    size_b, size_source, size_problems = check_size(
        parsed_results, size_from_name(parsed_results["config"]["model"]))
    if problems + size_problems:
        raise SubmissionRejected(problems + size_problems)
    key = choose_answer_key(parsed_preds, parsed_results, keys)
    if len(key.benchmarks) != 1:
        names = ", ".join(get_benchmark(b).name for b in key.benchmarks)
        raise SubmissionRejected([f"dataset version {key.fingerprint} holds items of several benchmarks ({names}); "
                                  "each board re-scores one benchmark: serve one dataset per benchmark"])
    if key.benchmarks == ["airbench-chat"]:  # open-ended: scored from the judge's verdicts it brings
        raise SubmissionRejected([f"an AIR-Bench Chat run is scored by its judge: submit its judgments.jsonl with "
                                  f"{PREDICTIONS} and {RESULTS} (space.chat_submission)"])
    check_against_key(parsed_preds, key)
    run = run_id(run_identity(parsed_results["config"], key.fingerprint))
    if already_stored is not None and already_stored(run):
        raise SubmissionRejected([duplicate_message(display_model_name(parsed_results["config"]["model"]), run)])
    scored = rescore(parsed_preds, key)
    entry = build_entry(parsed_results, scored, key, parsed_preds, method, ratio, (size_b, size_source), run)
    warnings = list(notes)
    declared = parsed_results.get("scores")
    if isinstance(declared, dict) and declared.get("average") is not None and entry.average is not None:
        try:  # with the board's one decimal: a warning never shows two equal figures
            claimed, rescored = fmt1(float(declared["average"])), fmt1(entry.average)
            if claimed != rescored:
                warnings.append(f"the average in {RESULTS} ({claimed}) differs from the server's re-score "
                                f"({rescored}); the server's score is shown")
        except (TypeError, ValueError, ArithmeticError):  # not a number, or not a finite one
            pass
    return Submission(entry, key, predictions, warnings)


def read_limited(path: str | Path, name: str, limit: int) -> bytes:
    """Read an uploaded file, refusing before reading when it is over the limit."""
    path = Path(path)
    size = path.stat().st_size
    if size > limit:
        raise SubmissionRejected([f"{name}: {size:,} bytes is over the size limit of {limit:,} bytes"])
    return path.read_bytes()


def submit_files(store: Store, predictions_path: str | Path | bytes, results_path: str | Path | bytes,
                 limits: Limits = Limits()) -> Submission:
    """Validate, re-score and store one submission (each file a path or its bytes); raises
    SubmissionRejected (nothing stored)."""
    problems = []
    data = {}
    for name, path, limit in ((PREDICTIONS, predictions_path, limits.max_predictions_bytes),
                              (RESULTS, results_path, limits.max_results_bytes)):
        if path is None:
            problems.append(f"{name}: no file given")
            continue
        try:
            data[name] = path if isinstance(path, bytes) else read_limited(path, name, limit)
        except SubmissionRejected as exc:
            problems += exc.problems
        except OSError as exc:
            problems.append(f"{name}: cannot read {Path(path).name}: {exc.strerror or exc}")
    if problems:
        raise SubmissionRejected(problems)
    return submit_bytes(store, data[PREDICTIONS], data[RESULTS], limits)


def submit_bytes(store: Store, predictions: bytes, results: bytes, limits: Limits = Limits()) -> Submission:
    sub = validate_submission(predictions, results, store.answer_keys(), limits, store.has_run)
    try:
        store.add_entry(sub.entry, predictions_jsonl=sub.predictions_jsonl)
    except DuplicateEntry as exc:
        raise SubmissionRejected([str(exc)]) from None
    return sub
