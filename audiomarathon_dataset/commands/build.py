"""`audiomarathon build --sources DIR --out OUT`: compose the benchmark from the source corpora."""

from __future__ import annotations

import os

from audiomarathon.cli import CommandError
from audiomarathon.tasks import UnknownTaskError


def _seconds_list(text: str) -> tuple[float, ...]:
    import argparse

    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated seconds, e.g. 90,180,300; got {text!r}") from None


def add_arguments(parser) -> None:
    parser.add_argument("--sources", required=True,
                        help="folder holding the source corpora side by side (LibriSpeech/, RACE/, slue-voxpopuli/, "
                             "TAU-urban-acoustic-scenes-2020-mobile-development/, GTZAN/, DESED/, VESUS/, HAD/, VoxCeleb/)")
    parser.add_argument("--out", required=True, help="output folder for parquet shards + dataset card, written atomically; "
                        "in an existing dataset folder only the configs built are replaced, the rest is kept")
    parser.add_argument("--tasks", default=None, help="comma-separated config names or abbreviations (default: all 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--num-proc", type=int, default=1, help="processes composing audio, the main one included (1: no workers); output bytes do not depend on it")
    parser.add_argument("--min-duration", type=float, default=None,
                        help="minimum instance length in seconds for every task (default: each task's own, 90 or 180)")
    parser.add_argument("--max-duration", type=float, default=None,
                        help="maximum instance length in seconds for every task (default: each task's own, 210 or 300)")
    parser.add_argument("--limit", type=int, default=None, help="at most N instances per task")
    parser.add_argument("--loudness", type=float, default=None, metavar="LUFS",
                        help="normalize every clip to this integrated loudness (EBU R128, e.g. -23); default: unchanged")
    parser.add_argument("--crossfade", type=float, default=0.0, metavar="SECONDS",
                        help="equal-power crossfade between clips (default 0: back to back, as the original)")
    parser.add_argument("--no-speech-rendering", action="store_true",
                        help="never render missing RACE recordings with espeak-ng (report them instead)")
    parser.add_argument("--evidence-position", choices=("start", "middle", "end"), default=None,
                        help="controlled build: put the clip holding the answer's evidence at this position "
                             "(DESED, SLUE)")
    parser.add_argument("--durations", type=_seconds_list, default=None, metavar="S1,S2,...",
                        help="controlled build: compose every item at each of these lengths (seconds), same "
                             "question, evidence and distractor material; rows of the same config told apart "
                             "by meta.controlled.duration_target")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args) -> int:
    from ..build import REPORT_NAME, BuildFailed, build_benchmark
    from ..sources import MissingCorpusError
    from ..writer import WriteError

    if args.num_proc < 1:
        raise CommandError(f"--num-proc must be at least 1, got {args.num_proc}")
    try:
        report = build_benchmark(
            args.sources, args.out, tasks=args.tasks, seed=args.seed, num_proc=args.num_proc,
            min_duration=args.min_duration, max_duration=args.max_duration, limit=args.limit,
            progress=not args.no_progress, loudness=args.loudness, crossfade=args.crossfade,
            render_speech=not args.no_speech_rendering, evidence_position=args.evidence_position,
            durations=args.durations,
        )
    except BuildFailed as err:
        err.report.print_issues(limit=5)
        raise CommandError(f"{err}\nthe dataset folder {args.out} was not written") from None
    except (MissingCorpusError, FileNotFoundError, FileExistsError, UnknownTaskError, ValueError, WriteError) as err:
        raise CommandError(str(err)) from None
    report.print_issues()
    print(report.summary_line())
    if report.kept_line():
        print(report.kept_line())
    hours = report.output_seconds / 3600
    speed = report.output_seconds / report.wall_seconds if report.wall_seconds else 0.0
    print(f"{hours:.2f} h of audio in {report.wall_seconds:.1f} s ({speed:.0f}x real time, {args.num_proc} process(es))")
    print(f"report: {os.path.join(args.out, REPORT_NAME)}")
    return 0
