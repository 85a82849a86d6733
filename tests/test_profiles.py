"""--profile authors renders, for every family x task, the prompt the authors' scripts build.

Each prompt goes through the runner's own path (RunConfig.request -> SampleRunner.prepare -> the
real adapter of a tiny checkpoint -> input_ids) and is compared, character by character, with the
authors' prompt typed out separately in tests/authors_prompts.py and rendered the way their
script renders it (the checkpoint's chat template on their messages; Phi-4's literal string).
"""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest

from audiomarathon.tasks import TASKS, get_task
from audiomarathon_runner.adapters import load_adapter
from audiomarathon_runner.compression import CompressionConfig
from audiomarathon_runner.profiles import AUTHORS_PROFILE, CARD_PROFILE, PROFILES, family_named, get_profile
from audiomarathon_runner.run import RunConfig
from audiomarathon_runner.sample_runner import SampleRunner
from audiomarathon_runner.samples import Sample
from audiomarathon_runner.tiny import save_tiny_model

from authors_prompts import BY_FAMILY, QWEN, phi4_vesus_literal

SR = 16_000
PEAK = 0.25  # the test clip's peak: 1.0 after the authors' normalisation

# One realistic item per task (question, choices in the item's order).
ITEMS = {
    "LibriSpeech": ("Transcribe this audio.", []),
    "RACE": ("Why did Tom go home early?", ["Because he missed the last bus.", "He was afraid of the dark.",
                                            "She wanted to surprise her mother.", "Two hours later."]),
    "SLUE": ("Which named entity is mentioned in the audio?", ["Strasbourg", "Angela Merkel", "Greece", "Poland"]),
    "TAU": ("What type of acoustic scene is represented in this audio segment?",
            ["Urban park - park", "Traveling by a bus - bus", "Airport - airport", "Metro station - metro_station"]),
    "GTZAN": ("What music genre is represented in this audio segment?",
              ["Rock - rock", "Jazz - jazz", "Blues - blues", "Hip-hop - hiphop"]),
    "DESED": ("Which of the following sound events occurs in the audio?", ["Dog", "Blender", "Frying", "Cat"]),
    "VESUS": ("What emotion is expressed in this audio segment?", ["sad", "angry", "happy", "neutral"]),
    "HAD": ("Is this audio authentic or does it contain artificially synthesized (fake) segments?", ["Real", "Fake"]),
    "VoxGender": ("What is the gender of the speaker in this audio segment?", ["Male", "Female"]),
    # The item's own order differs from the registry's: Phi-4's fixed list must not follow it.
    "VoxAge": ("What is the age group of the speaker?", ["Senior (51-70)", "Young Adult (18-30)", "Elderly (71+)",
                                                          "Early Career (31-40)", "Mid Career (41-50)"]),
}

_NEEDS = {"voxtral": "mistral_common"}
CHAT_FAMILIES = ["qwen2_5_omni_thinker", "qwen2_audio", "phi4_multimodal", "audioflamingo3", "aero"]
FAMILIES = [*CHAT_FAMILIES, pytest.param("voxtral", marks=pytest.mark.skipif(
    importlib.util.find_spec("mistral_common") is None, reason="Voxtral needs mistral_common"))]


@pytest.fixture(scope="module", params=FAMILIES)
def adapter(request, tmp_path_factory):
    path = save_tiny_model(request.param, tmp_path_factory.mktemp(request.param) / "model")
    return load_adapter(path, dtype="fp32", device="cpu", trust_remote_code=request.param == "aero")


def _sample(task: str) -> Sample:
    question, choices = ITEMS[task]
    t = get_task(task)
    audio = (np.random.default_rng(1).uniform(-1, 1, SR) * PEAK).astype(np.float32)
    audio[100] = PEAK
    return Sample(id=f"{task}-0", task=task, question=question, choices=choices,
                  answer="A" if t.is_mcq else "", answer_text="", audio_array=audio)


def _prepare(adapter, task: str, profile: str = "authors"):
    config = RunConfig(model="m", profile=profile, dtype="fp32", device="cpu", progress=False)
    return SampleRunner(adapter, config).prepare(_sample(task))


def _collapse(text: str, token: str) -> str:
    return re.sub(f"(?:{re.escape(token)})+", token.replace("\\", "\\\\"), text)


