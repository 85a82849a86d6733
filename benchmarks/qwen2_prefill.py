"""Prefill / decode cost of audio-token pruning and KV-cache presses on a Qwen2 language model alone.

The CPU figures (benchmarks/cpu_prefill.py) come from here; the GPU benchmark of the full Qwen2.5-Omni
thinker (audio encoder, M-RoPE) is benchmarks/gpu_prefill.py.

Random weights, the Qwen2.5-Omni-7B thinker's text configuration (hidden 3584, 28 layers, 28 heads,
4 KV heads, intermediate 18944, vocab 152064), fed ``inputs_embeds`` for prompts of 90, 180 and 300 s
of audio at 25 tokens/s plus a short instruction. For each method and ratio: prefill ms, decode ms per
token, peak memory, measured prefill speedup against no compression next to the speedup predicted from
the kept tokens (FLOPs of the layers: linear terms ∝ tokens, attention ∝ tokens²), and the share of
prefill spent choosing/slicing tokens. Imports only torch, transformers and the compression code;
the presses section runs only where kvpress is installed.

    python benchmarks/qwen2_prefill.py --out qwen2_prefill.json      # GPU, full-size text model (bf16)
    python benchmarks/cpu_prefill.py                                  # CPU, small model
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.util
import inspect
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import transformers
from transformers import DynamicCache, Qwen2Config, Qwen2ForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audiomarathon_runner.compression import CompressionConfig, compression_session  # noqa: E402
from audiomarathon_runner.compression.pruning import PRUNERS, kept_count  # noqa: E402
from audiomarathon_runner.compression.presses import PRESSES  # noqa: E402

TOKENS_PER_SECOND = 25
TEXT_BEFORE, TEXT_AFTER = 20, 60  # chat template + instruction around the audio

PRESETS = {
    # Qwen2.5-Omni-7B thinker text model (published config).
    "omni7b": dict(hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                   intermediate_size=18944, vocab_size=152064, rope_theta=1e6, max_position_embeddings=32768),
    # Small model for CPU runs anywhere.
    "small": dict(hidden_size=256, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=2,
                  intermediate_size=768, vocab_size=1024, rope_theta=1e6, max_position_embeddings=32768),
}


@dataclass
class Row:
    seconds: int
    prompt_tokens: int
    method: str
    ratio: float
    prefill_ms: float
    decode_ms_per_token: float
    peak_mem_mib: float
    kv_cache_mib: float
    kept_audio: float
    speedup: float = 1.0
    predicted_speedup: float = 1.0
    prune_share_pct: float = 0.0


def build_model(preset: str, device: str, dtype: torch.dtype) -> Qwen2ForCausalLM:
    cfg = dict(PRESETS[preset])
    theta = cfg.pop("rope_theta")
    config = Qwen2Config(**cfg, rope_parameters={"rope_type": "default", "rope_theta": theta},
                         tie_word_embeddings=False)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(dtype)
    return model.eval()


def layer_flops(config, n: int) -> float:
    """Forward FLOPs of one decoder layer on n causal tokens."""
    h, kv = config.hidden_size, config.num_key_value_heads * (config.hidden_size // config.num_attention_heads)
    linear = 2 * n * (h * h * 2 + 2 * h * kv + 3 * h * config.intermediate_size)
    attention = 2 * n * n * h  # QK^T and AV, causal half of 2·2·n²·h
    return linear + attention


def predicted_speedup(config, prompt: int, kept_prompt: int, layer: int) -> float:
    """Pruning at layer K: layers < K see the prompt, layers >= K the kept tokens; + the LM head row."""
    n_layers = config.num_hidden_layers
    full = n_layers * layer_flops(config, prompt)
    pruned = layer * layer_flops(config, prompt) + (n_layers - layer) * layer_flops(config, kept_prompt)
    return full / pruned


class CpuPeak:
    """Peak resident memory of a block above the level it started at (Linux): the kernel's
    high-water mark is reset before the block and read after it. Freed tensors must go back to
    the OS for this to see each run's own peak, so allocations from 128 KiB up are served by
    mmap (glibc's adaptive threshold would otherwise keep them in the heap after the first run)."""

    def __init__(self):
        self.available = sys.platform.startswith("linux") and Path("/proc/self/clear_refs").exists()
        if self.available:
            ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD; fixed, not adaptive
        self.base = 0

    @staticmethod
    def _status_kib(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"{field} not in /proc/self/status")

    def start(self) -> None:
        if self.available:
            gc.collect()
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current VmRSS
            self.base = self._status_kib("VmRSS")

    def peak_mib(self) -> float:
        return (self._status_kib("VmHWM") - self.base) / 1024 if self.available else float("nan")


def measure_cpu_peaks(argv: list[str], defaults: dict) -> dict[str, float]:
    """Peak resident memory of every run, measured in a child process: CpuPeak's fixed mmap
    threshold makes allocation slower, so the timed runs must not share its process."""
    import subprocess

    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); from qwen2_prefill import main; "
            "raise SystemExit(main(sys.argv[3:], json.loads(sys.argv[2])))")
    child_argv, skip = [], False
    for a in argv:  # the child writes no JSON file of its own
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            child_argv.append(a)
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parent), json.dumps(defaults),
                          *child_argv, "--reps", "1", "--decode-steps", "4", "--cpu-peak-only"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_one(model, embeds, audio_mask, config, device, reps, decode_steps, clock=time.perf_counter,
            cpu_peak: CpuPeak | None = None):
    prompt = embeds.shape[1]
    times, stats = [], None
    # transformers releases differ on whether the model takes cache_position; pass it where it exists.
    takes_cache_position = "cache_position" in inspect.signature(model.model.forward).parameters
    cpu_peaks = []
    for rep in range(reps + 1):  # first run warms up
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        if cpu_peak:
            cpu_peak.start()
        cache = DynamicCache(config=model.config)
        with compression_session(model, {"inputs_embeds": embeds}, audio_mask, config) as st, torch.no_grad():
            sync(device)
            start, wall = clock(), time.perf_counter()
            out = model(inputs_embeds=embeds, past_key_values=cache, use_cache=True, logits_to_keep=1)
            sync(device)
            prefill, prefill_wall = (clock() - start) * 1000, (time.perf_counter() - wall) * 1000
            token = out.logits[:, -1:].argmax(-1)
            sync(device)
            start = clock()
            for step in range(decode_steps):
                pos = torch.tensor([prompt + step], device=embeds.device)  # the original next position
                extra = {"cache_position": pos} if takes_cache_position else {}
                out = model(input_ids=token, past_key_values=cache, use_cache=True, position_ids=pos[None], **extra)
                token = out.logits[:, -1:].argmax(-1)
            sync(device)
            decode = (clock() - start) * 1000 / max(decode_steps, 1)
        if cpu_peak:
            cpu_peaks.append(cpu_peak.peak_mib())
        if rep:
            # prune_ms is wall-clock: its share is taken of the wall-clock prefill
            times.append((prefill, decode, 100 * st.prune_ms / prefill_wall))
            stats = st
        del cache, out
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:  # resident memory above the pre-run level, of the last run (as on CUDA: one-time caches
        peak = cpu_peaks[-1] if cpu_peaks else float("nan")  # of the first run are not the method's)
    # Best of the repetitions: robust to other load on the machine (CPU runs on shared cores).
    best = min(range(len(times)), key=lambda i: times[i][0])
    prefill, prune = times[best][0], times[best][2]
    decode = min(t[1] for t in times)
    kept = stats.kept_audio_tokens_per_layer
    return prefill, decode, peak, stats.kv_cache_bytes / 2**20, sum(kept) / len(kept), prune  # prune: % share


