"""Every method × every decoder family, on tiny random models of the real transformers classes.

* ratio 0 reproduces the uncompressed generation exactly (every method);
* every reported statistic (kept audio tokens per layer, KV-cache lengths and bytes, realized ratio)
  equals the count taken on the model's own tensors, and the kept count follows the documented rule;
* a pruned run (prefill and the decode steps after it) equals a reference that feeds layers K.. the
  explicitly pruned sequence with RoPE recomputed at the kept tokens' original positions.
"""
import functools

import pytest
import torch

from audiomarathon_runner.compression import PRUNERS, CompressionConfig, compression_session
from audiomarathon_runner.compression.layer_kwargs import bind_call
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.compression.presses import PRESSES
from audiomarathon_runner.tiny import TINY_DECODERS, build_tiny_decoder, tiny_prompt

from compression_refs import expected_kept

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


def test_every_method_ratio_zero_is_exact(family_model):
    family, model = family_model
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    with compression_session(model, inputs, audio_mask, CompressionConfig()) as base_stats:
        base = _generate(model, inputs)
    for method in [*PRUNERS, *PRESSES]:
        with compression_session(model, inputs, audio_mask, CompressionConfig(method, 0.0)) as stats:
            out = _generate(model, inputs)
        assert torch.equal(out.sequences, base.sequences), (family, method)
        for a, b in zip(out.logits, base.logits):
            assert torch.equal(a, b), (family, method)
        assert stats.kv_cache_tokens_per_layer == base_stats.kv_cache_tokens_per_layer
        assert stats.realized_ratio == 0.0


def _audio_keys_kept(full_keys: torch.Tensor, kept_keys: torch.Tensor, audio_mask) -> float:
    """Audio positions whose keys are still in a pressed cache layer (matched row by row against the
    uncompressed cache), mean over KV heads."""
    counts = []
    for head in range(full_keys.shape[1]):
        index = {row.numpy().tobytes(): i for i, row in enumerate(full_keys[0, head])}
        kept = [index[row.numpy().tobytes()] for row in kept_keys[0, head]]
        counts.append(sum(bool(audio_mask[p]) for p in kept))
    return sum(counts) / len(counts)


def observed_statistics(model, inputs, audio_mask, config) -> tuple[dict, dict]:
    """(the session's record, the same numbers counted on the model's own tensors): the tokens each
    decoder layer's call receives (pruning), the audio keys left in the cache each layer reads (presses;
    a KV-shared Gemma-3n layer reads its source layer's), the cache's key lengths and bytes."""
    decoder = text_decoder(model)
    n_audio = int(audio_mask.sum())
    n_text = audio_mask.numel() - n_audio
    seen = {}
    with torch.no_grad():
        full = model(**inputs, use_cache=True).past_key_values
        with compression_session(model, inputs, audio_mask, config) as stats:
            def count(module, args, kwargs, i):  # registered after the session's hooks: sees what the layer gets
                seen.setdefault(i, (args[0] if args else kwargs["hidden_states"]).shape[-2])

            handles = [layer.register_forward_pre_hook(functools.partial(count, i=i), with_kwargs=True)
                       for i, layer in enumerate(decoder.layers)]
            try:
                cache = model(**inputs, use_cache=True).past_key_values
            finally:
                for handle in handles:
                    handle.remove()
    kept = []
    for i, layer in enumerate(decoder.layers):
        if config.kind == "prune":
            kept.append(seen[i] - n_text)
            continue
        source = getattr(layer.self_attn, "kv_shared_layer_index", None)
        source = i if source is None else source
        a, b = full.layers[source].keys, cache.layers[source].keys
        kept.append(n_audio if a.shape == b.shape else _audio_keys_kept(a, b, audio_mask))
    observed = {
        "kept_audio_tokens_per_layer": kept,
        "kv_cache_tokens_per_layer": [layer.keys.shape[-2] for layer in cache.layers],
        "kv_cache_bytes": sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values)),
        "realized_ratio": 1 - sum(kept) / len(kept) / n_audio,
    }
    return stats.to_dict(), observed