def _expected_chat(adapter, system, user: str) -> str:
    """The authors' messages through the checkpoint's chat template, as their scripts render them
    (their system and text parts are lists of typed parts)."""
    messages = ([{"role": "system", "content": [{"type": "text", "text": system}]}] if system is not None else [])
    messages.append({"role": "user", "content": [{"type": "audio", "audio": "clip.wav"}, {"type": "text", "text": user}]})
    owner = adapter.processor if getattr(adapter.processor, "chat_template", None) else adapter.tokenizer
    return owner.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_authors_profile_renders_the_authors_prompt(adapter, task):
    family = adapter.family
    script = BY_FAMILY.get(family, QWEN)[task]  # families they wrote no script for: Qwen2.5-Omni's
    question, choices = ITEMS[task]
    audio, inputs, request = _prepare(adapter, task)
    ids = inputs["input_ids"][0].tolist()
    assert request.max_new_tokens == script.max_new_tokens
    assert float(np.max(np.abs(audio))) == pytest.approx(1.0 if script.peak_normalize else PEAK)

    if family == "Voxtral":
        _check_voxtral(adapter, ids, script, question, choices)
        return
    audio_token = adapter.tokenizer.convert_ids_to_tokens(adapter.audio_token_id)
    rendered = _collapse(adapter.tokenizer.decode(ids, skip_special_tokens=False), audio_token)
    if family == "Phi-4-multimodal":
        # Their literal string; the processor's audio slot <|audio_1|> is the checkpoint's audio token.
        from authors_prompts import phi4_full

        expected = phi4_full(script.user(question, choices)).replace("<|audio_1|>", audio_token)
    else:
        expected = _collapse(_expected_chat(adapter, script.system, script.user(question, choices)), audio_token)
    assert rendered == expected


def _check_voxtral(adapter, ids, script, question, choices):
    import base64
    import io

    import soundfile as sf

    tok = adapter.processor.tokenizer
    if script.transcription:
        from transformers import VoxtralProcessor
        from transformers.tokenization_mistral_common import MistralCommonBackend

        # Their eval_LibriSpeech.py: processor.apply_transcription_request(language="en", ...)
        path = adapter.model.name_or_path
        reference = VoxtralProcessor(adapter.processor.feature_extractor, MistralCommonBackend.from_pretrained(path))
        clip = _sample("LibriSpeech").load_audio()
        want = reference.apply_transcription_request(audio=[clip], format=["WAV"], language=script.transcription,
                                                     model_id="voxtral", sampling_rate=SR, return_tensors="pt")
        assert ids == want["input_ids"][0].tolist()
        assert ids[-1] == 34 and tok.decode(ids[-8:-1]) == "lang:en"  # ... [/INST] lang:en [TRANSCRIBE]
        return
    # Their conversation [{"role": "user", "content": [audio, {"type": "text", "text": question}]}]
    # through the Mistral tokenizer (VoxtralProcessor.apply_chat_template's path).
    buf = io.BytesIO()
    sf.write(buf, np.zeros(SR, np.float32), SR, format="WAV", subtype="FLOAT")
    user = script.user(question, choices)
    enc = tok.apply_chat_template([{"role": "user", "content": [
        {"type": "audio", "base64": base64.b64encode(buf.getvalue()).decode()}, {"type": "text", "text": user}]}],
        tokenize=True, return_dict=True)
    assert ids == enc["input_ids"]
    text_ids = ids[ids.index(25) + 1:]  # after [BEGIN_AUDIO]
    text_ids = [i for i in text_ids if i != 24][:-1]  # without [AUDIO] and [/INST]
    assert tok.decode(text_ids) == user


def test_gemma3n_follows_qwen_scripts_through_its_own_template():
    """Gemma-3n (no authors' script) gets the Qwen2.5-Omni procedure; its processor builds without timm."""
    from audiomarathon_runner.adapters import Gemma3nAdapter
    from audiomarathon_runner.tiny import gemma3n_processor

    ad = Gemma3nAdapter(None, gemma3n_processor())
    family = family_named(ad.family)
    for task in TASKS:
        question, choices = ITEMS[task.name]
        req = AUTHORS_PROFILE.request(family, task, question, choices)
        script = QWEN[task.name]
        assert (req.system, req.text, req.max_new_tokens) == (script.system, script.user(question, choices),
                                                               script.max_new_tokens)
        assert ad.render_text(req.text, 1, req.system) == _expected_chat(ad, script.system, req.text)


