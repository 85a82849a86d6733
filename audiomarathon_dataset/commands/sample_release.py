"""`audiomarathon make-sample-release OUT`: a small synthetic release to try `import-release` on.

The release the tests import, written to a folder: every task, in the benchmark authors' layout
(their folder and file names, metadata at several depths, VoxGender and VoxAge sharing one
VoxCeleb folder, HAD's real/ and fake/, LibriSpeech's long-form tree), with real audio files in
several formats and rates, and one VESUS record whose audio file is missing, as in the public
release. No network is needed; the same seed writes the same bytes.

``--benchmark mmar`` writes MMAR's Hub layout instead (``MMAR-meta.json`` and
``mmar-audio.tar.gz``), ``--benchmark airbench-foundation`` AIR-Bench's (``Foundation/`` with its
metadata and 25 audio folders); ``--per-task`` is then the number of MMAR items, or of items per
Foundation folder.
"""

from __future__ import annotations

from audiomarathon.cli import CommandError

SAMPLES = ("audiomarathon", "mmar", "airbench-foundation")  # benchmark keys
_DEFAULT_COUNT = {"audiomarathon": 3, "mmar": 20, "airbench-foundation": 2}


def add_arguments(parser) -> None:
    parser.add_argument("out", help="the folder to write the release into (new or empty)")
    parser.add_argument("--benchmark", choices=SAMPLES, default="audiomarathon",
                        help="whose release to write (default audiomarathon)")
    parser.add_argument("--per-task", type=int, default=None,
                        help="records per task (default 3); MMAR: items (default 20); AIR-Bench Foundation: items per "
                             "folder (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the audio and of the choices")
    parser.add_argument("--layout", choices=("authors", "task_folders"), default="authors",
                        help="authors: the folders and file names of the authors' release; task_folders: one "
                             "folder per task, named after it")


def run(args) -> int:
    from pathlib import Path

    from ..synthetic_benchmarks import write_synthetic_foundation, write_synthetic_mmar
    from ..synthetic_release import write_synthetic_release

    out = Path(args.out)
    count = _DEFAULT_COUNT[args.benchmark] if args.per_task is None else args.per_task
    if count < 1:
        raise CommandError(f"--per-task must be at least 1, got {count}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CommandError(f"{out}: exists and is not an empty folder; choose a new one (nothing was written)")
    if args.benchmark == "mmar":
        write_synthetic_mmar(out, n=count, seed=args.seed, tarball=True)
        what = f"MMAR's Hub layout, {count} item(s)"
    elif args.benchmark == "airbench-foundation":
        write_synthetic_foundation(out, n_per_folder=count, seed=args.seed)
        what = f"AIR-Bench Foundation's layout, {count} item(s) per folder"
    else:
        write_synthetic_release(out, per_task=count, seed=args.seed, layout=args.layout)
        what = f"{args.layout} layout, {count} record(s) per task"
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"wrote a synthetic release ({what}, seed {args.seed}): {len(files)} files, {size / 1e6:.1f} MB in {out}")
    print(f"import it with: audiomarathon import-release {out} --out am_data")
    return 0
