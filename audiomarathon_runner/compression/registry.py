"""Method names -> kinds. Pruners and presses register themselves in their own modules;
this module only holds the name tables so that the config can validate without importing kvpress."""
from __future__ import annotations

PRESS_SCOPES = ("audio", "all")

# Filled by ``pruning.register_pruner``; kept here so config validation sees every name.
PRUNER_NAMES: list[str] = []

# CLI name -> kvpress class name. "random" is taken by token pruning, so kvpress's RandomPress is
# ``kv_random``. kvpress itself is imported lazily (only when a press is actually applied).
PRESS_CLASSES: dict[str, str] = {
    "snapkv": "SnapKVPress",
    "tova": "TOVAPress",
    "knorm": "KnormPress",
    "streaming": "StreamingLLMPress",
    "expected_attention": "ExpectedAttentionPress",
    "kv_random": "RandomPress",
    "pyramidkv": "PyramidKVPress",
}


def method_names() -> list[str]:
    from . import pruning  # noqa: F401  (registers the pruners)

    return ["none", *PRUNER_NAMES, *PRESS_CLASSES]


def method_kind(name: str) -> str:
    from . import pruning  # noqa: F401

    if name == "none":
        return "none"
    if name in PRUNER_NAMES:
        return "prune"
    if name in PRESS_CLASSES:
        return "press"
    raise ValueError(f"unknown compression method {name!r}; known methods: {', '.join(method_names())}")
