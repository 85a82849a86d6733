"""`audiomarathon make-sample-release OUT`: a small synthetic release to try `import-release` on.

The release the tests import, written to a folder: every task, in the benchmark authors' layout
(their folder and file names, metadata at several depths, VoxGender and VoxAge sharing one
VoxCeleb folder, HAD's real/ and fake/, LibriSpeech's long-form tree), with real audio files in
several formats and rates, and one VESUS record whose audio file is missing, as in the public
release. No network is needed; the same seed writes the same bytes.
"""

from __future__ import annotations

from audiomarathon.cli import CommandError


def add_arguments(parser) -> None:
    parser.add_argument("out", help="the folder to write the release into (new or empty)")
    parser.add_argument("--per-task", type=int, default=3, help="records per task")
    parser.add_argument("--seed", type=int, default=0, help="seed of the audio and of the choices")
    parser.add_argument("--layout", choices=("authors", "task_folders"), default="authors",
                        help="authors: the folders and file names of the authors' release; task_folders: one "
                             "folder per task, named after it")


def run(args) -> int:
    from pathlib import Path

    from ..synthetic_release import write_synthetic_release

    out = Path(args.out)
    if args.per_task < 1:
        raise CommandError(f"--per-task must be at least 1, got {args.per_task}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CommandError(f"{out}: exists and is not an empty folder; choose a new one (nothing was written)")
    write_synthetic_release(out, per_task=args.per_task, seed=args.seed, layout=args.layout)
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"wrote a synthetic release ({args.layout} layout, {args.per_task} record(s) per task, seed {args.seed}): "
          f"{len(files)} files, {size / 1e6:.1f} MB in {out}")
    print(f"import it with: audiomarathon import-release {out} --out am_data")
    return 0
