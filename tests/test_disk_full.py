"""A full disk during import-release or build: one clear error, no traceback, no partial
output left behind, and the previous dataset in OUT byte for byte as it was.

The full disk is real: a 1 MiB tmpfs mounted for the test (needs root; skipped otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audiomarathon_dataset.synthetic_release import write_synthetic_release
from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiomarathon", *args, "--no-progress"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _refused(proc: subprocess.CompletedProcess, command: str, out: Path) -> None:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"audiomarathon {command}: error: cannot write the dataset to {out}: ")
    assert "No space left on device" in proc.stderr and f"{out} was left as it was" in proc.stderr


def test_disk_full_keeps_the_previous_dataset(small_disk, tmp_path):
    out = small_disk / "am_data"
    small = write_synthetic_release(tmp_path / "small", per_task=3, tasks=["TAU"])
    assert _cli("import-release", str(small), str(out)).returncode == 0
    before = _tree(out)

    big = write_synthetic_release(tmp_path / "big", per_task=20, duration=(20.0, 30.0), tasks=["TAU", "GTZAN"])
    _refused(_cli("import-release", str(big), str(out)), "import-release", out)
    assert _tree(out) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["am_data"]  # no temporary folder left

    sources = write_synthetic_sources(tmp_path / "src", seed=0, speech=False, corpora=["tau", "gtzan"])
    _refused(_cli("build", "--sources", str(sources), "--out", str(out), "--tasks", "TAU,GTZAN",
                  "--min-duration", "8", "--max-duration", "16"), "build", out)
    assert _tree(out) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["am_data"]
