"""MMAR and AIR-Bench Foundation datasets for the runner's and the Space's tests: synthetic releases in
their authors' layouts (MMAR's GitHub jsonl with its audio in the tarball; Foundation's 25 folders)
imported with import-release, as a user's would be."""

from __future__ import annotations

from pathlib import Path

MMAR_ITEMS = 14
FOUNDATION_PER_FOLDER = 1  # 25 items, every task and folder


def import_benchmarks(root: Path) -> dict[str, Path]:
    """{benchmark key: imported dataset folder} under ``root``."""
    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_benchmarks import write_synthetic_foundation, write_synthetic_mmar

    root = Path(root)
    releases = {
        "mmar": write_synthetic_mmar(root / "mmar-release", n=MMAR_ITEMS, jsonl=True, tarball=True),
        "airbench-foundation": write_synthetic_foundation(root / "foundation-release", n_per_folder=FOUNDATION_PER_FOLDER),
    }
    out = {}
    for key, release in releases.items():
        out[key] = root / f"{key}-dataset"
        report = import_release(release, out[key], progress=False)
        assert report.ok, report.issues
    return out
