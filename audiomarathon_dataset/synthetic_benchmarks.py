"""Synthetic MMAR and AIR-Bench Foundation releases in their authors' exact layouts, for tests,
benchmarks and `make demo`; the same arguments always write the same bytes.

``write_synthetic_mmar(folder, n, seed)``: ``MMAR-meta.json`` (a JSON list, as on the Hub) or
``MMAR-meta.jsonl`` (the GitHub copy: rows with ``thinking``, ``cue`` and ``rubric``), audio at
``audio/<id>.wav`` or packed in ``mmar-audio.tar.gz``; options cycle through 2 to 6, and some
items hold an option pair of the same words in swapped order ("From near to far" / "From far to
near"), the pairs MMAR's bag-of-words rule cannot tell apart.

``write_synthetic_foundation(folder, n_per_folder, seed)``: ``Foundation/Foundation_meta.json``
and audio at ``Foundation/<task_name>_<dataset_name>/<path>`` for the 25 folders of the 19 tasks
(names from the registry), in WAV, FLAC and MP3; ``choice_c``/``choice_d`` are left out of some
records; ``Audio_Grounding``'s metadata lists ``.wav`` files shipped as ``.flac``; and
``Acoustic_Scene_Classification`` is the task name AudioMarathon's release also uses.

Full size: ``n=1000`` for MMAR, ``n_per_folder=1000`` for Foundation (25,000 items). Clips are
short (``seconds``, 0.5 s by default) so a full-size release takes little disk and time: the
importer's work per item is what is measured, not the audio length.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audiomarathon.benchmarks import get_benchmark

MMAR_META = "MMAR-meta.json"
MMAR_META_JSONL = "MMAR-meta.jsonl"
MMAR_TARBALL = "mmar-audio.tar.gz"
FOUNDATION_META = "Foundation/Foundation_meta.json"

# The release's vocabulary (modality, layer, sub-category), a subset of MMAR's.
MODALITIES = ("speech", "sound", "music", "mix-sound-speech", "mix-music-speech", "mix-sound-music",
              "mix-sound-music-speech")
LAYERS = {
    "Signal Layer": ("Acoustic Quality Analysis", "Spatial Analysis"),
    "Perception Layer": ("Counting and Statistics", "Temporal Analysis", "Correlation Analysis"),
    "Semantic Layer": ("Content Analysis", "Emotion and Intention"),
    "Cultural Layer": ("Professional Knowledge and Reasoning", "Imagination"),
}
# Option pairs with the same words in another order: MMAR's paper-mode rule credits either.
SWAPPED_PAIRS = (("From near to far", "From far to near"), ("Ratio is 3:1", "Ratio is 1:3"))
_WORDS = ("guitar", "piano", "rain", "crowd", "engine", "violin", "thunder", "laughter", "siren", "birds",
          "drums", "whistle", "footsteps", "applause", "wind", "bell")

# Per Foundation task: a question and an option pool (synthetic, in the release's style).
_FOUNDATION_QA = {
    "Speech_Grounding": ("Which word is spoken first?", ("hello", "world", "river", "stone", "light")),
    "Spoken_Language_Identification": ("What language is spoken?", ("English", "German", "French", "Spanish")),
    "Speaker_Gender_Recognition": ("What is the gender of the speaker?", ("male", "female")),
    "Speaker_Emotion_Recontion": ("What emotion does the speaker convey?", ("happy", "sad", "angry", "neutral")),
    "Speaker_Age_Prediction": ("Which age range do you believe best matches the speaker's voice?",
                               ("teens to twenties", "thirties to fourties", "fifties to sixties",
                                "seventies to eighties")),
    "Speech_Entity_Reconition": ("Which entity is mentioned?", ("Monday", "Paris", "coffee", "alarm")),
    "Speaker_Intent_Classification": ("What does the speaker want?", ("set an alarm", "play music",
                                                                      "check the weather", "order food")),
    "Speaker_Number_Verification": ("How many speakers are there?", ("1", "2", "3", "4")),
    "Synthesized_Voice_Detection": ("Is this voice real or synthesized?", ("real", "synthesized")),
    "Audio_Grounding": ("When does the dog bark?", ("[0.0, 1.2]", "[2.3, 4.0]", "[5.1, 6.6]", "[7.0, 9.9]")),
    "vocal_sound_classification": ("What vocal sound is this?", ("cough", "laughter", "sneeze", "sigh")),
    "Acoustic_Scene_Classification": ("What is the acoustic scene?", ("bus", "park", "restaurant", "street")),
    "Sound_AQA": ("What is making the sound?", ("a car", "a dog", "a bell", "the wind")),
    "Music_Instruments_Classfication": ("Which instrument is playing?", ("guitar", "piano", "flute", "violin")),
    "Music_Genre_Recognition": ("What is the genre of this music?", ("rock", "jazz", "pop", "classical")),
    "Music_Midi_Pitch_Analysis": ("What is the MIDI pitch of the note?", ("48", "60", "67", "72")),
    "Music_Midi_Velocity_Analysis": ("What is the MIDI velocity of the note?", ("25", "50", "75", "100")),
    "Music_AQA": ("Which instrument starts first?", ("guitar", "drums", "piano", "bass")),
    "Music_Mood_Recognition": ("What mood does the music convey?", ("calm", "energetic", "sad", "happy")),
}

RATE = 16_000


@dataclass(frozen=True)
class _Format:
    ext: str
    fmt: str
    subtype: str | None


_FORMATS = (_Format("wav", "WAV", "PCM_16"), _Format("flac", "FLAC", "PCM_16"), _Format("mp3", "MP3", None))
_POOL = 8  # distinct clips per format: files repeat them, so a full-size release writes quickly


def _clip(rng: np.random.Generator, seconds: float, k: int) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.sin(2 * np.pi * (220 + 55 * k) * t) * (0.2 + 0.05 * rng.random())
    return x.astype(np.float32)


def _clip_bytes(seed: int, seconds: float) -> dict[str, list[bytes]]:
    """_POOL encoded clips per format extension."""
    rng = np.random.default_rng(seed)
    pool: dict[str, list[bytes]] = {}
    for f in _FORMATS:
        pool[f.ext] = []
        for k in range(_POOL):
            buf = io.BytesIO()
            sf.write(buf, _clip(rng, seconds, k), RATE, format=f.fmt, subtype=f.subtype)
            pool[f.ext].append(buf.getvalue())
    return pool


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------- MMAR

def _mmar_choices(rng: np.random.Generator, i: int) -> list[str]:
    if i % 10 == 3:
        pair = list(SWAPPED_PAIRS[(i // 10) % len(SWAPPED_PAIRS)])
        return pair + (["From left to right"] if i % 20 == 3 else [])
    n = 2 + i % 5  # 2..6 options
    words = rng.choice(len(_WORDS), size=n, replace=False)
    return [f"The {_WORDS[w]}" for w in words]


def mmar_records(n: int, seed: int = 0, github: bool = False) -> list[dict]:
    """``n`` MMAR records in the release's field order; ``github``: with the GitHub copy's
    ``thinking``, ``cue`` and ``rubric`` fields."""
    rng = np.random.default_rng(seed)
    layers = list(LAYERS)
    records = []
    for i in range(n):
        vid = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"), size=11))
        start = int(rng.integers(0, 600))
        stamp = f"{start // 3600:02d}-{start // 60 % 60:02d}-{start % 60:02d}"
        end = start + 3 + int(rng.integers(0, 50))
        stamp_end = f"{end // 3600:02d}-{end // 60 % 60:02d}-{end % 60:02d}"
        ident = f"{vid}_{stamp}_{stamp_end}"
        choices = _mmar_choices(rng, i)
        layer = layers[i % len(layers)]
        record = {
            "id": ident,
            "audio_path": f"./audio/{ident}.wav",
            "question": f"Synthetic question {i}: what do you hear?",
            "choices": choices,
            "answer": choices[int(rng.integers(0, len(choices)))],
            "modality": MODALITIES[i % len(MODALITIES)],
            "category": layer,
            "sub-category": LAYERS[layer][i % len(LAYERS[layer])],
            "language": None if i % 3 else "en",
            "source": "youtube",
            "url": f"https://www.youtube.com/watch?v={vid}",
            "timestamp": f"{stamp.replace('-', ':')},{stamp_end.replace('-', ':')}",
        }
        if github:
            record["thinking"] = f"Item {i}: the clip's cue decides it."
            record["cue"] = ["Cue A", "Cue B"][: 1 + i % 2]
            record["rubric"] = [{"name": "Cue Identification", "scoring_point": "Award 1 point if the cue is named.",
                                 "note": "synthetic", "choices": [0, 1]}]
        records.append(record)
    return records


def _tar_bytes(files: list[tuple[str, bytes]]) -> bytes:
    """A .tar.gz with fixed metadata (no time, owner or host), so the same files give the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_synthetic_mmar(folder: str | Path, n: int = 20, seed: int = 0, jsonl: bool = False,
                         tarball: bool = False, seconds: float = 0.5) -> Path:
    """An MMAR release of ``n`` items in ``folder``: ``MMAR-meta.json`` (``jsonl``: the GitHub
    ``MMAR-meta.jsonl`` with rubric rows), audio under ``audio/`` (``tarball``: only inside
    ``mmar-audio.tar.gz``). Returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    records = mmar_records(n, seed, github=jsonl)
    if jsonl:
        (folder / MMAR_META_JSONL).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        _json(folder / MMAR_META, records)
    pool = _clip_bytes(seed, seconds)["wav"]
    audio = [(r["audio_path"].removeprefix("./"), pool[i % _POOL]) for i, r in enumerate(records)]
    if tarball:
        (folder / MMAR_TARBALL).write_bytes(_tar_bytes(audio))
    else:
        for rel, data in audio:
            _write(folder / rel, data)
    return folder


# ---------------------------------------------------------------------------------- Foundation

def foundation_folders() -> list[tuple[str, str]]:
    """The 25 (task_name, dataset_name) folders, from the registry."""
    return [(t.name, d) for t in get_benchmark("airbench-foundation").tasks for d in t.dataset_names]


def foundation_records(n_per_folder: int, seed: int = 0) -> list[dict]:
    """Records of every folder, in the release's field order. Options: 4, or 2 (no choice_c /
    choice_d), or 3 (no choice_d), by record."""
    rng = np.random.default_rng(seed)
    records = []
    uid = 0
    for f_index, (task, dataset) in enumerate(foundation_folders()):
        question, pool = _FOUNDATION_QA[task]
        for i in range(n_per_folder):
            n = min(len(pool), (4, 2, 3, 4)[i % 4])
            options = [pool[j] for j in rng.choice(len(pool), size=n, replace=False)]
            ext = "wav" if task == "Audio_Grounding" else _FORMATS[(f_index + i) % len(_FORMATS)].ext
            path = f"{dataset}_{i:05d}.{ext}" if i % 5 else f"clips/{dataset}_{i:05d}.{ext}"
            record = {"path": path, "question": question}
            for key, text in zip(("choice_a", "choice_b", "choice_c", "choice_d"), options):
                record[key] = text
            record.update(answer_gt=options[int(rng.integers(0, n))], task_name=task, dataset_name=dataset,
                          uniq_id=uid)
            records.append(record)
            uid += 1
    return records


def write_synthetic_foundation(folder: str | Path, n_per_folder: int = 2, seed: int = 0,
                               seconds: float = 0.5) -> Path:
    """An AIR-Bench Foundation release with ``n_per_folder`` items in each of its 25 folders under
    ``folder/Foundation``. Returns ``folder``."""
    folder = Path(folder)
    root = folder / "Foundation"
    records = foundation_records(n_per_folder, seed)
    _json(folder / FOUNDATION_META, records)
    pool = _clip_bytes(seed, seconds)
    for i, r in enumerate(records):
        listed = r["path"]
        if r["task_name"] == "Audio_Grounding":  # listed as .wav, shipped as .flac
            listed = listed[: -len("wav")] + "flac"
        ext = listed.rsplit(".", 1)[1]
        _write(root / f"{r['task_name']}_{r['dataset_name']}" / listed, pool[ext][i % _POOL])
    return folder
