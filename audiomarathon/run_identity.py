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

import hashlib
import json
import math
import posixpath
import re
import unicodedata
from typing import Any, Mapping, NotRequired, TypedDict

from .tasks import TASKS

# Decoding is greedy and the same for every task; only max_new_tokens varies (from the registry).
GREEDY: dict[str, Any] = {"do_sample": False, "num_beams": 1}


class RunIdentityRecord(TypedDict):
    """An identity (``run_identity``'s output, results.json's ``identity``), its fields in the
    order results.json shows them. The fields marked NotRequired were added after run ids were
    first published: left out of the hash while unset, so a run recorded before them keeps its id."""

    model: str
    revision: str | None
    backend: dict | None  # None in-process; for a model behind an API, its wire format
    method: str
    ratio: float
    layer: int | None
    seed: int | None
    press_scope: str | None
    dtype: str | None  # None for a model behind an API
    audio_control: str | None
    decoding: dict
    profile: NotRequired[str | None]  # how each family is asked each task ("card", "authors"); None before profiles
    # the sha256 of the checkpoint's own model code, for a run allowed to run it (--trust-remote-code)
    remote_code: NotRequired[str | None]
    dataset_fingerprint: str | None


IDENTITY_FIELDS = tuple(RunIdentityRecord.__annotations__)
_LATER_FIELDS = tuple(RunIdentityRecord.__optional_keys__)


# The dtype names a run accepts, each with its canonical name: two spellings of one dtype are one run.
DTYPE_ALIASES = {"bf16": "bf16", "bfloat16": "bf16", "fp16": "fp16", "float16": "fp16",
                 "fp32": "fp32", "float32": "fp32", "auto": "auto"}

# Letters of other scripts drawn like a Latin letter (a small table of Unicode's confusables for
# Cyrillic and Greek, both cases): a name typed with Cyrillic "а" (U+0430) names the model spelled
# with Latin "a". Applied after NFKC, which already folds fullwidth, mathematical and other
# compatibility forms of Latin letters and digits.
CONFUSABLES = str.maketrans({
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Һ": "H", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    # Cyrillic small letters
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Greek small letters
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "γ": "y", "υ": "u", "ϲ": "c", "ϳ": "j",
    # Latin letters without their dot
    "ı": "i", "ȷ": "j",
})

# Characters that draw nothing: format characters (zero-width space and joiners, word joiner, BOM,
# soft hyphen, bidirectional marks; Unicode category Cf), controls (Cc), variation selectors, the
# combining grapheme joiner and the Hangul fillers.
_INVISIBLE_EXTRA = re.compile("[\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _visible(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc"))
    return _INVISIBLE_EXTRA.sub("", text)


