"""Every method × every decoder family, on tiny random models of the real transformers classes.

* ratio 0 reproduces the uncompressed generation exactly (every method);
* kept audio tokens and KV-cache lengths match the ratio (every method);
* a pruned run (prefill and the decode steps after it) equals a reference that feeds layers K.. the
  explicitly pruned sequence with RoPE recomputed at the kept tokens' original positions.
"""
import pytest
import torch

from audiomarathon_runner.compression import PRUNERS, CompressionConfig, compression_session, kept_count
from audiomarathon_runner.compression.layer_kwargs import bind_call
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.compression.presses import PRESSES
from audiomarathon_runner.compression.tiny_decoders import TINY_DECODERS, build_tiny_decoder, tiny_prompt

FAMILIES = list(TINY_DECODERS)
N_AUDIO, N_BEFORE, N_AFTER = 80, 8, 24
NEW = 3


@pytest.fixture(scope="module", params=FAMILIES)
def family_model(request):
    return request.param, build_tiny_decoder(request.param, seed=0)


def _generate(model, inputs, **kw):
    with torch.no_grad():
        return model.generate(**inputs, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False, output_logits=True,
                              return_dict_in_generate=True, **kw)


def test_every_method_ratio_zero_is_exact_and_ratio_half_matches_counts(family_model):
    family, model = family_model
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    prompt_len = audio_mask.numel()
    with compression_session(model, inputs, audio_mask, CompressionConfig()) as base_stats:
        base = _generate(model, inputs)
    n_layers = len(text_decoder(model).layers)
    for method in [*PRUNERS, *PRESSES]:
        with compression_session(model, inputs, audio_mask, CompressionConfig(method, 0.0)) as stats:
            out = _generate(model, inputs)
        assert torch.equal(out.sequences, base.sequences), (family, method)
        for a, b in zip(out.logits, base.logits):
            assert torch.equal(a, b), (family, method)
        assert stats.kv_cache_tokens_per_layer == base_stats.kv_cache_tokens_per_layer

        ratio = 0.5
        kept = kept_count(N_AUDIO, ratio)
        config = CompressionConfig(method, ratio, layer=2, seed=1)
        with compression_session(model, inputs, audio_mask, config) as stats:
            out = _generate(model, inputs)
        assert out.sequences.shape[-1] == prompt_len + NEW
        d = stats.to_dict()
        assert d["audio_tokens"] == N_AUDIO and d["method"] == method and d["ratio"] == ratio
        kv = d["kv_cache_tokens_per_layer"]
        if config.kind == "prune":
            assert d["kept_audio_tokens_per_layer"] == [N_AUDIO] * 2 + [kept] * (n_layers - 2)
            assert kv[:2] == [prompt_len] * 2 and set(kv[2:]) == {prompt_len - N_AUDIO + kept}
        else:
            compressed = [n for n in kv if n != prompt_len]
            assert compressed and set(compressed) == {prompt_len - N_AUDIO + kept}, (family, method, kv)
            assert kept in d["kept_audio_tokens_per_layer"]
        assert 0 < d["kv_cache_bytes"] < base_stats.kv_cache_bytes


def _reference_rope(decoder, layer, hidden, positions):
    """cos/sin recomputed from positions (not sliced): the family's own rotary embedding."""
    name = type(decoder).__name__
    pos = positions[None]
    if "Omni" in name:  # 3-axis M-RoPE; a text-only prompt has equal axes
        return decoder.rotary_emb(hidden, pos[None].expand(3, 1, -1))
    if "Gemma3n" in name:
        return decoder.rotary_emb(hidden, pos, decoder.config.layer_types[layer.layer_idx])
    return decoder.rotary_emb(hidden, pos)


