"""Cost of audio-token pruning and KV-cache presses on the full Qwen2.5-Omni-7B thinker, on a GPU.

The model is the thinker of the published Qwen2.5-Omni-7B configuration (audio encoder: 32 layers,
d_model 1280; language model: 28 layers, hidden 3584, 28 heads / 4 KV heads, 3-axis M-RoPE with
sections 16/24/24; the vision tower is built too, as in the checkpoint), with random bf16 weights: built
on the meta device, materialized on the GPU, initialised there. Each prompt is a chat-like text, one
audio clip of 90 / 180 / 300 s of synthetic audio (log-mel features computed by transformers' Whisper
feature extractor, 25 audio tokens per second after the encoder), and an instruction; generation runs
through ``model.generate`` (audio encoder, M-RoPE positions, prefill, decode) inside
``compression_session``.

Columns: audio-encoder ms, prefill ms (first forward minus the encoder), time to first token, decode
ms/token, peak GPU memory above the weights, KV-cache bytes after prefill, measured prefill speedup
against no compression next to the speedup predicted from the kept tokens (layer FLOPs: linear terms
∝ tokens, attention ∝ tokens²; presses act after prefill, so 1.0), and the pruning step's share of
prefill. Presses need kvpress; where it is not installed their rows say "not run".

    python benchmarks/gpu_prefill.py --out gpu_prefill.json            # one H200: about 6 minutes
    python benchmarks/gpu_prefill.py --preset tiny --device cpu --dtype float32 --seconds 4 --reps 1

Imports only torch, transformers and the runner's compression code.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import WhisperFeatureExtractor
from transformers.models.qwen2_5_omni import (Qwen2_5OmniThinkerConfig,
                                              Qwen2_5OmniThinkerForConditionalGeneration)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audiomarathon_runner.compression import (PRESSES, PRUNERS, CompressionConfig,  # noqa: E402
                                              compression_session, kept_count)

SAMPLING_RATE = 16000
TEXT_BEFORE, TEXT_AFTER = 20, 60  # chat template + instruction around the audio


def omni7b_config() -> Qwen2_5OmniThinkerConfig:
    """The thinker of Qwen2.5-Omni-7B's published config.json."""
    return Qwen2_5OmniThinkerConfig(
        audio_config=dict(d_model=1280, encoder_layers=32, encoder_attention_heads=20, encoder_ffn_dim=5120,
                          num_mel_bins=128, max_source_positions=1500, n_window=100, output_dim=3584),
        vision_config=dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584,
                           fullatt_block_indexes=[7, 15, 23, 31], patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2, window_size=112),
        text_config=dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                         num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768,
                         rms_norm_eps=1e-6, tie_word_embeddings=False,
                         rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24]}),
        audio_token_index=151646, image_token_index=151655, video_token_index=151656,
        audio_start_token_id=151647, audio_end_token_id=151648, vision_start_token_id=151652,
        vision_end_token_id=151653, user_token_id=872, position_id_per_seconds=25, seconds_per_chunk=2,
    )


def tiny_config() -> Qwen2_5OmniThinkerConfig:
    """The same architecture at test size (the tiny model's: 4 decoder layers, hidden 32), for CPU
    smoke runs."""
    from audiomarathon_runner.adapters import Qwen2_5OmniThinkerAdapter
    from audiomarathon_runner.tiny_parts import DECODER_TOKENS

    return Qwen2_5OmniThinkerAdapter.tiny_config(DECODER_TOKENS)


PRESETS = {"omni7b": omni7b_config, "tiny": tiny_config}


