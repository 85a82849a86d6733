"""Fast feature path and background prefetch: same features, same inputs, same generations."""

from __future__ import annotations

import importlib.util
import threading
import time

import numpy as np
import pytest
import torch
from transformers import Phi4MultimodalFeatureExtractor, WhisperFeatureExtractor

from audiomarathon_runner.adapters import load_adapter
from audiomarathon_runner.features import (
    FastPhi4FeatureExtractor,
    FastWhisperFeatureExtractor,
    accelerate_feature_extractor,
)
from audiomarathon_runner.prefetch import Prefetcher
from audiomarathon.records import read_predictions as read_records
from audiomarathon_runner.run import RunConfig, run_evaluation
from audiomarathon_runner.sample_runner import SampleRunner
from audiomarathon_runner.samples import load_samples
from audiomarathon_runner.tiny import save_tiny_model

SR = 16_000
# Log-mel values lie in about [-1, 1.5]; the fast path differs from the reference only by float32
# rounding (re² + im² instead of |z|²), measured at ~1.2e-7.
ATOL = 1e-5
PHI4_ATOL = 2e-3  # FastPhi4FeatureExtractor computes in float32 where the reference uses float64


def _audio(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1).astype(np.float32)


def _segments() -> list[np.ndarray]:
    clip = _audio(70.3)
    return [clip[i : i + 30 * SR] for i in range(0, clip.size, 30 * SR)]  # 30 + 30 + 10.3 s


@pytest.mark.parametrize("feature_size", [80, 128])
def test_fast_whisper_features_match_reference(feature_size):
    ref = WhisperFeatureExtractor(feature_size=feature_size)
    fast = accelerate_feature_extractor(ref, "cpu")
    assert type(fast) is FastWhisperFeatureExtractor and fast.compute_device == "cpu"
    segs = _segments()
    calls = [  # (args, kwargs) as the families' processors call it
        ((segs,), dict(padding="max_length")),  # Qwen2-Audio / AF3: one 30 s window each
        (([np.concatenate(segs)],), dict(padding="max_length", max_length=90 * SR, truncation=False)),  # Omni
        ((segs[-1],), {}),  # unbatched
    ]
    for args, kwargs in calls:
        kw = dict(sampling_rate=SR, return_attention_mask=True, return_tensors="pt", **kwargs)
        a, b = ref(*args, **kw), fast(*args, **kw)
        assert set(a) == set(b)
        assert b["input_features"].shape == a["input_features"].shape
        torch.testing.assert_close(b["input_features"], a["input_features"], atol=ATOL, rtol=0)
        assert torch.equal(b["attention_mask"], a["attention_mask"])


def test_fast_phi4_features_match_reference():
    ref = Phi4MultimodalFeatureExtractor()
    fast = accelerate_feature_extractor(ref, "cpu")
    assert type(fast) is FastPhi4FeatureExtractor
    for clip in ([_audio(95.3, seed=3)], _audio(12.0, seed=4)):  # one long clip (as the adapter calls it), unbatched
        a = ref(clip, sampling_rate=SR, return_tensors="pt")
        b = fast(clip, sampling_rate=SR, return_tensors="pt")
        assert set(a) == set(b)
        assert b["audio_input_features"].dtype == a["audio_input_features"].dtype == torch.float32
        # float32 FFT instead of float64: log-mel values (about 0..25) agree within PHI4_ATOL, 50x finer
        # than the 0.06 steps bf16 itself can hold at that size
        torch.testing.assert_close(b["audio_input_features"], a["audio_input_features"], atol=PHI4_ATOL, rtol=0)
        for key in set(a) - {"audio_input_features"}:
            assert torch.equal(a[key], b[key]), key


