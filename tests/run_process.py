"""A real ``audiomarathon`` process stopped part-way through a run: the kill-and-resume harness of
the runner's tests (a model loaded here, a model behind an API, two runners on one folder)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path


def audiomarathon(*args) -> list[str]:
    """The command line of ``audiomarathon ARGS`` in a fresh process (the installed package)."""
    return [sys.executable, "-m", "audiomarathon", *map(str, args)]


def stop_part_way(args: list[str], predictions: Path, sig: int = signal.SIGKILL, records: int = 2,
                  timeout_s: float = 120, **popen) -> subprocess.Popen:
    """Start ``args``, wait until ``predictions`` holds ``records`` complete lines, then send
    ``sig``: SIGKILL (waited for: the process is gone) or SIGSTOP (it still holds what it held).
    ``popen``: Popen's own options (stdout and stderr go nowhere unless given)."""
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen}
    proc = subprocess.Popen(args, **popen)
    deadline = time.time() + timeout_s
    while time.time() < deadline and (not predictions.exists() or predictions.read_bytes().count(b"\n") < records):
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before writing {records} records")
        time.sleep(0.01)
    proc.send_signal(sig)
    if sig == signal.SIGKILL:
        proc.wait()
    return proc
