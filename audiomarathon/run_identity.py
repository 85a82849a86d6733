"""The identity of a run: the settings that decide what a run computes, and nothing else.

One function, ``run_identity``, is used by the runner (to resume: a sample recorded under the same
identity is not run again), by results.json (where it is shown) and by the leaderboard Space (two
submissions with one identity are one entry). It reads only the fields it knows, so where a run
happened (output folder, local dataset path, model folder), how fast (prefetch, device, world
size) and any extra key a submission carries never change it.

    identity = run_identity({"model": "Qwen/Qwen2-Audio-7B-Instruct", "method": "fastv", "ratio": 0.5},
                            dataset_fingerprint="sha256:...")
    run_id(identity)  # 'rid:3f...' (stable across machines, Python versions and key order)
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping

# Decoding is greedy and the same for every task; only max_new_tokens varies (from the registry).
GREEDY: dict[str, Any] = {"do_sample": False, "num_beams": 1}

# The fields of an identity, in the order results.json shows them.
IDENTITY_FIELDS = ("model", "revision", "backend", "method", "ratio", "layer", "seed", "press_scope", "dtype",
                   "audio_control", "decoding", "profile", "dataset_fingerprint")
# Fields added after run ids were first published: left out of the hash while unset, so a run
# recorded before them keeps its id.
_LATER_FIELDS = ("profile",)


def normalize_model_name(model: str) -> str:
    """``Qwen/Qwen2-Audio-7B-Instruct``, `` qwen/qwen2-audio-7b-instruct `` and a local folder
    ``/data/models/Qwen2-Audio-7B-Instruct/`` name one model. Hub ids are matched case-insensitively
    (the Hub resolves them so), a local folder by its own name, never by where it lies."""
    name = str(model).strip().replace("\\", "/").rstrip("/")
    parts = [p for p in name.split("/") if p]
    local = name.startswith((".", "~", "/")) or len(parts) > 2
    if local and parts:
        name = parts[-1]
    return name.lower()


def _number(value, default: float = 0.0) -> float:
    try:
        out = float(value if value is not None else default)
    except (TypeError, ValueError):
        raise ValueError(f"run identity: {value!r} is not a number") from None
    if not math.isfinite(out):
        raise ValueError(f"run identity: {value!r} is not a finite number")
    return round(out, 9)  # 0.5 and 0.5000000000001 (a float printed and re-read) are one ratio


def _int_or_none(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ValueError(f"run identity: {value!r} is not an integer")
    return int(value)


def _text_or_none(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def run_identity(config: Mapping[str, Any], dataset_fingerprint: str | None = None) -> dict:
    """The semantic configuration of a run, normalized.

    ``config`` is a run's settings (``RunConfig`` as a dict, or results.json's ``config``); only
    model, revision, backend (a model behind an API), method, ratio, layer, seed, press_scope,
    dtype, audio_control, the decoding (greedy settings plus the max_new_tokens cap) and the run
    profile (how each family is asked each task; None for a run from before profiles) are read,
    so an identity read back from results.json gives itself again. Settings that cannot change the outputs
    are dropped: an uncompressed run has ratio 0 and no layer or press scope, and its seed matters
    only when an audio control draws noise.
    """
    method = (_text_or_none(config.get("method")) or "none").lower()
    compressed = method != "none"
    audio_control = _text_or_none(config.get("audio_control"))
    decoding = config.get("decoding") if isinstance(config.get("decoding"), Mapping) else {}
    cap = config["max_new_tokens"] if "max_new_tokens" in config else decoding.get("max_new_tokens")
    if isinstance(cap, Mapping):  # results.json's decoding lists per-task values; the cap is what varies
        cap = None
    backend = _backend_identity(config)
    return {
        "model": normalize_model_name(config.get("model") or ""),
        "revision": _text_or_none(config.get("revision")),
        "backend": backend,
        "method": method,
        "ratio": _number(config.get("ratio")) if compressed else 0.0,
        "layer": _int_or_none(config.get("layer")) if compressed else None,
        "seed": _int_or_none(config.get("seed")) if (compressed or audio_control) else None,
        "press_scope": _text_or_none(config.get("press_scope")) if compressed else None,
        "dtype": None if backend else (_text_or_none(config.get("dtype")) or "auto").lower(),
        "audio_control": audio_control,
        "decoding": {
            "do_sample": bool(decoding.get("do_sample", GREEDY["do_sample"])),
            "num_beams": int(decoding.get("num_beams", GREEDY["num_beams"])),
            "max_new_tokens": _int_or_none(cap),
        },
        "profile": (_text_or_none(config.get("profile")) or "").lower() or None,
        "dataset_fingerprint": _text_or_none(dataset_fingerprint),
    }


def _backend_identity(config: Mapping[str, Any]) -> dict | None:
    """None for a model run in-process (transformers); for a model behind an API, what changes
    its replies: the wire format and how long clips are cut into parts, never the servers'
    addresses, concurrency or retries (spreading a run over servers resumes the same run)."""
    backend = config.get("backend")
    if not isinstance(backend, Mapping) or backend.get("kind") in (None, "transformers"):
        return None
    out = {"kind": str(backend["kind"]), "audio_format": backend.get("audio_format"),
           "max_tokens_field": backend.get("max_tokens_field")}
    if backend.get("family") is not None:  # whose system prompt and profile prompts were sent
        out["family"] = str(backend["family"])
    split = backend.get("split")
    if isinstance(split, Mapping):  # an identity read back
        out["split"] = dict(split)
    elif backend.get("on_too_long") == "split":
        out["split"] = {"max_audio_seconds": _number(config.get("max_audio_seconds")),
                        "max_request_mb": _number(backend.get("max_request_mb"))}
    return out


def run_id(identity: Mapping[str, Any]) -> str:
    """A short stable name of an identity (sha256 of its canonical JSON)."""
    fields = {k: identity.get(k) for k in IDENTITY_FIELDS if not (k in _LATER_FIELDS and identity.get(k) is None)}
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "rid:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
