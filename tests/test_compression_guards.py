"""The attention tap under every attention implementation, and the settings compression refuses."""
import pytest
import torch
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, flash_attention_mask, sdpa_mask
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from audiomarathon_runner.compression import CompressionConfig, compression_session
from audiomarathon_runner.tiny import build_tiny_decoder, tiny_prompt

from compression_refs import expected_kept
from test_compression_selection import N_AFTER, N_AUDIO, N_BEFORE, fastv_reference, kept_keys, observed_keep

KERNEL = "audiomarathon_test_kernel"
CALLS = []


def external_kernel(module, query, key, value, attention_mask, dropout=0.0, **kwargs):
    """Stands in for an external kernel (flash-attn): finds itself by the config's name, as
    transformers' flash-attention path does, then computes attention."""
    if module.config._attn_implementation != KERNEL:
        raise KeyError(f"no kernel named {module.config._attn_implementation!r}")
    CALLS.append(module.layer_idx)
    return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, **kwargs)


AttentionInterface.register(KERNEL, external_kernel)
AttentionMaskInterface.register(KERNEL, sdpa_mask)  # its masks are SDPA's (Gemma-3n's sliding windows included)

FLASH_LIKE = "audiomarathon_test_padding_mask_kernel"  # a name with "flash" in it makes transformers look for a flash kernel


def flash_like_kernel(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    """Stands in for flash_attention_2: gets flash's masks (None, or a 2-D padding mask), is causal by
    itself, finds itself by the config's name."""
    if module.config._attn_implementation != FLASH_LIKE:
        raise KeyError(f"no kernel named {module.config._attn_implementation!r}")
    assert attention_mask is None or attention_mask.dim() == 2
    CALLS.append(module.layer_idx)
    groups = query.shape[1] // key.shape[1]
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1),
        is_causal=query.shape[-2] > 1, scale=scaling)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(FLASH_LIKE, flash_like_kernel)


@pytest.mark.parametrize("family,kernel", [("qwen2_audio", KERNEL), ("gemma3n", KERNEL), ("voxtral", FLASH_LIKE)])
def test_tap_calls_through_a_registered_kernel_by_its_own_name(family, kernel):
    eager = build_tiny_decoder(family, seed=0, attn_implementation="eager")  # the same weights
    model = build_tiny_decoder(family, seed=0, attn_implementation=kernel)
    if kernel == FLASH_LIKE:  # flash attention's masks: None, or a 2-D padding mask
        AttentionMaskInterface.register(FLASH_LIKE, flash_attention_mask)
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=2)
    CALLS.clear()
    kept = observed_keep(model, inputs, audio_mask, CompressionConfig("fastv", 0.3))
    assert CALLS, "the model's own kernel was not called"
    assert kept == fastv_reference(eager, inputs, audio_mask, 0.3)
    for heads in kept_keys(model, inputs, audio_mask, CompressionConfig("snapkv", 0.75)).values():
        assert all(len(h) == audio_mask.numel() - N_AUDIO + expected_kept(N_AUDIO, 0.75) for h in heads)
    with compression_session(model, inputs, audio_mask, CompressionConfig("fastv", 0.5)), torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape[-1] == audio_mask.numel() + 3
    assert model.config._attn_implementation == kernel
    # the entry is restored after the session (kvpress, once imported, wraps every entry in its own patch)
    own = external_kernel if kernel == KERNEL else flash_like_kernel
    assert ALL_ATTENTION_FUNCTIONS[kernel] is own or \
        ALL_ATTENTION_FUNCTIONS[kernel].__code__.co_filename.endswith("kvpress/attention_patch.py")


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_tap_leaves_the_attention_entry_as_it_found_it(attn):
    import kvpress  # noqa: F401  (kvpress re-wraps every registered entry at import; the tap must cope)

    model = build_tiny_decoder("voxtral", seed=0, attn_implementation=attn)
    modeling = __import__(type(model.model.layers[0].self_attn).__module__, fromlist=["x"])
    before = modeling.eager_attention_forward if attn == "eager" else ALL_ATTENTION_FUNCTIONS[attn]
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=2)
    assert observed_keep(model, inputs, audio_mask, CompressionConfig("fastv", 0.75)) == \
        fastv_reference(model, inputs, audio_mask, 0.75)
    after = modeling.eager_attention_forward if attn == "eager" else ALL_ATTENTION_FUNCTIONS[attn]
    assert after is before


