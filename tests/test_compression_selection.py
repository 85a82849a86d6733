"""What each method keeps, pinned by references that do not share the code under test.

The kept set is *observed*, never read from the implementation: the input rows of decoder layer K seen
before and after the session's own hook (pruning), or the keys left in each layer's cache matched
against the uncompressed cache (presses). The references:

* fastv: the model's own eager attention probabilities (``output_attentions=True``) at layer K-1, last
  prompt row, mean over heads; top audio tokens;
* dart: the paper's rule written out here, with the parameters of the authors' release (each with its
  source, at ``dart_reference``): pivots = largest key L1 norms (the model's own cached keys of layer
  K-1), cosine similarity on layer K-1's output through the decoder's final norm (with non-uniform norm
  weights, as in trained models), least-similar audio tokens per pivot;
* frame: every (n/keep)-th audio token; random: ``randperm`` from a CPU generator seeded by
  (seed, sample, K); streaming: sinks + the most recent audio tokens.

Counts and seeds come from ``compression_refs`` (the documented rules, typed out again); what each press
keeps against its definition: ``test_compression_press_selection``.

Every family buildable here, plus the full Qwen2.5-Omni thinker with real audio (M-RoPE positions of
an audio clip). Ratios other than 0.5 so that ratio <-> 1-ratio cannot pass.
"""
import numpy as np
import pytest
import torch

from audiomarathon_runner.compression import PRESSES, PRUNERS, CompressionConfig, compression_session
from audiomarathon_runner.tiny import TINY_DECODERS, build_tiny_decoder, tiny_prompt

from compression_refs import expected_generator, expected_kept

K = 2
N_AUDIO, N_BEFORE, N_AFTER = 80, 8, 24
RATIOS = (0.3, 0.75)


def _decoder(model):
    return model.model  # every family here: the text model is `model.model` (Omni thinker included)


def _layer_input_rows(hidden: torch.Tensor) -> torch.Tensor:
    """[L, X]: everything a layer receives per position (Gemma-3n's AltUp streams flattened)."""
    return hidden.detach().movedim(-2, 0).reshape(hidden.shape[-2], -1)


def observed_keep(model, inputs, audio_mask, config, k=K, sample=None) -> list[int]:
    """Prompt positions layer K receives under ``config``: its input rows before the session's hook,
    matched with the rows after it."""
    layer = _decoder(model).layers[k]
    seen = {}

    def before(module, args, kwargs):
        seen.setdefault("full", _layer_input_rows(args[0] if args else kwargs["hidden_states"]))

    def after(module, args, kwargs):
        seen.setdefault("kept", _layer_input_rows(args[0] if args else kwargs["hidden_states"]))

    h1 = layer.register_forward_pre_hook(before, with_kwargs=True)
    try:
        with compression_session(model, inputs, audio_mask, config, sample=sample), torch.no_grad():
            h2 = layer.register_forward_pre_hook(after, with_kwargs=True)
            try:
                model(**inputs)
            finally:
                h2.remove()
    finally:
        h1.remove()
    index = {row.numpy().tobytes(): i for i, row in enumerate(seen["full"])}
    assert len(index) == seen["full"].shape[0], "rows are not unique: cannot observe the kept set"
    return [index[row.numpy().tobytes()] for row in seen["kept"]]


def _with_text(audio_mask, kept_audio_positions) -> list[int]:
    keep = set(torch.nonzero(~audio_mask).flatten().tolist()) | set(int(p) for p in kept_audio_positions)
    return sorted(keep)


@torch.no_grad()
def fastv_reference(model, inputs, audio_mask, ratio, k=K) -> list[int]:
    attn = model.config.get_text_config()._attn_implementation
    model.set_attn_implementation("eager")
    try:
        out = model(**inputs, output_attentions=True)
    finally:
        model.set_attn_implementation(attn)
    row = out.attentions[k - 1][0, :, -1, :].float().mean(dim=0)  # last prompt row, mean over heads
    audio = torch.nonzero(audio_mask).flatten()
    keep = expected_kept(audio.numel(), ratio)
    return _with_text(audio_mask, audio[row[audio].topk(keep).indices])


