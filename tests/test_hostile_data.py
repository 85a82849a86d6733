"""Hostile input to import-release and build: unreadable files and folders, symlink loops,
non-UTF-8 transcripts, wrongly typed fields, implausible audio headers. Each is reported by
file and record, nothing else is lost, and no traceback reaches the user.

Unreadable files are made with chmod 000; as root (which ignores file modes) the command runs
without the two capabilities that let root read anything (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from audiomarathon_dataset.release import REPORT_NAME, import_release
from audiomarathon_dataset.synthetic_release import write_synthetic_release

ROOT = Path(__file__).resolve().parent.parent
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _as_plain_user() -> None:
    """In the child before exec: root loses the right to bypass file modes (exec drops the
    capabilities from the permitted set once they are out of the bounding set)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiomarathon", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_as_plain_user, timeout=300,
                          cwd=cwd)


@pytest.fixture(scope="module")
def modes_apply(tmp_path_factory) -> None:
    probe = tmp_path_factory.mktemp("probe") / "secret"
    probe.write_text("x")
    probe.chmod(0)
    try:
        readable = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"],
                                  preexec_fn=_as_plain_user, capture_output=True).returncode == 0
    except subprocess.SubprocessError:
        readable = True
    if readable:
        pytest.skip("file modes cannot be enforced here (root without CAP_SETPCAP)")


def _wav(path: Path, rate: int, n_bytes: int) -> None:
    data = b"\x00\x01" * (n_bytes // 2)
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data"
                     + struct.pack("<I", len(data)) + data)


def _report(out: Path) -> dict:
    return json.loads((out / REPORT_NAME).read_text())


def _issue(report: dict, kind: str, file: str) -> dict:
    found = [i for i in report["issues"] if i["kind"] == kind and i["file"] == file]
    assert len(found) == 1, report["issues"]
    return found[0]


