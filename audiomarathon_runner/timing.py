"""Per-sample timing: CUDA events on GPU, perf_counter on CPU.

Time to first token is taken from generate's streamer hook (called with the prompt, then with
every new token), and the audio encoder is timed with forward hooks on its module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch


class Clock:
    """Marks on one time line; on CUDA each mark is an event recorded on the current stream."""

    def __init__(self, device: torch.device | str):
        self.cuda = torch.device(device).type == "cuda"
        self.marks: dict[str, object] = {}

    def mark(self, name: str) -> None:
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            self.marks[name] = ev
        else:
            self.marks[name] = time.perf_counter()

    def ms(self, start: str, end: str) -> float | None:
        if start not in self.marks or end not in self.marks:
            return None
        a, b = self.marks[start], self.marks[end]
        if self.cuda:
            b.synchronize()
            return float(a.elapsed_time(b))
        return (b - a) * 1000.0


class FirstTokenStreamer:
    """A generate() streamer that marks the first generated token and counts tokens."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.calls = 0
        self.new_tokens = 0

    def put(self, value) -> None:
        self.calls += 1
        if self.calls == 1:
            return  # the prompt
        if self.calls == 2:
            self.clock.mark("first_token")
        self.new_tokens += int(value.numel()) if hasattr(value, "numel") else 1

    def end(self) -> None:
        self.clock.mark("end")


@dataclass
class EncoderTimer:
    """Sums the time spent in the audio encoder's forward calls (several windows = several calls)."""

    module: torch.nn.Module | None
    device: torch.device | str
    total_ms: float = 0.0
    calls: int = 0
    _handles: list = field(default_factory=list)
    _pending: list = field(default_factory=list)

    def __enter__(self) -> "EncoderTimer":
        if self.module is not None:
            self._handles.append(self.module.register_forward_pre_hook(self._pre))
            self._handles.append(self.module.register_forward_hook(self._post))
        return self

    def _pre(self, module, args) -> None:
        clock = Clock(self.device)
        clock.mark("start")
        self._pending.append(clock)

    def _post(self, module, args, output) -> None:
        clock = self._pending.pop()
        clock.mark("end")
        self.calls += 1
        self._done = getattr(self, "_done", [])
        self._done.append(clock)

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        for clock in getattr(self, "_done", []):
            self.total_ms += clock.ms("start", "end") or 0.0
        self._done = []


def peak_memory(device) -> dict:
    dev = torch.device(device)
    if dev.type == "cuda":
        return {"peak_memory_bytes": int(torch.cuda.max_memory_allocated(dev)), "memory_kind": "cuda_allocated"}
    import resource

    # ru_maxrss is KiB on Linux: the process's peak resident set so far (not per sample).
    return {"peak_memory_bytes": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024,
            "memory_kind": "process_peak_rss"}


def reset_peak_memory(device) -> None:
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)


def summarize(timings: list[dict], keys=("preprocess_ms", "encoder_ms", "prefill_ms", "decode_ms", "total_ms",
                                         "tokens_per_s", "output_tokens", "input_tokens", "audio_tokens",
                                         "kv_cache_bytes", "peak_memory_bytes", "outside_ms",
                                         "prefetch_wait_ms")) -> dict:
    """Mean / median / p90 per field over samples, excluding warm-up samples when others exist."""
    import numpy as np

    used = [t for t in timings if not t.get("warmup")] or list(timings)
    out = {"samples": len(used), "warmup_excluded": len(timings) - len(used)}
    for key in keys:
        vals = np.array([t[key] for t in used if isinstance(t.get(key), (int, float))], dtype=np.float64)
        if vals.size:
            out[key] = {"mean": float(vals.mean()), "median": float(np.median(vals)),
                        "p90": float(np.percentile(vals, 90)), "max": float(vals.max())}
    return out
