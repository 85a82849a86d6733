"""KV-cache presses: scopes, the transformers >= 5.4 hook adapter, exact window attention, seeds."""
import pytest
import torch

from audiomarathon_runner.compression import CompressionConfig, compression_session
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.compression.presses import ensure_cache_position, window_attention
from audiomarathon_runner.tiny import build_tiny_decoder, tiny_prompt

kvpress = pytest.importorskip("kvpress")
N_AUDIO = 80


@pytest.fixture(scope="module")
def model():
    return build_tiny_decoder("qwen2_audio", seed=0)


def _prefill_cache(model, inputs, audio_mask, config):
    from transformers import DynamicCache

    cache = DynamicCache(config=text_decoder(model).config)
    with compression_session(model, inputs, audio_mask, config) as stats, torch.no_grad():
        model(**inputs, past_key_values=cache, use_cache=True)
    return cache, stats


def test_audio_scope_never_evicts_text_keys(model):
    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    full, _ = _prefill_cache(model, inputs, audio_mask, CompressionConfig())
    cache, stats = _prefill_cache(model, inputs, audio_mask, CompressionConfig("knorm", 0.5, press_scope="audio"))
    text = torch.nonzero(~audio_mask).flatten()
    for layer_full, layer in zip(full.layers, cache.layers):
        assert layer.keys.shape[-2] == audio_mask.numel() - N_AUDIO // 2
        # every text key survives, in order, at every KV head
        for head in range(layer.keys.shape[1]):
            kept = layer.keys[0, head]
            for pos in text.tolist():
                assert (kept == layer_full.keys[0, head, pos]).all(dim=-1).any()
    assert stats.kept_audio_tokens_per_layer == [N_AUDIO // 2] * len(cache.layers)


def test_all_scope_follows_kvpress_rule(model):
    from kvpress.utils import compute_n_kept

    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    cache, stats = _prefill_cache(model, inputs, audio_mask, CompressionConfig("knorm", 0.5, press_scope="all"))
    n = compute_n_kept(audio_mask.numel(), 0.5)
    assert [layer.keys.shape[-2] for layer in cache.layers] == [n] * len(cache.layers)
    assert stats.kv_cache_tokens_per_layer == [n] * len(cache.layers)


def test_pyramidkv_audio_scope_budgets_differ_per_layer(model):
    inputs, audio_mask = tiny_prompt(400, 8, 70)
    cache, stats = _prefill_cache(model, inputs, audio_mask, CompressionConfig("pyramidkv", 0.5))
    lengths = [layer.keys.shape[-2] for layer in cache.layers]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) > 1  # pyramid: lower layers keep more
    assert all(n >= 78 for n in lengths)  # text never evicted


def test_kv_random_is_reproducible_by_seed(model):
    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    a, _ = _prefill_cache(model, inputs, audio_mask, CompressionConfig("kv_random", 0.5, seed=1))
    b, _ = _prefill_cache(model, inputs, audio_mask, CompressionConfig("kv_random", 0.5, seed=1))
    c, _ = _prefill_cache(model, inputs, audio_mask, CompressionConfig("kv_random", 0.5, seed=2))
    assert torch.equal(a.layers[1].keys, b.layers[1].keys)
    assert not torch.equal(a.layers[1].keys, c.layers[1].keys)


def test_hook_works_without_cache_position(model):
    """transformers >= 5.4 no longer passes cache_position to self_attn: call the hook without it."""
    from transformers import DynamicCache

    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    decoder = text_decoder(model)
    attn = decoder.layers[1].self_attn
    seen = {}

    def spy(module, args, kwargs):
        kw = dict(kwargs)
        kw.pop("cache_position", None)
        seen["kwargs"] = kw
        return args, kw

    cache = DynamicCache(config=decoder.config)
    config = CompressionConfig("snapkv", 0.5)
    with compression_session(model, inputs, audio_mask, config) as stats, torch.no_grad():
        handle = attn.register_forward_pre_hook(spy, with_kwargs=True, prepend=True)
        try:
            model(**inputs, past_key_values=cache, use_cache=True)
        finally:
            handle.remove()
    assert "cache_position" not in seen["kwargs"]
    assert cache.layers[1].keys.shape[-2] == audio_mask.numel() - N_AUDIO // 2
    assert stats.kept_audio_tokens_per_layer[1] == N_AUDIO // 2
    filled = ensure_cache_position({}, cache_len=112, q_len=112, device="cpu")
    assert filled["cache_position"].tolist() == list(range(112))
    assert ensure_cache_position({}, cache_len=73, q_len=1, device="cpu")["cache_position"].tolist() == [72]


def test_window_attention_equals_full_attention_rows():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 4, 30, 8, generator=g), torch.randn(1, 2, 30, 8, generator=g)
    rows = window_attention(q, k, window=5, scaling=8 ** -0.5)
    keys = k.repeat_interleave(2, dim=1)
    full = (q @ keys.transpose(-1, -2)) * 8 ** -0.5
    full = full.masked_fill(torch.triu(torch.ones(30, 30, dtype=torch.bool), 1), float("-inf")).softmax(-1)
    torch.testing.assert_close(rows, full[:, :, -5:])