def test_import_reports_every_hostile_file_and_keeps_the_rest(modes_apply, tmp_path):
    rel = write_synthetic_release(tmp_path / "rel", per_task=3, tasks=["TAU", "HAD", "LibriSpeech", "GTZAN"])
    (rel / "TAU" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # past json's recursion limit
    gtzan_meta = next((rel / "GTZAN").glob("*.json"))
    gtzan_meta.chmod(0)  # unreadable metadata
    libri = rel / "LibriSpeech" / "test-clean"
    own_txt = sorted(p for p in libri.rglob("*.txt") if not p.name.endswith(".trans.txt"))
    trans = sorted(libri.rglob("*.trans.txt"))
    assert own_txt and trans
    own_txt[0].chmod(0)  # an unreadable transcript
    trans[0].write_bytes(trans[0].read_bytes().replace(b"\n", b" caf\xe9\n", 1))  # Latin-1, not UTF-8
    (rel / "TAU" / "audio" / "tau_001.wav").chmod(0)  # unreadable audio
    (rel / "HAD" / "fake").chmod(0)  # the whole Fake class unreadable
    (rel / "HAD" / "real" / "loop_a.wav").symlink_to("loop_b.wav")  # a symlink loop
    (rel / "HAD" / "real" / "loop_b.wav").symlink_to("loop_a.wav")
    out = tmp_path / "out"
    try:
        proc = _cli("import-release", str(rel), str(out), "--no-progress")
    finally:
        for p in (own_txt[0], rel / "TAU" / "audio" / "tau_001.wav", rel / "HAD" / "fake", gtzan_meta):
            p.chmod(0o755)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    report = _report(out)
    assert "nested deeper than any metadata" in _issue(report, "malformed_json", "TAU/deep.json")["message"]
    assert "Permission denied" in _issue(report, "malformed_json", gtzan_meta.relative_to(rel).as_posix())["message"]
    assert "cannot be read: Permission denied" in _issue(report, "unreadable_audio", "TAU/tau_meta.json")["message"]
    assert "Permission denied" in _issue(report, "unreadable_file", own_txt[0].relative_to(rel).as_posix())["message"]
    assert "not UTF-8" in _issue(report, "unreadable_file", trans[0].relative_to(rel).as_posix())["message"]
    assert "Permission denied" in _issue(report, "unreadable_file", "HAD/fake")["message"]
    assert "the Fake class has no record" in _issue(report, "missing_class", "HAD/fake")["message"]
    loops = [i for i in report["issues"] if i["file"].startswith("HAD/real/loop_")]
    assert [(i["kind"], i["message"]) for i in loops] == [("unreadable_audio", "cannot be read: symbolic link loop")] * 2
    # nothing else is lost: the two other TAU records, HAD's real ones, the readable utterances
    assert report["counts"]["TAU"]["written"] == 2
    assert report["counts"]["HAD"]["written"] == len(list((rel / "HAD" / "real").glob("had_*.wav")))
    assert report["counts"]["LibriSpeech"]["written"] == 3 - 2
    assert "problem(s)" in proc.stdout and "no problems" not in proc.stdout


def test_wrongly_typed_fields_are_bad_records_not_text(tmp_path):
    rel = write_synthetic_release(tmp_path / "rel", per_task=3, tasks=["TAU", "DESED", "RACE"])
    tau = rel / "TAU" / "tau_meta.json"
    meta = json.loads(tau.read_text())
    items = meta["samples"] if isinstance(meta, dict) else meta
    items[0]["question"] = None
    items[1]["choice_b"] = {"x": 1}
    tau.write_text(json.dumps(meta))
    desed = rel / "DESED" / "desed_tasks.json"
    doc = json.loads(desed.read_text())
    doc["tasks"][0]["choices"]["B"] = ["a", "list"]
    desed.write_text(json.dumps(doc))
    race = rel / "RACE" / "race_audio_qa.json"
    qa = json.loads(race.read_text())
    qa[0]["options"][2] = None
    race.write_text(json.dumps(qa))
    import_release(rel, tmp_path / "out", progress=False)
    report = _report(tmp_path / "out")
    bad = {(i["file"], i["record"]): i["message"] for i in report["issues"] if i["kind"] == "bad_record"}
    assert bad == {
        ("TAU/tau_meta.json", "#0 (uniq_id=tau_000)"): "malformed record: field 'question' is null, not text",
        ("TAU/tau_meta.json", "#1 (uniq_id=tau_001)"): "malformed record: field 'choice_b' is a JSON object, not text",
        ("DESED/desed_tasks.json", "#0"): "malformed record: field 'B' is a JSON list, not text",
        ("RACE/race_audio_qa.json", "#0"): "malformed record: field 'options[2]' is null, not text",
    }
    import datasets

    written = datasets.load_dataset(str(tmp_path / "out"), "all", split="test")
    texts = [written["question"], *written["choices"]]
    assert not any(t in ("None", "{'x': 1}") for column in texts for t in (column if isinstance(column, list) else [column]))


def test_implausible_header_is_refused_before_decoding(tmp_path):
    """A 40 KB WAV declaring 1 Hz used to decode to 20,000 s at 16 kHz (2.6 GB of memory)."""
    rel = write_synthetic_release(tmp_path / "rel", per_task=3, tasks=["TAU"])
    _wav(rel / "TAU" / "audio" / "tau_001.wav", rate=1, n_bytes=40_000)
    # VmHWM is the peak of this process's own memory map; getrusage's ru_maxrss would also count the
    # (large) pytest parent that the child was vforked from.
    code = (f"from audiomarathon_dataset.release import import_release; "
            f"import_release({str(rel)!r}, {str(tmp_path / 'out')!r}, progress=False); "
            f"print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) < 1_000_000  # KiB: nowhere near the 2.6 GB of a decode
    issue = _issue(_report(tmp_path / "out"), "implausible_audio", "TAU/tau_meta.json")
    assert issue["record"] == "#1 (uniq_id=tau_001)" and "declares 1 Hz; refused before decoding" in issue["message"]
    assert _report(tmp_path / "out")["counts"]["TAU"]["written"] == 2


def test_build_reports_every_hostile_source_file_and_keeps_the_rest(modes_apply, tmp_path):
    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources

    src = write_synthetic_sources(tmp_path / "src", seed=0, groups=4, speech=False,
                                  corpora=["librispeech", "race", "gtzan", "had"])
    trans = sorted((src / "LibriSpeech").rglob("*.trans.txt"))[0]
    trans.write_bytes(trans.read_bytes() + b"caf\xe9\n")  # Latin-1, not UTF-8
    articles = sorted((src / "RACE" / "test").rglob("*.txt"))
    articles[0].write_text("[" * 100_000 + "]" * 100_000)  # past json's recursion limit
    articles[1].chmod(0)
    for article, (field, index) in ((articles[2], ("questions", 0)), (articles[3], ("options", 0))):
        typed = json.loads(article.read_text())  # the article's other question stays
        typed[field][index] = None if field == "questions" else [{"x": 1}, "b", "c", "d"]
        article.write_text(json.dumps(typed))
    genres = sorted(p for p in (src / "GTZAN" / "genres").iterdir())
    genres[0].chmod(0)  # a whole genre folder unreadable
    clip = sorted(genres[1].glob("*.wav"))[0]
    clip.chmod(0)  # one clip unreadable
    (genres[1] / "loop_a.wav").symlink_to("loop_b.wav")
    (genres[1] / "loop_b.wav").symlink_to("loop_a.wav")
    one_hz = genres[2] / f"{genres[2].name}.00099.wav"
    _wav(one_hz, rate=1, n_bytes=40_000)  # would resample to 20,000 s
    label = next((src / "HAD").rglob("*label*.txt"))
    label.chmod(0)
    out = tmp_path / "out"
    try:
        proc = _cli("build", "--sources", str(src), "--out", str(out), "--tasks", "ASR,SCR,MC,SD",
                    "--min-duration", "8", "--max-duration", "16", "--no-progress", "--no-speech-rendering")
    finally:
        for p in (articles[1], genres[0], clip, label):
            p.chmod(0o755)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "build_report.json").read_text())

    def issue(kind: str, path: Path) -> str:
        return _issue(report, kind, path.relative_to(src).as_posix())["message"]

    assert "not UTF-8 text" in issue("unreadable_file", trans)
    assert "nested deeper than any metadata" in issue("malformed_json", articles[0])
    assert "cannot be read: Permission denied" in issue("unreadable_file", articles[1])
    assert "Permission denied; genre skipped" in issue("unreadable_file", genres[0])
    assert "cannot be read: Permission denied" in issue("unreadable_audio", clip)
    assert "symbolic link loop" in issue("unreadable_audio", genres[1] / "loop_a.wav")
    assert "Permission denied" in issue("unreadable_file", label)
    assert "declares 1 Hz; refused before decoding" in issue("implausible_audio", one_hz)
    for article in articles[2:4]:
        assert "must be text" in _issue(report, "bad_record", article.relative_to(src).as_posix())["message"]
    # the rest is built: LibriSpeech's other chapter, the other RACE articles, the other genres
    for task in ("LibriSpeech", "RACE", "GTZAN"):
        assert report["counts"][task]["written"] >= 1, report["counts"]


