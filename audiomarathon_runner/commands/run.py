"""`audiomarathon run`: evaluate one model on a benchmark's tasks (AudioMarathon, MMAR, AIR-Bench
Foundation), writing predictions + results."""

from __future__ import annotations

from .options import add_run_arguments, expected_errors, resolve_profile_defaults, run_config


def add_arguments(parser) -> None:
    add_run_arguments(parser)


def run(args) -> int:
    from audiomarathon.cli import CommandError

    from .checks import check_run

    resolve_profile_defaults(args)
    try:
        check_run(args)  # before the model, the data or transformers load
    except ValueError as err:
        raise CommandError(str(err)) from None

    from .. import distributed
    from ..run import run_evaluation

    try:
        results = run_evaluation(run_config(args))
    except expected_errors() as err:
        raise CommandError(str(err)) from None
    finally:
        distributed.teardown()
    if distributed.current().rank == 0:
        print(format_summary(results))
    return 0


def benchmark_lines(key: str, section: dict, labelled: bool, width: int = 12) -> list[str]:
    """A benchmark's average line (under the benchmark's name when ``labelled``), its categories as
    its leaderboard aggregates them, and the random-guess baseline aggregated the same way;
    ``width``: the task column's."""
    from audiomarathon.benchmarks import get_benchmark
    from audiomarathon_metric.display import fmt1, fmt_ci, plural

    if section.get("average") is None:
        return []
    bench = get_benchmark(key)
    lines = [f"{bench.name}:"] if labelled else []
    line = f"{'average':<{width}} {'':>4} {fmt1(section['average']):>7}  {fmt_ci(section.get('average_ci95')):<13}"
    if not section.get("complete", True):
        # Not comparable with a leaderboard average over all the tasks.
        line += (f"  (incomplete: over {section.get('n_tasks', 0)} of {plural(len(bench.tasks), 'task')}; "
                 "not the benchmark average)")
    lines.append(line.rstrip())
    categories = section.get("categories") or {}
    if labelled and len(bench.tasks) > 1 and categories:
        lines.append("  " + ", ".join(f"{name} {fmt1(value)}" for name, value in categories.items()
                                      if value is not None))
    guess = (section.get("random_guess") or {}).get("average")
    if guess is not None:
        lines.append(f"  random guessing would score {fmt1(guess)} on these items")
    return lines


def format_summary(results: dict) -> str:
    from audiomarathon_metric.display import fmt1, fmt_ci, plural

    scores = results.get("scores", {})
    capped = (results.get("reply_cap") or {}).get("tasks", {})
    # The columns of `score`'s table (95% CI as it prints it), plus the share of replies at the cap.
    width = max([12, *(len(name) for name in scores.get("tasks", {}))])  # Foundation's task names are long
    lines = [f"{'task':<{width}} {'n':>4} {'score':>7}  {'95% CI':<13} {'invalid':>7}  at cap"]
    for name, res in scores.get("tasks", {}).items():
        invalid = f"{fmt1(res['invalid_rate'])}%" if "invalid_rate" in res else ""
        at_cap = f"{fmt1(100 * capped[name]['share'])}%" if name in capped else ""
        lines.append(f"{name:<{width}} {res.get('n', 0):>4} {fmt1(res.get('score')):>7}  {fmt_ci(res.get('ci95')):<13} "
                     f"{invalid:>7}  {at_cap}".rstrip())
    # One average per benchmark of the run (results without a ``benchmarks`` section: AudioMarathon's).
    from audiomarathon.benchmarks import BENCHMARKS

    own = BENCHMARKS["AudioMarathon"].key
    sections = scores.get("benchmarks") or ({own: scores} if scores.get("average") is not None else {})
    for key, section in sections.items():
        lines += benchmark_lines(key, section, labelled=len(sections) > 1 or key != own, width=width)
    cap = results.get("reply_cap") or {}
    if cap.get("replies"):
        lines.append(f"replies at the reply cap (cut off before ending their turn): {cap['hit_cap']} of "
                     f"{cap['replies']} ({fmt1(100 * cap['share'])}%)")
    config = results.get("config", {})
    if config.get("profile"):
        follows = (config.get("procedure") or {}).get("follows")
        lines.append(f"profile: {config['profile']}" + (f" (procedure: {follows})" if follows else ""))
    s = results.get("samples", {})
    if s.get("failed"):
        lines.append(f"failed samples: {len(s['failed'])} (see predictions.jsonl 'error')")
    backend = results.get("config", {}).get("backend") or {}
    if backend.get("kind") == "openai-chat":
        cost = f", cost ${backend['cost_usd']:.4f}" if backend.get("cost_usd") is not None else ""
        latency = backend.get("latency_ms", {}).get("median")
        lines.append(f"API: {plural(backend.get('requests', 0), 'request')} "
                     f"({plural(backend.get('attempts', 0), 'attempt')}), tokens in "
                     f"{backend.get('input_tokens')} / out {backend.get('output_tokens')}{cost}"
                     + (f", median latency {latency:.0f} ms" if latency is not None else ""))
        if backend.get("model_mismatches"):
            lines.append(f"warning: {backend['model_mismatches']} replies named another model than "
                         f"{config.get('model')!r} (served: {', '.join(backend.get('served_models', []))}; "
                         "see api.model in predictions.jsonl)")
    t = results.get("timing", {})
    if "prefill_ms" in t:
        lines.append(f"prefill (TTFT) median {fmt1(t['prefill_ms']['median'])} ms over {plural(t['samples'], 'sample')} "
                     f"(warm-up excluded: {t['warmup_excluded']})")
    lines.append(f"results: {results['config']['out']}/results.json")
    return "\n".join(lines)
