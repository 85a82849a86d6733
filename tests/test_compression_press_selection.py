"""What each KV-cache press keeps, against its definition computed here from the model's own tensors.

Every press, every decoder family, scope ``audio``: per compressed layer and KV head, the audio keys left
in the cache (matched row by row against the uncompressed cache) must be the top ``keep`` audio
positions of a reference score written out below from the method's definition (parameters: kvpress
0.5.5's defaults, which the runner uses):

* snapkv (Li et al. 2024, arXiv 2404.14469): the model's own eager attention probabilities
  (``output_attentions``) of the last 64 prompt queries over the keys before them, averaged over those
  queries, smoothed by a zero-padded moving average of 5 keys, averaged over the query heads that share
  a KV head; the 64 window keys are always kept;
* pyramidkv (Cai et al. 2024, arXiv 2406.02069): SnapKV's scores with a per-layer budget that shrinks
  linearly from max_num to min_num over the layers (beta 20, window 64), over the audio tokens;
* tova (Oren et al. 2024, arXiv 2401.06104): the last prompt query's attention probabilities, averaged
  over all heads, the same for every KV head;
* knorm (Devoto et al. 2024, arXiv 2406.11430): the smallest L2 norms of the cached (post-RoPE) keys;
* expected_attention (kvpress's ExpectedAttentionPress): log E[exp(s·q·k)] = s·μ·k + s²·kᵀΣk/2 for
  queries q ~ N(μ, Σ) — mean and covariance of the layer's pre-RoPE queries (the model's own, read by
  hooks) after the 4 sink tokens, rotated by RoPE averaged over the next 512 positions (the model's own
  rotary function applied to a basis), s the model's attention scaling (Gemma-3n: 1.0); softmax over
  the non-sink keys, averaged over the query heads of a KV head, times the value norms;
* streaming (Xiao et al. 2023, arXiv 2309.17453): the 4 sink tokens and the most recent ones;
* kv_random: uniform scores drawn from the generator seeded by (seed, sample, layer).

Prompts are long enough that SnapKV's 64-token window holds only text, and every comparison first
asserts that the reference's scores decide the kept set (no tie, no rounding noise at the boundary).
"""
import functools
import importlib

import pytest
import torch

from audiomarathon_runner.compression import CompressionConfig, compression_session
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.tiny import VOCAB, TINY_DECODERS, build_tiny_decoder, tiny_prompt

from compression_refs import expected_generator, expected_kept, strictly_decided

pytest.importorskip("kvpress")

N_AUDIO, N_BEFORE, N_AFTER = 80, 8, 72  # 160 tokens: SnapKV's window (64) covers text only
RATIOS = (0.3, 0.75)
WINDOW, KERNEL = 64, 5  # SnapKV / PyramidKV window and pooling kernel
N_SINK, N_FUTURE = 4, 512  # StreamingLLM's and ExpectedAttention's sinks, ExpectedAttention's future positions
BETA = 20  # PyramidKV
INF = float("inf")


def trained_like(model, seed=0):
    """Attention as peaked as a trained model's, and norm weights away from their init of ones (random
    init gives near-uniform attention, and Gemma-3n's k_norm at ones gives every key the same norm):
    query/key projections ×10, every norm weight uniform in [0.5, 1.5]."""
    gen = torch.Generator().manual_seed(seed)
    decoder = text_decoder(model)
    with torch.no_grad():
        for name, weight in decoder.named_parameters():
            if "norm" in name and weight.dim() == 1:
                weight.copy_(torch.rand(weight.shape, generator=gen) + 0.5)
        for layer in decoder.layers:
            attn = layer.self_attn
            if hasattr(attn, "qkv_proj"):  # Phi-4: queries and keys are the first rows of the fused weight
                rows = (attn.config.num_attention_heads + attn.config.num_key_value_heads) * attn.head_dim
                attn.qkv_proj.weight[:rows] *= 10
            else:
                attn.q_proj.weight *= 10
                attn.k_proj.weight *= 10
    return model