@pytest.fixture(scope="module")
def qwen2():
    return build_tiny_decoder("qwen2_audio", seed=0)


@pytest.mark.parametrize("method", ["fastv", "snapkv"])
def test_static_cache_is_refused_naming_the_option(method):
    qwen2 = build_tiny_decoder("qwen2_audio", seed=0)  # generate keeps its static cache on the model: a fresh one
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    with pytest.raises(ValueError, match="cache_implementation"):
        with compression_session(qwen2, inputs, audio_mask, CompressionConfig(method, 0.5)), torch.no_grad():
            qwen2.generate(**inputs, max_new_tokens=2, do_sample=False, cache_implementation="static")
    qwen2.generation_config.cache_implementation = "static"
    try:
        with pytest.raises(ValueError, match="cache_implementation='static'"):
            with compression_session(qwen2, inputs, audio_mask, CompressionConfig(method, 0.5)):
                pass
    finally:
        qwen2.generation_config.cache_implementation = None


def test_compiled_model_is_refused(qwen2):
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    compiled = torch.compile(qwen2)  # lazy: nothing is compiled unless called
    with pytest.raises(ValueError, match="torch.compile"):
        with compression_session(compiled, inputs, audio_mask, CompressionConfig("fastv", 0.5)):
            pass
    qwen2.model.layers[1].compile()
    try:
        with pytest.raises(ValueError, match="torch.compile"):
            with compression_session(qwen2, inputs, audio_mask, CompressionConfig("snapkv", 0.5)):
                pass
    finally:
        qwen2.model.layers[1]._compiled_call_impl = None


@pytest.mark.parametrize("method", ["fastv", "dart", "snapkv"])
def test_batch_above_one_is_refused_on_every_input_path(qwen2, method):
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    embeds = qwen2.get_input_embeddings()(inputs["input_ids"])
    two = torch.cat([embeds, embeds.flip(1)])
    config = CompressionConfig(method, 0.5)
    with pytest.raises(ValueError, match="batch size 2"):  # declared up front through inputs_embeds
        with compression_session(qwen2, {"inputs_embeds": two}, audio_mask, config):
            pass
    with pytest.raises(ValueError, match="batch size 2"):  # or only seen by the model's forward
        with compression_session(qwen2, {"inputs_embeds": embeds}, audio_mask, config), torch.no_grad():
            qwen2(inputs_embeds=two)


@pytest.mark.parametrize("method", ["fastv", "snapkv"])
def test_padded_sample_is_refused_naming_the_mask(qwen2, method):
    """Left padding would shift the key columns decode steps keep (and a press keeps other positions in
    each head): a padded sample is refused, whether the mask comes in ``inputs`` or only to the model."""
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER)
    padded = dict(inputs, attention_mask=inputs["attention_mask"].clone())
    padded["attention_mask"][0, :3] = 0  # three left-padding positions in a batch of one
    config = CompressionConfig(method, 0.5)
    with pytest.raises(ValueError, match=r'inputs\["attention_mask"\] marks 3 padding position'):
        with compression_session(qwen2, padded, audio_mask, config):
            pass
    with pytest.raises(ValueError, match="attention_mask passed to Qwen2Model marks 3 padding"):
        with compression_session(qwen2, {"input_ids": inputs["input_ids"]}, audio_mask, config), torch.no_grad():
            qwen2.generate(**padded, max_new_tokens=2, do_sample=False)
    with compression_session(qwen2, inputs, audio_mask, CompressionConfig()), torch.no_grad():
        qwen2(**padded)  # method none changes nothing: padding is fine there
