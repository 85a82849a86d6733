"""The compression methods a run can name, what each keeps and which settings it reads, without
importing torch.

This table is the methods' names, summaries and parameters; their implementations live in the
runner (``audiomarathon_runner/compression``: ``pruning.py`` registers one class per token-pruning
method, ``presses.py`` holds one spec per KV-cache press), loaded only when a method is applied. A
test keeps the two equal. Checking ``--method`` (the command line, the leaderboard Space checking
a submission) reads only this table.
"""

from __future__ import annotations

from dataclasses import dataclass

NONE = "none"
PRUNE = "prune"  # audio-token pruning inside the decoder
PRESS = "press"  # KV-cache press after prefill

# What each kind of method is, as `audiomarathon methods` lists it.
KIND_NAMES = {NONE: "no compression", PRUNE: "audio-token pruning", PRESS: "KV-cache press (kvpress)"}

# Where a KV-cache press may evict: audio positions only (ratio over audio tokens), or any
# position (ratio over the whole prompt: the paper's behaviour).
PRESS_SCOPES = ("audio", "all")


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # NONE, PRUNE or PRESS
    summary: str  # what it keeps, one line for --method's help and `audiomarathon methods`
    # The compression settings the method reads besides --ratio: a pruner reads --layer, a press
    # --press-scope, a random method --seed.
    reads: tuple[str, ...] = ()


def _prune(name: str, summary: str, *extra: str) -> Method:
    return Method(name, PRUNE, f"token pruning at layer K: {summary}", ("layer", *extra))


def _press(name: str, summary: str, *extra: str) -> Method:
    return Method(name, PRESS, f"KV press: {summary}", ("press_scope", *extra))


METHODS: dict[str, Method] = {m.name: m for m in (
    Method(NONE, NONE, "no compression"),
    _prune("fastv", "audio tokens the last prompt token attends to most at K-1"),
    _prune("dart", "audio tokens least similar to key-norm pivots (duplicates dropped)"),
    _prune("random", "a seeded uniform sample of the audio tokens", "seed"),
    _prune("frame", "every n-th audio token (uniform stride)"),
    _press("snapkv", "keys most attended by the last prompt window"),
    _press("tova", "keys most attended by the last prompt token"),
    _press("knorm", "keys with the smallest L2 norm"),
    _press("streaming", "sink tokens + the most recent tokens"),
    _press("expected_attention", "keys with the largest expected attention from future queries"),
    # "random" is taken by token pruning, so kvpress's RandomPress is kv_random.
    _press("kv_random", "random keys, seeded by (seed, sample, layer)", "seed"),
    _press("pyramidkv", "SnapKV with budgets shrinking over layers"),
)}
METHOD_KINDS: dict[str, str] = {name: m.kind for name, m in METHODS.items()}


# How a ratio's range is written, the same way in every help text and error: a compression
# method removes part of the audio tokens, never none and never all, so its --ratio lies in
# METHOD_RATIO_RANGE; a ratio as such (a sweep's --ratios, results.json's config.ratio) may also
# be 0, the uncompressed point, so it lies in RATIO_RANGE.
METHOD_RATIO_RANGE = "(0, 1)"
RATIO_RANGE = "[0, 1)"


def method_names() -> list[str]:
    return list(METHODS)


def method_kind(name: str) -> str:
    """``none``, ``prune`` (audio-token pruning) or ``press`` (KV-cache press)."""
    if name not in METHODS:
        raise ValueError(f"unknown compression method {name!r}; known methods: {', '.join(METHODS)}")
    return METHODS[name].kind


def methods_reading(setting: str) -> list[str]:
    """The methods that read ``setting`` (``seed``, ``layer``, ``press_scope``)."""
    return [name for name, m in METHODS.items() if setting in m.reads]


def methods_help() -> str:
    """One ``name: what it keeps`` clause per method, for ``--method``'s help."""
    return "; ".join(f"{name}: {m.summary}" for name, m in METHODS.items())


def canonical_method(name) -> str | None:
    """The method's registry name (case and surrounding spaces ignored, as the run identity does),
    or None when no method has that name."""
    text = str(name).strip().lower() if name is not None else NONE
    return text if text in METHODS else None
