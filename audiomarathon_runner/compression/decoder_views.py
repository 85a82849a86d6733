"""What compression must know of one family's text decoder beyond the layout transformers' decoders
share: how a decoder-layer call is cut to the kept tokens (token pruning) and how a press that
re-derives queries sees the attention module (RoPE, ``q_proj``). One entry per family that differs,
keyed by the name its adapter gives (``AudioLMAdapter.decoder_view``); a model's modules find
theirs by their transformers class, so the compression code never needs an adapter.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn


# ---- a decoder-layer call (each argument's slicing kind: seq, pos or mask, see layer_kwargs) -----------

def _first_hidden(layer: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    return hidden[0]


def _batch_of_hidden(layer: nn.Module, hidden: torch.Tensor) -> int:
    return hidden.shape[0]


def _altup_batch(layer: nn.Module, hidden: torch.Tensor) -> int:
    return hidden.shape[1]


def _altup_active_hidden(layer: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    # Gemma-3n carries [altup_num_inputs, B, L, D]; the active stream is the model's hidden state.
    return hidden[layer.config.altup_active_idx][0]


@dataclass(frozen=True)
class LayerCall:
    """Which arguments of a decoder-layer call are sequence-aligned, and where its hidden state is."""

    arguments: dict[str, str] = field(
        default_factory=lambda: {
            "hidden_states": "seq",
            "position_embeddings": "seq",
            "position_ids": "pos",
            "cache_position": "pos",
            "attention_mask": "mask",
        }
    )
    # [L, D] hidden state of the (batch-1) sequence, for similarity-based pruners.
    primary_hidden: Callable[[nn.Module, torch.Tensor], torch.Tensor] = _first_hidden
    # batch size of the layer's hidden-state input
    batch_size: Callable[[nn.Module, torch.Tensor], int] = _batch_of_hidden


# ---- an attention module as a press re-deriving queries sees it ---------------------------------------

class _FusedQuery(nn.Module):
    """``q_proj`` view of a fused qkv projection (Phi-4-multimodal)."""

    def __init__(self, attn: nn.Module):
        super().__init__()
        self.attn = [attn]  # list: do not register the parent as a child (cycle)

    def forward(self, hidden):
        attn = self.attn[0]
        return attn.qkv_proj(hidden)[..., : attn.config.num_attention_heads * attn.head_dim]


class _NormedQuery(nn.Module):
    """``q_proj`` view that includes the per-head q_norm (Gemma-3n), as the model's queries do."""

    def __init__(self, attn: nn.Module, q_proj: nn.Module):
        super().__init__()
        self.attn, self.inner = [attn], q_proj

    def forward(self, hidden):
        attn = self.attn[0]
        q = self.inner(hidden).view(*hidden.shape[:-1], -1, attn.head_dim)
        return attn.q_norm(q).flatten(-2)


def _text_rope(decoder: nn.Module, attn: nn.Module) -> Callable:
    return decoder.rotary_emb


def _mrope_as_text_rope(decoder: nn.Module, attn: nn.Module) -> Callable:
    """Qwen2.5-Omni's 3-axis M-RoPE for text positions (all axes equal), merged per mrope_section."""
    section = attn.rope_parameters["mrope_section"] if hasattr(attn, "rope_parameters") else attn.config.rope_parameters["mrope_section"]

    def rope(x, position_ids):
        cos, sin = decoder.rotary_emb(x, position_ids[None].expand(3, *position_ids.shape))
        if cos.dim() == 3:  # newer transformers (5.17) merge the axes inside the rotary embedding
            return cos, sin
        merge = lambda t: torch.cat([m[i % 3] for i, m in enumerate(t.split(list(section) * 2, dim=-1))], dim=-1)
        return merge(cos), merge(sin)

    return rope


def _typed_rope(decoder: nn.Module, attn: nn.Module) -> Callable:
    """Gemma-3n: one rotary embedding per layer type (local/global theta)."""
    layer_type = decoder.config.layer_types[attn.layer_idx]
    return functools.partial(decoder.rotary_emb, layer_type=layer_type)


@dataclass(frozen=True)
class PressView:
    rope: Callable[[nn.Module, nn.Module], Callable] = _text_rope
    query: Callable[[nn.Module], nn.Module] | None = None  # builds a q_proj stand-in


# ---- the views ----------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # each view is one object: compared (and hashed) by identity
class DecoderView:
    layer_class: str | None = None  # the transformers class of its decoder layers, when the call differs
    attention_class: str | None = None  # the transformers class of its attention, when a press sees it differently
    call: LayerCall = LayerCall()
    press: PressView = PressView()


STANDARD = DecoderView()  # Qwen2 (Qwen2-Audio, Audio Flamingo 3), Llama/Mistral (Voxtral)

DECODER_VIEWS: dict[str, DecoderView] = {
    "qwen2_5_omni": DecoderView(attention_class="Qwen2_5OmniAttention", press=PressView(rope=_mrope_as_text_rope)),
    "phi4_multimodal": DecoderView(attention_class="Phi4MultimodalAttention", press=PressView(query=_FusedQuery)),
    "gemma3n": DecoderView(
        layer_class="Gemma3nTextDecoderLayer",
        attention_class="Gemma3nTextAttention",
        call=LayerCall(arguments={**LayerCall().arguments, "per_layer_input": "seq"},
                       primary_hidden=_altup_active_hidden, batch_size=_altup_batch),
        press=PressView(rope=_typed_rope, query=lambda a: _NormedQuery(a, a.q_proj)),
    ),
}
_BY_CLASS = {name: view for view in DECODER_VIEWS.values()
             for name in (view.layer_class, view.attention_class) if name is not None}


def view_of(module: nn.Module) -> DecoderView:
    """The view of a decoder layer or attention module, by its class: its family's, else STANDARD."""
    return _BY_CLASS.get(type(module).__name__, STANDARD)