# DART (Wen et al. 2025, "Stop Looking for Important Tokens in Multimodal Language Models: Duplication
# Matters More", arXiv 2502.11494): the paper chooses a few pivot tokens and keeps the tokens least
# duplicated with them. Its parameters, as the authors' release (github.com/ZichenWen1/DART) sets them:
#
#   parameter              value                          where
#   pruning layer K        2                              scripts/v1_5/eval/*.sh: --pruned_layer 2
#   modality pivots        4                              same scripts: --pivot_image_token 4
#   text pivots            4                              same scripts: --pivot_text_token 4
#   pivot score            L1 norm of layer K-1's keys,   llava/model/language_model/modeling_llama_self.py:
#                          all heads together             torch.norm(K_states, p=1, dim=-1) (class DART_K_norm)
#   text pivot candidates  the tokens after the modality  same file: k_states_query_token =
#                          span (the question)            K_states[image_token_start_index + image_token_length:]
#   similarity             cosine, on layer K-1's output  same file: last_layer_state =
#                          through the decoder's final    self.norm(layer_outputs[0]); cosine_similarity
#                          norm
#   per pivot              its least similar remaining    same file: (-cos_sim).topk(TOKEN_TOPK), then
#                          modality tokens, taken out of  valid_indices.difference_update(...)
#                          the candidates
#   pivots kept            modality pivots yes, text no   same file: indices_set.difference_update(query_indices)
#
# Two points are this project's, not the release's: the share per pivot (the release gives every pivot
# MAX_NUM_TRUNCTION // 8 tokens, 128 -> 16, so 4 + 8 x 16 = 132 are kept; here the count rule's budget
# minus the modality pivots is split evenly, the first pivots taking the remainder, so DART keeps the
# count every method keeps), and the pivot order (the release iterates a Python set; here modality
# pivots, then text pivots, each by decreasing key norm).
DART_AUDIO_PIVOTS = DART_TEXT_PIVOTS = 4


@torch.no_grad()
def dart_reference(model, inputs, audio_mask, ratio, k=K, normed=True) -> list[int]:
    out = model(**inputs, output_hidden_states=True, use_cache=True)
    keys = out.past_key_values.layers[k - 1].keys[0].float()  # [H_kv, L, d]: the model's own keys
    hidden = out.hidden_states[k]  # output of layer K-1
    config = model.config.get_text_config()
    if hidden.dim() == 4:  # Gemma-3n: the AltUp stream the model predicts from
        hidden = hidden[config.altup_active_idx]
    hidden = hidden[0]
    if normed:
        hidden = _decoder(model).norm(hidden)
    l1 = keys.abs().sum(dim=(0, 2)).tolist()
    audio = torch.nonzero(audio_mask).flatten().tolist()
    text_after = [p for p in range(len(l1)) if p > audio[-1]]
    keep = expected_kept(len(audio), ratio)
    audio_pivots = sorted(audio, key=lambda p: -l1[p])[:min(DART_AUDIO_PIVOTS, keep)]
    text_pivots = sorted(text_after, key=lambda p: -l1[p])[:DART_TEXT_PIVOTS]
    unit = hidden.float() / hidden.float().norm(dim=-1, keepdim=True)
    kept = list(audio_pivots)
    budget = keep - len(audio_pivots)
    all_pivots = audio_pivots + text_pivots
    for i, pivot in enumerate(all_pivots):
        share = budget // len(all_pivots) + (1 if i < budget % len(all_pivots) else 0)
        candidates = [p for p in audio if p not in kept]
        candidates.sort(key=lambda p: float(unit[pivot] @ unit[p]))  # least similar first
        kept += candidates[:share]
    return _with_text(audio_mask, kept)


def frame_reference(audio_mask, ratio) -> list[int]:
    audio = torch.nonzero(audio_mask).flatten().tolist()
    keep = expected_kept(len(audio), ratio)
    stride = len(audio) / keep
    return _with_text(audio_mask, [audio[int(np.floor(i * stride + 1e-9))] for i in range(keep)])


def random_reference(audio_mask, ratio, seed, sample, k=K) -> list[int]:
    audio = torch.nonzero(audio_mask).flatten()
    gen = expected_generator(seed, sample, k)
    return _with_text(audio_mask, audio[torch.randperm(audio.numel(), generator=gen)[:expected_kept(audio.numel(), ratio)]])