def build_model(preset: str, device: str, dtype: torch.dtype, attn: str = "sdpa", token_ids: dict | None = None):
    """Random weights: the module tree is built on the meta device (no memory), materialized on
    ``device`` and initialised there by transformers' own initialisation (which also recomputes the
    rotary and sinusoid buffers). ``token_ids``: special-token ids to use instead of the preset's
    (to match another tokenizer)."""
    config = PRESETS[preset]()
    for name, value in (token_ids or {}).items():
        setattr(config, name, value)
    config._attn_implementation = attn
    for sub in ("text_config", "audio_config", "vision_config"):
        getattr(config, sub)._attn_implementation = attn
    torch.manual_seed(0)
    with torch.device("meta"):
        model = Qwen2_5OmniThinkerForConditionalGeneration(config)
    model = model.to_empty(device=device)
    model.init_weights()
    model = model.to(dtype).eval()
    text = config.text_config
    dim = text.hidden_size // text.num_attention_heads
    expected = 1.0 / (1e6 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim)) if preset == "omni7b" else None
    if expected is not None and not torch.allclose(model.model.rotary_emb.inv_freq.float().cpu(), expected):
        raise RuntimeError("rotary buffers were not recomputed after materialization")
    return model


@dataclass
class Prompt:
    seconds: float
    inputs: dict
    audio_mask: torch.Tensor
    features_ms: float

    @property
    def n_audio(self) -> int:
        return int(self.audio_mask.sum())


def make_prompt(model, seconds: float, device: str) -> Prompt:
    """Synthetic audio -> log-mel features (the Whisper extractor Qwen2.5-Omni uses) -> prompt ids with
    one audio-token placeholder per encoder output frame."""
    cfg = model.config
    gen = np.random.default_rng(int(seconds * 1000))
    audio = (gen.standard_normal(int(seconds * SAMPLING_RATE)) * 0.1).astype(np.float32)
    start = time.perf_counter()
    extractor = WhisperFeatureExtractor(feature_size=cfg.audio_config.num_mel_bins, sampling_rate=SAMPLING_RATE)
    feats = extractor(audio, sampling_rate=SAMPLING_RATE, return_attention_mask=True, padding="longest",
                      truncation=False, return_tensors="pt")
    features_ms = (time.perf_counter() - start) * 1000
    frames = feats["attention_mask"].sum(-1)
    n_audio = int(model.audio_tower._get_feat_extract_output_lengths(frames)[1].item())
    vocab = cfg.text_config.vocab_size
    low, high = (1000, 100000) if vocab > 100000 else (3, vocab - 10)  # clear of the special ids
    ids = torch.randint(low, high, (TEXT_BEFORE + TEXT_AFTER,), generator=torch.Generator().manual_seed(1))
    input_ids = torch.cat([ids[:TEXT_BEFORE], torch.tensor([cfg.audio_start_token_id]),
                           torch.full((n_audio,), cfg.audio_token_index), torch.tensor([cfg.audio_end_token_id]),
                           ids[TEXT_BEFORE:]])[None]
    inputs = dict(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                  input_features=feats["input_features"].to(model.dtype),
                  feature_attention_mask=feats["attention_mask"])
    inputs = {k: v.to(device) for k, v in inputs.items()}
    return Prompt(seconds, inputs, (input_ids[0] == cfg.audio_token_index), features_ms)