@pytest.mark.parametrize("ratio", [0.5, 0.7])
def test_reported_statistics_are_counted_on_the_models_tensors(family_model, ratio):
    """kept audio tokens per layer, KV-cache lengths and bytes, realized ratio: as the model's tensors
    show them; and every method keeps the count rule's number where it compresses (pyramidkv: its
    own per-layer budgets)."""
    family, model = family_model
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    kept = expected_kept(N_AUDIO, ratio)  # 0.7 of 80: 56 removed, 24 kept (a ceil rule would keep 25)
    for method in [*PRUNERS, *PRESSES]:
        config = CompressionConfig(method, ratio, layer=2, seed=1)
        got, observed = observed_statistics(model, inputs, audio_mask, config)
        assert got["audio_tokens"] == N_AUDIO and got["method"] == method and got["ratio"] == ratio
        assert got["kept_audio_tokens_per_layer"] == pytest.approx(observed["kept_audio_tokens_per_layer"]), method
        assert got["kv_cache_tokens_per_layer"] == observed["kv_cache_tokens_per_layer"], method
        assert got["kv_cache_bytes"] == observed["kv_cache_bytes"], method
        assert got["realized_ratio"] == pytest.approx(observed["realized_ratio"], abs=1e-6), method
        compressed = {n for n in observed["kept_audio_tokens_per_layer"] if n != N_AUDIO}
        if method != "pyramidkv":
            assert compressed == {kept}, (method, observed["kept_audio_tokens_per_layer"])


def test_realized_ratio_counts_the_layers_before_k():
    """fastv 0.5 at K = 2 of 4 layers: layers 0, 1 see all 80 audio tokens, layers 2, 3 see 40, so
    a quarter of the audio is removed over the model, not a half."""
    model = build_tiny_decoder("voxtral", seed=0)
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    got, observed = observed_statistics(model, inputs, audio_mask, CompressionConfig("fastv", 0.5, layer=2))
    assert observed["kept_audio_tokens_per_layer"] == [80, 80, 40, 40]
    assert got["realized_ratio"] == observed["realized_ratio"] == 0.25


def _reference_rope(decoder, layer, hidden, positions):
    """cos/sin recomputed from positions (not sliced): the family's own rotary embedding."""
    name = type(decoder).__name__
    pos = positions[None]
    if "Omni" in name:  # 3-axis M-RoPE; a text-only prompt has equal axes
        return decoder.rotary_emb(hidden, pos[None].expand(3, 1, -1))
    if "Gemma3n" in name:
        return decoder.rotary_emb(hidden, pos, decoder.config.layer_types[layer.layer_idx])
    return decoder.rotary_emb(hidden, pos)


def _reference_mask(decoder, layer, positions):
    """[1, 1, n, n] additive mask over the kept tokens, by their original positions: causal, and for a
    sliding-window layer only keys less than ``sliding_window`` positions back (Gemma-3n's local layers)."""
    q, kv = positions[:, None], positions[None, :]
    allowed = kv <= q
    layer_types = getattr(decoder.config, "layer_types", None)
    if layer_types and layer_types[layer.self_attn.layer_idx] == "sliding_attention":
        allowed &= q - kv < decoder.config.sliding_window
    return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))[None, None]


def _reference_last_layer(model, input_ids, keep, k, window_over_slots=False):
    """Plain forward up to layer K, then layers K.. on the kept rows only, positions = kept positions,
    attention masks built from the original positions (``window_over_slots``: the wrong reading, a
    sliding window counted over the kept tokens, as a mask cut as a prefix would give)."""
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
            mask_positions = torch.arange(keep.numel()) if window_over_slots else keep
            args.update(hidden_states=hidden, attention_mask=_reference_mask(decoder, layers[i], mask_positions),
                        position_ids=keep[None], cache_position=keep,
                        past_key_values=cache, use_cache=True,
                        position_embeddings=_reference_rope(decoder, layers[i], hidden, keep))
            if "per_layer_input" in args:
                args["per_layer_input"] = args["per_layer_input"].index_select(-2, keep)
            out = layers[i](**args)
            hidden = out[0] if isinstance(out, tuple) else out
    return hidden


