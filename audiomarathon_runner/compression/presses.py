"""KV-cache presses from kvpress, applied after prefill, with scope ``audio`` or ``all``.

kvpress presses (all seven used here are ``ScorerPress``es) score every cached key per KV head; we keep
their ``score`` and do the rest ourselves, at the smallest point:

* our forward hook on each ``self_attn`` replaces ``BasePress.forward_hook``: prefill is recognised
  from the layer's own cache (so it works on transformers >= 5.4, which no longer passes
  ``cache_position`` to attention; when a press reads ``cache_position`` we fill it in),
  and we find the layers ourselves (kvpress only knows ``model.model[.language_model].layers``);
* ``audio`` scope: non-audio keys get +inf scores (never evicted) and ``ratio`` is taken over audio
  tokens with the pruners' count rule (``kept_count``); ``all`` scope: kvpress's own rule (``compute_n_kept`` over every key; PyramidKV's per-layer
  budget) — the paper's behaviour;
* attention-based presses (SnapKV, PyramidKV, TOVA) get the exact last-window attention rows from an
  attention tap (the model's own post-RoPE queries and its own scaling, any family: M-RoPE, partial
  RoPE, fused qkv, Gemma-3n's scaling 1.0), so kvpress never re-derives queries; ExpectedAttention
  re-derives them, through the family's view (``decoder_views.py``: Gemma-3n's q_norm, Phi-4's fused
  qkv, Qwen2.5-Omni's M-RoPE seen as text RoPE), averages RoPE's rotation over the rotated dimensions
  only (Phi-4's partial RoPE) and scores with the model's scaling;
* decode steps: a materialised attention mask (eager, or sizes built from another layer) is cut to
  the layer's cache length — valid for batch size 1 without padding, which compression requires.
"""
from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from .attention_tap import attention_scaling, install_tap
from .counting import kept_count
from .decoder_views import view_of
from .guards import check_batch_one, check_dynamic_cache
from .seeding import generator
from .stats import CompressionStats

if TYPE_CHECKING:
    from .config import CompressionConfig


def averaged_rope_rotation(cos: torch.Tensor, sin: torch.Tensor, head_dim: int) -> torch.Tensor:
    """The mean over positions of RoPE's rotation as a [head_dim, head_dim] matrix.

    ``cos``/``sin`` are [positions, rotary_dim]; the first ``rotary_dim`` dims rotate in halves
    (transformers' ``rotate_half``) and the rest pass unchanged, as in partial RoPE (Phi-4 rotates
    3/4 of each head). When ``rotary_dim == head_dim`` it is kvpress's own matrix."""
    rotary = cos.shape[-1]
    half = rotary // 2
    eye = torch.eye(rotary, device=cos.device, dtype=cos.dtype)
    swap = torch.zeros(rotary, rotary, device=cos.device, dtype=cos.dtype)  # rotate_half as a matrix
    swap[half:, :half], swap[:half, half:] = torch.eye(half), -torch.eye(half)
    rotation = torch.eye(head_dim, device=cos.device, dtype=cos.dtype)
    rotation[:rotary, :rotary] = (cos.unsqueeze(1) * eye + sin.unsqueeze(1) * swap).mean(dim=0)
    return rotation


# ---- our subclasses of kvpress presses, where kvpress's own needs one ---------------------------------

