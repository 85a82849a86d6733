"""Adapters over tiny random models of every family, saved and loaded through from_pretrained."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from audiomarathon_runner.adapters import (
    ADAPTERS,
    NATIVE,
    SEGMENTS,
    AudioInputError,
    UnknownModelError,
    load_adapter,
)
from audiomarathon_runner.tiny import TINY_FAMILIES, save_tiny_model

SR = 16_000

# Gemma3nForConditionalGeneration always builds its timm vision tower; timm needs torchvision,
# which has no wheel matching this machine's CPU-only torch.
# Voxtral's tokenizer is mistral_common's Tekken (an optional dependency).
_NEEDS = {"gemma3n": "timm", "voxtral": "mistral_common"}
FAMILIES = [
    pytest.param(f, marks=pytest.mark.skipif(importlib.util.find_spec(_NEEDS[f]) is None,
                                             reason=f"{f} model construction needs {_NEEDS[f]}"))
    if f in _NEEDS else f
    for f in TINY_FAMILIES
]


@pytest.fixture(scope="module", params=FAMILIES)
def adapter(request, tmp_path_factory):
    path = save_tiny_model(request.param, tmp_path_factory.mktemp(request.param) / "model")
    return load_adapter(path, dtype="fp32", device="cpu",
                        trust_remote_code=TINY_FAMILIES[request.param].remote_code)


def _audio(seconds: float, extra: int = 0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR) + extra) * 0.1).astype(np.float32)


def test_every_family_has_an_adapter_and_registry_key_matches_config(adapter):
    assert ADAPTERS[adapter.model.config.model_type] is type(adapter)
    assert type(adapter.model).__name__ == adapter.model_class


@pytest.mark.parametrize("seconds,extra", [(0.5, 0), (7.3, 37), (31.0, 1)])
def test_audio_token_count_matches_processor_and_model(adapter, seconds, extra):
    audio = _audio(seconds, extra)
    inputs = adapter.build_inputs(audio, "Which scene? A. park B. bus")
    mask = adapter.audio_token_mask(inputs)
    assert mask.dtype == torch.bool and mask.shape == inputs["input_ids"].shape[-1:]
    assert int(mask.sum()) == adapter.expected_audio_tokens(audio.size) > 0
    # The model itself checks that its audio features fill exactly these positions.
    out = adapter.model.generate(**inputs, max_new_tokens=2, do_sample=False)
    assert out.shape[-1] == inputs["input_ids"].shape[-1] + 2


def test_long_audio_policy_is_applied(adapter):
    audio = _audio(65.0)
    entries = adapter.split(audio)
    policy = adapter.policy
    if policy.kind == SEGMENTS:
        seg = int(policy.segment_seconds * SR)
        assert [e.size for e in entries] == [seg, seg, audio.size - 2 * seg]
        text = adapter.render_text("q", len(entries))
        assert text.count(adapter.tokenizer.convert_ids_to_tokens(adapter.audio_token_id)) == 3
    else:
        assert policy.kind == NATIVE and len(entries) == 1 and entries[0].size == audio.size
    inputs = adapter.build_inputs(audio, "q")
    # Nothing is truncated: 65 s yields the tokens of the whole clip.
    assert int(adapter.audio_token_mask(inputs).sum()) == adapter.expected_audio_tokens(audio.size)


def test_decoder_is_found_through_public_accessors(adapter):
    decoder = adapter.text_decoder  # the module the compression hooks attach to
    assert len(adapter.decoder_layers) == 4
    assert any(child is adapter.model.get_input_embeddings() for child in decoder.children())
    assert adapter.audio_encoder is not None


def test_empty_and_bad_audio_give_clear_errors(adapter):
    with pytest.raises(AudioInputError, match="empty"):
        adapter.build_inputs(np.zeros(0, np.float32), "q")
    with pytest.raises(AudioInputError, match="mono"):
        adapter.build_inputs(np.zeros((2, 100), np.float32), "q")
    with pytest.raises(AudioInputError, match="NaN"):
        adapter.build_inputs(np.full(100, np.nan, np.float32), "q")


def test_over_long_audio_is_refused_not_truncated(tmp_path_factory):
    path = save_tiny_model("audioflamingo3", tmp_path_factory.mktemp("af3") / "m")
    ad = load_adapter(path, dtype="fp32", device="cpu")
    assert ad.policy.max_seconds == 600
    with pytest.raises(AudioInputError, match=r"601\.0 s, longer than the 600 s"):
        ad.check_audio(np.zeros(601 * SR, np.float32))


def test_unknown_model_type_lists_supported(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=16)).save_pretrained(tmp_path)
    with pytest.raises(UnknownModelError) as err:
        load_adapter(tmp_path, device="cpu")
    msg = str(err.value)
    assert "'gpt2'" in msg and "qwen2_audio" in msg and "qwen2_5_omni_thinker" in msg


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UnknownModelError, match=r"model folder '.*nope' does not exist"):
        load_adapter(tmp_path / "nope", device="cpu")
    (tmp_path / "empty").mkdir()  # a folder without config.json
    with pytest.raises(UnknownModelError, match="config.json"):
        load_adapter(tmp_path / "empty", device="cpu")


def test_cuda_device_without_cuda_is_refused(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = save_tiny_model("qwen2_audio", tmp_path / "m")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        load_adapter(path, device="cuda")


def test_tiny_model_is_seeded(tmp_path):
    a = save_tiny_model("qwen2_audio", tmp_path / "a", seed=3)
    b = save_tiny_model("qwen2_audio", tmp_path / "b", seed=3)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert json.loads((a / "config.json").read_text())["model_type"] == "qwen2_audio"


def test_gemma3n_processor_counts_188_tokens_per_30s_segment():
    # Runs without timm: only the processor (the model needs timm, see _NEEDS).
    from audiomarathon_runner.adapters import Gemma3nAdapter
    from audiomarathon_runner.tiny import gemma3n_processor

    ad = Gemma3nAdapter(None, gemma3n_processor())
    for seconds in (4.0, 65.0):
        audio = ad.check_audio(_audio(seconds))
        entries = ad.split(audio)
        inputs = ad._process(ad.render_text("q", len(entries)), entries)
        assert len(entries) == (1 if seconds < 30 else 3)
        assert inputs["input_features"].shape[0] == len(entries)
        assert int(ad.audio_token_mask(inputs).sum()) == ad.expected_audio_tokens(audio.size) == 188 * len(entries)


@pytest.mark.skipif(importlib.util.find_spec("mistral_common") is None, reason="Voxtral needs mistral_common")
def test_voxtral_inputs_follow_voxtral_processor(tmp_path):
    """Voxtral: the Mistral tokenizer renders [BOS][INST][BEGIN_AUDIO][AUDIO]*375 per 30 s chunk...[/INST];
    features are VoxtralProcessor's own (one 3,000-frame window per chunk), the clip passes losslessly."""
    from transformers import VoxtralProcessor, WhisperFeatureExtractor
    from transformers.models.voxtral.processing_voxtral import VoxtralProcessorKwargs
    from transformers.tokenization_mistral_common import MistralCommonBackend

    path = save_tiny_model("voxtral", tmp_path / "m")
    ad = load_adapter(path, dtype="fp32", device="cpu")
    audio = _audio(65.0, seed=4)
    inputs = ad.build_inputs(audio, "Which scene?")
    ids = inputs["input_ids"][0].tolist()
    assert ids[:3] == [1, 3, 25] and ids[-1] == 4
    assert ids[3 : 3 + 1125] == [24] * 1125 and 24 not in ids[3 + 1125 :]
    assert inputs["input_features"].shape == (3, 128, 3000)

    reference = VoxtralProcessor(WhisperFeatureExtractor.from_pretrained(path), MistralCommonBackend.from_pretrained(path))
    enc = ad.processor.tokenizer.apply_chat_template(
        [{"role": "user", "content": [{"type": "audio", "base64": _wav_base64(audio)}, {"type": "text", "text": "Which scene?"}]}],
        tokenize=True, return_dict=True)
    padded = enc["audio"][0]
    assert padded.size == 90 * SR and np.array_equal(padded[: audio.size], audio) and not padded[audio.size :].any()
    kwargs = dict(VoxtralProcessorKwargs._defaults["audio_kwargs"])
    window = kwargs.pop("max_source_positions")
    expected = reference._retrieve_input_features([padded], window, return_tensors="pt", **kwargs)
    torch.testing.assert_close(inputs["input_features"], expected, atol=1e-5, rtol=0)
    assert enc["input_ids"] == ids


def _wav_base64(audio: np.ndarray) -> str:
    import base64
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio, SR, format="WAV", subtype="FLOAT")
    return base64.b64encode(buf.getvalue()).decode()
