"""Per-task progress of import-release and build.

On a terminal a live tqdm bar. On anything else (a log file, a pipe, CI) every redraw would
stay behind as a line of its own, so one line is written when the task ends instead.
Seconds of audio are shown with one decimal: they are sums of float durations.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


class TaskProgress:
    def __init__(self, desc: str, unit: str, total: int | None = None, enabled: bool = True,
                 decimals: int = 0, stream=None):
        self.desc, self.unit, self.total, self.decimals = desc, unit, total, decimals
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.n = 0.0
        self._bar = None
        if enabled and _is_terminal(self.stream):
            count = f"{{n:.{decimals}f}}" + (f"/{{total:.{decimals}f}}" if total is not None else "")
            bar = "{percentage:3.0f}%|{bar}| " if total is not None else ""
            self._bar = tqdm(total=total, desc=desc, file=self.stream, smoothing=0.1,
                             bar_format=f"{{desc}}: {bar}{count} {unit} [{{elapsed}}, {{rate_noinv_fmt}}]",
                             unit=f" {unit}")

    def update(self, amount: float) -> None:
        self.n += amount
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled:
            of = f"/{self.total:.{self.decimals}f}" if self.total is not None else ""
            print(f"{self.desc}: {self.n:.{self.decimals}f}{of} {self.unit}", file=self.stream, flush=True)
        self.enabled = False  # closing twice prints once


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