@pytest.mark.parametrize("n_after", [N_AFTER, 5])  # 5: the audio ends inside Gemma-3n's 16-token window
@pytest.mark.parametrize("method", ["fastv", "dart", "random"])
def test_pruned_run_equals_explicitly_pruned_reference(family_model, method, n_after):
    family, model = family_model
    k = 2
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, n_after, seed=5)
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
    assert outputs[0].shape[-2] == prompt_len - N_AUDIO + expected_kept(N_AUDIO, 0.6)
    assert len(outputs) == NEW  # prefill + NEW-1 decode steps
    keep = _kept_positions(model, inputs, audio_mask, config)
    full_ids = torch.cat([inputs["input_ids"], generated[None, :-1]], dim=-1)
    keep_ext = torch.cat([keep, torch.arange(prompt_len, full_ids.shape[-1])])
    ref = _reference_last_layer(model, full_ids, keep_ext, k)
    got = torch.cat(outputs, dim=-2)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4)
    assert stats.kept_audio_tokens_per_layer[k] == expected_kept(N_AUDIO, 0.6)


def test_gemma3n_window_shorter_than_the_prompt_decides_the_first_logits():
    """The tiny Gemma-3n's 16-token window is shorter than the prompt, as 512 is for 300 s of audio: a
    window counted over the kept tokens instead of the original positions changes the prompt's last
    hidden state (so the reference comparison above catches a mask cut as a prefix)."""
    model = build_tiny_decoder("gemma3n", seed=0)
    decoder = text_decoder(model)
    window = decoder.config.sliding_window
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=5)
    assert "sliding_attention" in decoder.config.layer_types[2:] and window < audio_mask.numel()
    keep = _kept_positions(model, inputs, audio_mask, CompressionConfig("frame", 0.5, layer=2))
    ids = inputs["input_ids"]
    right = _reference_last_layer(model, ids, keep, 2)[..., -1, :]
    wrong = _reference_last_layer(model, ids, keep, 2, window_over_slots=True)[..., -1, :]
    assert (right - wrong).abs().max() > 1e-2


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


@pytest.mark.parametrize("family", ["voxtral", "gemma3n"])
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


def _rows(args, kwargs) -> torch.Tensor:
    hidden = args[0] if args else kwargs["hidden_states"]
    return hidden.detach().movedim(-2, 0).reshape(hidden.shape[-2], -1).cpu()