def test_fast_phi4_keeps_the_reference_path_for_padded_batches():
    ref, fast = Phi4MultimodalFeatureExtractor(), accelerate_feature_extractor(Phi4MultimodalFeatureExtractor(), "cpu")
    a = ref(_segments(), sampling_rate=SR, return_tensors="pt")
    b = fast(_segments(), sampling_rate=SR, return_tensors="pt")
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_unknown_extractors_are_left_alone_and_drop_ins_can_move():
    class Custom(WhisperFeatureExtractor):  # a subclass may change the arithmetic: not replaced
        pass

    custom = Custom()
    assert accelerate_feature_extractor(custom, "cpu") is custom
    fast = accelerate_feature_extractor(WhisperFeatureExtractor(), "cpu")
    assert accelerate_feature_extractor(fast, "meta") is fast and fast.compute_device == "meta"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fast_whisper_features_on_cuda_match_cpu_reference():
    ref = WhisperFeatureExtractor(feature_size=128)
    fast = accelerate_feature_extractor(ref, "cuda")
    kw = dict(sampling_rate=SR, padding="max_length", return_attention_mask=True, return_tensors="pt")
    a, b = ref(_segments(), **kw), fast(_segments(), **kw)
    assert b["input_features"].device.type == "cuda"
    torch.testing.assert_close(b["input_features"].cpu(), a["input_features"], atol=1e-4, rtol=0)


# ------------------------------------------------------------ adapters: same inputs, same outputs
@pytest.fixture(scope="module", params=[
    "qwen2_audio", "qwen2_5_omni_thinker", "audioflamingo3", "phi4_multimodal",
    pytest.param("voxtral", marks=pytest.mark.skipif(importlib.util.find_spec("mistral_common") is None,
                                                     reason="Voxtral needs mistral_common")),
])
def family_model(request, tmp_path_factory):
    return save_tiny_model(request.param, tmp_path_factory.mktemp(request.param) / "model")


def test_adapter_inputs_and_generation_match_the_reference_processor(family_model):
    adapter = load_adapter(family_model, dtype="fp32", device="cpu")
    assert adapter.feature_device == "cpu"  # the drop-in is installed on the model's device
    reference = type(adapter).load_processor(str(family_model))  # the family's own extractor
    assert type(reference.feature_extractor) is not type(adapter.processor.feature_extractor)
    audio = _audio(65.0, seed=1)
    fast_inputs = adapter.build_inputs(audio, "Which scene? A. park B. bus")
    fast_processor, adapter.processor = adapter.processor, reference
    try:
        ref_inputs = adapter.build_inputs(audio, "Which scene? A. park B. bus")
    finally:
        adapter.processor = fast_processor
    assert set(fast_inputs) == set(ref_inputs)
    atol = PHI4_ATOL if "phi4_multimodal" in type(adapter).model_types else ATOL
    for key in ref_inputs:
        a, b = ref_inputs[key], fast_inputs[key]
        if a.is_floating_point():
            torch.testing.assert_close(b, a, atol=atol, rtol=0)
        else:
            assert torch.equal(a, b), key
    outs = [adapter.model.generate(**inputs, max_new_tokens=4, do_sample=False, min_new_tokens=4)
            for inputs in (ref_inputs, fast_inputs)]
    assert torch.equal(outs[0], outs[1])


@pytest.fixture(scope="module")
def qwen_model(tmp_path_factory):
    return save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("prefetch-qwen") / "model")


def test_prefetched_run_equals_inline_run(qwen_model, imported_dataset, tmp_path):
    family_model = qwen_model
    adapter = load_adapter(family_model, dtype="fp32", device="cpu")
    samples = load_samples(imported_dataset, "TAU,HAD,LibriSpeech", limit=2, progress=False)
    records = {}
    for depth in (0, 1, 2):
        cfg = RunConfig(model=str(family_model), out=str(tmp_path / f"p{depth}"), tasks="TAU,HAD,LibriSpeech",
                        dtype="fp32", device="cpu", max_new_tokens=6, prefetch=depth, progress=False)
        run_evaluation(cfg, adapter=adapter, samples=samples)
        records[depth] = read_records(tmp_path / f"p{depth}" / "predictions.jsonl")
        assert adapter.feature_device == "cpu"
    for depth in (1, 2):
        assert [r["id"] for r in records[depth]] == [r["id"] for r in records[0]]
        assert [r["reply"] for r in records[depth]] == [r["reply"] for r in records[0]]
        assert [r["config_hash"] for r in records[depth]] == [r["config_hash"] for r in records[0]]
    for depth, recs in records.items():
        for r in recs:
            t = r["timings"]
            assert r["error"] is None and t["preprocess_ms"] > 0 and t["outside_ms"] >= 0
            assert 0 <= t["prefetch_wait_ms"] <= t["outside_ms"] + 1e-6
            if depth == 0:  # inline: the whole preparation is exposed
                assert t["prefetch_wait_ms"] >= t["preprocess_ms"]


