"""`audiomarathon compare RUN_A RUN_B [RUN_C ...]`: paired per-task differences of later runs
against the first (McNemar, paired bootstrap), overall and per duration bin, as a markdown table
and JSON; with --out, also the long-audio plots."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from audiomarathon.files import write_atomic

from .long_audio_options import _edges
from .long_audio_options import check_data

JSON_NAME = "compare.json"
TABLE_NAME = "compare.md"


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folders (predictions.jsonl + results.json) or predictions.jsonl files; "
                             "the first is the baseline")
    parser.add_argument("--data", help="dataset folder or Hub id for durations and evidence positions the "
                                       "predictions do not carry (matched by id)")
    parser.add_argument("--duration-bins", type=_edges, default=(90.0, 150.0, 210.0, 300.0), metavar="EDGES",
                        help="duration bin edges in seconds (default 90,150,210,300)")
    parser.add_argument("--out", help="folder for compare.json, compare.md and the plots (default: print the table)")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples of the paired differences")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")


def plot_runs(runs, result: dict) -> list:
    """Each run once, for the plots (compare's first run is their baseline)."""
    from audiomarathon_metric.long_plots import PlotRun

    return [PlotRun(r.name, result["runs"][r.name]["scores"], r.model, r.method, r.ratio) for r in runs]


def run(args) -> int:
    from audiomarathon.cli import CommandError
    from audiomarathon_metric.run_compare import RunError, compare_runs, load_run, markdown_table

    if args.n_bootstrap < 0:
        raise CommandError(f"--n-bootstrap must be >= 0, got {args.n_bootstrap}")
    check_data(args)
    try:
        runs = [load_run(p) for p in args.runs]
        info = None
        if args.data:
            from audiomarathon_metric.item_info import load_item_info

            tasks = sorted({rec["task"] for r in runs for rec in r.items.values()})
            info = load_item_info(args.data, tasks)
        result = compare_runs(runs, info, args.duration_bins, args.n_bootstrap, args.seed)
    except (RunError, ValueError, FileNotFoundError, KeyError) as err:
        raise CommandError(str(err)) from None
    table = markdown_table(result)
    if args.out:
        try:
            from audiomarathon_metric.long_plots import write_plots
        except ImportError as err:
            raise CommandError(f"the plots need matplotlib ({err}): pip install -e '.[space]'") from None

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / JSON_NAME, json.dumps(result, indent=2) + "\n")
        write_atomic(out / TABLE_NAME, table)
        written = write_plots(out, plot_runs(runs, result), baseline=runs[0].name)
        names = ", ".join(p.name for p in written.paths) or "no plot"
        print(f"wrote {out / JSON_NAME}, {out / TABLE_NAME}, {names}", file=sys.stderr)
        for name, why in written.skipped.items():
            print(f"not written: {name} ({why})", file=sys.stderr)
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else table)
    return 0
