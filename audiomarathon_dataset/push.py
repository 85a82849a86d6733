"""Upload a dataset folder (parquet shards + card) to a Hub dataset repo."""

from __future__ import annotations

from pathlib import Path

from .writer import is_dataset_folder


class PushFailed(RuntimeError):
    """The Hub could not be reached or refused the upload; nothing was committed."""


def push_to_hub(
    folder: str | Path,
    repo_id: str,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    message: str = "Upload AudioMarathon",
) -> str:
    """Create (or reuse) the dataset repo and upload the folder in one commit; returns its URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory")
    if not is_dataset_folder(folder):
        raise ValueError(f"{folder} holds no AudioMarathon dataset (README.md card missing); run import-release or build first")
    if repo_id.count("/") != 1:
        raise ValueError(f"--repo must look like ORG/NAME, got {repo_id!r}")
    files = dataset_files(folder)
    api = HfApi(endpoint=endpoint, token=token)
    try:
        repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        # One commit: the card and the shards it declares land together or not at all.
        api.create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=[CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel)) for rel in files],
            commit_message=message,
        )
    except Exception as exc:  # network, offline mode, HTTP refusals: one clear message, nothing half-pushed
        raise PushFailed(_why(exc, repo_id, api.endpoint)) from None
    return str(repo)


def _why(exc: Exception, repo_id: str, endpoint: str) -> str:
    import httpx
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    head = f"could not push to {repo_id} on {endpoint}; nothing was committed"
    if isinstance(exc, OfflineModeIsEnabled):
        return f"{head}: HF_HUB_OFFLINE is set, so the Hub is never contacted (unset it to push)"
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        hint = " (log in with `hf auth login` or pass --token)" if status in (401, 403) else ""
        return f"{head}: the Hub answered {status}: {str(exc).splitlines()[0]}{hint}"
    if isinstance(exc, (httpx.TransportError, OSError)):
        return f"{head}: the Hub is unreachable ({type(exc).__name__}: {exc}); check the network or --endpoint"
    return f"{head}: {type(exc).__name__}: {exc}"


def dataset_files(folder: Path) -> list[str]:
    """The files that make up a dataset folder: card, version file, reports, each config's shards
    (sorted). Whatever else the folder holds (notes, run folders) is not the dataset's and stays."""
    from audiomarathon.fingerprint import VERSION_FILE
    from audiomarathon.tasks import ALL_TASKS

    from .writer import CARD, REPORTS, SHARD_NAME

    names = [CARD] + sorted(n for n in (VERSION_FILE, *REPORTS) if (folder / n).is_file())
    names += sorted(p.relative_to(folder).as_posix() for t in ALL_TASKS for p in (folder / t.name).glob("*.parquet")
                    if SHARD_NAME.fullmatch(p.name))
    return names