def test_bad_sample_in_prefetch_is_recorded_and_the_run_continues(qwen_model, imported_dataset, tmp_path):
    family_model = qwen_model
    adapter = load_adapter(family_model, dtype="fp32", device="cpu")
    samples = load_samples(imported_dataset, "TAU", limit=3, progress=False)
    samples[1].audio_bytes = b"not audio"
    cfg = RunConfig(model=str(family_model), out=str(tmp_path / "o"), tasks="TAU", dtype="fp32", device="cpu",
                    max_new_tokens=3, prefetch=1, progress=False)
    res = run_evaluation(cfg, adapter=adapter, samples=samples)
    recs = {r["id"]: r for r in read_records(tmp_path / "o" / "predictions.jsonl")}
    assert "cannot decode audio" in recs[samples[1].id]["error"] and samples[1].id in recs[samples[1].id]["error"]
    assert recs[samples[0].id]["error"] is None and recs[samples[2].id]["error"] is None
    assert list(res["samples"]["failed"]) == [samples[1].id]


def test_prefetch_moves_features_to_cpu_and_inline_to_model_device(qwen_model):
    adapter = load_adapter(qwen_model, dtype="fp32", device="cpu")
    SampleRunner(adapter, RunConfig(model="m", prefetch=1))
    assert adapter.feature_device == "cpu"
    runner = SampleRunner(adapter, RunConfig(model="m", prefetch=0))
    assert adapter.feature_device == str(adapter.device) and runner.prefetch == 0
    runner = SampleRunner(adapter, RunConfig(model="m"))  # default: no worker taking CPU cores from a CPU model
    assert runner.prefetch == 0 and runner.prepare_device is None
    with pytest.raises(ValueError, match="--prefetch must be >= 0"):
        RunConfig(model="m", prefetch=-1)


# ------------------------------------------------------------ the prefetcher itself
def test_prefetcher_keeps_order_and_records_errors_per_item():
    def prep(x):
        if x == 3:
            raise ValueError(f"bad item {x}")
        return x * 10

    for depth in (0, 1, 3):
        got = list(Prefetcher(range(6), prep, depth=depth))
        assert [p.item for p in got] == list(range(6))
        assert [p.value for p in got if p.error is None] == [0, 10, 20, 40, 50]
        assert str(got[3].error) == "bad item 3" and got[3].value is None
    with pytest.raises(ValueError, match="depth must be >= 0"):
        Prefetcher([], prep, depth=-1)


def test_prefetcher_overlaps_preparation_with_the_consumer():
    def prep(x):
        time.sleep(0.03)
        return x

    t0 = time.perf_counter()
    waits = []
    for p in Prefetcher(range(5), prep, depth=1):
        waits.append(p.wait_ms)
        assert p.prepare_ms >= 25
        time.sleep(0.12)  # "generation", longer than preparation
    elapsed = time.perf_counter() - t0
    assert waits[0] >= 20  # nothing to overlap the first one with
    assert max(waits[1:]) < 60  # afterwards the next sample is always ready (slack for a loaded machine)
    assert elapsed < 5 * 0.12 + 0.03 + 0.1  # overlapped, not 5 * (0.03 + 0.12) = 0.75 s


def test_leaving_the_loop_early_stops_the_worker():
    prepared = []

    def prep(x):
        prepared.append(x)
        return x

    before = {t.ident for t in threading.enumerate()}
    for p in Prefetcher(range(1000), prep, depth=2):
        if p.item == 2:
            break
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "audiomarathon-prefetch" and t.ident not in before]
    assert len(prepared) <= 2 + 2 + 2  # consumed + queued + the one in hand


def test_failing_item_source_is_raised_in_the_consumer():
    def items():
        yield 1
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        list(Prefetcher(items(), lambda x: x, depth=1))