@torch.no_grad()
def kept_and_first_logits(family, method, device="cpu", attn="sdpa"):
    """(what the method kept, the prompt's last logits) on one device and attention implementation, for
    a trained-like model on a prompt whose scores decide the kept set. Kept: the prompt positions layer K
    receives (pruning; its input rows matched before and after the session's hook), or per compressed
    layer and KV head the positions whose keys stay in the cache (presses; matched against the
    uncompressed cache)."""
    from test_compression_press_selection import distinct_prompt, trained_like

    model = trained_like(build_tiny_decoder(family, seed=0, attn_implementation=attn)).to(device)
    inputs, audio_mask = distinct_prompt(N_AUDIO, N_BEFORE, 72, seed=3)
    inputs = {name: value.to(device) for name, value in inputs.items()}
    config = CompressionConfig(method, 0.75, layer=2, seed=1)
    full = model(**inputs, use_cache=True).past_key_values
    layer = text_decoder(model).layers[config.layer]
    seen = {}

    def record(module, args, kwargs, name):  # returns None: the call goes on unchanged
        seen.setdefault(name, _rows(args, kwargs))

    before = layer.register_forward_pre_hook(functools.partial(record, name="full"), with_kwargs=True)
    try:
        with compression_session(model, inputs, audio_mask, config):
            after = layer.register_forward_pre_hook(functools.partial(record, name="kept"), with_kwargs=True)
            try:
                out = model(**inputs, use_cache=True)
            finally:
                after.remove()
    finally:
        before.remove()
    if config.kind == "prune":
        index = {row.numpy().tobytes(): i for i, row in enumerate(seen["full"])}
        kept = [index[row.numpy().tobytes()] for row in seen["kept"]]
    else:
        kept = {}
        for idx, (a, b) in enumerate(zip(full.layers, out.past_key_values.layers)):
            if a.keys.shape != b.keys.shape:
                a_keys, b_keys = a.keys[0].cpu(), b.keys[0].cpu()
                kept[idx] = [[{r.numpy().tobytes(): i for i, r in enumerate(a_keys[h])}[r.numpy().tobytes()]
                              for r in b_keys[h]] for h in range(a_keys.shape[0])]
        assert kept, "nothing was compressed"
    return kept, out.logits[0, -1].float().cpu()


@pytest.mark.parametrize("family", ["qwen2_audio", "gemma3n"])
@pytest.mark.parametrize("method", ["fastv", "dart", "snapkv", "expected_attention"])
def test_kept_set_and_first_logits_same_under_eager_and_sdpa(family, method):
    """The choice and the first logits do not depend on the attention implementation the model runs."""
    kept_eager, logits_eager = kept_and_first_logits(family, method, attn="eager")
    kept_sdpa, logits_sdpa = kept_and_first_logits(family, method, attn="sdpa")
    assert kept_eager == kept_sdpa
    torch.testing.assert_close(logits_eager, logits_sdpa, rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("family", ["qwen2_audio", "gemma3n"])
@pytest.mark.parametrize("method", ["fastv", "dart", "snapkv", "expected_attention"])
def test_compression_on_cuda_matches_cpu(family, method):
    """The same kept sets and, within float tolerance, the same first logits on CUDA as on the CPU."""
    kept_cpu, logits_cpu = kept_and_first_logits(family, method, device="cpu")
    kept_cuda, logits_cuda = kept_and_first_logits(family, method, device="cuda")
    assert kept_cuda == kept_cpu
    torch.testing.assert_close(logits_cuda, logits_cpu, rtol=1e-3, atol=1e-3)


def test_each_familys_decoder_view_is_the_one_its_adapter_names(family_model):
    """The adapter is the family's unit: the compression view it names (decoder_views) is the one
    the model's own modules are recognised by, and its tiny decoder is its tiny model's text decoder
    (one config: the same layers, widths and heads)."""
    from audiomarathon_runner.compression.decoder_views import DECODER_VIEWS, STANDARD, view_of
    from audiomarathon_runner.tiny import TINY_DECODERS
    from audiomarathon_runner.tiny_parts import DECODER_TOKENS

    family, model = family_model
    adapter = TINY_DECODERS[family]
    want = DECODER_VIEWS[adapter.decoder_view] if adapter.decoder_view is not None else STANDARD
    for layer in text_decoder(model).layers:
        assert {view_of(layer), view_of(layer.self_attn)} - {STANDARD} == ({want} - {STANDARD}), family
    whole = adapter.tiny_config(DECODER_TOKENS).get_text_config()
    for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size"):
        assert getattr(model.config.get_text_config(), name) == getattr(whole, name), (family, name)


def test_every_view_is_named_by_an_adapter():
    from audiomarathon_runner.adapters import ADAPTERS
    from audiomarathon_runner.compression.decoder_views import DECODER_VIEWS

    named = {cls.decoder_view for cls in ADAPTERS.values()}
    assert set(DECODER_VIEWS) == named - {None}