def test_phi4_vesus_keeps_their_words_in_the_models_turn_format():
    question, choices = ITEMS["VESUS"]
    literal = phi4_vesus_literal(question, choices)
    req = AUTHORS_PROFILE.request(family_named("Phi-4-multimodal"), get_task("VESUS"), question, choices)
    assert literal == f"<|user|>\n<audio>\n{req.text}\n<|assistant|>\n"


def test_card_profile_sends_each_cards_system_prompt_and_the_registry_prompt(adapter):
    family = family_named(adapter.family)
    for task in TASKS:
        question, choices = ITEMS[task.name]
        req = CARD_PROFILE.request(family, task, question, choices)
        assert req.system == type(adapter).system_prompt
        assert req.text == task.render_prompt(question, choices)
        assert req.max_new_tokens == task.max_new_tokens and not req.peak_normalize
        assert req.transcribe == ("en" if task.name == "LibriSpeech" and adapter.family == "Voxtral" else None)


def test_profiles_are_a_registry_by_name():
    assert list(PROFILES) == ["card", "authors"]
    assert get_profile("authors") is AUTHORS_PROFILE
    with pytest.raises(ValueError, match="unknown profile 'paper'; profiles: card, authors"):
        get_profile("paper")
    with pytest.raises(ValueError, match="unknown profile"):
        RunConfig(model="m", profile="paper")
    assert CARD_PROFILE.press_scope == "audio" and AUTHORS_PROFILE.press_scope == "all"


def test_authors_profile_run_records_profile_press_scope_and_procedure(imported_dataset, tmp_path):
    """The command line: --profile authors is in results.json and the run identity, presses default to
    every position, and the run id differs from the card profile's."""
    from audiomarathon.cli import main
    from audiomarathon.run_identity import run_id

    model = save_tiny_model("qwen2_audio", tmp_path / "m")
    common = ["run", "--model", str(model), "--data", str(imported_dataset), "--tasks", "TAU", "--limit", "1",
              "--dtype", "fp32", "--device", "cpu", "--no-progress", "--method", "snapkv", "--ratio", "0.5"]
    assert main([*common, "--out", str(tmp_path / "authors"), "--profile", "authors"]) == 0
    assert main([*common, "--out", str(tmp_path / "card")]) == 0
    authors = json.loads((tmp_path / "authors" / "results.json").read_text())
    card = json.loads((tmp_path / "card" / "results.json").read_text())
    assert authors["config"]["profile"] == authors["identity"]["profile"] == "authors"
    assert card["config"]["profile"] == card["identity"]["profile"] == "card"
    assert authors["config"]["press_scope"] == authors["identity"]["press_scope"] == "all"
    assert card["config"]["press_scope"] == "audio"
    assert run_id(authors["identity"]) != run_id(card["identity"])
    proc = authors["config"]["procedure"]
    assert proc["follows"] == "Qwen2.5-Omni" and proc["tasks"]["TAU"]["system"] == QWEN["TAU"].system
    assert proc["tasks"]["TAU"]["source"] == "src/Qwen_2.5_Omni/Others/TAU_qwen2.5.py"
    assert authors["config"]["decoding"]["max_new_tokens"] == {"TAU": 5}
    # An explicit --press-scope wins over the profile's.
    assert main([*common, "--out", str(tmp_path / "explicit"), "--profile", "authors", "--press-scope", "audio"]) == 0
    assert json.loads((tmp_path / "explicit" / "results.json").read_text())["config"]["press_scope"] == "audio"


def test_runs_from_before_profiles_keep_their_run_id():
    """A results.json without a profile hashes as it did before profiles existed (the value below was
    computed by the run_identity module of the commit before them); any profile changes the id."""
    from audiomarathon.run_identity import run_id, run_identity

    old = {"model": "Qwen/Qwen2-Audio-7B-Instruct", "method": "fastv", "ratio": 0.5, "layer": 2, "seed": 0,
           "press_scope": "audio", "dtype": "bf16", "max_new_tokens": None}
    assert run_id(run_identity(old, "sha256:a")) == PRE_PROFILE_RUN_ID
    assert run_id(run_identity({**old, "profile": "card"}, "sha256:a")) != PRE_PROFILE_RUN_ID


PRE_PROFILE_RUN_ID = "rid:bd249c24d9065aff8e33"
