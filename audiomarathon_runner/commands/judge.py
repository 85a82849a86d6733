"""`audiomarathon judge RUN_DIR`: score a run's open-ended replies (AIR-Bench Chat) with an LLM judge.

Every item is judged twice, the reference answer as Assistant 1 and then the model's reply, with the
official prompt, through any OpenAI-compatible server (GPT-4o, Gemini's OpenAI endpoint, a model
served by vLLM or SGLang). Verdicts go to RUN_DIR/judgments.jsonl as they arrive; a re-run reuses
those recorded under the same judge settings. The scores (strict and paper mode) go to
results.json under ``judge``.
"""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    from ..api.config import MAX_TOKENS_FIELDS
    from ..judge.settings import JUDGE_PROFILES

    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (predictions.jsonl + results.json)")
    parser.add_argument("--api-base", action="append", required=True, metavar="URL",
                        help="base URL of the judge's OpenAI-compatible server, e.g. https://api.openai.com/v1; "
                             "repeat to spread requests over several servers")
    parser.add_argument("--model", required=True, help="the judge model as its server names it, e.g. gpt-4o-2024-08-06 "
                                                       "(AIR-Bench's leaderboard used gpt-4-0125-preview)")
    parser.add_argument("--data", default=None,
                        help="the dataset the run evaluated (default: the path its results.json records)")
    parser.add_argument("--profile", choices=JUDGE_PROFILES, default="reproducible",
                        help="reproducible (default: temperature 0, seed 42) or authors (score_chat.py: temperature "
                             "1.0, and 2.0 for half the requests, no seed)")
    parser.add_argument("--seed", type=int, default=None, help="the judge's seed (default 42; none under --profile authors)")
    parser.add_argument("--parse-retries", type=int, default=2, metavar="N",
                        help="requests again after a reply that is not two scores (default 2), then a recorded failure")
    parser.add_argument("--judge-max-tokens", type=int, default=1024, metavar="N",
                        help="the judge's reply cap (default 1024, score_chat.py's)")
    parser.add_argument("--api-key-env", default=None, metavar="VAR",
                        help="environment variable holding the API key (default: OPENAI_API_KEY if set, else none)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)")
    parser.add_argument("--request-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="seconds per request attempt (default 120)")
    parser.add_argument("--max-retries", type=int, default=6, metavar="N",
                        help="retries on 429, 5xx, timeouts, dropped connections and malformed bodies (default 6)")
    parser.add_argument("--retry-backoff", type=float, default=1.0, metavar="SECONDS",
                        help="first retry delay, doubled each retry up to 60 s (default 1)")
    parser.add_argument("--price-in", type=float, default=None, metavar="USD", help="USD per million input tokens")
    parser.add_argument("--price-out", type=float, default=None, metavar="USD", help="USD per million output tokens")
    parser.add_argument("--max-tokens-field", choices=MAX_TOKENS_FIELDS, default="max_tokens",
                        help="request field carrying the reply cap (max_completion_tokens for servers that reject max_tokens)")
    parser.add_argument("--extract-with-judge", action="store_true",
                        help="a multiple-choice run: have the judge read the option of each reply the extraction "
                             "calls invalid (AIR-Bench's align prompt, 'None' allowed), and score the run again with "
                             "those readings as its own mode, beside strict and paper")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap replicates for the CIs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")


def settings_from_args(args):
    from ..judge.settings import JudgeSettings

    return JudgeSettings.for_profile(args.model, args.profile, seed=args.seed, parse_retries=args.parse_retries,
                                     max_tokens=args.judge_max_tokens)


def api_from_args(args):
    from ..api.config import ApiConfig

    return ApiConfig(base_urls=tuple(args.api_base), api_key_env=args.api_key_env, concurrency=args.concurrency,
                     timeout_s=args.request_timeout, max_retries=args.max_retries, backoff_s=args.retry_backoff,
                     price_in=args.price_in, price_out=args.price_out, max_tokens_field=args.max_tokens_field)


def judge_run(run_dir, settings, api, data: str | None = None, n_bootstrap: int = 1000,
              extract: bool = False) -> dict:
    """Judge the run in ``run_dir`` and record the scores in its results.json; returns that entry.
    An AIR-Bench Chat run is judged with the official Chat prompt in both orders; an MMAR run whose
    metadata carries rubrics with the MMAR-Rubrics procedure."""
    from pathlib import Path

    from audiomarathon.records import read_results, write_results
    from audiomarathon.tasks import MMAR_TASK
    from audiomarathon_metric.judge.records import JUDGMENTS_FILE

    from ..judge.items import run_tasks

    tasks = run_tasks(run_dir)
    path = Path(run_dir) / JUDGMENTS_FILE
    if extract:
        entry, results_path = _judge_extraction(run_dir, settings, api, data, path, n_bootstrap)
    elif tasks == {MMAR_TASK.name}:
        entry, results_path = _judge_rubrics(run_dir, settings, api, data, path)
    else:
        entry, results_path = _judge_chat(run_dir, settings, api, data, path, n_bootstrap)
    results = read_results(results_path)  # read again: written whole, never from a stale copy
    results.setdefault("judge", {})[entry["settings_key"]] = entry
    write_results(results_path, results)
    return entry


def _judge_chat(run_dir, settings, api, data, path, n_bootstrap):
    from audiomarathon.tasks import OPEN, get_task

    from ..judge.items import run_items
    from ..judge.judging import Judge, JudgeProgress
    from ..judge.summary import judge_summary

    items, results_path = run_items(run_dir, data)
    closed = sorted({i.task for i in items if get_task(i.task).metric != OPEN})
    if closed:
        raise ValueError(f"{run_dir}: tasks {', '.join(closed)} are not open-ended (score scores them); the judge "
                         "scores AIR-Bench Chat runs, and MMAR runs with rubrics")
    progress = JudgeProgress()
    judgments = Judge(settings, api).run(items, path, progress)
    entry = judge_summary(settings, api, items, judgments, n_bootstrap=n_bootstrap)
    entry["progress"] = {"reused": progress.reused, "asked": progress.asked}
    return entry, results_path


def _judge_extraction(run_dir, settings, api, data, path, n_bootstrap):
    from audiomarathon.tasks import get_task
    from audiomarathon_metric import extract_answer, score

    from ..judge.extract_judging import ExtractJudge, McqCase, extract_settings
    from ..judge.items import _run_rows

    records, rows, results_path, _ = _run_rows(run_dir, data)
    not_mcq = sorted({str(r["task"]) for r in records if not get_task(str(r["task"])).is_mcq})
    if not_mcq:
        raise ValueError(f"--extract-with-judge reads multiple-choice replies; tasks {', '.join(not_mcq)} are not")
    cases = []
    for rec in records:
        row = rows[str(rec["id"])]
        choices = list(row.get("choices") or rec.get("choices") or [])
        reply = None if rec.get("error") else rec.get("reply")
        if reply is not None and not extract_answer(reply, choices, str(rec["task"])).valid:
            cases.append(McqCase(str(rec["id"]), str(rec["task"]), row.get("question") or "", choices, reply))
    extract = extract_settings(settings.model, seed=settings.seed, parse_retries=settings.parse_retries,
                               max_tokens=settings.max_tokens)
    readings, progress = ExtractJudge(extract, api).run(cases, path)
    replies, rescued = [], 0
    for rec in records:
        reading = readings.get(str(rec["id"]))
        reply = "" if rec.get("error") else rec.get("reply") or ""
        if reading is not None and reading.get("letter"):
            choices = list(rows[str(rec["id"])].get("choices") or rec.get("choices") or [])
            text = choices[ord(reading["letter"]) - ord("A")]
            # The option's text, which every benchmark's reading takes for that option; the letter where not.
            ok = extract_answer(text, choices, str(rec["task"])).letter == reading["letter"]
            reply, rescued = (text if ok else reading["letter"]), rescued + 1
        replies.append(reply)
    scores = score(replies, [r["reference"] for r in records], [r["task"] for r in records],
                   choices=[list(rows[str(r["id"])].get("choices") or r.get("choices") or []) for r in records],
                   ids=[str(r["id"]) for r in records], meta=[rows[str(r["id"])].get("meta") for r in records],
                   mode="strict", n_bootstrap=n_bootstrap)
    counts = {"invalid": len(cases), "rescued": rescued,
              "none": sum(1 for r in readings.values() if r.get("failure") is None and r.get("letter") is None),
              "unread": sum(1 for r in readings.values() if r.get("failure"))}
    entry = {"procedure": "judge-extraction", "settings": extract.public(), "settings_key": extract.key(),
             "readings": counts, "progress": progress, "scores": scores}
    return entry, results_path


def _judge_rubrics(run_dir, settings, api, data, path):
    from audiomarathon_metric.judge.rubrics import rubric_scores

    from ..judge.items import rubric_cases
    from ..judge.rubric_judging import RubricJudge, rubric_settings

    cases, results_path = rubric_cases(run_dir, data)
    rubric = rubric_settings(settings.model, parse_retries=settings.parse_retries, max_tokens=settings.max_tokens)
    items, progress = RubricJudge(rubric, api).run(cases, path)
    entry = {"procedure": "mmar-rubrics", "settings": rubric.public(), "settings_key": rubric.key(),
             "strict": rubric_scores(items, "strict"), "paper": rubric_scores(items, "paper"), "progress": progress,
             "items": {i.id: {"score": i.score, "correct": i.correct} for i in items}}
    return entry, results_path


def run(args) -> int:
    from audiomarathon.cli import CommandError
    from audiomarathon.records import RecordError

    from ..api.request import ApiFatalError

    try:
        settings = settings_from_args(args)
        api = api_from_args(args)
    except ValueError as err:
        raise CommandError(str(err)) from None
    try:
        entry = judge_run(args.run_dir, settings, api, args.data, args.bootstrap, args.extract_with_judge)
    except (ApiFatalError, RecordError, ValueError, FileNotFoundError) as err:
        raise CommandError(str(err)) from None
    if args.json:
        print(json.dumps(json_view(entry), indent=2, ensure_ascii=False))
    elif entry.get("procedure") == "judge-extraction":
        r = entry["readings"]
        average = entry["scores"].get("average")
        print(f"judge-assisted extraction: {r['invalid']} replies invalid under strict extraction; the judge read "
              f"an option in {r['rescued']}, none in {r['none']}, nothing usable in {r['unread']}; average with "
              f"those readings: {'-' if average is None else f'{average:.2f}'} (its own mode, never strict or paper)")
    elif entry.get("procedure") == "mmar-rubrics":
        print(format_rubrics(entry))
    else:
        print(format_table(entry))
    return 0


def json_view(entry: dict) -> dict:
    """--json: the strict scores at the top (categories, average, reference_average, win_rate,
    position_bias, failures, tasks), paper mode under ``paper``, and the judge's settings and usage."""
    if "strict" not in entry:
        return entry
    strict = entry["strict"]
    return {**strict, "paper": entry["paper"], "strict": strict,
            **{k: v for k, v in entry.items() if k not in ("strict", "paper")}}


def format_rubrics(entry: dict) -> str:
    def f(x):
        return "-" if x is None else f"{x:.2f}"

    s, p = entry["strict"], entry["paper"]
    lines = [f"{'modality':<30} {'n':>5} {'score':>7} {'accuracy':>9}"]
    for name, m in s["modality"].items():
        lines.append(f"{name:<30} {m['n']:>5} {f(m['score']):>7} {f(m['accuracy']):>9}")
    lines.append(f"{'total':<30} {s['n']:>5} {f(s['score']):>7} {f(s['accuracy']):>9}")
    lines.append(f"MMAR-Rubrics: {s['not_evaluated']} not evaluated (strict scores them 0; paper leaves them out: "
                 f"score {f(p['score'])} over {p['n']}); {entry['progress']['asked']} rater requests now, "
                 f"{entry['progress']['reused']} reused, {entry['progress']['gated']} answers failed the match (0)")
    return "\n".join(lines)


def format_table(entry: dict) -> str:
    from audiomarathon_metric.display import fmt_ci

    def f(x, digits=2):
        return "-" if x is None else f"{x:.{digits}f}"

    s, p = entry["strict"], entry["paper"]
    lines = [f"{'task':<30} {'n':>5} {'score':>6} {'paper':>6} {'ref':>6} {'win':>6} {'bias':>6} {'flips':>6} {'fail':>5}"]
    for name, t in s["tasks"].items():
        lines.append(f"{name:<30} {t['items']:>5} {f(t['score']):>6} {f(p['tasks'][name]['score']):>6} "
                     f"{f(t['reference']):>6} {f(t['win_rate']):>6} {f(t['position_bias']):>6} "
                     f"{f(t['flip_share']):>6} {t['failures']:>5}")
    for cat, value in s["categories"].items():
        lines.append(f"{cat:<30} {'':>5} {f(value):>6} {f(p['categories'].get(cat)):>6}  {fmt_ci(s['ci'].get('categories', {}).get(cat))}")
    lines.append(f"{'average':<30} {s['items']:>5} {f(s['average']):>6} {f(p['average']):>6} "
                 f"{f(s['reference_average']):>6} {f(s['win_rate']):>6} {f(s['position_bias']):>6} "
                 f"{f(s['flip_share']):>6} {s['failures']['total']:>5}  95% CI {fmt_ci(s['ci'].get('average'))}")
    fails = {k: v for k, v in s["failures"].items() if k != "total" and v}
    lines.append("failures: " + (", ".join(f"{k} {v}" for k, v in fails.items()) if fails else "none")
                 + " (strict scores the model's side of a failed judgment 1; paper drops it, as cal_score.py)")
    settings = entry["settings"]
    cost = f", cost ${entry['cost_usd']:.4f}" if entry.get("cost_usd") is not None else ""
    lines.append(f"judge: {settings['model']} (served as {', '.join(entry['served_models']) or '-'}), profile "
                 f"{settings['profile']}, temperature {settings['temperature']}, seed {settings['seed']}, "
                 f"settings {entry['settings_key']}; {entry['progress']['asked']} judged now, "
                 f"{entry['progress']['reused']} reused; tokens in {entry['input_tokens']} / out "
                 f"{entry['output_tokens']}{cost}")
    if not entry["official_prompt"]:
        lines.append("warning: the prompt is not the official AIR-Bench Chat prompt")
    return "\n".join(lines)