def _reference_last_layer(model, input_ids, keep, k):
    """Plain forward up to layer K, then layers K.. on the kept rows only, positions = kept positions."""
    from transformers import DynamicCache

    decoder = text_decoder(model)
    layers = decoder.layers
    calls = {}
    handles = [layer.register_forward_pre_hook(
        lambda m, a, kw, i=i: calls.__setitem__(i, bind_call(m, a, kw)), with_kwargs=True)
        for i, layer in enumerate(layers) if i >= k]
    with torch.no_grad():
        model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=False)
    for h in handles:
        h.remove()
    hidden = calls[k]["hidden_states"].index_select(-2, keep)
    cache = DynamicCache(config=decoder.config)
    with torch.no_grad():
        for i in range(k, len(layers)):
            args = dict(calls[i])
            args.update(hidden_states=hidden, attention_mask=None, position_ids=keep[None], cache_position=keep,
                        past_key_values=cache, use_cache=True,
                        position_embeddings=_reference_rope(decoder, layers[i], hidden, keep))
            if "per_layer_input" in args:
                args["per_layer_input"] = args["per_layer_input"].index_select(-2, keep)
            out = layers[i](**args)
            hidden = out[0] if isinstance(out, tuple) else out
    return hidden


@pytest.mark.parametrize("method", ["fastv", "dart", "random"])
def test_pruned_run_equals_explicitly_pruned_reference(family_model, method):
    family, model = family_model
    k = 2
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=5)
    prompt_len = audio_mask.numel()
    layers = text_decoder(model).layers
    outputs = []
    handle = layers[-1].register_forward_hook(lambda m, a, o: outputs.append(o[0] if isinstance(o, tuple) else o))
    config = CompressionConfig(method, 0.6, layer=k, seed=4)
    with compression_session(model, inputs, audio_mask, config) as stats:
        res = _generate(model, inputs)
    handle.remove()
    generated = res.sequences[0, prompt_len:]
    # Kept positions = every text token + the kept audio tokens (recover them from the prefill output size).
    assert outputs[0].shape[-2] == prompt_len - N_AUDIO + kept_count(N_AUDIO, 0.6)
    assert len(outputs) == NEW  # prefill + NEW-1 decode steps
    keep = _kept_positions(model, inputs, audio_mask, config)
    full_ids = torch.cat([inputs["input_ids"], generated[None, :-1]], dim=-1)
    keep_ext = torch.cat([keep, torch.arange(prompt_len, full_ids.shape[-1])])
    ref = _reference_last_layer(model, full_ids, keep_ext, k)
    got = torch.cat(outputs, dim=-2)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4)
    assert stats.kept_audio_tokens_per_layer[k] == kept_count(N_AUDIO, 0.6)


def _kept_positions(model, inputs, audio_mask, config):
    """The prompt positions layers >= K kept, read from the session's own state."""
    from audiomarathon_runner.compression import token_pruning as tp

    seen = {}
    original = tp._choose

    def spy(*a, **kw):
        seen["keep"] = original(*a, **kw)
        return seen["keep"]

    tp._choose = spy
    try:
        with compression_session(model, inputs, audio_mask, config), torch.no_grad():
            model(**inputs)
    finally:
        tp._choose = original
    return seen["keep"]


@pytest.mark.parametrize("family", ["llama", "gemma3n"])
def test_pruning_decode_same_under_eager_and_sdpa(family):
    """Eager materialises the decode mask at the unpruned length: the session cuts it to the kept
    columns, giving SDPA's logits; FastV never asks for attention weights under either."""
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    logits = []
    for attn in ("eager", "sdpa"):
        model = build_tiny_decoder(family, seed=0, attn_implementation=attn)
        with compression_session(model, inputs, audio_mask, CompressionConfig("fastv", 0.5)):
            logits.append(torch.stack(_generate(model, inputs).logits))
        assert model.config._attn_implementation == attn  # restored, never switched to eager
    torch.testing.assert_close(logits[0], logits[1], rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", ["fastv", "dart", "snapkv"])
def test_compression_on_cuda_matches_cpu(method):
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    results = []
    for device in ("cpu", "cuda"):
        model = build_tiny_decoder("qwen2", seed=0).to(device)
        moved = {k: v.to(device) for k, v in inputs.items()}
        with compression_session(model, moved, audio_mask, CompressionConfig(method, 0.5)) as stats:
            _generate(model, moved)
        results.append(stats.to_dict())
    assert results[0]["kv_cache_tokens_per_layer"] == results[1]["kv_cache_tokens_per_layer"]
    assert results[0]["kv_cache_bytes"] == results[1]["kv_cache_bytes"]
