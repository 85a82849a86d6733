"""One run, many spellings: every spelling of the same settings is one run identity, in the runner
(a re-run into the same folder resumes instead of redoing every sample) and on the leaderboard (a
re-submission under another spelling is refused as the entry already there).

The canonical forms are typed out here as the rules say them, not read from the code under test:
``fp32`` for ``float32``, no revision for ``main``, no control for ``none``, no cap for a cap at or
above every task's reply cap, and model names compared after NFKC, with invisible characters
removed and Cyrillic/Greek look-alikes read as the Latin letters they imitate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiomarathon.cli import main
from audiomarathon.records import read_predictions, read_results
from audiomarathon.run_identity import display_model_name, normalize_model_name, run_id, run_identity
from audiomarathon.tasks import TASKS


BASE = {"model": "Org/Tiny-Audio-2B", "method": "none", "ratio": 0.0, "dtype": "fp32", "max_new_tokens": None,
        "profile": "card"}

# Each spelling the issue lists, and more of the same kind: all are BASE.
SAME = {
    "dtype float32": {"dtype": "float32"},
    "dtype FP32": {"dtype": "FP32"},
    "revision main": {"revision": "main"},
    "revision ' main '": {"revision": " main "},
    "audio_control none": {"audio_control": "none"},
    "audio_control None": {"audio_control": "None"},
    "audio_control ''": {"audio_control": ""},
    "cap at the largest task cap": {"max_new_tokens": 1100},  # LibriSpeech's transcript cap
    "cap above it": {"max_new_tokens": 4096},
    "Cyrillic a": {"model": "Org/Tiny-\u0410udio-2B"},  # CYRILLIC CAPITAL LETTER A
    "Cyrillic small a, o": {"model": "\u041erg/Tiny-\u0430udi\u043e-2B"},
    "Greek capitals": {"model": "Org/Tiny-\u0391udi\u039f-2\u0392"},  # ALPHA, OMICRON, BETA
    "trailing zero-width space": {"model": "Org/Tiny-Audio-2B\u200b"},
    "zero-width joiner inside": {"model": "Org/Tiny-Au\u200ddio-2B"},
    "byte order mark first": {"model": "\ufeffOrg/Tiny-Audio-2B"},
    "soft hyphen": {"model": "Org/Tiny-Au\u00addio-2B"},
    "fullwidth letters": {"model": "\uff2frg/Tiny-Audio-2B"},  # FULLWIDTH LATIN CAPITAL LETTER O
    "trailing /.": {"model": "Org/Tiny-Audio-2B/."},
    "trailing slashes": {"model": "Org/Tiny-Audio-2B//"},
    "no-break space around": {"model": "\u00a0Org/Tiny-Audio-2B\u00a0"},
    "case": {"model": "org/TINY-audio-2b"},
}

# Truly different runs must stay different.
DIFFERENT = {
    "another model": {"model": "Org/Tiny-Audio-3B"},
    "a Cyrillic letter with no Latin look-alike": {"model": "Org/Tiny-\u0414udio-2B"},  # CYRILLIC DE
    "bf16": {"dtype": "bf16"},
    "auto dtype": {"dtype": "auto"},
    "a branch other than main": {"revision": "dev"},
    "noise control": {"audio_control": "noise", "seed": 0},
    "a cap below the largest task cap": {"max_new_tokens": 1099},
    "the MCQ cap": {"max_new_tokens": 128},
}


def _rid(change: dict) -> str:
    return run_id(run_identity({**BASE, **change}, "sha256:a"))


@pytest.mark.parametrize("name", sorted(SAME))
def test_each_spelling_is_one_identity(name):
    assert _rid(SAME[name]) == _rid({})


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_different_settings_stay_different(name):
    assert _rid(DIFFERENT[name]) != _rid({})


def test_the_canonical_values_are_shown_in_the_identity():
    identity = run_identity({**BASE, "model": "Org/Tiny-\u0410udio-2B\u200b/.", "dtype": "float32",
                             "revision": "main", "audio_control": "none", "max_new_tokens": 2000}, "sha256:a")
    assert identity["model"] == "org/tiny-audio-2b"
    assert identity["dtype"] == "fp32" and identity["revision"] is None and identity["audio_control"] is None
    assert identity["decoding"]["max_new_tokens"] is None
    assert run_identity(identity, "sha256:a") == identity  # read back from results.json: itself


def test_local_folders_by_their_own_name_however_spelled():
    for spelling in ("/data/models/Tiny-Audio-1B", "/data/models/Tiny-Audio-1B/.", "/data/models/x/../Tiny-Audio-1B/",
                     "./Tiny-Audio-1B", "~/models/Tiny-Audio-1B", "C:\\models\\Tiny-Audio-1B"):
        assert normalize_model_name(spelling) == "tiny-audio-1b", spelling
    # A revision means nothing to a local folder (loading a folder reads no revision).
    local = {**BASE, "model": "/data/models/Tiny-Audio-1B"}
    assert run_id(run_identity({**local, "revision": "abc"}, "x")) == run_id(run_identity(local, "x"))
    # On the Hub it does; a 40-digit commit is case-blind.
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert _rid({"revision": sha.upper()}) == _rid({"revision": sha}) != _rid({})


def test_the_cap_ceiling_bounds_every_profile_and_family():
    """A cap equals no cap only if it caps nothing: no task, under any profile and family, has a
    larger reply cap than the largest of the registry (LibriSpeech's 1100 tokens)."""
    from audiomarathon_runner.profiles import PROFILES, family_named, family_names

    assert max(t.max_new_tokens for t in TASKS) == 1100
    for profile in PROFILES.values():
        for family in [None, *family_names()]:
            for task in TASKS:
                assert profile.max_new_tokens(family_named(family), task) <= 1100, (profile, family, task.name)
                assert profile.max_new_tokens(family_named(family), task, 1100) == \
                    profile.max_new_tokens(family_named(family), task)


def test_dtype_names_agree_with_the_adapters():
    """The identity's dtype table and the adapters' (what loads the model) name the same dtypes."""
    from audiomarathon.run_identity import DTYPE_ALIASES
    from audiomarathon_runner.adapters import DTYPES

    assert set(DTYPE_ALIASES) == set(DTYPES)
    for alias, canonical in DTYPE_ALIASES.items():
        assert DTYPES[alias] == DTYPES[canonical]


# Run ids of the commit before canonical identities (computed by its run_identity module): a run
# whose settings were already canonical keeps its id, so its folder resumes and its entry stays.
OLD_RUN_IDS = {
    "rid:48b9ab2aaf5c765e11ef": {"model": "Qwen/Qwen2-Audio-7B-Instruct", "method": "none", "ratio": 0.0,
                                 "dtype": "bf16", "max_new_tokens": None, "profile": "card"},
    "rid:05b55d4010f5af8bec6a": {"model": "/data/models/Qwen2.5-Omni-7B/", "method": "fastv", "ratio": 0.5,
                                 "layer": 2, "seed": 0, "press_scope": "audio", "dtype": "bf16",
                                 "max_new_tokens": None, "profile": "card"},
    "rid:88c1e4c259050d249686": {"model": "gpt-4o-audio-preview", "method": "none", "ratio": 0.0, "dtype": "bf16",
                                 "max_new_tokens": None, "profile": "card",
                                 "backend": {"kind": "openai-chat", "audio_format": "wav",
                                             "max_tokens_field": "max_tokens", "family": None,
                                             "on_too_long": "refuse"}},
}


@pytest.mark.parametrize("old", sorted(OLD_RUN_IDS))
def test_canonical_settings_keep_their_old_run_id(old):
    assert run_id(run_identity(OLD_RUN_IDS[old], "sha256:a")) == old


# ------------------------------------------------------------------ the runner
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from audiomarathon_runner.tiny import save_tiny_model

    return save_tiny_model("qwen2_audio", tmp_path_factory.mktemp("spell") / "models" / "tiny")


def _run(model, data, out, *extra) -> int:
    return main(["run", "--model", str(model), "--data", str(data), "--out", str(out), "--tasks", "TAU", "--limit",
                 "2", "--max-new-tokens", "2", "--device", "cpu", "--no-progress", *map(str, extra)])


def test_a_local_folder_is_one_model_however_spelled(tiny_model, imported_dataset, tmp_path, monkeypatch):
    """--model models/tiny (relative, shaped like a Hub id), its absolute path and other spellings
    of the folder, and --dtype float32 after fp32: one run, resumed with nothing to do."""
    monkeypatch.chdir(tiny_model.parent.parent)
    out = tmp_path / "run"
    assert _run("models/tiny", imported_dataset, out, "--dtype", "fp32") == 0
    before = (out / "predictions.jsonl").read_bytes()
    first = read_results(out / "results.json")
    assert first["config"]["model"] == str(tiny_model)  # recorded by its absolute path
    assert first["identity"]["model"] == "tiny"
    for model, dtype in ((tiny_model, "float32"), ("./models/tiny/.", "FP32"), ("models/tiny/", "fp32")):
        assert _run(model, imported_dataset, out, "--dtype", dtype) == 0
        assert (out / "predictions.jsonl").read_bytes() == before, (model, dtype)  # nothing re-run
        assert read_results(out / "results.json")["config"]["config_hash"] == first["config"]["config_hash"]
    assert len(read_predictions(out / "predictions.jsonl")) == 2


# ------------------------------------------------------------------ the leaderboard
def _edit(run: Path, **config) -> None:
    results = json.loads((run / "results.json").read_text())
    results["config"].update(config)
    (run / "results.json").write_text(json.dumps(results))


SPACE_SPELLINGS = {
    "dtype float32": {"dtype": "float32"},
    "revision main": {"revision": "main"},
    "audio_control none": {"audio_control": "none"},
    "cap at the largest task cap": {"max_new_tokens": 1100},
    "Cyrillic a": {"model": "Org/Tiny-\u0410udio-2B"},
    "trailing zero-width space": {"model": "Org/Tiny-Audio-2B\u200b"},
    "trailing /.": {"model": "Org/Tiny-Audio-2B/."},
}


@pytest.mark.parametrize("name", sorted(SPACE_SPELLINGS))
def test_space_refuses_a_resubmission_under_another_spelling(name, runner_runs, imported_dataset, tmp_path):
    from space.service import Service
    from space.store import VERIFIED
    from space.validation import SubmissionRejected

    run = runner_runs.make(tmp_path / "run", model="Org/Tiny-Audio-2B")
    # Stored as run without a cap (the registry's reply caps): the runner's run, settings as a
    # default run records them.
    _edit(run, max_new_tokens=None, dtype="fp32", revision=None, audio_control=None)
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], seed=False)
    service.submit(run / "predictions.jsonl", run / "results.json")
    _edit(run, **SPACE_SPELLINGS[name])
    with pytest.raises(SubmissionRejected, match="already on the leaderboard"):
        service.submit(run / "predictions.jsonl", run / "results.json")
    assert service.store.count(VERIFIED) == 1


