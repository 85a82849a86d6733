"""The long-audio options of `audiomarathon score`: where durations and evidence positions come
from (the predictions' own ``duration`` / ``evidence_position`` fields, or ``--data``) and the bins."""

from __future__ import annotations

from pathlib import Path

MISSING = object()  # a record without the field (None is a record saying "no evidence marked")


def _edges(text: str) -> tuple[float, ...]:
    import argparse

    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def long_audio_arguments(parser) -> None:
    parser.add_argument("--data", help="dataset folder or Hub id to take each item's duration and evidence position "
                                       "from, matched by id (default: the predictions' own duration fields)")
    parser.add_argument("--duration-bins", type=_edges, default=None, metavar="EDGES",
                        help="duration bin edges in seconds (default 90,150,210,300)")
    parser.add_argument("--evidence-bins", type=_edges, default=None, metavar="EDGES",
                        help="evidence-position bin edges in [0, 1] (default thirds: 0,0.333,0.667,1)")


def check_data(args) -> None:
    """A --data naming a folder that does not exist is refused at once, before any scoring (a Hub
    id is checked when it is loaded); never replaced by a cached dataset of that name."""
    from audiomarathon.cli import CommandError
    from audiomarathon.data_source import DataNotFound, locate

    if getattr(args, "data", None) is not None:
        try:
            locate(args.data, check_hub=False)
        except DataNotFound as err:
            raise CommandError(str(err)) from None


def long_audio_columns(cols: dict, path: Path, args) -> None:
    """Turn the raw per-record duration/evidence fields into score()'s durations=/evidence=
    (or drop them when the predictions carry none and no --data was given)."""
    durations, evidence = cols.pop("durations"), cols.pop("evidence")
    if getattr(args, "data", None):
        from audiomarathon_metric.item_info import load_item_info

        from audiomarathon.cli import CommandError
        from audiomarathon.data_source import DataNotFound

        try:
            info = load_item_info(args.data, sorted(set(cols["tasks"])))
        except DataNotFound as err:  # the message names --data, not the predictions file
            raise CommandError(str(err)) from None
        missing = [i for i in cols["ids"] if i not in info]
        if missing:
            raise ValueError(f"{len(missing)} id(s) are not in dataset {args.data!r}, e.g. {missing[:3]}")
        durations = [info[i].duration for i in cols["ids"]]
        evidence = [info[i].evidence_position for i in cols["ids"]]
        if "meta" not in cols and any(info[i].meta for i in cols["ids"]):
            cols["meta"] = [info[i].meta for i in cols["ids"]]  # for MMAR's / Foundation's tables
    else:
        have = [d is not None for d in durations]
        if any(have) and not all(have):
            first = cols["ids"][have.index(False)]
            raise ValueError(f"record {first!r} has no 'duration' while others do; pass --data to take durations "
                             "from the dataset")
        if not any(have):
            durations = None
        if all(e is MISSING for e in evidence):
            evidence = None
        else:
            evidence = [None if e is MISSING else e for e in evidence]
    if durations is not None:
        cols["durations"] = durations
        cols["duration_bins"] = args.duration_bins
    if evidence is not None:
        cols["evidence"] = evidence
        cols["evidence_bins"] = args.evidence_bins
