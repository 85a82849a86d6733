"""`audiomarathon import-release SRC --out OUT` (the older `import-release SRC OUT` still works)."""

from __future__ import annotations

import os

from audiomarathon.cli import CommandError, add_folder_option, folder_option
from audiomarathon.tasks import UnknownTaskError


def add_arguments(parser) -> None:
    parser.add_argument("src", help="the release root: the official release as downloaded (metadata files are found "
                        "at any depth and assigned to tasks by name and content), or one folder per task (TAU/, ...); "
                        "archives in it (zip, tar, tar.gz, gz), or a release that is one archive, are extracted first")
    add_folder_option(parser, "--out", "the dataset folder to write: parquet shards and the dataset card, written "
                      "atomically; in an existing dataset folder only the configs imported are replaced, the rest is "
                      "kept", old_positional="out")
    parser.add_argument("--tasks", default=None, help="comma-separated config names or abbreviations (default: every task found in SRC)")
    parser.add_argument("--task-file", action="append", default=[], metavar="TASK=PATH",
                        help="assign a metadata file (or a real/+fake/ folder, a LibriSpeech tree) under SRC to a task "
                             "explicitly, settling an ambiguity; repeatable")
    parser.add_argument("--strict", action="store_true", help="fail, writing nothing, on any problem instead of skipping the record")
    parser.add_argument("--num-proc", type=int, default=1, help="processes decoding audio, the main one included (default 1: no workers)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args) -> int:
    from ..release import REPORT_NAME, ImportFailed, import_release
    from ..writer import WriteError

    args.out = folder_option(args, "--out")
    if args.num_proc < 1:
        raise CommandError(f"--num-proc must be at least 1, got {args.num_proc}")
    try:
        report = import_release(
            args.src, args.out, tasks=args.tasks, strict=args.strict,
            num_proc=args.num_proc, progress=not args.no_progress, task_files=args.task_file,
        )
    except ImportFailed as err:
        raise CommandError(str(err)) from None
    except (FileNotFoundError, FileExistsError, UnknownTaskError, WriteError) as err:
        raise CommandError(str(err)) from None
    for line in report.source_lines():
        print(line)
    report.print_issues()
    print(report.summary_line())
    if report.kept_line():
        print(report.kept_line())
    print(f"report: {os.path.join(args.out, REPORT_NAME)}")
    return 0
