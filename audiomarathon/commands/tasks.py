"""`audiomarathon tasks`: the registry as a table per benchmark, or one task's prompt."""

from __future__ import annotations

from ..tasks import BENCHMARKS, OPEN, get_task


def add_arguments(parser) -> None:
    parser.add_argument("task", nargs="?", help="config name or abbreviation: show its prompt and labels")


def _choices(t) -> str:
    if t.metric == OPEN:
        return "open"  # free-form answers, scored by an LLM judge
    return f"<={t.n_choices}" if t.variable_choices else str(t.n_choices)


def run(args) -> int:
    if args.task:
        from ..cli import CommandError
        from ..tasks import UnknownTaskError

        try:
            t = get_task(args.task)
        except UnknownTaskError as err:
            raise CommandError(str(err)) from None
        label = f"{t.name} ({t.abbrev})" if t.abbrev else t.name
        print(f"{label} — {t.title}; {t.benchmark}, {t.category}; source: {t.source}")
        print(f"metric: {t.metric}; choices: {_choices(t)}; max new tokens: {t.max_new_tokens}")
        if t.dataset_names:
            print("release dataset names: " + ", ".join(t.dataset_names))
        if t.labels:
            print("labels: " + ", ".join(t.labels))
        if t.option_texts:
            print("official option texts: " + ", ".join(t.choice_texts))
        n = 2 if t.variable_choices else t.n_choices  # the smallest question shows what padding does
        example = list(t.choice_texts[:n]) if t.labels else [f"option {i + 1}" for i in range(n)]
        print("\nprompt:\n" + t.render_prompt(t.question or "<question>", example))
        if t.authors_prompt is not None:
            print("\nauthors' prompt (--profile authors):\n" + t.render_prompt(t.question or "<question>", example, authors=True))
        return 0
    for b in BENCHMARKS.values():
        groups = "; ".join(f"'{g}' = its {len(m)} tasks" for g, m in b.groups.items())
        print(f"{b.name} (--tasks {b.key}{'; ' + groups if groups else ''}) — {b.homepage}")
        print(f"  {'config':<32} {'abbrev':<6} {'category':<27} {'choices':>7} {'paper n':>7}  source")
        for t in b.tasks:
            n = "-" if t.paper_count is None else t.paper_count
            print(f"  {t.name:<32} {t.abbrev:<6} {t.category:<27} {_choices(t):>7} {n:>7}  {t.source}")
        print()
    return 0