def _non_uniform_final_norm(model, seed=0):
    norm = _decoder(model).norm
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.weight.copy_(torch.rand(norm.weight.shape, generator=gen) * 2.8 + 0.2)
    return model


@pytest.fixture(scope="module", params=list(TINY_DECODERS))
def family(request):
    """(model, inputs, audio_mask): a tiny decoder of each family with trained-like final norm weights."""
    model = _non_uniform_final_norm(build_tiny_decoder(request.param, seed=0))
    inputs, audio_mask = tiny_prompt(N_AUDIO, N_BEFORE, N_AFTER, seed=3)
    return model, inputs, audio_mask


@pytest.fixture(scope="module")
def omni_audio(tmp_path_factory):
    """The full tiny Qwen2.5-Omni thinker (audio encoder, processor) on a real clip: audio M-RoPE positions."""
    from audiomarathon_runner.adapters import load_adapter
    from audiomarathon_runner.tiny import save_tiny_model

    path = save_tiny_model("qwen2_5_omni_thinker", tmp_path_factory.mktemp("omni"), seed=0)
    adapter = load_adapter(str(path), dtype="fp32", device="cpu")
    audio = np.random.default_rng(1).standard_normal(16000 * 8).astype(np.float32) * 0.1
    inputs = adapter.build_inputs(audio, "Which scene is this?")
    mask = adapter.audio_token_mask(inputs)
    model = _non_uniform_final_norm(adapter.model)
    rope_axes, _ = model.get_rope_index(inputs["input_ids"], None, None, inputs["attention_mask"],
                                        audio_seqlens=inputs["feature_attention_mask"].sum(-1))
    assert rope_axes.shape[:2] == (3, 1) and int(mask.sum()) > 100  # 3-axis positions from the audio clip
    return model, inputs, mask


@pytest.mark.parametrize("ratio", RATIOS)
def test_fastv_keeps_the_top_of_the_models_own_attention_row(family, ratio):
    model, inputs, audio_mask = family
    assert observed_keep(model, inputs, audio_mask, CompressionConfig("fastv", ratio, layer=K)) == \
        fastv_reference(model, inputs, audio_mask, ratio)


@pytest.mark.parametrize("ratio", RATIOS)
def test_dart_follows_the_papers_rule_on_final_norm_states(family, ratio):
    model, inputs, audio_mask = family
    got = observed_keep(model, inputs, audio_mask, CompressionConfig("dart", ratio, layer=K))
    assert got == dart_reference(model, inputs, audio_mask, ratio)
    # The reference discriminates: similarity on the raw states chooses other tokens.
    assert got != dart_reference(model, inputs, audio_mask, ratio, normed=False)


@pytest.mark.parametrize("ratio", RATIOS)
def test_frame_and_random_follow_their_definitions(family, ratio):
    model, inputs, audio_mask = family
    assert observed_keep(model, inputs, audio_mask, CompressionConfig("frame", ratio, layer=K)) == \
        frame_reference(audio_mask, ratio)
    assert observed_keep(model, inputs, audio_mask, CompressionConfig("random", ratio, layer=K, seed=5),
                         sample="TAU-00001") == random_reference(audio_mask, ratio, 5, "TAU-00001")


def test_random_choices_differ_between_samples_and_seeds(family):
    model, inputs, audio_mask = family
    kept = {(seed, sample): tuple(observed_keep(model, inputs, audio_mask, CompressionConfig("random", 0.75, seed=seed),
                                                sample=sample))
            for seed in (0, 1) for sample in ("a", "b")}
    assert len(set(kept.values())) == 4  # same length, other sample or seed: another subset
    assert kept[(0, "a")] == tuple(observed_keep(model, inputs, audio_mask, CompressionConfig("random", 0.75, seed=0),
                                                 sample="a"))


@pytest.mark.parametrize("method", ["fastv", "dart"])
def test_omni_with_real_audio_positions(omni_audio, method):
    model, inputs, mask = omni_audio
    reference = fastv_reference if method == "fastv" else dart_reference
    for ratio in RATIOS:  # the tiny checkpoint has 2 decoder layers: K = 1, layer 0 is scored
        got = observed_keep(model, inputs, mask, CompressionConfig(method, ratio, layer=1), k=1)
        assert got == reference(model, inputs, mask, ratio, k=1), (method, ratio)


