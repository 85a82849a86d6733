"""`audiomarathon serve` as a child process on a free localhost port, for the Space tests: its
stdout lines are kept with the time they arrived, and Gradio's upload folder is the test's own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(proc: subprocess.Popen, url: str, timeout: float, describe=lambda: "") -> None:
    """Poll the Gradio app's /config until it answers; a child that exits first is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[2:4]} exited with {proc.returncode}: {describe()}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing answered on {url} within {timeout}s: {describe()}")


class SpaceServer:
    def __init__(self, db: Path, dataset: Path, uploads: Path, *extra: str):
        self.db, self.dataset, self.uploads, self.extra = db, dataset, uploads, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lines: list[tuple[float, str]] = []  # (seconds after start, line)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> "SpaceServer":
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", NO_PROXY="127.0.0.1,localhost",
                   GRADIO_TEMP_DIR=str(self.uploads), PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.pop("HF_TOKEN", None)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "audiomarathon", "serve", "--db", str(self.db), "--data", str(self.dataset),
             "--port", str(self.port), *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, cwd=str(ROOT))
        threading.Thread(target=self._read, daemon=True).start()
        wait_until_serving(self.proc, self.url, timeout, describe=self.output)
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.t0, line.rstrip("\n")))

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
