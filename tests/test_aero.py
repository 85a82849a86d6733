"""Aero-1-Audio: a family whose checkpoints are their own Python code (``trust_remote_code``).

The tiny checkpoint is built with the family's remote code (a ``configuration_aero.py`` /
``modeling_aero.py`` / ``processing_aero.py`` set named in ``auto_map``), saved with
``save_pretrained`` and loaded through ``from_pretrained(..., trust_remote_code=True)`` as a user's
checkpoint is: the classes that run are the copies transformers imports from the folder.

* without ``--trust-remote-code`` the checkpoint is refused, naming the flag; with it, results.json
  and the run identity carry the sha256 of the folder's .py files (computed here by its rule);
* long audio is cut as the authors' scripts cut it (their ``split_audio``, typed out below);
* every pruning method and press runs on the whole model (audio through the remote encoder); FastV
  keeps what the model's own eager attention says, DART follows the paper's rule.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from audiomarathon.cli import main
from audiomarathon.records import RESULTS_FILE, read_results
from audiomarathon.run_identity import run_id, run_identity
from audiomarathon_runner.adapters import RemoteCodeRefused, load_adapter
from audiomarathon_runner.compression import PRESSES, PRUNERS, CompressionConfig, compression_session
from audiomarathon_runner.tiny import save_tiny_model

import test_compression_selection as selection
from compression_refs import expected_kept
from test_compression_families import observed_statistics

SR = 16_000
# The authors' split_audio (src/Aero-1/Others/*_test_aero.py): CHUNK_LIM = 480000 samples, cut in order.
AUTHORS_CHUNK = 480_000


def authors_chunks(audio: np.ndarray) -> list[np.ndarray]:
    if len(audio) <= AUTHORS_CHUNK:
        return [audio]
    return [audio[i:i + AUTHORS_CHUNK] for i in range(0, len(audio), AUTHORS_CHUNK)]


def code_hash(folder: Path) -> str:
    """The recorded rule: sha256 over each .py file of the folder, in name order, as
    ``name NUL size NUL bytes``."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return "sha256:" + digest.hexdigest()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_model("aero", tmp_path_factory.mktemp("aero") / "Tiny-Aero-1-Audio")


@pytest.fixture(scope="module")
def adapter(checkpoint):
    return load_adapter(str(checkpoint), dtype="fp32", device="cpu", trust_remote_code=True)


def _clip(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1).astype(np.float32)


# ---- the checkpoint is remote code, loaded only when allowed --------------------------------------------

def test_the_checkpoint_is_its_own_code_and_loads_from_its_folder(checkpoint, adapter):
    config = json.loads((checkpoint / "config.json").read_text())
    assert config["model_type"] == "aero"
    assert config["auto_map"]["AutoModelForCausalLM"] == "modeling_aero.AeroForConditionalGeneration"
    processor_config = json.loads((checkpoint / "processor_config.json").read_text())
    assert processor_config["auto_map"]["AutoProcessor"] == "processing_aero.AeroProcessor"
    assert {"configuration_aero.py", "modeling_aero.py", "processing_aero.py"} <= {p.name for p in checkpoint.glob("*.py")}
    # The classes that run are the ones transformers imported from the checkpoint, not this package's.
    for obj in (adapter.model, adapter.processor):
        assert type(obj).__module__.startswith("transformers_modules."), type(obj).__module__
    assert type(adapter.model).__name__ == "AeroForConditionalGeneration"
    assert adapter.model.config._attn_implementation == "sdpa"  # the runner's default, as for every family


def test_refused_without_trust_remote_code(checkpoint):
    with pytest.raises(RemoteCodeRefused, match="--trust-remote-code") as err:
        load_adapter(str(checkpoint), dtype="fp32", device="cpu")
    assert "own Python code" in str(err.value) and "modeling_aero.AeroForConditionalGeneration" in str(err.value)


# ---- long audio as the authors feed it ----------------------------------------------------------------

def test_long_audio_is_cut_as_the_authors_cut_it(adapter):
    audio = _clip(65.0)
    chunks = authors_chunks(audio)
    assert [c.size for c in adapter.split(audio)] == [c.size for c in chunks] == [480_000, 480_000, 80_000]
    inputs = adapter.build_inputs(audio, "What is said?")
    # The authors' calls: one audio part per chunk, the checkpoint's chat template, processor(audios=chunks).
    messages = [{"role": "user", "content": [{"type": "audio", "audio": "placeholder"} for _ in chunks]
                 + [{"type": "text", "text": "What is said?"}]}]
    prompt = adapter.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    theirs = adapter.processor(text=prompt, audios=chunks, sampling_rate=SR, return_tensors="pt")
    assert torch.equal(inputs["input_ids"], theirs["input_ids"])
    assert torch.equal(inputs["input_features"], theirs["input_features"])
    # A Whisper window of 3,000 frames gives 1,500 encoder states, pooled to 750; 80,000 samples give
    # 500 frames, 250 states, 125 tokens.
    assert int(adapter.audio_token_mask(inputs).sum()) == 750 + 750 + 125


