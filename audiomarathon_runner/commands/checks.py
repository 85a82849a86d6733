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


NAME_MAX_CHARS = 80


def check_name(name: str | None) -> str | None:
    """A run's display name (--name): one line of at most NAME_MAX_CHARS visible characters, spaces
    at its ends dropped; None when not given. It labels the run and never changes its identity."""
    if name is None:
        return None
    text = str(name).strip()
    if not text:
        raise ValueError("--name: empty name")
    if any(not ch.isprintable() for ch in text):
        raise ValueError(f"--name {text!r}: a name is one line of printable characters")
    if len(text) > NAME_MAX_CHARS:
        raise ValueError(f"--name: {len(text)} characters, over the {NAME_MAX_CHARS} a name may have")
    return text


def _check_hub(args) -> None:
    """A --model or --data that names the Hub needs the Hub: without a network, one short probe
    says so in seconds, where the Hub clients would retry for half a minute. Offline mode
    (HF_HUB_OFFLINE) reads only the local caches and is not probed."""
    from audiomarathon.data_source import hub_id, hub_unreachable_message
    from audiomarathon.hub_access import model_offline_variable, model_unreachable_message, offline_variable
    from audiomarathon.hub_access import unreachable

    wanted = []
    data = args.data
    if data is not None and not os.path.exists(os.path.expanduser(str(data))) and hub_id(str(data)) \
            and offline_variable() is None:
        wanted.append(lambda reason: hub_unreachable_message(str(data), reason))
    model = args.model
    if not getattr(args, "api_base", None) and model is not None and not _looks_like_path(str(model)) \
            and not os.path.exists(os.path.expanduser(str(model))) and model_offline_variable() is None:
        wanted.append(lambda reason: model_unreachable_message(str(model), reason))
    if wanted:
        reason = unreachable()
        if reason is not None:
            raise ValueError("\n".join(message(reason) for message in wanted))


def check_ratio(option: str, ratio: float, method: str) -> None:
    """A method's ratio lies in METHOD_RATIO_RANGE (0 would remove nothing); a sweep's ratios
    (``method`` none) in RATIO_RANGE, 0 being each method's uncompressed point."""
    from audiomarathon.methods import METHOD_RATIO_RANGE, RATIO_RANGE

    if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or not 0.0 <= ratio < 1.0:
        allowed = RATIO_RANGE if method == "none" else METHOD_RATIO_RANGE
        raise ValueError(f"{option} {ratio!r}: the fraction of audio tokens removed must be in {allowed}")
    if method != "none" and ratio == 0.0:
        raise ValueError(f"{option} 0 with --method {method} removes nothing; give a ratio in {METHOD_RATIO_RANGE} "
                         "(or use --method none)")


def check_method(method: str) -> None:
    # The torch-free table of methods; the command line's --method choices come from the same
    # table, so this matters for the Python API and sweep's --methods.
    from audiomarathon.methods import method_names

    names = method_names()
    if method not in names:
        raise ValueError(f"--method {method!r}: unknown compression method; choose from: {', '.join(names)} "
                         "(`audiomarathon methods` describes them)")


def check_common(args) -> None:
    """Options shared by run and sweep."""
    from audiomarathon.tasks import UnknownTaskError, resolve_tasks

    if args.dtype is not None and str(args.dtype).lower() not in DTYPE_NAMES:
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
    args.name = check_name(getattr(args, "name", None))
    if not getattr(args, "api_base", None):  # behind an API, --model is the served name, not a folder
        _check_location("--model", args.model)
    _check_data(args.data)
    _check_hub(args)
    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out}: exists and is not a folder")


def check_run(args) -> None:
    check_common(args)
    method = args.method
    check_method(method)
    if method != "none" and not args.ratio:  # not given (None) or 0: the method would remove nothing
        from audiomarathon.methods import METHOD_RATIO_RANGE

        raise ValueError(f"--method {method} needs --ratio (the fraction of audio tokens removed, in "
                         f"{METHOD_RATIO_RANGE})")
    if method == "none" and args.ratio not in (None, 0, 0.0):
        raise ValueError(f"--ratio {args.ratio} needs a compression --method (see `audiomarathon methods`)")
    check_ratio("--ratio", args.ratio if args.ratio is not None else 0.0, method)


def check_sweep(args, methods: list[str], ratios: list[float]) -> None:
    check_common(args)
    for method in methods:
        check_method(method)
    for ratio in ratios:
        check_ratio("--ratios", ratio, "none")  # a 0 in a sweep is allowed: the method's no-op point
