"""Build and import progress: one line per task in a log, live bars on a terminal, and seconds
of audio without float noise."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import datasets
import pytest

from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

ROOT = Path(__file__).resolve().parent.parent
BUILD = ["build", "--tasks", "TAU,GTZAN", "--min-duration", "8", "--max-duration", "16", "--num-proc", "2"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return write_synthetic_sources(tmp_path_factory.mktemp("psrc") / "src", seed=0, speech=False,
                                   corpora=["tau", "gtzan"])


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _seconds_written(out: Path, config: str) -> float:
    # each TAU/GTZAN row is its own recording: the audio written is the sum of the durations
    return sum(datasets.load_dataset(str(out), config, split="test")["duration"])


def test_a_log_gets_one_line_per_task_with_one_decimal(sources, tmp_path):
    out = tmp_path / "built"
    proc = subprocess.run([sys.executable, "-m", "audiomarathon", *BUILD, "--sources", str(sources), "--out", str(out)],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    for config in ("TAU", "GTZAN"):
        lines = [line for line in proc.stderr.replace("\r", "\n").splitlines() if line.startswith(f"build {config}:")]
        assert len(lines) == 1, proc.stderr
        shown = re.fullmatch(rf"build {config}: (\d+\.\d) s audio", lines[0])
        assert shown, lines[0]
        assert float(shown.group(1)) == pytest.approx(_seconds_written(out, config), abs=0.05)


def test_import_log_counts_records(synthetic_release, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "audiomarathon", "import-release", str(synthetic_release),
                           str(tmp_path / "out"), "--tasks", "TAU,SD", "--num-proc", "2"],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import ")]
    assert lines == ["import TAU: 3/3 records", "import HAD: 3/3 records"]


def _on_a_terminal(args: list[str]) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a 120-column terminal, as a user's
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "audiomarathon", *args], _env())
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return b"".join(chunks).decode()


def test_a_terminal_gets_a_live_bar_without_float_noise(sources, tmp_path):
    out = tmp_path / "built"
    text = _on_a_terminal([*BUILD, "--sources", str(sources), "--out", str(out)])
    for config in ("TAU", "GTZAN"):
        counts = re.findall(rf"build {config}: (\d+(?:\.\d+)?) s audio \[", text)
        assert counts and all(re.fullmatch(r"\d+\.\d", c) for c in counts), text
        assert float(counts[-1]) == pytest.approx(_seconds_written(out, config), abs=0.05)
