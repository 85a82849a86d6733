"""Run arguments checked before anything heavy loads (no transformers, no datasets, no model):
a bad option is refused in well under a second instead of after minutes of loading a 7B model.

Each check raises ValueError naming the option. The run itself checks the same things again
(RunConfig, CompressionConfig); this is only the early, cheap pass.
"""

from __future__ import annotations

import math
import os
import re

from audiomarathon.run_identity import DTYPE_ALIASES

# The dtype names a run accepts (the run identity's table, which names each one's canonical
# spelling; the adapters' resolve_dtype maps the same names, tests check they agree).
DTYPE_NAMES = tuple(DTYPE_ALIASES)
_DEVICE = re.compile(r"^(cpu|auto|mps|cuda(:\d+)?)$")


def _looks_like_path(text: str) -> bool:
    # A Hub id is "name" or "org/name"; anything else (absolute, relative, deeper) is a folder.
    return text.startswith((os.sep, ".", "~")) or text.count("/") > 1 or os.sep != "/" and os.sep in text


def _check_location(option: str, value: str | None) -> None:
    if value is None:
        return
    text = str(value)
    if not text.strip():
        raise ValueError(f"{option}: empty value")
    if _looks_like_path(text) and not os.path.exists(os.path.expanduser(text)):
        raise ValueError(f"{option} {text}: the folder does not exist (and it is not a Hub id like ORG/NAME)")


def _check_data(value: str | None) -> None:
    # The same rule as loading (no network here): a name that is not ORG/NAME is a folder, and a
    # missing folder is never replaced by a cached dataset of that name.
    from audiomarathon.data_source import DataNotFound, locate

    if value is not None:
        try:
            locate(value, check_hub=False)
        except DataNotFound as err:
            raise ValueError(str(err)) from None


def check_ratio(option: str, ratio: float, method: str) -> None:
    if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or not 0.0 <= ratio < 1.0:
        raise ValueError(f"{option} {ratio!r}: the fraction of audio tokens removed must be in [0, 1)")
    if method != "none" and ratio == 0.0:
        raise ValueError(f"{option} 0 with --method {method} removes nothing; give a ratio in (0, 1) "
                         "(or use --method none)")


def check_method(method: str) -> None:
    # The compression tables (imports torch, not transformers); the command line's --method choices
    # come from the same tables, so this matters for the Python API and sweep's --methods.
    from ..compression.registry import method_names

    names = method_names()
    if method not in names:
        raise ValueError(f"--method {method!r}: unknown compression method; choose from: {', '.join(names)} "
                         "(`audiomarathon methods` describes them)")


def check_common(args) -> None:
    """Options shared by run and sweep."""
    from audiomarathon.tasks import UnknownTaskError, resolve_tasks

    if str(args.dtype).lower() not in DTYPE_NAMES:
        raise ValueError(f"--dtype {args.dtype!r} is unknown; choose from: {', '.join(DTYPE_NAMES)}")
    if args.device is not None and not _DEVICE.match(str(args.device)):
        raise ValueError(f"--device {args.device!r}: expected cpu, cuda, cuda:N, mps or auto")
    try:
        resolve_tasks(args.tasks)
    except UnknownTaskError as err:
        raise ValueError(f"--tasks: {err}") from None
    for option, value, low in (("--limit", args.limit, 1), ("--max-new-tokens", args.max_new_tokens, 1),
                               ("--prefetch", args.prefetch, 0), ("--layer", getattr(args, "layer", 2), 1)):
        if value is not None and value < low:
            raise ValueError(f"{option} must be >= {low}, got {value}")
    if getattr(args, "batch_size", 1) != 1:
        raise ValueError(f"--batch-size {args.batch_size}: only batch size 1 is implemented")
    if args.max_audio_seconds is not None and not args.max_audio_seconds > 0:
        raise ValueError(f"--max-audio-seconds must be > 0, got {args.max_audio_seconds}")
    if not getattr(args, "api_base", None):  # behind an API, --model is the served name, not a folder
        _check_location("--model", args.model)
    _check_data(args.data)
    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out}: exists and is not a folder")


def check_run(args) -> None:
    check_common(args)
    method = args.method
    check_method(method)
    if method != "none" and not args.ratio:  # not given (None) or 0: the method would remove nothing
        raise ValueError(f"--method {method} needs --ratio (the fraction of audio tokens removed, in (0, 1))")
    if method == "none" and args.ratio not in (None, 0, 0.0):
        raise ValueError(f"--ratio {args.ratio} needs a compression --method (see `audiomarathon methods`)")
    check_ratio("--ratio", args.ratio if args.ratio is not None else 0.0, method)


def check_sweep(args, methods: list[str], ratios: list[float]) -> None:
    check_common(args)
    for method in methods:
        check_method(method)
    for ratio in ratios:
        check_ratio("--ratios", ratio, "none")  # a 0 in a sweep is allowed: the method's no-op point
