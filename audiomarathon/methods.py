"""The compression methods a run can name, and what kind each is, without importing torch.

The runner's method tables (audiomarathon_runner/compression/registry.py: one class per pruning
method, one spec per KV-cache press) define the methods; this table is their names for the parts
that must not import the runner (the leaderboard Space checks a submission's method against it).
A test keeps the two equal.
"""

from __future__ import annotations

NONE = "none"
PRUNE = "prune"  # audio-token pruning inside the decoder
PRESS = "press"  # KV-cache press after prefill

METHOD_KINDS: dict[str, str] = {
    NONE: NONE,
    "fastv": PRUNE,
    "dart": PRUNE,
    "random": PRUNE,
    "frame": PRUNE,
    "snapkv": PRESS,
    "tova": PRESS,
    "knorm": PRESS,
    "streaming": PRESS,
    "expected_attention": PRESS,
    "kv_random": PRESS,
    "pyramidkv": PRESS,
}


# How a ratio's range is written, the same way in every help text and error: a compression
# method removes part of the audio tokens, never none and never all, so its --ratio lies in
# METHOD_RATIO_RANGE; a ratio as such (a sweep's --ratios, results.json's config.ratio) may also
# be 0, the uncompressed point, so it lies in RATIO_RANGE.
METHOD_RATIO_RANGE = "(0, 1)"
RATIO_RANGE = "[0, 1)"


def canonical_method(name) -> str | None:
    """The method's registry name (case and surrounding spaces ignored, as the run identity does),
    or None when no method has that name."""
    text = str(name).strip().lower() if name is not None else NONE
    return text if text in METHOD_KINDS else None
