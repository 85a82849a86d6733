"""AIR-Bench Chat submissions: the run's replies, its results.json and its judgments.jsonl.

The server cannot judge (it holds no judge), so a Chat submission brings its judge's verdicts; none
is taken on trust (``audiomarathon_metric.judge.submission``): each must have been asked with the
official prompt about that item and the submitted reply (its message hash is recomputed from the
server's answer key), its scores must be what its raw judge reply says, and all must come from one
judge setting. The scores are then aggregated here, strict mode ranking the board, with the judge's
position bias, failures and settings kept in the row's details.
"""

from __future__ import annotations

import json
from typing import Sequence

from audiomarathon.run_identity import display_model_name, run_id, run_identity
from audiomarathon_metric.judge.submission import JudgmentsRejected, KeyItem, rescore_judgments

from space.answer_key import AnswerKey
from space.claims import check_method, check_size
from space.store import BENCHMARK, OVERALL, VERIFIED, Entry
from space.validation import (PREDICTIONS, RESULTS, Limits, Submission, SubmissionRejected, check_against_key,
                              choose_answer_key, clean_config, parse_predictions, parse_results, replies_hash,
                              size_from_name)

CHAT = "airbench-chat"
JUDGMENTS = "judgments.jsonl"


def parse_judgments(data: bytes) -> list[dict]:
    out = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise SubmissionRejected([f"{JUDGMENTS} line {number}: not JSON"]) from None
        if not isinstance(obj, dict) or "id" not in obj or "order" not in obj:
            raise SubmissionRejected([f"{JUDGMENTS} line {number}: not a judgment (needs id and order)"])
        out.append(obj)
    return out


def _replies(predictions: bytes, results: dict) -> dict[str, str | None]:
    """id -> the reply the judge was asked about, as the judge command reads a run: none for a failed
    sample (its error set), else the recorded reply, an empty one included."""
    from audiomarathon.records import parse_prediction_lines, records_of_run

    lines = records_of_run(parse_prediction_lines(predictions, PREDICTIONS, torn_tail_ok=False), results,
                           PREDICTIONS, RESULTS)
    return {str(rec["id"]): None if rec.get("error") else rec.get("reply") for _, rec in lines}


def _key_items(key: AnswerKey, replies: dict[str, str | None]) -> dict[str, KeyItem]:
    items = {}
    for ident, it in key.items.items():
        meta = json.loads(it.meta) if it.meta else {}
        items[ident] = KeyItem(it.task, str(meta.get("meta_info", "")), str(meta.get("question", "")),
                               it.reference, replies.get(ident))
    return items


def validate_chat_submission(predictions: bytes, results: bytes, judgments: bytes, keys: Sequence[AnswerKey],
                             limits: Limits = Limits(), already_stored=None) -> Submission:
    parsed_results = parse_results(results, limits)
    preds = parse_predictions(predictions, limits, parsed_results)
    parsed_results["config"], notes = clean_config(parsed_results["config"], limits)
    method, ratio, problems = check_method(parsed_results["config"])
    size_b, size_source, size_problems = check_size(parsed_results, size_from_name(parsed_results["config"]["model"]))
    if problems + size_problems:
        raise SubmissionRejected(problems + size_problems)
    key = choose_answer_key(preds, parsed_results, keys)
    if key.benchmarks != [CHAT]:
        raise SubmissionRejected([f"dataset version {key.fingerprint} is not an AIR-Bench Chat dataset; submit "
                                  f"{PREDICTIONS} and {RESULTS} alone"])
    check_against_key(preds, key)
    run = run_id(run_identity(parsed_results["config"], key.fingerprint))
    if already_stored is not None and already_stored(run):
        from space.store import duplicate_message

        raise SubmissionRejected([duplicate_message(display_model_name(parsed_results["config"]["model"]), run)])
    replies = _replies(predictions, parsed_results)
    try:
        scored = rescore_judgments(_key_items(key, replies), parse_judgments(judgments))
    except JudgmentsRejected as err:
        raise SubmissionRejected([f"{JUDGMENTS}: {err}"]) from None
    strict, paper = scored["strict"], scored["paper"]
    config = dict(parsed_results["config"])
    closed = config.get("weights") == "closed"
    judge = {"settings": scored["settings"], "paper_average": paper["average"],
             "reference_average": strict["reference_average"], "win_rate": strict["win_rate"],
             "position_bias": strict["position_bias"], "flip_share": strict["flip_share"],
             "failures": strict["failures"], "ci": strict["ci"].get("average")}
    entry = Entry(
        model=display_model_name(config["model"]), source=VERIFIED, weights="closed" if closed else "open",
        size_b=None if closed else size_b, method=method, ratio=ratio, config=config, run_id=run,
        scores={t: v["score"] for t, v in strict["tasks"].items() if v["score"] is not None},
        categories={c: v for c, v in strict["categories"].items() if v is not None}, average=strict["average"],
        dataset_fingerprint=key.fingerprint,
        details={OVERALL: {BENCHMARK: CHAT, "size_source": None if closed else size_source,
                           "tables": {"category": strict["categories"]}, "judge": judge}},
        replies_hash=replies_hash(preds, key.fingerprint),
    )
    warnings = list(notes)
    if strict["failures"]["total"]:
        warnings.append(f"{strict['failures']['total']} judgment(s) without a verdict, scored 1 for the model "
                        "(strict mode)")
    return Submission(entry, key, predictions, warnings)


def submit_chat_bytes(store, predictions: bytes, results: bytes, judgments: bytes,
                      limits: Limits = Limits()) -> Submission:
    """Validate, re-aggregate and store one Chat submission; SubmissionRejected stores nothing."""
    from space.store import DuplicateEntry

    sub = validate_chat_submission(predictions, results, judgments, store.answer_keys(), limits, store.has_run)
    try:
        store.add_entry(sub.entry, predictions_jsonl=sub.predictions_jsonl)
    except DuplicateEntry as exc:
        raise SubmissionRejected([str(exc)]) from None
    return sub


def submit_chat_files(store, predictions, results, judgments, limits: Limits = Limits()) -> Submission:
    """``submit_chat_bytes`` of three files, each a path or its bytes (read within the size limits)."""
    from pathlib import Path

    from space.validation import read_limited

    data = []
    for name, given, limit in ((PREDICTIONS, predictions, limits.max_predictions_bytes),
                               (RESULTS, results, limits.max_results_bytes),
                               (JUDGMENTS, judgments, limits.max_predictions_bytes)):
        if given is None:
            raise SubmissionRejected([f"{name}: no file given"])
        data.append(given if isinstance(given, bytes) else read_limited(Path(given), name, limit))
    return submit_chat_bytes(store, *data, limits)
