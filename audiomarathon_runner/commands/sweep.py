"""`audiomarathon sweep`: compression methods x ratios, model loaded once, one folder per setting."""

from __future__ import annotations

from .options import add_run_arguments, expected_errors, resolve_profile_defaults, run_config


def add_arguments(parser) -> None:
    add_run_arguments(parser, sweep=True)


def run(args) -> int:
    from audiomarathon.cli import CommandError

    from .checks import check_sweep

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise CommandError("--methods: no method given")
    try:
        ratios = [float(r) for r in args.ratios.split(",") if r.strip()]
    except ValueError:
        raise CommandError(f"--ratios {args.ratios!r}: expected comma-separated numbers") from None
    resolve_profile_defaults(args)
    try:
        check_sweep(args, methods, ratios)  # before the model, the data or transformers load
    except ValueError as err:
        raise CommandError(str(err)) from None

    from ..sweep import run_sweep

    try:
        base = run_config(args, method="none", ratio=0.0)
        rows = run_sweep(base, methods, args.ratios)
    except expected_errors() as err:
        raise CommandError(str(err)) from None
    print((__import__("pathlib").Path(args.out) / "sweep_summary.md").read_text())
    print(f"{len(rows)} configurations; summary: {args.out}/sweep_summary.csv")
    return 0