@pytest.mark.parametrize("given, shown", [
    ("Qwen/Qwen2-Audio-7B-Instruct", "Qwen/Qwen2-Audio-7B-Instruct"),
    (" Qwen/Qwen2-Audio-7B-Instruct/ ", "Qwen/Qwen2-Audio-7B-Instruct"),
    ("/data/models/Qwen2-Audio-7B-Instruct/", "Qwen2-Audio-7B-Instruct"),
    ("~/models/Tiny-Audio-1B", "Tiny-Audio-1B"),
    ("./Tiny-Audio-1B/.", "Tiny-Audio-1B"),
    ("/Tiny-Audio-1B", "Tiny-Audio-1B"),
    ("C:\\models\\Tiny-Audio-1B", "Tiny-Audio-1B"),
    ("gpt-4o-audio-preview", "gpt-4o-audio-preview"),
    ("Tiny\u200b-Audio  1B", "Tiny-Audio 1B"),
])
def test_the_board_shows_a_model_by_the_identitys_rule_keeping_its_case(given, shown):
    """The leaderboard's name for a model follows the identity's rule (a Hub id as org/name, a local
    folder by its own name, wherever it lies) without folding case; shown and given name one model."""
    assert display_model_name(given) == shown
    assert normalize_model_name(shown) == normalize_model_name(given)