@functools.cache
def _rope_aware_expected_attention(base: type) -> type:
    @dataclass
    class RopeAwareExpectedAttentionPress(base):
        """kvpress's ExpectedAttention, with the averaged rotation built by ``averaged_rope_rotation``
        (kvpress assumes RoPE over the whole head and fails on partial RoPE), and the model's own
        attention scaling in place of kvpress's 1/sqrt(d) (Gemma-3n multiplies q·k by 1.0)."""

        def score(self, module, hidden_states, keys, values, attentions, kwargs):
            # Keys times scaling·sqrt(d) turn kvpress's μ·k/sqrt(d) + kᵀΣk/(2d) into s·μ·k + s²·kᵀΣk/2,
            # the log of E[exp(s·q·k)] for the model's scaling s; the value norms are left alone.
            scaling = getattr(module, "scaling", None)
            if scaling is not None:
                keys = keys * (float(scaling) * keys.shape[-1] ** 0.5)
            return super().score(module, hidden_states, keys, values, attentions, kwargs)

        def apply_avg_rope(self, module, mu, cov, q_len):
            positions = torch.arange(q_len, q_len + self.n_future_positions, device=mu.device).unsqueeze(0)
            cos, sin = module.rotary_emb(mu, positions)
            rotation = averaged_rope_rotation(cos[0], sin[0], module.head_dim).to(mu.device)
            mu = torch.matmul(mu, rotation.T)
            if cov is not None:
                cov = torch.matmul(rotation, torch.matmul(cov, rotation.T))
            return mu, cov

    return RopeAwareExpectedAttentionPress


@functools.cache
def _ranked_streaming(base: type) -> type:
    @dataclass
    class RankedStreamingLLMPress(base):
        """StreamingLLM as a ranking: the ``n_sink`` first keys rank above all, then the more recent the
        higher. Keeping the top n gives StreamingLLM's sinks + recent window for any n, with no ties, so
        under scope ``audio`` the kept audio tokens are exactly the sinks and the most recent ones."""

        def score(self, module, hidden_states, keys, values, attentions, kwargs):
            length = keys.shape[-2]
            scores = torch.arange(length, device=keys.device, dtype=torch.float32)
            scores[: self.n_sink] = float("inf")
            return scores.expand(*keys.shape[:-2], length)

    return RankedStreamingLLMPress


@functools.cache
def _per_layer_random(base: type) -> type:
    @dataclass
    class SeededRandomPress(base):
        """Random scores from a CPU generator seeded by (seed, sample id, layer): reproducible on every
        device, independent between samples and between layers."""

        sample: object = None

        def score(self, module, hidden_states, keys, values, attentions, kwargs):
            gen = generator(self.seed, self.sample, module.layer_idx)
            return torch.rand(keys.shape[:-1], generator=gen).to(keys.device)

    return SeededRandomPress


def _no_arguments(config: "CompressionConfig", sample: object) -> dict:
    return {}


@dataclass(frozen=True)
class PressSpec:
    """How the runner applies one KV-cache press (its name, summary and settings: audiomarathon.methods)."""

    kvpress_class: str  # the class's name in kvpress (kvpress is imported only when a press is applied)
    # Score reads the attention rows of the last `window` queries: the press's attribute naming the
    # window size, or the size itself; None: the score needs no attention rows.
    window: str | int | None = None
    override: Callable[[type], type] | None = None  # our subclass of the kvpress class
    arguments: Callable[["CompressionConfig", object], dict] = _no_arguments  # extra constructor arguments


# Method name -> press (the press methods of audiomarathon.methods).
PRESSES: dict[str, PressSpec] = {
    "snapkv": PressSpec("SnapKVPress", window="window_size"),
    "tova": PressSpec("TOVAPress", window=1),
    "knorm": PressSpec("KnormPress"),
    "streaming": PressSpec("StreamingLLMPress", override=_ranked_streaming),
    "expected_attention": PressSpec("ExpectedAttentionPress", override=_rope_aware_expected_attention),
    "kv_random": PressSpec("RandomPress", override=_per_layer_random,
                           arguments=lambda config, sample: {"seed": config.seed, "sample": sample}),
    "pyramidkv": PressSpec("PyramidKVPress", window="window_size"),
}


def load_press(config: "CompressionConfig", sample: object = None):
    """The kvpress press object for ``config`` (kvpress imported here, lazily)."""
    spec = PRESSES[config.method]
    try:
        import kvpress
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"method {config.method!r} needs kvpress (pip install kvpress)") from exc
    cls = getattr(kvpress, spec.kvpress_class)
    if spec.override is not None:
        cls = spec.override(cls)
    return cls(compression_ratio=float(config.ratio), **spec.arguments(config, sample))


# ---- the family's view for presses that re-derive queries (ExpectedAttention) -------------------------

