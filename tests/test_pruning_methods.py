"""Token pruners in isolation: counts, seeds, FastV's single attention row, DART's pivots."""
import pytest
import torch

from audiomarathon.methods import method_names
from audiomarathon_runner.compression import PRUNERS, CompressionConfig, kept_count
from audiomarathon_runner.compression.pruning import PruneContext, last_token_attention, make_pruner

from compression_refs import expected_kept


def _ctx(seq=40, audio=(5, 30), heads=4, kv_heads=2, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(seq, 16, generator=g)
    return PruneContext(
        audio_positions=torch.arange(*audio),
        hidden_states=hidden,
        normed_hidden=hidden,  # the same tensor: edits to one are edits to the other
        query_last=torch.randn(heads, dim, generator=g),
        keys=torch.randn(kv_heads, seq, dim, generator=g),
        scaling=dim ** -0.5,
    )


def test_config_validation_names_every_method():
    with pytest.raises(ValueError, match="known methods: none, fastv, dart, random, frame, snapkv"):
        CompressionConfig(method="fastvv")
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="ratio must be in"):
            CompressionConfig(method="fastv", ratio=bad)
    with pytest.raises(ValueError, match="press_scope"):
        CompressionConfig(method="snapkv", press_scope="text")
    with pytest.raises(ValueError, match="layer K"):
        CompressionConfig(method="fastv", layer=0)
    assert CompressionConfig("fastv").kind == "prune"
    assert CompressionConfig("snapkv").kind == "press"
    assert CompressionConfig().kind == "none"
    assert set(PRUNERS) <= set(method_names())


@pytest.mark.parametrize("n,ratio,expected", [
    (100, 0.0, 100), (100, 0.5, 50), (7, 0.5, 4), (3, 0.99, 1), (0, 0.5, 0),
    (80, 0.7, 24),  # 56 removed (a ceil of 0.3 x 80 = 24.000000000000004 would keep 25)
    (100, 0.29, 71),  # 29 removed (0.29 x 100 is 28.999999999999996 in binary floating point)
    (80, 0.3, 56), (10, 0.05, 10), (1, 0.9, 1),
])
def test_kept_count_follows_the_documented_rule(n, ratio, expected):
    """The README's rule: the ratio is the share of audio tokens removed, removed = floor(ratio x n) on
    the ratio as written, kept = n - removed; the references' own computation agrees."""
    assert kept_count(n, ratio) == expected == expected_kept(n, ratio)


@pytest.mark.parametrize("method", list(PRUNERS))
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.75, 0.96])
def test_every_pruner_keeps_exact_sorted_unique_count(method, ratio):
    ctx = _ctx()
    kept = make_pruner(method, ratio, seed=3).select(ctx)
    n_audio = ctx.audio_positions.numel()
    assert kept.numel() == expected_kept(n_audio, ratio)
    assert torch.equal(kept, torch.unique(kept))  # ascending, no duplicates
    assert kept.min() >= 0 and kept.max() < n_audio


def test_random_is_reproducible_by_seed():
    ctx = _ctx()
    a = make_pruner("random", 0.5, seed=1).select(ctx)
    assert torch.equal(a, make_pruner("random", 0.5, seed=1).select(ctx))
    assert not torch.equal(a, make_pruner("random", 0.5, seed=2).select(ctx))


def test_frame_is_a_uniform_stride():
    ctx = _ctx(seq=120, audio=(10, 110))
    assert make_pruner("frame", 0.75, seed=0).select(ctx).tolist() == list(range(0, 100, 4))


def test_fastv_row_equals_full_attention_last_row():
    ctx = _ctx()
    row = last_token_attention(ctx)
    # Reference: the full L×L eager computation with GQA keys repeated, last row, mean over heads.
    n_heads, n_kv = ctx.query_last.shape[0], ctx.keys.shape[0]
    keys = ctx.keys.repeat_interleave(n_heads // n_kv, dim=0)  # [H, L, d]
    queries = torch.randn(n_heads, ctx.seq_len, ctx.keys.shape[-1])
    queries[:, -1] = ctx.query_last
    full = (queries @ keys.transpose(1, 2)) * ctx.scaling
    full = full.masked_fill(torch.triu(torch.ones(ctx.seq_len, ctx.seq_len, dtype=torch.bool), 1), float("-inf"))
    expected = full.softmax(-1)[:, -1].mean(0)
    torch.testing.assert_close(row, expected)
    kept = make_pruner("fastv", 0.6).select(ctx)
    expected_kept = expected[ctx.audio_positions].topk(kept.numel()).indices.sort().values
    assert torch.equal(kept, expected_kept)


def test_fastv_respects_mask_row():
    ctx = _ctx()
    ctx.mask_row = torch.zeros(ctx.seq_len)
    ctx.mask_row[ctx.audio_positions[:10]] = float("-inf")  # e.g. outside a sliding window
    kept = make_pruner("fastv", 0.5).select(ctx)
    assert kept.min() >= 10


def test_dart_keeps_audio_pivots_and_drops_duplicates():
    ctx = _ctx(seq=60, audio=(10, 50))
    # Make audio token 7 (position 17) the largest-key-norm audio token: it must be kept as a pivot.
    ctx.keys[:, 17] *= 50
    # Tokens 20..29 duplicate token 7's hidden state: least-similar selection must skip them.
    ctx.hidden_states[20:30] = ctx.hidden_states[17]
    kept = make_pruner("dart", 0.5).select(ctx)
    assert 7 in kept.tolist()
    assert not set(range(10, 20)) & set(kept.tolist())
    assert kept.numel() == 20


def test_command_line_options_build_the_config():
    import argparse

    from audiomarathon_runner.compression import add_compression_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_compression_arguments(parser)
    args = parser.parse_args(["--method", "dart", "--ratio", "0.5", "--layer", "3", "--seed", "7",
                              "--press-scope", "all"])
    assert config_from_args(args) == CompressionConfig("dart", 0.5, layer=3, seed=7, press_scope="all")
    with pytest.raises(SystemExit):
        parser.parse_args(["--method", "nope"])