# ---- compression on the whole model -------------------------------------------------------------------

N_SECONDS = 4.0  # 400 frames -> 100 audio tokens


@pytest.fixture(scope="module")
def prompt(adapter):
    inputs = adapter.build_inputs(_clip(N_SECONDS, seed=3), "Which scene is this? A. park B. bus C. metro D. street")
    mask = adapter.audio_token_mask(inputs)
    assert int(mask.sum()) == 100
    return dict(inputs), mask


def _generate(model, inputs):
    with torch.no_grad():
        return model.generate(**inputs, max_new_tokens=3, min_new_tokens=3, do_sample=False, output_logits=True,
                              return_dict_in_generate=True)


def test_every_method_at_ratio_zero_is_exact(adapter, prompt):
    inputs, mask = prompt
    with compression_session(adapter.model, inputs, mask, CompressionConfig()):
        base = _generate(adapter.model, inputs)
    for method in [*PRUNERS, *PRESSES]:
        with compression_session(adapter.model, inputs, mask, CompressionConfig(method, 0.0)):
            out = _generate(adapter.model, inputs)
        assert torch.equal(out.sequences, base.sequences), method
        assert all(torch.equal(a, b) for a, b in zip(out.logits, base.logits)), method


@pytest.mark.parametrize("method", [*PRUNERS, *PRESSES])
def test_every_method_compresses_the_audio_span_as_counted_on_the_models_tensors(adapter, prompt, method):
    inputs, mask = prompt
    n_audio = int(mask.sum())
    got, observed = observed_statistics(adapter.model, inputs, mask, CompressionConfig(method, 0.7, layer=2, seed=1))
    assert got["audio_tokens"] == n_audio
    assert got["kept_audio_tokens_per_layer"] == pytest.approx(observed["kept_audio_tokens_per_layer"])
    assert got["kv_cache_tokens_per_layer"] == observed["kv_cache_tokens_per_layer"]
    assert got["kv_cache_bytes"] == observed["kv_cache_bytes"]
    compressed = {n for n in observed["kept_audio_tokens_per_layer"] if n != n_audio}
    assert compressed, method
    if method != "pyramidkv":  # its own per-layer budgets
        assert compressed == {expected_kept(n_audio, 0.7)}, (method, observed["kept_audio_tokens_per_layer"])
    with compression_session(adapter.model, inputs, mask, CompressionConfig(method, 0.7, layer=2, seed=1)):
        out = _generate(adapter.model, inputs)
    assert out.sequences.shape[-1] == inputs["input_ids"].shape[-1] + 3


@pytest.fixture
def decoder_is_language_model(monkeypatch):
    """The selection tests' layer lookup (``model.model``) pointed at Aero's text model, by its path."""
    monkeypatch.setattr(selection, "_decoder", lambda model: model.language_model.model)


@pytest.mark.parametrize("ratio", [0.3, 0.75])
def test_fastv_keeps_the_top_of_the_models_own_eager_attention(adapter, prompt, ratio, decoder_is_language_model):
    inputs, mask = prompt
    got = selection.observed_keep(adapter.model, inputs, mask, CompressionConfig("fastv", ratio, layer=2), k=2)
    assert got == selection.fastv_reference(adapter.model, inputs, mask, ratio, k=2)
    assert adapter.model.config._attn_implementation == "sdpa"  # the reference's eager pass was undone


@pytest.mark.parametrize("ratio", [0.3, 0.75])
def test_dart_follows_the_papers_rule(adapter, prompt, ratio, decoder_is_language_model):
    inputs, mask = prompt
    got = selection.observed_keep(adapter.model, inputs, mask, CompressionConfig("dart", ratio, layer=2), k=2)
    assert got == selection.dart_reference(adapter.model, inputs, mask, ratio, k=2)


# ---- a whole run ----------------------------------------------------------------------------------------

def _run(checkpoint, data, out, *extra) -> int:
    return main(["run", "--model", str(checkpoint), "--data", str(data), "--out", str(out), "--tasks", "TAU,HAD",
                 "--limit", "1", "--device", "cpu", "--no-progress", "--max-new-tokens", "2", *extra])


