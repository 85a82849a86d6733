"""Compressed-attention generation: audio-token pruning and KV-cache presses.

Public API::

    from audiomarathon_runner.compression import CompressionConfig, compression_session
    cfg = CompressionConfig(method="fastv", ratio=0.5, layer=2)
    with compression_session(model, inputs, audio_mask, cfg) as stats:
        out = model.generate(**inputs, max_new_tokens=8)
    record = stats.to_dict()

Imports only torch and transformers; kvpress is imported when a press is applied. The names below
are loaded on first use: the configuration (``config.py``, torch-free) is read by every command
line, the implementations only by a run that applies a method.
"""
from audiomarathon.lazy import lazy_attributes

# public name -> the module of this package that defines it
_EXPORTS = {
    "CompressionConfig": "config",
    "add_compression_arguments": "config",
    "config_from_args": "config",
    "CompressionStats": "stats",
    "PRESSES": "presses",
    "PressSpec": "presses",
    "PRUNERS": "pruning",
    "TokenPruner": "pruning",
    "compression_session": "session",
    "kept_count": "counting",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_attributes(__name__, _EXPORTS)