def _silent_flac(path: Path, rate: int, channels: int, seconds: int) -> None:
    import numpy as np
    import soundfile as sf

    with sf.SoundFile(path, "w", rate, channels, format="FLAC", subtype="PCM_16") as f:
        second = np.zeros((rate, channels), dtype=np.int16)
        for _ in range(seconds):
            f.write(second)


def _declare_frames(path: Path, frames: int) -> None:
    """Rewrite the total-samples field of a FLAC STREAMINFO block (the low 36 bits of bytes
    18-25: 'fLaC', the 4-byte block header, then 10 bytes of block and frame sizes)."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    packed = int.from_bytes(data[18:26], "big")
    data[18:26] = ((packed & ~((1 << 36) - 1)) | frames).to_bytes(8, "big")
    path.write_bytes(data)


def _peak_kib(code: str) -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter; its own peak resident memory (VmHWM, KiB) and stdout."""
    code += ("\nprint(next(line.split()[1] for line in open('/proc/self/status') "
             "if line.startswith('VmHWM:')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    *lines, peak = proc.stdout.split("\n")[:-1]
    return int(peak), "\n".join(lines)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_many_channel_high_rate_flac_decodes_in_bounded_memory(tmp_path):
    """0.2 MB of silent 384 kHz 8-channel FLAC holds 60 s x 8 channels = 184 M samples: read
    whole as float32 that is 0.74 GB before the downmix (120 s of it peaked at 1.8 GB). Decoded
    in blocks, downmixed and resampled as it streams, only the 16 kHz mono result (3.8 MB) grows."""
    bomb = tmp_path / "bomb.flac"
    _silent_flac(bomb, 384_000, 8, 60)
    assert bomb.stat().st_size < 500_000
    peak, out = _peak_kib(f"from audiomarathon_dataset.audio_io import decode_file\n"
                          f"d = decode_file({str(bomb)!r})\n"
                          f"print(len(d.samples), d.source_rate, d.source_channels, float(abs(d.samples).max()))")
    assert out.split() == [str(60 * 16_000), "384000", "8", "0.0"]
    assert peak < 300_000, f"peak {peak} KiB"  # KiB; the interpreter and its libraries alone take ~60 MB


def test_header_declaring_too_many_samples_is_refused_before_decoding(tmp_path):
    """A 1 s file whose header declares 300 s x 8 channels at 384 kHz (922 M samples, past the
    bound of an hour of 96 kHz stereo, 691 M): refused from the header, nothing decoded."""
    from audiomarathon_dataset.audio_io import IMPLAUSIBLE, AudioError, decode_file

    path = tmp_path / "claims.flac"
    _silent_flac(path, 384_000, 8, 1)
    _declare_frames(path, 384_000 * 300)
    with pytest.raises(AudioError) as err:
        decode_file(str(path))
    assert err.value.kind == IMPLAUSIBLE
    assert err.value.message.startswith("the header declares 922 M samples (300 s x 8 channels at 384000 Hz); "
                                        "refused before decoding")
    # the same file declaring its true length (a second) decodes
    _declare_frames(path, 384_000)
    assert len(decode_file(str(path)).samples) == 16_000


@pytest.mark.parametrize("rate,channels", [(44_100, 2), (48_000, 6), (16_000, 1), (22_050, 3)])
def test_streamed_decode_equals_the_whole_signal_resampled_at_once(tmp_path, rate, channels):
    """Reference: the whole file read at once, the channel mean, soxr's one-shot HQ resampler."""
    import numpy as np
    import soundfile as sf
    import soxr

    from audiomarathon_dataset import audio_io

    rng = np.random.default_rng(rate + channels)
    frames = 3 * audio_io.BLOCK_SAMPLES // channels + 777  # several blocks and a ragged tail
    sf.write(tmp_path / "x.wav", (rng.uniform(-0.5, 0.5, (frames, channels))).astype(np.float32), rate,
             subtype="FLOAT")
    whole, _ = sf.read(tmp_path / "x.wav", dtype="float32", always_2d=True)
    reference = whole.mean(axis=1, dtype=np.float32)
    if rate != 16_000:
        reference = soxr.resample(reference, rate, 16_000, quality="HQ")
    got = audio_io.decode_file(str(tmp_path / "x.wav")).samples
    assert got.dtype == np.float32 and len(got) == len(reference)
    assert np.array_equal(got, reference)