@contextlib.contextmanager
def press_view(decoder: nn.Module, attn: nn.Module):
    """While a press scores: give ``attn`` the ``rotary_emb`` / ``q_proj`` that kvpress's query
    re-derivation expects. Only around ``press.score`` — the model's own forward keeps its modules."""
    view = view_of(attn).press
    had_rope, old_rope = "rotary_emb" in attn.__dict__, attn.__dict__.get("rotary_emb")
    old_query = attn._modules.get("q_proj")
    try:
        attn.__dict__["rotary_emb"] = view.rope(decoder, attn)
        if view.query is not None:
            attn._modules["q_proj"] = view.query(attn)
        yield
    finally:
        if had_rope:
            attn.__dict__["rotary_emb"] = old_rope
        else:
            attn.__dict__.pop("rotary_emb", None)
        if old_query is not None:
            attn._modules["q_proj"] = old_query
        else:
            attn._modules.pop("q_proj", None)


# ---- the hook -----------------------------------------------------------------------------------------

def window_attention(query: torch.Tensor, key: torch.Tensor, window: int, scaling: float) -> torch.Tensor:
    """Softmax attention rows of the last ``window`` queries over all keys: [B, H, w, L] (causal),
    O(w·L) memory. GQA keys are broadcast per group, not copied."""
    b, h, _, d = query.shape
    n_kv, length = key.shape[1], key.shape[2]
    q = query[:, :, -window:].float().view(b, n_kv, h // n_kv, -1, d)
    logits = torch.einsum("bkgwd,bkld->bkgwl", q * scaling, key.float())
    rows = torch.arange(length - window, length, device=key.device)[:, None]
    logits.masked_fill_(torch.arange(length, device=key.device)[None] > rows, float("-inf"))
    # softmax in place: one [w, L] buffer per head, not three (the scores must not outweigh prefill)
    logits.sub_(logits.amax(dim=-1, keepdim=True)).exp_()
    logits.div_(logits.sum(dim=-1, keepdim=True))
    return logits.reshape(b, h, window, length)


def ensure_cache_position(kwargs: dict, cache_len: int, q_len: int, device) -> dict:
    """transformers >= 5.4 stops passing ``cache_position`` to attention; presses that read it get the
    positions of the current queries in this layer's cache."""
    if kwargs.get("cache_position") is not None:
        return kwargs
    return {**kwargs, "cache_position": torch.arange(cache_len - q_len, cache_len, device=device)}


@dataclass
class PressRunner:
    """Applies one kvpress ScorerPress to the prefill cache of each hooked layer."""

    press: object
    decoder: nn.Module
    method: str
    ratio: float
    scope: str
    audio_mask: torch.Tensor  # [L] prompt positions
    stats: CompressionStats
    n_layers: int
    window: int | None = None
    phase: str = "idle"

    def __post_init__(self):
        self.pending_attention: dict[int, torch.Tensor] = {}

    def layer_cache(self, cache, idx: int):
        layers = getattr(cache, "layers", None)
        return layers[idx] if layers is not None and idx < len(layers) else None

    def tap(self, module, query, key, value, attention_mask, kwargs):
        if query.shape[-2] == key.shape[-2] and query.shape[-2] > 1:  # prefill
            if self.window is not None:
                window = min(self.window, key.shape[-2])
                scaling = attention_scaling(module, query, kwargs)
                self.pending_attention[module.layer_idx] = window_attention(query, key, window, scaling)
            return key, value, attention_mask
        if isinstance(attention_mask, torch.Tensor) and attention_mask.shape[-1] > key.shape[-2]:
            # batch 1 without padding (the session refuses padding): every kept key is visible, and the
            # mask's last columns are all visible too
            return key, value, attention_mask[..., -key.shape[-2]:]
        return key, value, attention_mask

    def n_kept(self, module, length: int, n_audio: int) -> int:
        """Keys kept out of ``length`` (kvpress's rule for `all`; over audio tokens for `audio`)."""
        from kvpress.utils import compute_n_kept

        pyramid = getattr(self.press, "get_layer_budget", None)
        if self.scope == "all":
            return pyramid(module, length) if pyramid else compute_n_kept(length, self.ratio)
        kept_audio = pyramid(module, n_audio) if pyramid else kept_count(n_audio, self.ratio)
        return length - n_audio + min(max(kept_audio, 0), n_audio)

    def hook(self, module, args, kwargs, output):
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        cache = kwargs.get("past_key_values")
        q_len = hidden.shape[-2]
        if q_len == self.audio_mask.numel():  # prefill of this prompt
            check_batch_one(hidden.shape[0])
            check_dynamic_cache(cache)
        layer = self.layer_cache(cache, module.layer_idx)
        attentions = self.pending_attention.pop(module.layer_idx, None)
        if layer is None or not isinstance(getattr(layer, "keys", None), torch.Tensor):
            return output
        keys, values = layer.keys, layer.values
        if keys.shape[-2] != q_len or q_len != self.audio_mask.numel():  # not this prompt's prefill
            return output
        if keys.is_cuda:
            torch.cuda.synchronize(keys.device)
        start = time.perf_counter()
        kwargs = ensure_cache_position(kwargs, keys.shape[-2], q_len, keys.device)
        if self.ratio > 0:
            keys, values, kept_audio = self.compress(module, hidden, keys, values, attentions, kwargs)
            layer.keys, layer.values = keys, values
        else:
            kept_audio = int(self.audio_mask.sum())
        per_layer = self.stats.kept_audio_tokens_per_layer
        per_layer[module.layer_idx] = kept_audio
        for idx, layer_module in enumerate(self.decoder.layers):  # Gemma-3n: layers reading this cache
            if getattr(layer_module.self_attn, "kv_shared_layer_index", None) == module.layer_idx:
                per_layer[idx] = kept_audio
        if keys.is_cuda:
            torch.cuda.synchronize(keys.device)
        self.stats.prune_ms += (time.perf_counter() - start) * 1000.0
        return output

    def compress(self, module, hidden, keys, values, attentions, kwargs):
        if attentions is None and self.window is not None:
            raise RuntimeError(f"{self.method}: the attention rows of layer {module.layer_idx} were not captured")
        with press_view(self.decoder, module):
            scores = self.press.score(module, hidden, keys, values, attentions, kwargs).float()  # [B, H_kv, L]
        is_audio = self.audio_mask.to(scores.device)
        length = keys.shape[-2]
        if self.scope == "audio":
            scores = scores.masked_fill(~is_audio, float("inf"))
        n_kept = self.n_kept(module, length, int(is_audio.sum()))
        index = scores.topk(n_kept, dim=-1).indices.sort(dim=-1).values  # keep cache order = position order
        kept_audio = float(is_audio[index].sum(dim=-1).float().mean())  # mean over KV heads
        gather = index.unsqueeze(-1).expand(-1, -1, -1, keys.shape[-1])
        return keys.gather(2, gather).contiguous(), values.gather(2, gather).contiguous(), kept_audio


def _compressible(attn: nn.Module) -> bool:
    # Gemma-3n: kv-shared layers have no cache of their own; sliding-window layers are bounded anyway
    # (kvpress skips them for Gemma-3 too).
    return not getattr(attn, "is_kv_shared_layer", False) and not getattr(attn, "is_sliding", False)


@contextlib.contextmanager
def kv_press(model: nn.Module, decoder: nn.Module, audio_mask: torch.Tensor, config: "CompressionConfig",
             stats: CompressionStats, sample: object = None):
    press = load_press(config, sample)
    window = PRESSES[config.method].window
    if isinstance(window, str):
        window = getattr(press, window)
    press.post_init_from_model(model)
    runner = PressRunner(press, decoder, config.method, float(config.ratio), config.press_scope, audio_mask, stats,
                         len(decoder.layers), window)
    with contextlib.ExitStack() as stack:
        for layer in decoder.layers:
            attn = layer.self_attn
            if not _compressible(attn):
                continue
            stack.callback(install_tap(attn, runner.tap))
            stack.callback(attn.register_forward_hook(runner.hook, with_kwargs=True).remove)
        yield runner