def test_press_decode_matches_between_attention_implementations():
    """Decode after compression with a materialised (eager) mask gives SDPA's tokens and logits, and both
    keep the same keys: one run per implementation, compared here."""
    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    runs = {}
    for attn in ("eager", "sdpa"):
        model = build_tiny_decoder("voxtral", seed=0, attn_implementation=attn)
        cache, _ = _prefill_cache(model, inputs, audio_mask, CompressionConfig("snapkv", 0.5))
        with compression_session(model, inputs, audio_mask, CompressionConfig("snapkv", 0.5)) as stats:
            out = model.generate(**inputs, max_new_tokens=4, do_sample=False, output_logits=True,
                                 return_dict_in_generate=True)
        assert stats.kv_cache_tokens_per_layer == [audio_mask.numel() - N_AUDIO // 2] * 4
        assert model.config._attn_implementation == attn
        runs[attn] = (torch.stack([layer.keys for layer in cache.layers]), out.sequences, torch.stack(out.logits))
    (keys_e, seq_e, logits_e), (keys_s, seq_s, logits_s) = runs["eager"], runs["sdpa"]
    torch.testing.assert_close(keys_e, keys_s, rtol=1e-5, atol=1e-5)  # the same keys kept, in the same order
    assert torch.equal(seq_e, seq_s)
    torch.testing.assert_close(logits_e, logits_s, rtol=1e-4, atol=1e-4)
    # the decode steps read the pressed cache: the logits are not those of the uncompressed model
    plain = build_tiny_decoder("voxtral", seed=0)
    with torch.no_grad():
        full = plain.generate(**inputs, max_new_tokens=4, do_sample=False, output_logits=True,
                              return_dict_in_generate=True)
    assert not torch.allclose(torch.stack(full.logits), logits_s, atol=1e-3)


# ---- ExpectedAttention's averaged RoPE rotation -------------------------------------------------------

def _future_rotation(model, n_future=16, start=40):
    decoder = text_decoder(model)
    attn = decoder.layers[0].self_attn
    positions = torch.arange(start, start + n_future)[None]
    cos, sin = decoder.rotary_emb(torch.zeros(1, 1, attn.head_dim), positions)
    return attn, cos, sin


@pytest.mark.parametrize("family", ["qwen2_audio", "phi4_multimodal"])
def test_averaged_rotation_is_the_mean_of_the_models_own_rope(family):
    """Rotating by the averaged matrix equals averaging the model's own apply_rotary_pos_emb over the
    future positions — for full RoPE (Qwen2) and partial RoPE (Phi-4 rotates 3/4 of each head)."""
    import importlib

    from audiomarathon_runner.compression.presses import averaged_rope_rotation

    model = build_tiny_decoder(family, seed=0)
    attn, cos, sin = _future_rotation(model)
    apply_rope = importlib.import_module(type(attn).__module__).apply_rotary_pos_emb
    assert (cos.shape[-1] < attn.head_dim) == (family == "phi4_multimodal")
    q = torch.randn(1, 1, 1, attn.head_dim).expand(1, 1, cos.shape[1], attn.head_dim)  # one query at every position
    rotated, _ = apply_rope(q, q, cos, sin)
    expected = rotated.mean(dim=2)[0, 0]
    got = averaged_rope_rotation(cos[0], sin[0], attn.head_dim) @ q[0, 0, 0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_averaged_rotation_equals_kvpress_where_rope_covers_the_head(model):
    from kvpress import ExpectedAttentionPress

    from audiomarathon_runner.compression.presses import load_press, press_view

    decoder = text_decoder(model)
    attn = decoder.layers[0].self_attn
    mu, cov = torch.randn(1, 4, attn.head_dim), torch.randn(1, 4, attn.head_dim, attn.head_dim)
    ours = load_press(CompressionConfig("expected_attention", 0.5))
    assert isinstance(ours, ExpectedAttentionPress) and type(ours) is not ExpectedAttentionPress
    with press_view(decoder, attn):
        a = ExpectedAttentionPress(0.5).apply_avg_rope(attn, mu, cov, q_len=50)
        b = ours.apply_avg_rope(attn, mu, cov, q_len=50)
    for x, y in zip(a, b):
        torch.testing.assert_close(y, x, atol=1e-5, rtol=1e-5)


def test_expected_attention_runs_on_partial_rope_and_keeps_the_ratio():
    model = build_tiny_decoder("phi4_multimodal", seed=0)
    inputs, audio_mask = tiny_prompt(N_AUDIO, 8, 24)
    cache, stats = _prefill_cache(model, inputs, audio_mask, CompressionConfig("expected_attention", 0.5))
    assert {layer.keys.shape[-2] for layer in cache.layers} == {audio_mask.numel() - N_AUDIO // 2}
    assert stats.kept_audio_tokens_per_layer == [N_AUDIO // 2] * len(cache.layers)
