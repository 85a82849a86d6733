"""Upload a dataset folder (parquet shards + card) to a Hub dataset repo."""

from __future__ import annotations

from pathlib import Path

from .writer import is_dataset_folder


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
    repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    # One commit: the card and the shards it declares land together or not at all.
    api.create_commit(
        repo_id=repo_id,
        repo_type="dataset",
        operations=[CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel)) for rel in files],
        commit_message=message,
    )
    return str(repo)


def dataset_files(folder: Path) -> list[str]:
    """The files that make up a dataset folder: card, reports, parquet shards (sorted)."""
    names = ["README.md"] + sorted(p.name for p in folder.glob("*.json"))
    names += sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*.parquet"))
    return names
