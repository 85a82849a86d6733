"""`audiomarathon tasks`: the registry as a table, or one task's prompt."""

from __future__ import annotations

from ..tasks import TASKS, get_task


def add_arguments(parser) -> None:
    parser.add_argument("task", nargs="?", help="config name or abbreviation: show its prompt and labels")


def run(args) -> int:
    if args.task:
        from ..cli import CommandError
        from ..tasks import UnknownTaskError

        try:
            t = get_task(args.task)
        except UnknownTaskError as err:
            raise CommandError(str(err)) from None
        print(f"{t.name} ({t.abbrev}) — {t.title}; {t.category}; source: {t.source}")
        print(f"metric: {t.metric}; choices: {t.n_choices}; max new tokens: {t.max_new_tokens}")
        if t.labels:
            print("labels: " + ", ".join(t.labels))
        if t.option_texts:
            print("official option texts: " + ", ".join(t.choice_texts))
        example = list(t.choice_texts[: t.n_choices]) if t.labels else [f"option {i + 1}" for i in range(t.n_choices)]
        print("\nprompt:\n" + t.render_prompt(t.question or "<question>", example))
        return 0
    print(f"{'config':<12} {'abbrev':<6} {'category':<27} {'choices':>7} {'paper n':>7}  source")
    for t in TASKS:
        print(f"{t.name:<12} {t.abbrev:<6} {t.category:<27} {t.n_choices:>7} {t.paper_count:>7}  {t.source}")
    return 0