def distinct_prompt(n_audio, n_before, n_after, seed):
    """``tiny_prompt`` with no id repeated among the audio tokens (nor anywhere, when the vocabulary
    allows): like an audio encoder's continuous embeddings, no two audio keys of layer 0 share a norm."""
    inputs, audio_mask = tiny_prompt(n_audio, n_before, n_after, seed=seed)
    ids = inputs["input_ids"].clone()
    gen = torch.Generator().manual_seed(seed)
    pool = 3 + torch.randperm(VOCAB - 13, generator=gen)  # tiny_prompt's id range
    if ids.shape[1] <= pool.numel():
        ids[0] = pool[: ids.shape[1]]
    elif n_audio <= pool.numel():
        ids[0, audio_mask] = pool[:n_audio]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, audio_mask


@pytest.fixture(scope="module", params=list(TINY_DECODERS))
def family(request):
    return request.param, trained_like(build_tiny_decoder(request.param, seed=0))


def _memo(model, inputs, what, compute):
    """One computation per (model, prompt), kept on the model: its tensors do not depend on the method."""
    memo = model.__dict__.setdefault("_reference_memo", {})
    key = (inputs["input_ids"].numpy().tobytes(), what)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


# ---- observed: what the press left in the cache ------------------------------------------------------

@torch.no_grad()
def _prefill(model, inputs, audio_mask, config, sample=None):
    with compression_session(model, inputs, audio_mask, config, sample=sample):
        return model(**inputs, use_cache=True).past_key_values


def pressed_positions(model, inputs, audio_mask, config, sample=None) -> dict[int, list[list[int]]]:
    """Cache layer -> per KV head, the prompt positions whose keys the press left in the cache."""
    full = _memo(model, inputs, "cache", lambda: _prefill(model, inputs, audio_mask, CompressionConfig()))
    pressed = _prefill(model, inputs, audio_mask, config, sample)
    out = {}
    for idx, (a, b) in enumerate(zip(full.layers, pressed.layers)):
        if b.keys.shape[-2] == a.keys.shape[-2]:
            continue
        heads = []
        for h in range(a.keys.shape[1]):
            index = {row.numpy().tobytes(): i for i, row in enumerate(a.keys[0, h])}
            heads.append(sorted(index[row.numpy().tobytes()] for row in b.keys[0, h]))
        out[idx] = heads
    return out


def compressible_layers(model) -> set[int]:
    """Layers with a cache of their own that is not a sliding window (Gemma-3n's local and KV-shared
    layers are left alone; every layer of the other families is compressed)."""
    config = text_decoder(model).config
    n = config.num_hidden_layers
    types = getattr(config, "layer_types", None) or ["full_attention"] * n
    own = n - (getattr(config, "num_kv_shared_layers", 0) or 0)
    return {i for i in range(own) if types[i] == "full_attention"}


# ---- the model's own tensors --------------------------------------------------------------------------

def eager_run(model, inputs):
    return _memo(model, inputs, "eager", lambda: _eager_run(model, inputs))


@torch.no_grad()
def _eager_run(model, inputs):
    """(attention probabilities per layer [H, L, L], uncompressed cache) from the model's eager attention."""
    attn = model.config.get_text_config()._attn_implementation
    model.set_attn_implementation("eager")
    try:
        out = model(**inputs, output_attentions=True, use_cache=True)
    finally:
        model.set_attn_implementation(attn)
    return [a[0].float() for a in out.attentions], out.past_key_values


def _query_source(attn):
    """(module whose output carries the layer's pre-RoPE queries, how to read them as [B, L, H, d])."""
    heads, dim = attn.config.num_attention_heads, attn.head_dim
    if hasattr(attn, "q_norm"):  # Gemma-3n: queries are normed per head before RoPE, [B, L, H, d]
        return attn.q_norm, lambda out: out
    if hasattr(attn, "qkv_proj"):  # Phi-4: fused projection, queries first
        return attn.qkv_proj, lambda out: out[..., : heads * dim].unflatten(-1, (heads, dim))
    return attn.q_proj, lambda out: out.unflatten(-1, (heads, dim))


