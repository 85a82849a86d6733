"""import-release and build into a folder that already holds things: only what the command writes
is replaced (the shards of the configs it writes, the card, the version file, its report); other
configs, notes, run folders and the input stay. An output folder that is or holds the input is
refused. A commit that fails or is killed midway leaves the folder as it was.

Everything runs on real folders through the real command line (the installed entry point).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dataset_version
from test_hostile_data import _as_plain_user, modes_apply  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "audiomarathon")
SHORT = ["--min-duration", "8", "--max-duration", "16"]


def _cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args, "--no-progress"], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _card(folder: Path) -> dict:
    return yaml.safe_load((folder / "README.md").read_text().split("---\n", 2)[1])


def _configs(folder: Path) -> list[str]:
    return [c["config_name"] for c in _card(folder)["configs"]]


def _own_files(folder: Path) -> dict[str, bytes]:
    """What the user put there: all but the card, the version file, the reports and the shards."""
    from audiomarathon.tasks import TASKS

    shard = re.compile(rf"({'|'.join(t.name for t in TASKS)})/test-\d{{5}}-of-\d{{5}}\.parquet")
    return {rel: data for rel, data in _tree(folder).items()
            if not shard.fullmatch(rel) and rel not in ("README.md", "audiomarathon.json", "import_report.json",
                                                         "build_report.json")}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    return write_synthetic_release(tmp_path_factory.mktemp("rel") / "release", per_task=2, seed=5,
                                   tasks=["TAU", "GTZAN", "HAD", "VESUS"])


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

    return write_synthetic_sources(tmp_path_factory.mktemp("src") / "sources", seed=0, groups=3, speech=False,
                                   corpora=["gtzan", "had"])


def _populated(tmp_path: Path, release: Path) -> Path:
    """ds/ as a user keeps it: a dataset of TAU and GTZAN, notes, run folders, a note inside a
    config folder."""
    ds = tmp_path / "ds"
    done = _cli("import-release", str(release), "--out", str(ds), "--tasks", "TAU,GTZAN", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (ds / "NOTES.md").write_text("what I did\n")
    (ds / "runs" / "qwen").mkdir(parents=True)
    (ds / "runs" / "qwen" / "predictions.jsonl").write_text('{"id": "TAU-00000"}\n')
    (ds / "TAU" / "where-from.txt").write_text("the 2025 release\n")
    return ds


def test_partial_import_adds_and_replaces_its_configs_and_keeps_everything_else(release, tmp_path):
    ds = _populated(tmp_path, release)
    mine, gtzan = _own_files(ds), {k: v for k, v in _tree(ds).items() if k.startswith("GTZAN/")}
    proc = _cli("import-release", str(release), "--out", str(ds), "--tasks", "HAD,TAU", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ("kept as they were (already in the output folder, not rewritten): GTZAN; the card lists every config "
            "present") in proc.stdout.splitlines()
    assert _own_files(ds) == mine  # notes, runs/, the note inside TAU/
    assert {k: v for k, v in _tree(ds).items() if k.startswith("GTZAN/")} == gtzan  # not rewritten
    assert _configs(ds) == ["TAU", "GTZAN", "HAD", "all", "ASC", "MC", "SD"]
    # the card's counts and the version cover every config present, computed here from the shards
    infos = {i["config_name"]: i["splits"][0]["num_examples"] for i in _card(ds)["dataset_info"]}
    assert infos["all"] == 6 and infos["GTZAN"] == 2
    version = json.loads((ds / "audiomarathon.json").read_text())["fingerprint"]
    assert version == dataset_version.fingerprint(dataset_version.rows(ds))
    report = json.loads((ds / "import_report.json").read_text())
    assert sorted(report["counts"]) == ["GTZAN", "HAD", "TAU"] and report["kept_from_earlier"] == ["GTZAN"]
    assert report["summary"] == "6 of 6 records written across 3 task(s); no problems"
    assert [s["task"] for s in report["sources"]] == ["GTZAN", "TAU", "HAD"]

    import datasets

    rows = datasets.load_dataset(str(ds), "all", split="test")
    assert sorted(rows["task"]) == ["GTZAN"] * 2 + ["HAD"] * 2 + ["TAU"] * 2


def test_partial_build_into_an_imported_folder_keeps_the_other_configs(release, sources, tmp_path):
    ds = _populated(tmp_path, release)
    mine, imported = _own_files(ds), json.loads((ds / "import_report.json").read_text())
    tau = {k: v for k, v in _tree(ds).items() if k.startswith("TAU/")}
    proc = _cli("build", "--sources", str(sources), "--out", str(ds), "--tasks", "HAD,MC", *SHORT, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _own_files(ds) == mine
    assert {k: v for k, v in _tree(ds).items() if k.startswith("TAU/")} == tau
    assert _configs(ds) == ["TAU", "GTZAN", "HAD", "all", "ASC", "MC", "SD"]
    assert json.loads((ds / "audiomarathon.json").read_text())["fingerprint"] == \
        dataset_version.fingerprint(dataset_version.rows(ds))
    built = json.loads((ds / "build_report.json").read_text())
    assert sorted(built["counts"]) == ["GTZAN", "HAD"] and built["kept_from_earlier"] == ["TAU"]
    # the import report no longer speaks for GTZAN, which the build rewrote; TAU's entries stay
    now = json.loads((ds / "import_report.json").read_text())
    assert sorted(now["counts"]) == ["TAU"] and now["rewritten_later"] == ["GTZAN"]
    assert now["counts"]["TAU"] == imported["counts"]["TAU"]
    assert [s["task"] for s in now["sources"]] == ["TAU"]


@pytest.mark.parametrize("layout", ["inside", "same"])
def test_an_output_folder_that_is_or_holds_the_input_is_refused(release, sources, tmp_path, layout):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(release, ds / "release")
    shutil.copytree(sources, ds / "sources")
    (ds / "NOTES.md").write_text("mine\n")
    before = _tree(ds)
    cases = {"inside": [("import-release", str(ds / "release"), "--out", str(ds)),
                        ("build", "--sources", str(ds / "sources"), "--out", str(ds), "--tasks", "HAD", *SHORT)],
             "same": [("import-release", str(ds / "release"), "--out", str(ds / "release")),
                      ("build", "--sources", str(ds / "sources"), "--out", str(ds / "sources"), "--tasks", "HAD",
                       *SHORT)]}
    for args in cases[layout]:
        proc = _cli(*args, cwd=tmp_path)
        src = Path(args[1] if args[0] == "import-release" else args[2])
        out = ds if layout == "inside" else src
        relation = "holds" if layout == "inside" else "is"
        assert proc.returncode == 1 and proc.stderr == (
            f"audiomarathon {args[0]}: error: output folder {out} {relation} the input {src}; choose an output "
            "folder outside it (nothing was written)\n")
    assert _tree(ds) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folder either


def test_a_commit_that_fails_midway_puts_everything_back(modes_apply, release, tmp_path):  # noqa: F811
    """Moving TAU's old shard out fails (its folder made read-only) after the card and the
    version file were already moved aside: every move is undone, the folder is as it was."""
    ds = _populated(tmp_path, release)
    before = _tree(ds)
    (ds / "TAU").chmod(0o555)
    try:
        proc = _cli("import-release", str(release), "--out", str(ds), "--tasks", "TAU,HAD", cwd=tmp_path,
                    preexec_fn=_as_plain_user)
    finally:
        (ds / "TAU").chmod(0o755)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"audiomarathon import-release: error: cannot write the dataset to {ds}: "
                                  "Permission denied")
    assert _tree(ds) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


@pytest.mark.parametrize("moved_in", [0, 2])
def test_a_commit_killed_midway_is_undone_by_the_next_writer(release, tmp_path, moved_in):
    """The process is killed (SIGKILL) right after its ``moved_in``-th file lands in OUT (0: while
    the replaced files are being moved aside). The next writer of that folder finds the dead
    commit's plan and puts the folder back as it was before, byte for byte."""
    ds = _populated(tmp_path, release)
    before = _tree(ds)
    child = f"""
import os, pathlib, signal
from audiomarathon_dataset.release import import_release
out, moved = {str(ds)!r}, [0]
real = pathlib.Path.rename
def rename(self, target):
    done = real(self, target)
    into_out = str(target).startswith(out + os.sep)
    if into_out or ({moved_in} == 0 and str(self).startswith(out + os.sep)):
        moved[0] += 1
        if moved[0] == max({moved_in}, 2):
            os.kill(os.getpid(), signal.SIGKILL)
    return done
pathlib.Path.rename = rename
import_release({str(release)!r}, out, tasks="TAU,HAD", progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _tree(ds) != before  # it really died halfway
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.old-")]

    from audiomarathon_dataset.writer import DatasetWriter

    with DatasetWriter(ds):  # a new writer of ds: recovers, then writes nothing
        pass
    assert _tree(ds) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_stale_shards_of_a_rewritten_config_go_and_a_folder_note_stays(tmp_path):
    """A config written in three shards, then rewritten in one: the two extra shards (which
    the data_files glob would still read) leave; a note in the config folder stays."""
    from audiomarathon.tasks import get_task
    from audiomarathon_dataset.writer import DatasetWriter, Row

    def rows(n: int, seconds: float):
        import numpy as np

        from audiomarathon_dataset.audio_io import encode_flac

        audio = encode_flac(np.zeros(int(seconds * 16000), dtype=np.float32))
        return [Row(id=f"GTZAN-{i:05d}", task="GTZAN", audio=audio, duration=seconds, question="q",
                    choices=["a", "b", "c", "d"], answer="A", answer_text="a", segments=[]) for i in range(n)]

    out = tmp_path / "ds"
    with DatasetWriter(out, rows_per_group=1, max_shard_bytes=1) as w:
        w.write_task(get_task("GTZAN"), rows(3, 1.0))
        w.commit()
    assert sorted(p.name for p in (out / "GTZAN").iterdir()) == [f"test-0000{i}-of-00003.parquet" for i in range(3)]
    (out / "GTZAN" / "note.txt").write_text("keep me")
    with DatasetWriter(out) as w:
        w.write_task(get_task("GTZAN"), rows(2, 2.0))
        w.commit()
    assert sorted(p.name for p in (out / "GTZAN").iterdir()) == ["note.txt", "test-00000-of-00001.parquet"]
    assert (out / "GTZAN" / "note.txt").read_text() == "keep me"

    import datasets

    assert datasets.load_dataset(str(out), "GTZAN", split="test")["duration"] == [2.0, 2.0]


def test_push_sends_the_dataset_and_not_the_files_kept_beside_it(release, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from audiomarathon_dataset.push import push_to_hub
    from hub_server import LocalHub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # this test talks only to its own server
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)
    ds = _populated(tmp_path, release)
    (ds / "settings.json").write_text('{"token": "not for the Hub"}')
    (ds / "runs" / "qwen" / "table.parquet").write_bytes(b"PAR1")
    mine = _own_files(ds)
    assert {"NOTES.md", "settings.json", "TAU/where-from.txt", "runs/qwen/table.parquet"} <= set(mine)
    with LocalHub() as hub:
        push_to_hub(ds, "org/am", endpoint=hub.endpoint, token="hf_test")
    uploaded = hub.state.files["org/am"]
    assert uploaded == {rel: data for rel, data in _tree(ds).items() if rel not in mine}
    assert sorted(uploaded) == ["GTZAN/test-00000-of-00001.parquet", "README.md", "TAU/test-00000-of-00001.parquet",
                                "audiomarathon.json", "import_report.json"]
