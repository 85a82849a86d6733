"""Audio-token pruning methods (kvpress style: one small dataclass per method, registered by name).

A pruner only *chooses* which audio tokens survive; the hooks in ``token_pruning.py`` do the slicing.
Every pruner gets a :class:`PruneContext` built at the input of decoder layer K and returns the indices
(into the audio span, ascending) of the audio tokens to keep.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .counting import kept_count
from .seeding import generator

# Method name -> pruner class; the registry of every token-pruning method (filled by @register_pruner).
PRUNERS: dict[str, type["TokenPruner"]] = {}


def register_pruner(name: str):
    def wrap(cls):
        if name in PRUNERS:
            raise ValueError(f"pruning method {name!r} is registered twice")
        cls.name = name
        PRUNERS[name] = cls
        return cls

    return wrap


@dataclass
class PruneContext:
    """What layer K knows when it prunes (batch size 1, sequence-first tensors)."""

    audio_positions: torch.Tensor  # LongTensor[A]: positions of audio tokens in the prefill sequence
    hidden_states: torch.Tensor  # [L, D]: input of layer K (= output of layer K-1)
    # [L, D]: the same states through the decoder's final norm (what the model's head would read)
    normed_hidden: torch.Tensor | None = None
    # Captured from layer K-1's attention call (post-norm, post-RoPE, exactly what the model attends with):
    query_last: torch.Tensor | None = None  # [H, d]: the last prompt token's query
    keys: torch.Tensor | None = None  # [H_kv, L, d]
    scaling: float | None = None
    mask_row: torch.Tensor | None = None  # [L] additive mask of the last query row, or None (causal: sees all)
    softcap: float | None = None  # attention logit soft-capping, where the model uses it

    @property
    def seq_len(self) -> int:
        return self.hidden_states.shape[0]


@dataclass
class TokenPruner:
    """Base class: ``ratio`` of the audio tokens is removed at layer K."""

    ratio: float = 0.0
    seed: int = 0
    sample: object = None  # the sample's id: seeds random choices per sample
    layer: int = 0  # K
    name: ClassVar[str] = ""
    # Whether layer K-1's attention inputs (last query row + keys) must be captured.
    needs_attention: ClassVar[bool] = False

    def select(self, ctx: PruneContext) -> torch.Tensor:
        """Indices into ``ctx.audio_positions`` to keep, ascending, exactly ``kept_count`` of them."""
        n_audio = ctx.audio_positions.numel()
        keep = kept_count(n_audio, self.ratio)
        device = ctx.audio_positions.device
        if keep >= n_audio:
            return torch.arange(n_audio, device=device)
        chosen = self.choose(ctx, keep)
        return torch.sort(chosen.to(device=device, dtype=torch.long)).values

    def choose(self, ctx: PruneContext, keep: int) -> torch.Tensor:
        raise NotImplementedError


def last_token_attention(ctx: PruneContext) -> torch.Tensor:
    """Attention probabilities of the last prompt token over all L keys, mean over heads: [L].

    One query row against the keys: O(L·d) memory, never the L×L map. GQA: each KV head serves
    H/H_kv query heads."""
    q, k = ctx.query_last.float(), ctx.keys.float()
    n_heads, n_kv = q.shape[0], k.shape[0]
    q = q.view(n_kv, n_heads // n_kv, q.shape[-1])  # [H_kv, G, d]
    logits = torch.einsum("hgd,hld->hgl", q, k) * ctx.scaling  # [H_kv, G, L]
    if ctx.softcap:
        logits = torch.tanh(logits / ctx.softcap) * ctx.softcap
    if ctx.mask_row is not None:
        logits = logits + ctx.mask_row.float()
    return logits.softmax(dim=-1).reshape(n_heads, -1).mean(dim=0)


@register_pruner("fastv")
@dataclass
class FastVPruner(TokenPruner):
    """FastV: keep the audio tokens the last prompt token attends to most at layer K-1."""

    needs_attention: ClassVar[bool] = True

    def choose(self, ctx: PruneContext, keep: int) -> torch.Tensor:
        scores = last_token_attention(ctx)[ctx.audio_positions]
        return scores.topk(keep).indices


@register_pruner("dart")
@dataclass
class DARTPruner(TokenPruner):
    """DART (duplication-aware): pivots are the audio/text tokens with the largest key L1 norm at
    layer K-1; for each pivot the audio tokens least cosine-similar to it are kept, without duplicates.
    Similarity is taken on layer K-1's output through the decoder's final norm, as DART defines it.
    Audio pivots are kept; text pivots are not."""

    audio_pivots: int = 4
    text_pivots: int = 4
    needs_attention: ClassVar[bool] = True

    def choose(self, ctx: PruneContext, keep: int) -> torch.Tensor:
        audio = ctx.audio_positions
        device = audio.device
        key_l1 = ctx.keys.float().abs().sum(dim=(0, 2))  # [L]: L1 norm over heads and dims
        is_audio = torch.zeros(ctx.seq_len, dtype=torch.bool, device=device)
        is_audio[audio] = True
        # Text pivots come from the instruction around the audio: non-audio tokens after the audio
        # starts (DART uses the query after the image); fall back to every non-audio token.
        text = torch.nonzero(~is_audio & (torch.arange(ctx.seq_len, device=device) > audio[0])).flatten()
        if text.numel() == 0:
            text = torch.nonzero(~is_audio).flatten()
        n_ap = min(self.audio_pivots, keep)
        audio_piv = key_l1[audio].topk(n_ap).indices  # indices into the audio span
        text_piv = text[key_l1[text].topk(min(self.text_pivots, text.numel())).indices]
        pivots_pos = torch.cat([audio[audio_piv], text_piv])

        if ctx.normed_hidden is None:
            raise RuntimeError("dart: the final-norm states of layer K-1 were not provided")
        hs = torch.nn.functional.normalize(ctx.normed_hidden.float(), dim=-1)
        sim = hs[pivots_pos] @ hs[audio].T  # [P, A] cosine similarity
        available = torch.ones(audio.numel(), dtype=torch.bool, device=device)
        available[audio_piv] = False
        budget = keep - n_ap
        chosen = [audio_piv]
        n_piv = pivots_pos.numel()
        for i in range(n_piv):
            take = budget // n_piv + (1 if i < budget % n_piv else 0)
            if take == 0:
                continue
            s = sim[i].masked_fill(~available, float("inf"))
            picked = (-s).topk(take).indices  # least similar first
            available[picked] = False
            chosen.append(picked)
        return torch.cat(chosen)


@register_pruner("random")
@dataclass
class RandomPruner(TokenPruner):
    """Random: a uniform sample of the audio tokens, seeded by (seed, sample id, K)."""

    def choose(self, ctx: PruneContext, keep: int) -> torch.Tensor:
        gen = generator(self.seed, self.sample, self.layer)  # CPU: the same choice on every device
        return torch.randperm(ctx.audio_positions.numel(), generator=gen)[:keep]


@register_pruner("frame")
@dataclass
class FramePruner(TokenPruner):
    """Frame: a uniform stride over the audio span (every n-th audio frame)."""

    def choose(self, ctx: PruneContext, keep: int) -> torch.Tensor:
        n_audio = ctx.audio_positions.numel()
        return torch.div(torch.arange(keep) * n_audio, keep, rounding_mode="floor")


def make_pruner(method: str, ratio: float, seed: int = 0, sample: object = None, layer: int = 0) -> TokenPruner:
    if method not in PRUNERS:
        raise ValueError(f"unknown pruning method {method!r}; known: {', '.join(PRUNERS)}")
    return PRUNERS[method](ratio=ratio, seed=seed, sample=sample, layer=layer)

