"""Compressed-attention generation: audio-token pruning and KV-cache presses.

Public API::

    from audiomarathon_runner.compression import CompressionConfig, compression_session
    cfg = CompressionConfig(method="fastv", ratio=0.5, layer=2)
    with compression_session(model, inputs, audio_mask, cfg) as stats:
        out = model.generate(**inputs, max_new_tokens=8)
    record = stats.to_dict()

Imports only torch and transformers; kvpress is imported when a press is applied.
"""
from .config import CompressionConfig, add_compression_arguments, config_from_args
from .counting import kept_count
from .pruning import PRUNERS, TokenPruner
from .presses import PRESSES, PressSpec
from .registry import PRESS_SCOPES, method_kind, method_names
from .session import compression_session
from .stats import CompressionStats

__all__ = [
    "CompressionConfig",
    "CompressionStats",
    "PRESSES",
    "PRESS_SCOPES",
    "PRUNERS",
    "PressSpec",
    "TokenPruner",
    "add_compression_arguments",
    "config_from_args",
    "compression_session",
    "kept_count",
    "method_kind",
    "method_names",
]