def canonical_text(text: str) -> str:
    """A name as the identity compares it: NFKC, invisible characters removed, Cyrillic and Greek
    look-alikes of Latin letters replaced by those letters, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", _visible(str(text))).translate(CONFUSABLES)
    # Again after case folding: a capital whose small letter is in the table.
    return " ".join(text.casefold().translate(CONFUSABLES).split())


def normalize_model_name(model: str) -> str:
    """``Qwen/Qwen2-Audio-7B-Instruct``, `` qwen/qwen2-audio-7b-instruct `` and a local folder
    ``/data/models/Qwen2-Audio-7B-Instruct/`` name one model. Hub ids are matched case-insensitively
    (the Hub resolves them so), a local folder by its own name, never by where it lies; the name is
    canonical text (``canonical_text``), and trailing ``/`` and ``/.`` are dropped. A relative
    folder spelled like a Hub id (``models/tiny``) can only be told apart where it exists: the
    runner records an existing local folder by its absolute path."""
    return _model_name(canonical_text(model))


def display_model_name(model: str) -> str:
    """The model as the leaderboard shows it: ``normalize_model_name``'s rule for a Hub id and a
    local folder (shown by its own name, never where it lies), on the name as given: its case
    kept, only invisible characters removed and spaces collapsed."""
    return _model_name(" ".join(_visible(str(model)).split()))


def _model_name(name: str) -> str:
    """A Hub id as ``org/name``; a local folder by its last part; trailing ``/`` and ``/.`` dropped."""
    name = name.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if _spelled_local(name) and parts:
        parts = [p for p in posixpath.normpath("/" + "/".join(parts)).split("/") if p]
        return parts[-1] if parts else ""
    return "/".join(parts)


def _spelled_local(name: str) -> bool:
    """A folder, not a Hub id (``name`` or ``org/name``): absolute, relative with a dot or a tilde,
    or deeper than two parts."""
    name = name.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return name.startswith((".", "~", "/")) or len(parts) > 2 or ".." in parts


def canonical_dtype(dtype) -> str:
    """``float32`` and ``fp32`` are one dtype (``DTYPE_ALIASES``); none given is ``auto``; a name
    outside the table is kept, lower-cased."""
    text = (_text_or_none(dtype) or "auto").lower()
    return DTYPE_ALIASES.get(text, text)


def canonical_revision(revision, model: str = "") -> str | None:
    """None for the Hub's ``main`` (what the Hub client asks for when no revision is given) and for
    a local folder (loading a folder reads no revision); a 40-digit commit in lower case."""
    text = _text_or_none(revision)
    if text is None or text == "main" or _spelled_local(canonical_text(model)):
        return None
    return text.lower() if re.fullmatch(r"[0-9a-fA-F]{40}", text) else text


def canonical_audio_control(value) -> str | None:
    """``none`` (any case) and an empty value are no control."""
    text = (_text_or_none(value) or "").lower()
    return None if text in ("", "none") else text


# A reply cap at or above every task's own (the largest under any profile: ASR's transcript) caps
# nothing: it is the same run as no cap.
REPLY_CAP_CEILING = max(task.max_new_tokens for task in TASKS)


def canonical_cap(value) -> int | None:
    cap = _int_or_none(value)
    return None if cap is not None and cap >= REPLY_CAP_CEILING else cap


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


def _lower_or_none(value) -> str | None:
    text = _text_or_none(value)
    return text.lower() if text else None


def run_identity(config: Mapping[str, Any], dataset_fingerprint: str | None = None) -> dict:
    """The semantic configuration of a run, normalized.

    ``config`` is a run's settings (``RunConfig`` as a dict, or results.json's ``config``); only
    model, revision, backend (a model behind an API), method, ratio, layer, seed, press_scope,
    dtype, audio_control, the decoding (greedy settings plus the max_new_tokens cap) and the run
    profile (how each family is asked each task; None for a run from before profiles) and the hash
    of the checkpoint's own code where the run ran it (--trust-remote-code) are read, so an identity
    read back from results.json gives itself again. Settings that cannot change the outputs
    are dropped: an uncompressed run has ratio 0 and no layer or press scope, and its seed matters
    only when an audio control draws noise.
    """
    method = (_text_or_none(config.get("method")) or "none").lower()
    compressed = method != "none"
    audio_control = canonical_audio_control(config.get("audio_control"))
    decoding = config.get("decoding") if isinstance(config.get("decoding"), Mapping) else {}
    cap = config["max_new_tokens"] if "max_new_tokens" in config else decoding.get("max_new_tokens")
    if isinstance(cap, Mapping):  # results.json's decoding lists per-task values; the cap is what varies
        cap = None
    backend = _backend_identity(config)
    return {
        "model": normalize_model_name(config.get("model") or ""),
        "revision": canonical_revision(config.get("revision"), config.get("model") or ""),
        "backend": backend,
        "method": method,
        "ratio": _number(config.get("ratio")) if compressed else 0.0,
        "layer": _int_or_none(config.get("layer")) if compressed else None,
        "seed": _int_or_none(config.get("seed")) if (compressed or audio_control) else None,
        "press_scope": _lower_or_none(config.get("press_scope")) if compressed else None,
        "dtype": None if backend else canonical_dtype(config.get("dtype")),
        "audio_control": audio_control,
        "decoding": {
            "do_sample": bool(decoding.get("do_sample", GREEDY["do_sample"])),
            "num_beams": int(decoding.get("num_beams", GREEDY["num_beams"])),
            "max_new_tokens": canonical_cap(cap),
        },
        "profile": _lower_or_none(config.get("profile")),
        "remote_code": _remote_code(config.get("remote_code")),
        "dataset_fingerprint": _text_or_none(dataset_fingerprint),
    }


def _remote_code(value) -> str | None:
    """The code hash of results.json's ``remote_code`` record (or of an identity read back)."""
    if isinstance(value, Mapping):
        value = value.get("sha256")
    return _text_or_none(value)


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
