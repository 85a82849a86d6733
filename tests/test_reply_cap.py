"""Replies that hit the reply cap: flagged per sample, counted in results.json and in the summary.

The reference is the model's own greedy continuation computed here token by token with its
forward pass (no generate, no stopping rule): a reply hits the cap when no end-of-turn token is
among its first ``cap`` tokens.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from audiomarathon.records import read_predictions
from audiomarathon_runner.adapters import load_adapter
from audiomarathon_runner.commands.run import format_summary
from audiomarathon_runner.run import RunConfig, run_evaluation
from audiomarathon_runner.sample_runner import SampleRunner
from audiomarathon_runner.samples import load_samples
from audiomarathon_runner.tiny import save_tiny_model

CAP = 4


def _greedy(model, inputs, steps: int) -> list[int]:
    """``steps`` greedy tokens, the end-of-turn token included (no stopping rule)."""
    out, past, step = [], None, dict(inputs)
    with torch.no_grad():
        for _ in range(steps):
            result = model(**step, past_key_values=past, use_cache=True)
            token = result.logits[0, -1].argmax().view(1, 1)
            out.append(int(token))
            past = result.past_key_values
            mask = torch.cat([step["attention_mask"], torch.ones_like(token)], dim=1)
            step = {"input_ids": token, "attention_mask": mask}
    return out


@pytest.fixture(scope="module")
def chatty_and_terse(tmp_path_factory):
    """The tiny model as built (it never ends its turn within the cap), and the same model with the
    end-of-turn row of its output layer set to a multiple of another token's row: replies that would
    start with that token end at once."""
    path = save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("cap") / "m")
    chatty = load_adapter(path, dtype="fp32", device="cpu")
    terse = load_adapter(path, dtype="fp32", device="cpu")
    return chatty, terse


def test_hit_cap_is_recorded_counted_and_shown(chatty_and_terse, imported_dataset, tmp_path):
    chatty, terse = chatty_and_terse
    # The first 5 s of each clip: the cap does not depend on the clip's length, the test's time does.
    samples = [dataclasses.replace(s, audio_array=s.load_audio()[: 5 * 16000], audio_bytes=None)
               for s in load_samples(imported_dataset, "TAU,HAD,VoxAge", limit=1)]
    config = RunConfig(model="m", data=str(imported_dataset), dtype="fp32", device="cpu", progress=False,
                       max_new_tokens=CAP, tasks="TAU,HAD,VoxAge")
    # The terse model: the end-of-turn row copies (x 8) the row of the first token of the first reply.
    first = SampleRunner(chatty, config).prepare(samples[0])[1]
    lm_head = terse.model.get_output_embeddings().weight
    (eos,) = terse.eos_token_ids
    with torch.no_grad():
        lm_head[eos] = 8 * lm_head[_greedy(chatty.model, first, 1)[0]]
    flags = {}
    for name, adapter in (("chatty", chatty), ("terse", terse)):
        out = tmp_path / name
        results = run_evaluation(RunConfig(**{**config.__dict__, "out": str(out)}), adapter=adapter, samples=samples)
        runner = SampleRunner(adapter, config)
        records = {r["id"]: r for r in read_predictions(out / "predictions.jsonl")}
        for sample in samples:
            inputs = runner.prepare(sample)[1]
            expected = eos not in _greedy(adapter.model, inputs, CAP)
            assert records[sample.id]["hit_cap"] is expected, (name, sample.id)
            flags[(name, sample.id)] = expected
        capped = sum(r["hit_cap"] for r in records.values())
        assert results["reply_cap"]["replies"] == len(samples) and results["reply_cap"]["hit_cap"] == capped
        assert results["reply_cap"]["share"] == pytest.approx(capped / len(samples))
        for task, entry in results["reply_cap"]["tasks"].items():
            mine = [r for r in records.values() if r["task"] == task]
            assert entry == {"replies": len(mine), "hit_cap": sum(r["hit_cap"] for r in mine),
                             "share": pytest.approx(sum(r["hit_cap"] for r in mine) / len(mine))}
        summary = format_summary(results)
        assert f"replies at the reply cap (cut off before ending their turn): {capped} of {len(samples)}" in summary
        assert json.loads((out / "results.json").read_text())["reply_cap"]["hit_cap"] == capped
    assert set(flags.values()) == {True, False}  # both branches were taken
