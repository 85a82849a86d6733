"""`audiomarathon push --data FOLDER --repo ORG/NAME`: upload a dataset folder to the Hub."""

from __future__ import annotations

from pathlib import Path

from audiomarathon.cli import CommandError, add_folder_option, folder_option


def add_arguments(parser) -> None:
    add_folder_option(parser, "--data", "the dataset folder written by import-release or build", old_positional="folder")
    parser.add_argument("--repo", required=True, help="Hub dataset repo id, e.g. my-org/audiomarathon")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--token", default=None, help="Hub token (default: the one saved by `hf auth login`)")
    parser.add_argument("--endpoint", default=None, help="Hub endpoint (default: huggingface.co or $HF_ENDPOINT)")
    parser.add_argument("--message", default="Upload AudioMarathon", help="commit message")


def run(args) -> int:
    from ..push import PushFailed, push_to_hub

    folder = Path(folder_option(args, "--data"))
    try:
        url = push_to_hub(folder, args.repo, private=args.private, token=args.token,
                          endpoint=args.endpoint, message=args.message)
    except (FileNotFoundError, ValueError, PushFailed) as err:
        raise CommandError(str(err)) from None
    print(f"pushed {folder} to {url}")
    print(f'load it with: load_dataset("{args.repo}", "TAU")')
    return 0