# ---- presses: the kept keys, per layer and head, matched against the uncompressed cache ---------------

@torch.no_grad()
def _prefill_cache(model, inputs, audio_mask, config, sample=None):
    with compression_session(model, inputs, audio_mask, config, sample=sample):
        return model(**inputs, use_cache=True).past_key_values


def kept_keys(model, inputs, audio_mask, config, sample=None) -> dict[int, list[list[int]]]:
    """layer -> per KV head, the prompt positions whose keys the press left in the cache."""
    full = _prefill_cache(model, inputs, audio_mask, CompressionConfig())
    pressed = _prefill_cache(model, inputs, audio_mask, config, sample)
    out = {}
    for idx, (a, b) in enumerate(zip(full.layers, pressed.layers)):
        if b.keys.shape[-2] == a.keys.shape[-2]:
            continue  # not compressed (Gemma-3n's sliding and KV-shared layers)
        heads = []
        for h in range(a.keys.shape[1]):
            index = {row.numpy().tobytes(): i for i, row in enumerate(a.keys[0, h])}
            heads.append([index[row.numpy().tobytes()] for row in b.keys[0, h]])
        out[idx] = heads
    assert out, "no layer was compressed"
    return out


@pytest.mark.parametrize("method", list(PRESSES))
def test_every_press_keeps_every_text_token_and_the_audio_count(family, method):
    model, inputs, audio_mask = family
    text = set(torch.nonzero(~audio_mask).flatten().tolist())
    layers = kept_keys(model, inputs, audio_mask, CompressionConfig(method, 0.75, press_scope="audio", seed=2),
                       sample="s")
    for idx, heads in layers.items():
        for kept in heads:
            assert text <= set(kept), (method, idx)
            n_audio = len(set(kept) - text)
            if method == "pyramidkv":  # per-layer budgets around the mean
                assert 0 < n_audio < N_AUDIO
            else:
                assert n_audio == expected_kept(N_AUDIO, 0.75), (method, idx, n_audio)


def test_streaming_keeps_sinks_and_the_most_recent_audio(family):
    model, inputs, audio_mask = family
    audio = torch.nonzero(audio_mask).flatten().tolist()
    keep = expected_kept(len(audio), 0.75)
    for kept_heads in kept_keys(model, inputs, audio_mask, CompressionConfig("streaming", 0.75)).values():
        for kept in kept_heads:
            assert [p for p in kept if audio_mask[p]] == audio[-keep:]  # the sinks are text here
    # A prompt that starts with audio: the first 4 tokens are sinks and stay.
    inputs2, mask2 = tiny_prompt(N_AUDIO, 0, N_AFTER, seed=1)
    keep = expected_kept(N_AUDIO, 0.75)
    expected = sorted(set(range(4)) | set(range(N_AUDIO - (keep - 4), N_AUDIO)))
    for kept_heads in kept_keys(model, inputs2, mask2, CompressionConfig("streaming", 0.75)).values():
        for kept in kept_heads:
            assert [p for p in kept if mask2[p]] == expected


def test_kv_random_differs_per_layer_and_sample_and_repeats(family):
    model, inputs, audio_mask = family
    config = CompressionConfig("kv_random", 0.75, seed=3)
    a = kept_keys(model, inputs, audio_mask, config, sample="x")
    assert a == kept_keys(model, inputs, audio_mask, config, sample="x")
    assert a != kept_keys(model, inputs, audio_mask, config, sample="y")
    per_layer = [heads[0] for heads in a.values()]
    if len(per_layer) > 1:
        assert per_layer[0] != per_layer[1]


# ---- every method keeps every text token -------------------------------------------------------------

@pytest.mark.parametrize("method", list(PRUNERS))
def test_every_pruner_keeps_every_text_token(family, method):
    model, inputs, audio_mask = family
    text = set(torch.nonzero(~audio_mask).flatten().tolist())
    for ratio in RATIOS:
        kept = observed_keep(model, inputs, audio_mask, CompressionConfig(method, ratio, layer=K))
        assert text <= set(kept), (method, ratio)
        assert len(kept) == len(text) + expected_kept(N_AUDIO, ratio)
