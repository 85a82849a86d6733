"""Archives in a release are extracted safely before discovery: the import of a release holding
archives equals the import of the same release unpacked by hand; hostile or broken archives are
refused naming them, never writing outside the extraction folder; sizes and counts are bounded.

Archives are made here with the standard library's own zipfile/tarfile/gzip writers (or their
raw headers, for the hostile ones); the commands run as real processes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from audiomarathon_dataset.release.archives import ArchiveError, Budget, Limits, extract

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "audiomarathon")


@pytest.fixture()
def tmpdir_env(tmp_path) -> dict:
    """The commands' temporary folder, to check that nothing is left in it."""
    (tmp_path / "tmp").mkdir()
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp")}


def _cli(env: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args, "--no-progress"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _zip_folder(folder: Path, archive: Path, base: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            z.write(p, p.relative_to(base).as_posix())


def _release(tmp_path: Path, name: str, tasks: list[str]) -> Path:
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    return write_synthetic_release(tmp_path / name, per_task=2, seed=7, tasks=tasks)


def test_a_folder_beside_a_zip_imports_both_as_if_unpacked_by_hand(tmp_path, tmpdir_env):
    unpacked = _release(tmp_path, "unpacked", ["TAU", "GTZAN"])
    shipped = tmp_path / "shipped"
    shutil.copytree(unpacked, shipped)
    _zip_folder(shipped / "GTZAN", shipped / "GTZAN.zip", shipped)
    shutil.rmtree(shipped / "GTZAN")
    before = _tree(shipped)
    assert _cli(tmpdir_env, "import-release", str(unpacked), "--out", "by_hand", cwd=tmp_path).returncode == 0
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "from_zip", "--strict", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("extracted GTZAN.zip: 3 file(s), ")
    assert "GTZAN <- GTZAN/gtzan_meta.json (label field): 2 record(s)" in lines
    assert "4 of 4 records written across 2 task(s); no problems" in lines
    ours, reference = _tree(tmp_path / "from_zip"), _tree(tmp_path / "by_hand")
    report = json.loads(ours.pop("import_report.json"))
    del reference["import_report.json"]
    assert ours == reference  # every shard, the card and the version, byte for byte
    assert report["archives"] == [{"path": "GTZAN.zip", "files": 3,
                                   "bytes": sum(len(v) for k, v in _tree(unpacked / "GTZAN").items())}]
    assert _tree(shipped) == before  # nothing written beside the user's files
    assert os.listdir(tmp_path / "tmp") == []  # the extraction folder is gone


def test_a_release_that_is_one_archive_imports(tmp_path, tmpdir_env):
    unpacked = _release(tmp_path / "ref", "AudioMarathon", ["HAD", "VESUS", "TAU"])
    with tarfile.open(tmp_path / "AudioMarathon.tar.gz", "w:gz") as tar:
        tar.add(unpacked, arcname="AudioMarathon")
    assert _cli(tmpdir_env, "import-release", str(tmp_path / "ref"), "--out", "by_hand", cwd=tmp_path).returncode == 0
    proc = _cli(tmpdir_env, "import-release", "AudioMarathon.tar.gz", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = _tree(tmp_path / "out")
    report = json.loads(got.pop("import_report.json"))
    reference = _tree(tmp_path / "by_hand")
    del reference["import_report.json"]
    assert got == reference
    assert [s["path"] for s in report["sources"]] == ["AudioMarathon/TAU/tau_meta.json",
                                                       "AudioMarathon/VESUS/vesus_meta.json", "AudioMarathon/HAD"]
    assert os.listdir(tmp_path / "tmp") == []


def test_audio_shipped_as_a_tarball_beside_its_metadata(tmp_path, tmpdir_env):
    """The MMAR way: metadata listing audio/<id>.wav beside a tarball holding audio/<id>.wav."""
    unpacked = _release(tmp_path, "unpacked", ["TAU"])
    shipped = tmp_path / "shipped"
    shutil.copytree(unpacked, shipped)
    with tarfile.open(shipped / "TAU" / "tau-audio.tar.gz", "w:gz") as tar:
        tar.add(shipped / "TAU" / "audio", arcname="audio")
    shutil.rmtree(shipped / "TAU" / "audio")
    assert _cli(tmpdir_env, "import-release", str(unpacked), "--out", "by_hand", cwd=tmp_path).returncode == 0
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "from_tar", "--strict", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got, reference = _tree(tmp_path / "from_tar"), _tree(tmp_path / "by_hand")
    assert got.pop("TAU/test-00000-of-00001.parquet") == reference.pop("TAU/test-00000-of-00001.parquet")


def test_extract_is_reusable_on_an_mmar_audio_tarball(tmp_path):
    clips = {f"audio/mmar_{i:04d}.wav": os.urandom(1000 + i) for i in range(4)}
    with tarfile.open(tmp_path / "mmar-audio.tar.gz", "w:gz") as tar:
        for name, data in clips.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "out").mkdir()
    result = extract(tmp_path / "mmar-audio.tar.gz", tmp_path / "out", name="mmar-audio.tar.gz")
    assert _tree(tmp_path / "out") == clips
    assert (result.archive, result.files, result.bytes, result.skipped) == \
        ("mmar-audio.tar.gz", 4, sum(map(len, clips.values())), [])


def _tar_with(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] = {}) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
            tar.addfile(info, io.BytesIO(body) if body is not None else None)


def _info(name: str, kind=tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize("member", ["../../escaped.txt", "/tmp/escaped.txt", "audio/../../escaped.txt",
                                    "..\\..\\escaped.txt"])
def test_a_member_leading_outside_stops_the_archive_and_nothing_escapes(tmp_path, tmpdir_env, member):
    shipped = _release(tmp_path, "rel", ["TAU"])
    with zipfile.ZipFile(shipped / "extra.zip", "w") as z:
        z.writestr("fine.txt", "ok")
        z.writestr(zipfile.ZipInfo(member), "owned")
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    expected = "names an absolute path" if member.startswith("/") else "leads outside the extraction folder"
    assert proc.stderr.splitlines() == [
        f"audiomarathon import-release: error: extra.zip: member {member!r} {expected}; refused, the archive was "
        "not used", "nothing was imported"]
    assert not list(tmp_path.rglob("escaped.txt")) and not Path("/tmp/escaped.txt").exists()
    assert not (tmp_path / "out").exists() and os.listdir(tmp_path / "tmp") == []


def test_links_devices_and_fifos_are_not_extracted_and_are_reported(tmp_path, tmpdir_env):
    shipped = _release(tmp_path, "rel", ["TAU"])
    _tar_with(shipped / "extra.tar.gz",
              [_info("docs/readme.txt"), _info("docs/passwd", tarfile.SYMTYPE, "/etc/passwd"),
               _info("docs/hard", tarfile.LNKTYPE, "../../../etc/passwd"), _info("docs/fifo", tarfile.FIFOTYPE),
               _info("docs/tty", tarfile.CHRTYPE)],
              {"docs/readme.txt": b"hello"})
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out" / "import_report.json").read_text())
    skipped = {i["record"]: i["message"] for i in report["issues"] if i["kind"] == "archive_member_skipped"}
    assert skipped == {"docs/passwd": "a link to '/etc/passwd'; links are not extracted",
                       "docs/hard": "a link to '../../../etc/passwd'; links are not extracted",
                       "docs/fifo": "not a regular file (device or FIFO); not extracted",
                       "docs/tty": "not a regular file (device or FIFO); not extracted"}
    assert {i["file"] for i in report["issues"]} == {"extra.tar.gz"}
    assert report["archives"] == [{"path": "extra.tar.gz", "files": 1, "bytes": 5}]
    strict = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out2", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and "archive_member_skipped" in strict.stderr


def _cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _truncations(folder: Path) -> list[tuple[str, callable]]:
    """(archive name, how it is made broken) for each way an archive arrives cut short."""
    def tgz_half(p):
        with tarfile.open(p, "w:gz") as tar:
            tar.add(folder, arcname="GTZAN")
        _cut(p, p.stat().st_size // 2)

    def tgz_trailer(p):  # members complete, the gzip trailer (checksum) gone
        with tarfile.open(p, "w:gz") as tar:
            tar.add(folder, arcname="GTZAN")
        _cut(p, p.stat().st_size - 6)

    def tar_between_members(p):  # a plain tar cut right after a member: tarfile alone would not notice
        with tarfile.open(p, "w") as tar:
            tar.add(folder, arcname="GTZAN")
        with tarfile.open(p) as tar:
            last = tar.getmembers()[-1]
        _cut(p, last.offset_data + (last.size + 511) // 512 * 512)

    def zip_half(p):
        _zip_folder(folder, p, folder.parent)
        _cut(p, p.stat().st_size // 2)

    def gz_half(p):
        p.write_bytes(gzip.compress(os.urandom(200_000))[:50_000])

    return [("GTZAN.tar.gz", tgz_half), ("GTZAN.tgz", tgz_trailer), ("GTZAN.tar", tar_between_members),
            ("GTZAN.zip", zip_half), ("notes.txt.gz", gz_half)]


def test_a_truncated_archive_is_one_clear_error_naming_it(tmp_path, tmpdir_env):
    base = _release(tmp_path, "base", ["TAU", "GTZAN"])
    for name, make in _truncations(base / "GTZAN"):
        shipped = tmp_path / f"rel-{name}"
        shutil.copytree(base, shipped, ignore=shutil.ignore_patterns("GTZAN"))
        make(shipped / name)
        proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", f"out-{name}", cwd=tmp_path)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, (name, proc.stderr)
        first, second = proc.stderr.splitlines()
        assert first.startswith(f"audiomarathon import-release: error: {name}: truncated"), (name, first)
        assert second == "nothing was imported"
        assert not (tmp_path / f"out-{name}").exists() and os.listdir(tmp_path / "tmp") == []


def test_total_size_and_member_count_are_bounded(tmp_path):
    (tmp_path / "out").mkdir()
    # a gzip bomb: 1 GB of zeros in about 1 MB; the budget stops it after 10 MB written
    bomb = tmp_path / "zeros.bin.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        block = bytes(1 << 20)
        for _ in range(1024):
            f.write(block)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(ArchiveError, match=r"^zeros.bin.gz: the release's archives hold more than 10.0 MB; refused"):
        extract(bomb, tmp_path / "out", Budget(Limits(max_bytes=10 * 1024 ** 2)), name="zeros.bin.gz")
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()) <= 11 * 1024 ** 2
    # the disk's free space bounds it too, and says where to make room
    (tmp_path / "out2").mkdir()
    with pytest.raises(ArchiveError, match=r"needs more than the 5.0 MB free in the temporary folder; set TMPDIR"):
        extract(bomb, tmp_path / "out2", Budget(free_bytes=5 * 1024 ** 2), name="zeros.bin.gz")
    # member count: a zip's declared count is refused before its directory is loaded; a tar's as it streams
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(50):
            z.writestr(f"f{i}.txt", "x")
    (tmp_path / "o3").mkdir()
    with pytest.raises(ArchiveError, match=r"^many.zip: declares 50 members, more than the release's archives may "
                                           r"hold \(20\)"):
        extract(many, tmp_path / "o3", Budget(Limits(max_members=20)), name="many.zip")
    assert not list((tmp_path / "o3").iterdir())
    _tar_with(tmp_path / "many.tar.gz", [_info(f"f{i}.txt") for i in range(50)], {f"f{i}.txt": b"x" for i in range(50)})
    (tmp_path / "o4").mkdir()
    with pytest.raises(ArchiveError, match=r"^many.tar.gz: more than 20 members in the release's archives"):
        extract(tmp_path / "many.tar.gz", tmp_path / "o4", Budget(Limits(max_members=20)), name="many.tar.gz")
    assert len(list((tmp_path / "o4").iterdir())) == 20


def test_an_archive_beside_its_unpacked_copy_and_one_that_contradicts_the_release(tmp_path, tmpdir_env):
    shipped = _release(tmp_path, "rel", ["TAU", "GTZAN"])
    _zip_folder(shipped / "GTZAN", shipped / "GTZAN.zip", shipped)  # the archive and its unpacked copy
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out", "--strict", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "GTZAN <- GTZAN/gtzan_meta.json (label field): 2 record(s)" in proc.stdout  # one source, not two
    meta = next((shipped / "GTZAN").glob("*.json"))
    meta.write_text(meta.read_text().replace("What", "Which"))  # now the copy differs from the archive
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out2", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"audiomarathon import-release: error: GTZAN.zip: member "
                                  f"'GTZAN/{meta.name}' would replace GTZAN/{meta.name}, which the release already "
                                  "holds with other content")


def test_archives_not_read_are_reported_by_name(tmp_path, tmpdir_env):
    shipped = _release(tmp_path, "rel", ["TAU"])
    (shipped / "extras.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(30))
    with zipfile.ZipFile(shipped / "bundle.zip", "w") as z:
        z.writestr("inner/more.tar.gz", gzip.compress(b"x"))
    proc = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out" / "import_report.json").read_text())
    assert {(i["file"], i["message"]) for i in report["issues"] if i["kind"] == "archive_not_read"} == {
        ("extras.7z", ".7z archives are not read; extract it and import the folder"),
        ("bundle.zip: inner/more.tar.gz", "an archive inside an archive is not extracted; extract it and import the "
                                          "folder")}
    strict = _cli(tmpdir_env, "import-release", str(shipped), "--out", "out2", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and "extras.7z" in strict.stderr and "bundle.zip" in strict.stderr


def test_reports_name_the_files_of_a_release_read_through_its_archives_as_the_release_does(tmp_path, tmpdir_env):
    """Files beside an archive are read through links in the extraction folder: a problem with one
    is reported under its name in the release, as for the release unpacked by hand."""
    unpacked = _release(tmp_path, "unpacked", ["TAU", "HAD", "LibriSpeech"])
    (unpacked / "HAD" / "real" / "had_empty.wav").write_bytes(b"")
    chapter = next(p.parent for p in sorted((unpacked / "LibriSpeech").rglob("*.trans.txt")))
    shutil.copy(next(chapter.glob("*.flac")), chapter / "untranscribed.flac")
    shipped = tmp_path / "shipped"
    shutil.copytree(unpacked, shipped)
    _zip_folder(shipped / "TAU", shipped / "TAU.zip", shipped)
    shutil.rmtree(shipped / "TAU")
    assert _cli(tmpdir_env, "import-release", str(unpacked), "--out", "by_hand", cwd=tmp_path).returncode == 0
    assert _cli(tmpdir_env, "import-release", str(shipped), "--out", "from_zip", cwd=tmp_path).returncode == 0
    issues = [json.loads((tmp_path / out / "import_report.json").read_text())["issues"] for out in ("by_hand", "from_zip")]
    named = {(i["kind"], i["file"]) for i in issues[1]}
    assert ("empty_audio", "HAD/real/had_empty.wav") in named
    assert ("bad_record", (chapter / "untranscribed.flac").relative_to(unpacked).as_posix()) in named
    assert issues[1] == issues[0]