def test_a_whole_run_needs_the_flag_and_records_the_code(checkpoint, imported_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(checkpoint, imported_dataset, out) == 1
    err = capsys.readouterr().err
    assert "--trust-remote-code" in err and "aero" in err
    assert not out.exists()  # refused before a run folder is made

    assert _run(checkpoint, imported_dataset, out, "--trust-remote-code", "--profile", "authors",
                "--method", "fastv", "--ratio", "0.5") == 0
    results = read_results(out / RESULTS_FILE)
    config, identity = results["config"], results["identity"]
    want = code_hash(checkpoint)
    assert config["trust_remote_code"] is True
    assert config["remote_code"] == {"sha256": want, "files": ["configuration_aero.py", "modeling_aero.py",
                                                              "processing_aero.py"]}
    assert identity["remote_code"] == want
    assert config["procedure"]["follows"] == "Aero-1"
    assert config["procedure"]["tasks"]["HAD"]["source"] == "src/Aero-1/Others/HAD_test_aero.py"
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 2 and not any(r.get("error") for r in records)
    assert all(r["config_hash"] == config["config_hash"] == run_id(identity) for r in records)
    # Another code is another run; the same settings without remote code are the id they always had.
    assert run_id(run_identity({**identity, "remote_code": "sha256:other"}, identity["dataset_fingerprint"])) \
        != run_id(identity)
    before = {k: v for k, v in identity.items() if k != "remote_code"}
    assert run_id(run_identity({**before, "remote_code": None}, identity["dataset_fingerprint"])) == run_id(before)


def test_a_run_without_the_flag_keeps_its_settings_and_run_id(checkpoint):
    """The flag adds nothing to a run that does not give it: the settings results.json records and
    the run id are those of before the flag (the run id of these settings, pinned)."""
    from audiomarathon_runner.run import RunConfig

    plain = RunConfig(model=str(checkpoint), dtype="fp32", device="cpu", progress=False)
    assert "trust_remote_code" not in plain.settings() and "remote_code" not in plain.settings()
    identity = plain.identity("sha256:a")
    assert identity["remote_code"] is None
    old_fields = {k: v for k, v in identity.items() if k != "remote_code"}  # the record before the field existed
    blob = json.dumps(old_fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert plain.run_id("sha256:a") == "rid:" + hashlib.sha256(blob.encode()).hexdigest()[:20]
    trusted = RunConfig(model=str(checkpoint), dtype="fp32", device="cpu", progress=False, trust_remote_code=True)
    assert trusted.identity("sha256:a")["remote_code"] == code_hash(checkpoint)
    assert trusted.run_id("sha256:a") != plain.run_id("sha256:a")


def test_the_tiny_demo_runs_the_family(imported_dataset, tmp_path):
    """The demo's tiny Aero runs this package's own remote code, allowed as such and recorded."""
    from audiomarathon_runner.demo import run_tiny_demo

    results = run_tiny_demo(imported_dataset, tmp_path, family="aero", tasks="TAU", limit=1, max_new_tokens=2,
                            progress=False)
    assert results["config"]["remote_code"]["sha256"] == code_hash(tmp_path / "tiny-aero")


def test_a_hub_checkpoint_from_the_local_cache_records_its_code(checkpoint, imported_dataset, tmp_path):
    """A user's run by Hub id (``lmms-lab/Aero-1-Audio-1.5B``) with the Hub offline and the checkpoint
    in the local Hub cache: the cached snapshot's .py files are hashed and run. A real process, with
    its own caches."""
    import shutil
    import subprocess
    import sys

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--lmms-lab--Aero-1-Audio-1.5B"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(checkpoint, repo / "snapshots" / commit)
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"),
           "HF_MODULES_CACHE": str(tmp_path / "modules")}
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "audiomarathon", "run", "--model", "lmms-lab/Aero-1-Audio-1.5B", "--data",
           str(imported_dataset), "--out", str(out), "--tasks", "TAU", "--limit", "1", "--device", "cpu",
           "--no-progress", "--max-new-tokens", "2", "--trust-remote-code"]
    ran = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    results = read_results(out / RESULTS_FILE)
    assert results["config"]["remote_code"]["sha256"] == results["identity"]["remote_code"] == code_hash(checkpoint)
    assert results["identity"]["model"] == "lmms-lab/aero-1-audio-1.5b"
    assert list((tmp_path / "modules").rglob("modeling_aero.py"))  # the cached snapshot's code is what ran


def test_served_aero_is_asked_the_authors_aero_prompts_and_needs_no_flag():
    """Behind --api-base the server runs the code: --family Aero-1 --profile authors sends the
    authors' Aero prompts and caps; --trust-remote-code is refused there, as meaningless."""
    from audiomarathon_runner.api import ApiConfig
    from audiomarathon_runner.run import RunConfig
    from audiomarathon_runner.samples import Sample

    from authors_prompts import AERO

    api = ApiConfig(base_urls=("http://127.0.0.1:8000/v1",), family="Aero-1", weights="open")
    config = RunConfig(model="lmms-lab/Aero-1-Audio-1.5B", api=api, profile="authors")
    for task, choices in (("HAD", ["real", "fake"]), ("VESUS", ["sad", "angry", "happy", "neutral"])):
        sample = Sample(id=f"{task}-0", task=task, question="What is it?", choices=choices, answer="A",
                        answer_text="", audio_array=np.zeros(SR, np.float32))
        request = config.request(sample, config.family())
        script = AERO[task]
        assert (request.system, request.text, request.max_new_tokens) == \
            (script.system, script.user("What is it?", choices), script.max_new_tokens)
    with pytest.raises(ValueError, match="--trust-remote-code applies to a model loaded here"):
        RunConfig(model="lmms-lab/Aero-1-Audio-1.5B", api=api, trust_remote_code=True)
