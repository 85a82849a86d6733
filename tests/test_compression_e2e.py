"""End to end on the full multimodal tiny models (audio encoder + processor + adapter): the audio mask
from the adapter, compression inside model.generate, realized counts. The tiny checkpoints have 2
decoder layers, so pruning happens at K=1."""
import numpy as np
import pytest
import torch

from audiomarathon_runner.adapters import load_adapter
from audiomarathon_runner.compression import CompressionConfig, compression_session, kept_count
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.tiny import TINY_FAMILIES, save_tiny_model


@pytest.fixture(scope="module", params=list(TINY_FAMILIES))
def adapter(request, tmp_path_factory):
    if request.param == "gemma3n":  # the tiny Gemma-3n checkpoint's vision tower is a timm model
        pytest.importorskip("timm", reason="tiny Gemma-3n needs timm; its decoder is covered in test_compression_families")
    path = save_tiny_model(request.param, tmp_path_factory.mktemp(request.param), seed=0)
    return load_adapter(str(path), dtype="fp32", device="cpu",
                        trust_remote_code=TINY_FAMILIES[request.param].remote_code)


def _generate(adapter, inputs):
    with torch.no_grad():
        out = adapter.model.generate(**inputs, max_new_tokens=2, do_sample=False, output_logits=True,
                                     return_dict_in_generate=True)
    return out


@pytest.mark.parametrize("method", ["fastv", "dart", "snapkv"])
def test_compression_inside_generate_on_multimodal_models(adapter, method):
    audio = np.random.default_rng(0).standard_normal(16000 * 6).astype(np.float32) * 0.1
    inputs = adapter.build_inputs(audio, "Which scene is this?")
    mask = adapter.audio_token_mask(inputs)
    n_audio, prompt = int(mask.sum()), mask.numel()
    assert n_audio > 0
    n_layers = len(text_decoder(adapter.model).layers)
    with compression_session(adapter.model, inputs, mask, CompressionConfig()) as base_stats:
        base = _generate(adapter, inputs)
    with compression_session(adapter.model, inputs, mask, CompressionConfig(method, 0.0, layer=1)):
        same = _generate(adapter, inputs)
    assert torch.equal(same.sequences, base.sequences)
    assert all(torch.equal(a, b) for a, b in zip(same.logits, base.logits))
    with compression_session(adapter.model, inputs, mask, CompressionConfig(method, 0.5, layer=1)) as stats:
        _generate(adapter, inputs)
    kept = kept_count(n_audio, 0.5)
    kv = stats.kv_cache_tokens_per_layer
    if method == "snapkv":
        assert prompt - n_audio + kept in kv
    else:
        assert stats.kept_audio_tokens_per_layer == [n_audio] + [kept] * (n_layers - 1)
        assert kv[0] == prompt and kv[-1] == prompt - n_audio + kept
    assert stats.kv_cache_bytes < base_stats.kv_cache_bytes
