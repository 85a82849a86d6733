"""What ``--data`` names: a dataset folder or a Hub dataset id, decided before anything loads.

``datasets.load_dataset(NAME)`` falls back to whatever it once cached under NAME when NAME is
neither a folder nor found on the Hub, so a deleted or renamed folder, or a typo, would evaluate
another (possibly older) version of the dataset with only a log line as a sign. Here:

* an existing folder is a local dataset (``~`` expanded);
* a name without the Hub's ``org/name`` form (no slash, a leading ``/``, ``.`` or ``~``, deeper
  paths) names a folder, and a folder that does not exist is an error;
* ``org/name`` that is not a folder is a Hub id: it must answer on the Hub, unless offline mode
  was asked for (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``); then the local cache serves it and
  the caller prints the version (fingerprint) it got before anything runs.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from .hub_access import OFFLINE_VARIABLES, offline_variable, unreachable, unreachable_message  # noqa: F401

FOLDER = "folder"
HUB = "hub"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
_HUB_PREFIX = "hf://datasets/"


class DataNotFound(FileNotFoundError, ValueError):
    """``--data`` names nothing that can be loaded without guessing; the message says why."""


@dataclass(frozen=True)
class DataSource:
    given: str  # as the user wrote it (recorded in results.json)
    path: str  # what load_dataset gets: the folder (``~`` expanded) or the Hub id
    kind: str  # FOLDER or HUB
    offline_by: str | None = None  # HUB only: the variable that turned offline mode on

    @property
    def from_cache(self) -> bool:
        """A Hub id served from the local cache (offline mode): its version was not checked online."""
        return self.kind == HUB and self.offline_by is not None

    def load_hint(self) -> str:
        """What to add to an error loading this source: in offline mode only the cache is read."""
        if not self.from_cache:
            return ""
        return (f"; {self.offline_by} is set, so only the local datasets cache is read and it holds no usable copy "
                f"of {self.given}: give the dataset folder, or unset {self.offline_by} where the Hub is reachable")

    def notice(self, fingerprint: str, n_items: int) -> str:
        return (f"--data {self.given}: {self.offline_by} is set, so the copy in the local datasets cache is used "
                f"(not checked against the Hub): dataset version {fingerprint}, {n_items} item(s)")


def hub_id(text: str) -> str | None:
    """``org/name`` (or ``hf://datasets/org/name``) when ``text`` has a Hub id's form, else None."""
    bare = text[len(_HUB_PREFIX):] if text.startswith(_HUB_PREFIX) else text
    if not _HUB_ID.fullmatch(bare) or ".." in bare or "--" in bare or bare.endswith((".", "-")):
        return None
    return bare


def locate(data: str | os.PathLike, check_hub: bool = True, timeout: float = 20.0) -> DataSource:
    """Where ``data`` is, or DataNotFound. ``check_hub=False`` skips asking the Hub (the early,
    offline pass of the command line: a missing folder is refused, a Hub id is left for later)."""
    given = os.fspath(data)
    if not given.strip():
        raise DataNotFound("--data: empty value")
    path = os.path.expanduser(given)
    if os.path.isdir(path):
        return DataSource(given, path, FOLDER)
    if os.path.exists(path):
        raise DataNotFound(f"--data {given}: is a file, not a dataset folder (the folder written by "
                           "import-release or build)")
    repo = hub_id(given)
    if repo is None:
        raise DataNotFound(f"--data {given}: no such dataset folder (and not a Hub id, which has the form "
                           "ORG/NAME); a cached copy of an earlier folder of that name is never used in its place")
    offline = offline_variable()
    if offline is None and check_hub:
        _check_on_hub(given, repo, timeout)
    return DataSource(given, given, HUB, offline)


def _check_on_hub(given: str, repo: str, timeout: float) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    reason = unreachable()  # one short probe first: no network fails in seconds, not after retries
    if reason is not None:
        raise DataNotFound(hub_unreachable_message(given, reason))
    try:
        HfApi().dataset_info(repo, timeout=timeout)
    except GatedRepoError:
        raise DataNotFound(f"--data {given}: the Hub dataset is gated; accept its terms on its page and log in "
                           "(hf auth login)") from None
    except RepositoryNotFoundError:
        raise DataNotFound(f"--data {given}: no such folder here and no such dataset on the Hub (or no access "
                           "to it)") from None
    except Exception as exc:  # connection refused, timeout, DNS, a proxy's error page
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataNotFound(hub_unreachable_message(given, reason)) from None


def hub_unreachable_message(given: str, reason: str) -> str:
    return unreachable_message("--data", given, reason, "the dataset folder (written by import-release or build, or "
                               f"downloaded with `hf download {given} --repo-type dataset --local-dir DIR`)",
                               "the local datasets cache")


def print_notice(source: DataSource, fingerprint: str, n_items: int) -> None:
    """On stderr, for a dataset served from the cache: which version it is, before anything runs."""
    if source.from_cache:
        print(source.notice(fingerprint, n_items), file=sys.stderr, flush=True)
