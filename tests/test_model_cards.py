"""Each model is the model its card describes: Phi-4-multimodal with its speech LoRA, Qwen2.5-Omni
with its system prompt, Voxtral transcribing through its transcription mode.

The Phi-4 references are computed here without peft: the LoRA's A and B matrices are read from the
checkpoint's speech-lora/ files and merged into a plainly loaded model by hand (W + B @ A * alpha/r).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil

import numpy as np
import pytest
import torch

from audiomarathon_runner.adapters import MissingAdapterError, load_adapter
from audiomarathon_runner.compression import CompressionConfig, compression_session, kept_count
from audiomarathon_runner.compression.model_parts import text_decoder
from audiomarathon_runner.run import RunConfig, run_evaluation
from audiomarathon_runner.sample_runner import SampleRunner
from audiomarathon_runner.samples import Sample
from audiomarathon_runner.tiny import save_tiny_model

SR = 16_000
QWEN_OMNI_SYSTEM = ("You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of "
                    "perceiving auditory and visual inputs, as well as generating text and speech.")


def _audio(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1).astype(np.float32)


def _sample(task: str, seconds: float = 2.0) -> Sample:
    choices = {"TAU": ["Urban park - park", "Traveling by a bus - bus", "Airport - airport", "Tram - tram"],
               "LibriSpeech": []}[task]
    return Sample(id=f"{task}-0", task=task, question="q?", choices=choices, answer="A" if choices else "",
                  answer_text="", audio_array=_audio(seconds))


# ------------------------------------------------------------------ Phi-4-multimodal's speech LoRA
@pytest.fixture(scope="module")
def phi4(tmp_path_factory):
    path = save_tiny_model("phi4_multimodal", tmp_path_factory.mktemp("phi4") / "Phi-4-tiny")
    return path, load_adapter(path, dtype="fp32", device="cpu")


def _plain(path):
    from transformers import Phi4MultimodalForCausalLM

    return Phi4MultimodalForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def test_phi4_logits_with_the_speech_lora_equal_the_hand_merged_model(phi4):
    from safetensors.torch import load_file

    path, adapted = phi4
    config = json.loads((path / "speech-lora" / "adapter_config.json").read_text())
    scale = config["lora_alpha"] / config["r"]
    lora = load_file(path / "speech-lora" / "adapter_model.safetensors")
    base, merged = _plain(path), _plain(path)
    merged_modules = []
    with torch.no_grad():
        for key in sorted(lora):
            if not key.endswith(".lora_A.weight"):
                continue
            name = key[: -len(".lora_A.weight")]
            a, b = lora[key], lora[f"{name}.lora_B.weight"]
            assert b.abs().max() > 0  # a non-zero LoRA: B is not the zero init
            merged.get_submodule(name).weight += (b @ a) * scale
            merged_modules.append(name)
    # Every decoder layer's qkv, o, gate_up and down projections, as the real checkpoint's LoRA.
    assert len(merged_modules) == 4 * len(adapted.decoder_layers)
    assert {n.split(".", 3)[3] for n in merged_modules} == {"self_attn.qkv_proj", "self_attn.o_proj",
                                                             "mlp.gate_up_proj", "mlp.down_proj"}
    inputs = adapted.build_inputs(_audio(3.0), "Which scene is this?")
    with torch.no_grad():
        with_lora = adapted.model(**inputs).logits
        by_hand = merged(**inputs).logits
        without = base(**inputs).logits
    torch.testing.assert_close(with_lora, by_hand, atol=1e-5, rtol=1e-5)
    assert (with_lora - without).abs().max() > 1e-2  # the adapter changes what the model says
    assert not adapted.model.training


def test_phi4_adapter_leaves_the_base_weights_alone(phi4):
    path, adapted = phi4
    base = dict(_plain(path).named_parameters())
    for name, param in adapted.model.named_parameters():
        if ".lora_" in name:
            continue
        torch.testing.assert_close(param, base[name.replace(".base_layer", "")], atol=0, rtol=0)


def test_phi4_without_speech_lora_is_refused(phi4, tmp_path, imported_dataset, capsys):
    from audiomarathon.cli import main

    path, _ = phi4
    bare = tmp_path / "Phi-4-no-lora"
    shutil.copytree(path, bare, ignore=shutil.ignore_patterns("speech-lora"))
    with pytest.raises(MissingAdapterError, match=r"no speech-lora/adapter_config\.json.*base language model"):
        load_adapter(bare, dtype="fp32", device="cpu")
    out = tmp_path / "run"
    assert main(["run", "--model", str(bare), "--data", str(imported_dataset), "--out", str(out), "--tasks", "TAU",
                 "--limit", "1", "--device", "cpu", "--dtype", "fp32", "--no-progress"]) == 1
    assert "speech-lora" in capsys.readouterr().err and not out.exists()


def test_phi4_adapter_is_recorded_in_results(phi4, imported_dataset, tmp_path):
    path, adapted = phi4
    results = run_evaluation(RunConfig(model=str(path), data=str(imported_dataset), out=str(tmp_path / "run"),
                                       tasks="TAU", limit=1, dtype="fp32", device="cpu", progress=False,
                                       max_new_tokens=2), adapter=adapted)
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update(name.encode() + b"\0" + (path / "speech-lora" / name).read_bytes())
    assert results["config"]["adapter"]["peft_adapters"] == [{
        "name": "speech", "path": "speech-lora", "files": ["adapter_config.json", "adapter_model.safetensors"],
        "sha256": digest.hexdigest(), "active": True}]
    assert results["config"]["family"] == "Phi-4-multimodal"


@pytest.mark.parametrize("method", ["fastv", "snapkv"])
def test_compression_finds_the_decoder_layers_under_the_lora(phi4, method):
    from peft.tuners.lora import LoraLayer

    _, adapted = phi4
    model = adapted.model
    decoder = text_decoder(model)
    assert decoder is model.model and len(decoder.layers) == 4
    assert isinstance(decoder.layers[0].self_attn.qkv_proj, LoraLayer)
    inputs = adapted.build_inputs(_audio(6.0, seed=2), "Which scene is this?")
    mask = adapted.audio_token_mask(inputs)
    n_audio, prompt_len = int(mask.sum()), mask.numel()
    kept = kept_count(n_audio, 0.5)
    config = CompressionConfig(method, 0.5, layer=2)
    with torch.no_grad(), compression_session(model, inputs, mask, config, sample="s") as stats:
        out = model.generate(**inputs, max_new_tokens=2, min_new_tokens=2, do_sample=False)
    assert out.shape[-1] == prompt_len + 2
    d = stats.to_dict()
    assert d["audio_tokens"] == n_audio
    if config.kind == "prune":
        assert d["kept_audio_tokens_per_layer"] == [n_audio] * 2 + [kept] * 2
    else:
        assert set(d["kv_cache_tokens_per_layer"]) == {prompt_len - n_audio + kept}


# ------------------------------------------------------------------ Qwen2.5-Omni's system prompt
def test_qwen_omni_prompt_carries_its_system_prompt(tmp_path):
    path = save_tiny_model("qwen2_5_omni_thinker", tmp_path / "omni")
    adapter = load_adapter(path, dtype="fp32", device="cpu")
    assert adapter.family == "Qwen2.5-Omni"
    assert type(adapter.model).__name__ == "Qwen2_5OmniThinkerForConditionalGeneration"  # text output only
    _, inputs, request = SampleRunner(adapter, RunConfig(model="m", progress=False)).prepare(_sample("TAU"))
    text = adapter.tokenizer.decode(inputs["input_ids"][0], skip_special_tokens=False)
    assert request.system == QWEN_OMNI_SYSTEM
    assert text.startswith(f"<|im_start|>system\n{QWEN_OMNI_SYSTEM}<|im_end|>\n<|im_start|>user\n<|audio_bos|><|AUDIO|>")


# ------------------------------------------------------------------ Voxtral's transcription mode
@pytest.mark.skipif(importlib.util.find_spec("mistral_common") is None, reason="Voxtral needs mistral_common")
def test_voxtral_asr_goes_through_its_transcription_request(tmp_path):
    from transformers import VoxtralProcessor, WhisperFeatureExtractor
    from transformers.tokenization_mistral_common import MistralCommonBackend

    path = save_tiny_model("voxtral", tmp_path / "voxtral")
    adapter = load_adapter(path, dtype="fp32", device="cpu")
    sample = _sample("LibriSpeech", seconds=40.0)
    _, inputs, request = SampleRunner(adapter, RunConfig(model="m", progress=False)).prepare(sample)
    assert request.transcribe == "en"
    ids = inputs["input_ids"][0].tolist()
    # [BOS][INST][BEGIN_AUDIO][AUDIO]x750[/INST] lang:en [TRANSCRIBE]: the model card's request.
    assert ids[:3] == [1, 3, 25] and ids.count(24) == 750 and ids[-1] == 34
    tok = adapter.processor.tokenizer
    assert tok.decode(ids[ids.index(4) + 1: -1]) == "lang:en"
    reference = VoxtralProcessor(WhisperFeatureExtractor.from_pretrained(path), MistralCommonBackend.from_pretrained(path))
    want = reference.apply_transcription_request(audio=[sample.load_audio()], format=["WAV"], language="en",
                                                 model_id="voxtral", sampling_rate=SR, return_tensors="pt")
    assert ids == want["input_ids"][0].tolist()
    torch.testing.assert_close(inputs["input_features"], want["input_features"], atol=1e-4, rtol=0)
    # MCQ tasks stay chat prompts.
    _, mcq, _ = SampleRunner(adapter, RunConfig(model="m", progress=False)).prepare(_sample("TAU"))
    assert 34 not in mcq["input_ids"][0].tolist()


def test_models_listing_says_which_system_prompt_each_family_gets(capsys):
    from audiomarathon.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert f'  Qwen2.5-Omni: "{QWEN_OMNI_SYSTEM}"' in out
    assert "  Phi-4-multimodal: none" in out and "  Voxtral: none" in out