def main(argv=None, defaults=None) -> int:
    d = dict(preset="omni7b", device="cuda", dtype="bfloat16", seconds=[90, 180, 300], ratios=[0.25, 0.5, 0.75],
             reps=3, decode_steps=32, layer=2)
    d.update(defaults or {})
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default=d["preset"])
    p.add_argument("--device", default=d["device"])
    p.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default=d["dtype"])
    p.add_argument("--seconds", type=int, nargs="+", default=d["seconds"])
    p.add_argument("--ratios", type=float, nargs="+", default=d["ratios"])
    p.add_argument("--methods", nargs="+", default=None, help="default: every pruner, then every press")
    p.add_argument("--layer", type=int, default=d["layer"])
    p.add_argument("--reps", type=int, default=d["reps"])
    p.add_argument("--decode-steps", type=int, default=d["decode_steps"])
    p.add_argument("--clock", choices=["wall", "process"], default=d.get("clock", "wall"),
                   help="process: CPU time of this process (CPU runs on shared, loaded machines)")
    p.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    p.add_argument("--cpu-peak-only", action="store_true", help=argparse.SUPPRESS)  # the child below
    args = p.parse_args(argv)

    have_kvpress = importlib.util.find_spec("kvpress") is not None
    methods = args.methods or [*PRUNERS, *(PRESSES if have_kvpress else [])]
    if not have_kvpress and not args.methods:
        print("# kvpress not installed: presses section skipped", file=sys.stderr)
    torch.set_grad_enabled(False)
    clock = time.process_time if args.clock == "process" else time.perf_counter
    cpu_peak = CpuPeak() if args.cpu_peak_only else None
    cpu_peaks_by_run = {}
    if args.device == "cpu" and not args.cpu_peak_only:
        cpu_peaks_by_run = measure_cpu_peaks(argv if argv is not None else sys.argv[1:], defaults or {})
    peaks: dict[str, float] = {}
    model = build_model(args.preset, args.device, getattr(torch, args.dtype))
    cfg = model.config
    rows: list[Row] = []
    for seconds in args.seconds:
        n_audio = seconds * TOKENS_PER_SECOND
        prompt = TEXT_BEFORE + n_audio + TEXT_AFTER
        g = torch.Generator().manual_seed(seconds)
        embeds = (torch.randn(1, prompt, cfg.hidden_size, generator=g) * 0.02).to(args.device, model.dtype)
        audio_mask = torch.zeros(prompt, dtype=torch.bool)
        audio_mask[TEXT_BEFORE:TEXT_BEFORE + n_audio] = True
        base = None
        for method in ["none", *methods]:
            for ratio in ([0.0] if method == "none" else args.ratios):
                config = CompressionConfig(method, ratio, layer=args.layer)
                pf, dec, peak, kv, kept, prune_pct = run_one(model, embeds, audio_mask, config, args.device,
                                                             args.reps, args.decode_steps, clock, cpu_peak)
                if args.cpu_peak_only:
                    peaks[f"{seconds}/{method}/{ratio}"] = peak
                    continue
                if cpu_peaks_by_run:
                    peak = cpu_peaks_by_run[f"{seconds}/{method}/{ratio}"]
                row = Row(seconds, prompt, method, ratio, round(pf, 2), round(dec, 3), round(peak, 1),
                          round(kv, 1), round(kept, 1))
                if method == "none":
                    base = row
                kept_prompt = prompt - n_audio + kept_count(n_audio, ratio)
                row.speedup = round(base.prefill_ms / pf, 3)
                row.predicted_speedup = round(
                    predicted_speedup(cfg, prompt, kept_prompt, args.layer) if config.kind == "prune" else 1.0, 3)
                row.prune_share_pct = round(prune_pct, 2)
                rows.append(row)
                print(f"{seconds:>4}s {method:>18} r={ratio:.2f} prefill {pf:9.1f} ms  decode {dec:7.2f} ms/tok  "
                      f"peak {peak:9.1f} MiB  kv {kv:8.1f} MiB  speedup {row.speedup:5.2f} "
                      f"(pred {row.predicted_speedup:5.2f})  prune {row.prune_share_pct:5.2f}%", flush=True)
    if args.cpu_peak_only:
        print(json.dumps(peaks))
        return 0
    print_table(rows)
    if args.out:
        meta = dict(clock=args.clock, threads=torch.get_num_threads(), preset=args.preset, device=args.device, dtype=args.dtype, layer=args.layer, reps=args.reps,
                    decode_steps=args.decode_steps, torch=torch.__version__, transformers=transformers.__version__,
                    kvpress=have_kvpress, machine=platform.platform(),
                    gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None)
        args.out.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=1))
    return 0


def print_table(rows) -> None:
    print("\n| audio s | method | ratio | prefill ms | decode ms/tok | peak MiB | KV MiB | kept audio/layer "
          "| speedup | predicted | measured/predicted | prune % of prefill |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        frac = r.speedup / r.predicted_speedup if r.predicted_speedup else float("nan")
        print(f"| {r.seconds} | {r.method} | {r.ratio:.2f} | {r.prefill_ms:.1f} | {r.decode_ms_per_token:.2f} | "
              f"{r.peak_mem_mib:.0f} | {r.kv_cache_mib:.1f} | {r.kept_audio:.1f} | {r.speedup:.2f} | "
              f"{r.predicted_speedup:.2f} | {frac:.2f} | {r.prune_share_pct:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
