"""Options shared by `audiomarathon run` and `audiomarathon sweep`."""

from __future__ import annotations

import argparse

from ..profiles import DEFAULT_PROFILE


def add_run_arguments(parser, *, sweep: bool = False) -> None:
    """Every option of ``run`` (``sweep``: of ``sweep``, which takes --methods/--ratios)."""
    from ..api.config import add_api_arguments
    from ..compression.config import add_compression_arguments

    add_model_data_arguments(parser)
    add_compression_arguments(parser, sweep=sweep)
    apply_profile_defaults(parser)
    add_api_arguments(parser)


def run_config(args, **compression):
    """The RunConfig of parsed options; ``compression``: a sweep point's method and ratio."""
    from ..api.config import api_config_from_args
    from ..compression.config import config_from_args
    from ..run_config import RunConfig

    return RunConfig(compression=config_from_args(args, **compression), api=api_config_from_args(args),
                     **run_config_kwargs(args))


def add_model_data_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="Hub id or local folder of a supported audio LLM")
    parser.add_argument("--revision", default=None, help="model revision (branch, tag or commit) on the Hub")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="allow a checkpoint whose model is its own Python code (Aero-1: config.json auto_map) "
                             "to run that code on this machine; only for code you trust. Never implied: such a "
                             "checkpoint is refused without it. The code's sha256 is recorded in results.json and "
                             "the run identity")
    parser.add_argument("--tasks", default="all", help="comma-separated config names or abbreviations, a benchmark's group or key ('foundation', "
                        "'mmar'), or 'all' (AudioMarathon's ten tasks)")
    parser.add_argument("--data", required=True, help="dataset folder or Hub dataset id (load_dataset format)")
    parser.add_argument("--out", required=True, help="output folder (re-running resumes)")
    parser.add_argument("--name", default=None,
                        help="a display name for the run, shown by compare and on the leaderboard (results.json "
                             "config.name); not part of the run identity (default: the output folder's name)")
    parser.add_argument("--limit", type=int, default=None, help="first N samples per task")
    parser.add_argument("--dtype", default=None,
                        help="bf16, fp16, fp32 or auto (the checkpoint's own); default: fp32 on the CPU, bf16 on "
                             "an accelerator (the run prints which it uses)")
    parser.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda if available)")
    # Only batch size 1 is implemented: not offered in --help; any other value is refused up front.
    parser.add_argument("--batch-size", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--audio-control", choices=("noise", "silence"), default=None,
                        help="replace each clip with same-length noise or silence (text-only baseline)")
    parser.add_argument("--max-audio-seconds", type=float, default=600.0, help="refuse longer clips (per-sample error)")
    parser.add_argument("--max-new-tokens", type=int, default=None,
                        help="cap every task's max new tokens (default: the profile's values)")
    parser.add_argument("--profile", choices=profile_names(), default=DEFAULT_PROFILE,
                        help="how each model is asked: card = as its model card documents it (its system prompt, "
                             "the benchmark's prompts, replies with room; default); authors = the benchmark "
                             "authors' scripts, family by family (their prompts, reply caps, audio "
                             "normalisation, and --press-scope all unless given), to set beside the paper")
    parser.add_argument("--retry-failed", action="store_true", help="re-run samples recorded with an error")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--prefetch", type=int, default=None,
                        help="samples prepared ahead in a background thread while the model runs "
                             "(0: inline; default: 1 on an accelerator, 0 on the CPU)")


def run_config_kwargs(args) -> dict:
    return dict(
        model=args.model, revision=args.revision, tasks=args.tasks, data=args.data, out=args.out, limit=args.limit,
        dtype=args.dtype, device=args.device, batch_size=args.batch_size, audio_control=args.audio_control,
        max_audio_seconds=args.max_audio_seconds, max_new_tokens=args.max_new_tokens,
        retry_failed=args.retry_failed, progress=not args.no_progress,
        prefetch=args.prefetch, profile=args.profile, name=getattr(args, "name", None),
        trust_remote_code=getattr(args, "trust_remote_code", False),
    )


def profile_names() -> list[str]:
    from ..profiles import PROFILES

    return list(PROFILES)


def apply_profile_defaults(parser) -> None:
    """--press-scope's default is the profile's (audio for card, all for authors): left unset here."""
    parser.set_defaults(press_scope=None)
    for action in parser._actions:
        if action.dest == "press_scope" and "default:" not in (action.help or ""):
            action.help += "; default: the --profile's (audio for card, all for authors)"


def resolve_profile_defaults(args) -> None:
    if getattr(args, "press_scope", "") is None:
        from ..profiles import get_profile

        args.press_scope = get_profile(args.profile).press_scope


def expected_errors() -> tuple[type[BaseException], ...]:
    from audiomarathon.tasks import UnknownTaskError

    from ..adapters import UnknownModelError

    return (UnknownModelError, UnknownTaskError, FileNotFoundError, ValueError, RuntimeError)