def prerope_queries(model, inputs, layer_idx) -> torch.Tensor:
    """[H, L, d]: the queries layer ``layer_idx`` computes before RoPE, read by forward hooks."""
    return _memo(model, inputs, "queries", lambda: _prerope_queries(model, inputs))[layer_idx]


@torch.no_grad()
def _prerope_queries(model, inputs) -> dict[int, torch.Tensor]:
    seen, handles = {}, []

    def keep(module, args, out, idx, read):  # returns None: the model's output stays as it is
        seen.setdefault(idx, read(out)[0].transpose(0, 1).float())

    for idx, layer in enumerate(text_decoder(model).layers):
        module, read = _query_source(layer.self_attn)
        handles.append(module.register_forward_hook(functools.partial(keep, idx=idx, read=read)))
    try:
        model(**inputs)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def averaged_rotation(model, layer_idx, start, count) -> torch.Tensor:
    """[d, d]: the model's own RoPE rotation averaged over positions start..start+count-1, built by
    applying the family's rotary function to the basis vectors."""
    decoder = text_decoder(model)
    attn = decoder.layers[layer_idx].self_attn
    modeling = importlib.import_module(type(attn).__module__)
    d = attn.head_dim
    basis = torch.eye(d)[None, :, None, :].expand(1, d, count, d)  # "head" i = basis vector e_i
    positions = torch.arange(start, start + count)[None]
    name = type(decoder).__name__
    if "Omni" in name:  # 3-axis M-RoPE, all axes at the text position
        cos, sin = decoder.rotary_emb(basis, positions[None].expand(3, 1, -1))
        rotated = modeling.apply_multimodal_rotary_pos_emb(basis, basis, cos, sin,
                                                            attn.config.rope_parameters["mrope_section"])[0]
    elif "Gemma3n" in name:
        cos, sin = decoder.rotary_emb(basis, positions, decoder.config.layer_types[layer_idx])
        rotated = modeling.apply_rotary_pos_emb(basis, cos, sin)
    else:
        cos, sin = decoder.rotary_emb(basis, positions)
        rotated = modeling.apply_rotary_pos_emb(basis, basis, cos, sin)[0]
    return rotated[0].mean(dim=1).T  # column i = mean rotation of e_i


# ---- reference scores: [H_kv, L] per compressed layer -------------------------------------------------

