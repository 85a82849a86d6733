"""Whether the Hugging Face Hub can be reached, asked once per process with a short timeout.

Without a network the Hub clients retry each request with backoff (transformers' config download
printed "Retrying in 8s [Retry 5/5]" for half a minute before failing), so a model or dataset
named by Hub id is checked here first: one HTTP request to the endpoint (``HF_ENDPOINT``, else
huggingface.co) with a timeout of PROBE_TIMEOUT_S. Any HTTP answer, an error status included,
means the Hub is reachable; a refused connection, a failed name lookup or a timeout means it is
not, and the caller stops at once saying how to work without it: a local folder, or
``HF_HUB_OFFLINE=1`` for what the local cache holds.

    reason = unreachable()        # None when the Hub answers
"""

from __future__ import annotations

import functools
import os
import socket
import urllib.error
import urllib.request

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 3.0
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
_TRUE = {"1", "on", "yes", "true"}


def endpoint() -> str:
    """The Hub endpoint the Hugging Face clients use (``HF_ENDPOINT``, else huggingface.co)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_variable() -> str | None:
    """The environment variable asking for offline mode (the clients then read only their
    caches), or None."""
    for name in OFFLINE_VARIABLES:
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return name
    return None


def unreachable(url: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the Hub at ``url`` (default: ``endpoint()``) answers over HTTP, else why not
    (one short line). Asked once per endpoint and process."""
    return _probe(url or endpoint(), timeout)


@functools.lru_cache(maxsize=None)
def _probe(url: str, timeout: float) -> str | None:
    request = urllib.request.Request(f"{url}/api/whoami-v2", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError:  # an answer: the Hub (or a proxy in front of it) is there
        return None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, socket.timeout) or "timed out" in str(reason):
            return f"no answer within {timeout:g} s"
        return str(getattr(reason, "strerror", None) or reason)
    except (TimeoutError, socket.timeout):
        return f"no answer within {timeout:g} s"
    except (OSError, ValueError) as err:  # a reset connection, a malformed HF_ENDPOINT
        return str(err) or type(err).__name__


def unreachable_message(option: str, value: str, reason: str, local: str, offline_cache: str) -> str:
    """The one message of a Hub id that cannot be used because the Hub cannot be reached."""
    return (f"{option} {value}: no such folder here, and the Hub cannot be reached ({endpoint()}: {reason}); "
            f"give {local}, or set HF_HUB_OFFLINE=1 to use a copy in {offline_cache}")


# What the model loaders (transformers, huggingface_hub) read as offline mode; HF_DATASETS_OFFLINE
# concerns datasets only.
MODEL_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def model_offline_variable() -> str | None:
    for name in MODEL_OFFLINE_VARIABLES:
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return name
    return None


def model_unreachable_message(model: str, reason: str) -> str:
    return unreachable_message("--model", model, reason, "the model's local folder (e.g. downloaded with "
                               f"`hf download {model} --local-dir DIR`)", "the local Hub cache")