def layer_flops(config, n: int) -> float:
    """Forward FLOPs of one decoder layer on n causal tokens."""
    h = config.hidden_size
    kv = config.num_key_value_heads * (h // config.num_attention_heads)
    linear = 2 * n * (h * h * 2 + 2 * h * kv + 3 * h * config.intermediate_size)
    return linear + 2 * n * n * h  # QK^T and AV, causal half of 2·2·n²·h


def predicted_speedup(config, prompt: int, kept_prompt: int, layer: int) -> float:
    n = config.num_hidden_layers
    full = n * layer_flops(config, prompt)
    return full / (layer * layer_flops(config, prompt) + (n - layer) * layer_flops(config, kept_prompt))


class Timer:
    """Wall-clock marks, synchronised with the device; the audio encoder timed by hooks."""

    def __init__(self, device: str, encoder: torch.nn.Module):
        self.cuda = device.startswith("cuda")
        self.encoder_ms = 0.0
        self.first_token = None
        self._start = None
        self._handles = [encoder.register_forward_pre_hook(self._enc_start),
                         encoder.register_forward_hook(self._enc_end)]

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def now(self) -> float:
        self.sync()
        return time.perf_counter()

    def _enc_start(self, *a):
        self._enc = self.now()

    def _enc_end(self, *a):
        self.encoder_ms += (self.now() - self._enc) * 1000

    def close(self):
        for h in self._handles:
            h.remove()


class FirstToken:
    """A generate streamer: the time of the first generated token (the first put is the prompt)."""

    def __init__(self, timer: Timer):
        self.timer, self.calls, self.at = timer, 0, None

    def put(self, value):
        self.calls += 1
        if self.calls == 2:
            self.at = self.timer.now()

    def end(self):
        pass


@dataclass
class Row:
    seconds: float
    prompt_tokens: int
    audio_tokens: int
    method: str
    ratio: float
    status: str = "ok"
    features_ms: float = 0.0
    encoder_ms: float = 0.0
    prefill_ms: float = 0.0
    ttft_ms: float = 0.0
    decode_ms_per_token: float = 0.0
    peak_mib_above_weights: float = 0.0
    kv_bytes: int = 0
    speedup: float = float("nan")
    predicted_speedup: float = float("nan")
    prune_share_pct: float = 0.0
    kept_audio_per_layer: list = field(default_factory=list)


def run_one(model, prompt: Prompt, config: CompressionConfig, device: str, reps: int, new_tokens: int) -> Row:
    row = Row(prompt.seconds, prompt.audio_mask.numel(), prompt.n_audio, config.method, config.ratio,
              features_ms=round(prompt.features_ms, 1))
    measured = []
    for rep in range(reps + 1):  # the first run warms up (kernels, allocator)
        timer = Timer(device, model.audio_tower)
        first = FirstToken(timer)
        if timer.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            base_mem = torch.cuda.memory_allocated()
        try:
            with torch.inference_mode(), compression_session(model, prompt.inputs, prompt.audio_mask, config,
                                                             sample=f"{prompt.seconds}s") as stats:
                start = timer.now()
                model.generate(**prompt.inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                               do_sample=False, streamer=first)
                end = timer.now()
        finally:
            timer.close()
        ttft = (first.at - start) * 1000
        decode = (end - first.at) * 1000 / max(new_tokens - 1, 1)
        peak = (torch.cuda.max_memory_allocated() - base_mem) / 2**20 if timer.cuda else float("nan")
        if rep:
            measured.append((ttft, timer.encoder_ms, decode, peak, stats))
    ttft, enc, _, _, stats = min(measured, key=lambda m: m[0])  # best of the repetitions
    row.ttft_ms, row.encoder_ms = round(ttft, 2), round(enc, 2)
    row.prefill_ms = round(ttft - enc, 2)
    row.decode_ms_per_token = round(min(m[2] for m in measured), 3)
    row.peak_mib_above_weights = round(max(m[3] for m in measured), 1)
    row.kv_bytes = stats.kv_cache_bytes
    row.prune_share_pct = round(100 * stats.prune_ms / max(row.prefill_ms, 1e-9), 2)
    row.kept_audio_per_layer = stats.kept_audio_tokens_per_layer
    return row


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="omni7b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default="bfloat16")
    p.add_argument("--attn", default="sdpa", help="attention implementation (sdpa, eager, flash_attention_2, ...)")
    p.add_argument("--seconds", type=float, nargs="+", default=[90, 180, 300])
    p.add_argument("--ratios", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    p.add_argument("--methods", nargs="+", default=None, help="default: every pruner, then every press")
    p.add_argument("--layer", type=positive_int, default=2)
    p.add_argument("--reps", type=positive_int, default=2, help="timed runs after one warm-up run (>= 1)")
    p.add_argument("--new-tokens", type=positive_int, default=16, help="generated tokens per run (>= 1)")
    p.add_argument("--out", type=Path, default=None, help="write meta + rows as JSON here")
    args = p.parse_args(argv)
    methods = args.methods or [*PRUNERS, *PRESSES]
    have_kvpress = importlib.util.find_spec("kvpress") is not None

    torch.set_grad_enabled(False)
    model = build_model(args.preset, args.device, getattr(torch, args.dtype), args.attn)
    text_cfg = model.config.text_config
    rows: list[Row] = []
    for seconds in args.seconds:
        prompt = make_prompt(model, seconds, args.device)
        base = run_one(model, prompt, CompressionConfig(), args.device, args.reps, args.new_tokens)
        base.speedup = base.predicted_speedup = 1.0
        rows.append(base)
        _print_row(base)
        for method in methods:
            for ratio in args.ratios:
                config = CompressionConfig(method, ratio, layer=args.layer)
                if config.kind == "press" and not have_kvpress:
                    rows.append(Row(seconds, base.prompt_tokens, base.audio_tokens, method, ratio,
                                    status="not run: kvpress not installed"))
                    _print_row(rows[-1])
                    continue
                row = run_one(model, prompt, config, args.device, args.reps, args.new_tokens)
                row.speedup = round(base.prefill_ms / row.prefill_ms, 3)
                kept_prompt = base.prompt_tokens - base.audio_tokens + kept_count(base.audio_tokens, ratio)
                row.predicted_speedup = round(predicted_speedup(text_cfg, base.prompt_tokens, kept_prompt, args.layer)
                                              if config.kind == "prune" else 1.0, 3)
                rows.append(row)
                _print_row(row)
    print(markdown_table(rows))
    if args.out:
        meta = dict(preset=args.preset, device=args.device, dtype=args.dtype, attn=args.attn, layer=args.layer,
                    reps=args.reps, new_tokens=args.new_tokens, torch=torch.__version__,
                    transformers=transformers.__version__, kvpress=have_kvpress, machine=platform.platform(),
                    gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
                    parameters=sum(p.numel() for p in model.parameters()))
        args.out.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=1))
    return 0


