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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"serve did not answer on {self.url} within {timeout}s: {self.output()}")

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