def _per_kv_head(per_query_head: torch.Tensor, n_kv: int) -> torch.Tensor:
    """Mean over the query heads that share a KV head (head i reads KV head i // (H / H_kv))."""
    return per_query_head.view(n_kv, per_query_head.shape[0] // n_kv, -1).mean(dim=1)


def snapkv_scores(attn: torch.Tensor, n_kv: int) -> torch.Tensor:
    heads, length, _ = attn.shape
    votes = attn[:, length - WINDOW:, : length - WINDOW].mean(dim=1)  # [H, L - w]
    pad = KERNEL // 2
    padded = torch.cat([votes.new_zeros(heads, pad), votes, votes.new_zeros(heads, pad)], dim=1)
    pooled = sum(padded[:, i: i + votes.shape[1]] for i in range(KERNEL)) / KERNEL
    return torch.cat([_per_kv_head(pooled, n_kv), torch.full((n_kv, WINDOW), INF)], dim=1)


def tova_scores(attn: torch.Tensor, n_kv: int) -> torch.Tensor:
    row = attn[:, -1, :].mean(dim=0)
    row[-1] = INF  # the last token itself stays
    return row.expand(n_kv, -1)


def knorm_scores(keys: torch.Tensor) -> torch.Tensor:
    return -keys.float().norm(dim=-1)


def expected_attention_scores(model, inputs, layer_idx, keys, values) -> torch.Tensor:
    attn = text_decoder(model).layers[layer_idx].self_attn
    queries = prerope_queries(model, inputs, layer_idx)[:, N_SINK:]  # [H, L - sinks, d]
    length = keys.shape[-2]
    mu = queries.mean(dim=1)  # [H, d]
    centred = queries - mu[:, None]
    cov = centred.transpose(1, 2) @ centred / queries.shape[1]  # [H, d, d]
    rotation = averaged_rotation(model, layer_idx, length, N_FUTURE)
    mu, cov = mu @ rotation.T, rotation @ cov @ rotation.T
    n_kv = keys.shape[0]
    k = keys.float()[:, N_SINK:].repeat_interleave(queries.shape[0] // n_kv, dim=0)  # [H, L', d]
    s = float(attn.scaling)
    logits = s * torch.einsum("hd,hld->hl", mu, k) + s * s / 2 * torch.einsum("hld,hde,hle->hl", k, cov, k)
    probs = _per_kv_head(logits.softmax(dim=-1), n_kv) * values.float()[:, N_SINK:].norm(dim=-1)
    return torch.cat([torch.full((n_kv, N_SINK), INF), probs], dim=1)


def streaming_scores(length: int, n_kv: int) -> torch.Tensor:
    scores = torch.arange(length, dtype=torch.float64)
    scores[:N_SINK] = INF
    return scores.expand(n_kv, -1)


def random_scores(seed, sample, layer_idx, n_kv, length) -> torch.Tensor:
    return torch.rand((1, n_kv, length), generator=expected_generator(seed, sample, layer_idx))[0]


def pyramid_budget(n: int, ratio: float, layer_idx: int, n_layers: int) -> int:
    """PyramidKV's budget of one layer out of ``n`` tokens (KVCache-Factory's formula, as kvpress has it)."""
    max_capacity = WINDOW + n * (1 - ratio)
    min_num = (max_capacity - WINDOW) / BETA
    max_num = (max_capacity - WINDOW) * 2 - min_num
    if max_num >= n - WINDOW:
        max_num = n - WINDOW
        min_num = (max_capacity - WINDOW) * 2 - max_num
    if not n >= max_num >= min_num >= WINDOW:
        return max(1, round(n * (1 - ratio)))
    return round(max_num - layer_idx * (max_num - min_num) / (n_layers - 1))


def reference_scores(method, model, inputs, layer_idx, attentions, cache, seed=None, sample=None):
    keys, values = cache.layers[layer_idx].keys[0], cache.layers[layer_idx].values[0]
    n_kv, length = keys.shape[0], keys.shape[1]
    if method in ("snapkv", "pyramidkv"):
        return snapkv_scores(attentions[layer_idx], n_kv)
    if method == "tova":
        return tova_scores(attentions[layer_idx], n_kv)
    if method == "knorm":
        return knorm_scores(keys)
    if method == "expected_attention":
        return expected_attention_scores(model, inputs, layer_idx, keys, values)
    if method == "streaming":
        return streaming_scores(length, n_kv)
    if method == "kv_random":
        return random_scores(seed, sample, layer_idx, n_kv, length)
    raise AssertionError(method)


def reference_keep(scores: torch.Tensor, audio_mask, keep: int, where) -> list[list[int]]:
    """Per KV head: every text position and the top ``keep`` audio positions, after asserting that the
    scores decide them."""
    audio = torch.nonzero(audio_mask).flatten()
    text = torch.nonzero(~audio_mask).flatten().tolist()
    out = []
    for h, row in enumerate(scores):
        assert strictly_decided(row[audio], keep), f"{where}, head {h}: the kept set would be decided by ties"
        top = audio[row[audio].double().topk(keep).indices].tolist()
        out.append(sorted(text + top))
    return out


SCORED = ["snapkv", "tova", "knorm", "expected_attention", "streaming", "kv_random"]


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("method", SCORED)
def test_press_keeps_the_references_top_audio_keys(family, method, ratio):
    name, model = family
    inputs, audio_mask = distinct_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=3)
    attentions, cache = eager_run(model, inputs)
    config = CompressionConfig(method, ratio, press_scope="audio", seed=2)
    got = pressed_positions(model, inputs, audio_mask, config, sample="s")
    assert set(got) == compressible_layers(model), name
    keep = expected_kept(N_AUDIO, ratio)
    for layer_idx, heads in got.items():
        scores = reference_scores(method, model, inputs, layer_idx, attentions, cache, seed=2, sample="s")
        assert heads == reference_keep(scores, audio_mask, keep, (name, method, ratio, layer_idx)), \
            (name, method, ratio, layer_idx)


@pytest.mark.parametrize("ratio", [0.3, 0.5])
def test_pyramidkv_keeps_its_budget_of_the_references_top_audio_keys(family, ratio):
    """400 audio tokens: enough for a real pyramid (per-layer budgets differ) under a 64-token window."""
    name, model = family
    n_audio = 400
    inputs, audio_mask = distinct_prompt(n_audio, N_BEFORE, N_AFTER, seed=4)
    attentions, cache = eager_run(model, inputs)
    got = pressed_positions(model, inputs, audio_mask, CompressionConfig("pyramidkv", ratio))
    assert set(got) == compressible_layers(model)
    n_layers = text_decoder(model).config.num_hidden_layers
    budgets = {i: pyramid_budget(n_audio, ratio, i, n_layers) for i in got}
    assert len(set(budgets.values())) == len(budgets) > 1, budgets  # a pyramid, not one budget
    for layer_idx, heads in got.items():
        scores = snapkv_scores(attentions[layer_idx], cache.layers[layer_idx].keys.shape[1])
        assert heads == reference_keep(scores, audio_mask, budgets[layer_idx], (name, ratio, layer_idx)), \
            (name, ratio, layer_idx)


@pytest.mark.parametrize("method", ["snapkv", "knorm"])
def test_scope_all_follows_the_papers_count_over_every_key(family, method):
    """Scope ``all``: any key may go, kvpress's count int(L·(1 − ratio)) over the whole prompt. 112
    distinct tokens; 78 kept, so SnapKV's 64 window keys (tied, always kept) do not decide."""
    name, model = family
    ratio = 0.3
    inputs, audio_mask = distinct_prompt(N_AUDIO, N_BEFORE, 24, seed=3)
    attentions, cache = eager_run(model, inputs)
    got = pressed_positions(model, inputs, audio_mask, CompressionConfig(method, ratio, press_scope="all"))
    length = audio_mask.numel()
    keep = max(1, int(length * (1 - ratio)))
    for layer_idx, heads in got.items():
        scores = reference_scores(method, model, inputs, layer_idx, attentions, cache)
        expected = []
        for h, row in enumerate(scores):
            assert strictly_decided(row, keep), (name, method, layer_idx, h)
            expected.append(sorted(row.double().topk(keep).indices.tolist()))
        assert heads == expected, (name, method, layer_idx)


def test_gemma3n_scaling_decides_what_snapkv_and_expected_attention_keep():
    """Gemma-3n multiplies q·k by 1.0, not 1/sqrt(d): scored with 1/sqrt(d), other keys would be kept
    (so the reference comparisons above can tell the two apart on this model)."""
    model = trained_like(build_tiny_decoder("gemma3n", seed=0))
    decoder = text_decoder(model)
    layer_idx = 1
    attn = decoder.layers[layer_idx].self_attn
    assert attn.scaling == 1.0 and attn.head_dim ** -0.5 != 1.0
    inputs, audio_mask = distinct_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=3)
    attentions, cache = eager_run(model, inputs)
    keep = expected_kept(N_AUDIO, 0.75)
    own = reference_keep(snapkv_scores(attentions[layer_idx], 2), audio_mask, keep, "own scaling")
    # the same rows with the logits times 1/sqrt(d): softmax(c·x) = p^c / sum(p^c), masked keys stay 0
    powered = attentions[layer_idx].double() ** (attn.head_dim ** -0.5)
    rescaled = (powered / powered.sum(dim=-1, keepdim=True)).float()
    other = reference_keep(snapkv_scores(rescaled, 2), audio_mask, keep, "1/sqrt(d)")
    assert own != other