def _print_row(r: Row) -> None:
    if r.status != "ok":
        print(f"{r.seconds:>5g}s {r.method:>18} r={r.ratio:.2f} {r.status}", flush=True)
        return
    print(f"{r.seconds:>5g}s {r.method:>18} r={r.ratio:.2f} enc {r.encoder_ms:8.1f} ms  prefill {r.prefill_ms:8.1f} ms  "
          f"ttft {r.ttft_ms:8.1f} ms  decode {r.decode_ms_per_token:6.2f} ms/tok  peak+{r.peak_mib_above_weights:8.1f} MiB  "
          f"kv {r.kv_bytes / 2**20:7.1f} MiB  speedup {r.speedup:5.2f} (pred {r.predicted_speedup:5.2f})  "
          f"prune {r.prune_share_pct:5.2f}%", flush=True)


def markdown_table(rows) -> str:
    lines = ["| audio s | method | ratio | encoder ms | prefill ms | TTFT ms | decode ms/tok | peak MiB above weights "
             "| KV MiB | speedup | predicted | measured/predicted | prune % of prefill |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.status != "ok":
            lines.append(f"| {r.seconds:g} | {r.method} | {r.ratio:.2f} | {r.status} |" + " |" * 9)
            continue
        frac = r.speedup / r.predicted_speedup if r.predicted_speedup else float("nan")
        lines.append(f"| {r.seconds:g} | {r.method} | {r.ratio:.2f} | {r.encoder_ms:.1f} | {r.prefill_ms:.1f} | "
                     f"{r.ttft_ms:.1f} | {r.decode_ms_per_token:.2f} | {r.peak_mib_above_weights:.0f} | "
                     f"{r.kv_bytes / 2**20:.1f} | {r.speedup:.2f} | {r.predicted_speedup:.2f} | {frac:.2f} | "
                     f"{r.prune_share_pct:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
