"""A small but valid release in every official metadata shape, with real audio files of
varied formats and rates (WAV 44.1 kHz stereo, FLAC, OGG/Vorbis, MP3). Used by tests,
benchmarks and `make demo`; the same seed always writes the same files.

Two layouts hold the same records and audio: ``task_folders`` (one folder per task, named
after it) and ``authors`` (the folders and file names the authors' evaluation scripts read:
metadata at several depths, VoxGender and VoxAge in one shared VoxCeleb folder, GTZAN and
VoxCeleb audio under the metadata's ``wav/`` folder, and one VESUS record whose audio file
is missing, as in the public release)."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import get_task


def _signal(rng: np.random.Generator, seconds: float, rate: int, kind: int) -> np.ndarray:
    """Tone, chirp or filtered noise, scaled to a safe level."""
    t = np.arange(int(seconds * rate)) / rate
    style = kind % 3
    if style == 0:
        x = np.sin(2 * np.pi * (180 + 40 * kind) * t)
    elif style == 1:
        f0, f1 = 200 + 30 * kind, 1200 + 50 * kind
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))
    else:
        x = np.convolve(rng.standard_normal(len(t)), np.ones(8) / 8, mode="same")
    x = x * (0.25 + 0.05 * rng.random())
    return x.astype(np.float32)


@dataclass(frozen=True)
class Place:
    """Where one task's metadata and audio go."""

    meta: str  # metadata file (or, for HAD and LibriSpeech, the data folder), relative to the root
    audio: str = "audio"  # folder of the audio files, relative to the metadata's folder
    listed: str = "audio/"  # prefix of the paths the metadata lists, relative to the metadata's folder


LAYOUTS: dict[str, dict[str, Place]] = {
    "task_folders": {
        "TAU": Place("TAU/tau_meta.json"),
        "GTZAN": Place("GTZAN/gtzan_meta.json"),
        "VESUS": Place("VESUS/vesus_meta.json"),
        "VoxGender": Place("VoxGender/voxgender_meta.json"),
        "VoxAge": Place("VoxAge/voxage_meta.json"),
        "SLUE": Place("SLUE/slue_meta.json"),
        "RACE": Place("RACE/race_audio_qa.json"),
        "DESED": Place("DESED/desed_tasks.json"),
        "HAD": Place("HAD"),
        "LibriSpeech": Place("LibriSpeech"),
    },
    "authors": {
        "TAU": Place("subsetTAU/concatenated_resampled/acoustic_scene_task_meta.json"),
        "GTZAN": Place("subsetGTZAN/concatenated_audio/music_genre_classification_meta.json", "wav", ""),
        "VESUS": Place("subsetVESUS/audio_emotion_dataset.json"),
        "VoxGender": Place("subsetVoxCeleb/concatenated_audio/gender_id_task_meta.json", "wav", ""),
        "VoxAge": Place("subsetVoxCeleb/concatenated_audio/age_classification_task_meta.json", "wav", ""),
        "SLUE": Place("subsetSLUE/merged_audio_data.json"),
        "RACE": Place("subsetrace_audio/race_benchmark.json"),
        "DESED": Place("subsetDESED/DESED_dataset/concatenated_audio/desed_sound_event_detection_task.json"),
        "HAD": Place("subsetHAD/concatenated_audio"),
        "LibriSpeech": Place("subsetlibrispeech-long"),
    },
}
# Fields the authors' metadata carries besides the ones every layout has.
_AUTHORS_FIELDS = {
    "TAU": {"task_name": "Acoustic_Scene_Classification", "dataset_name": "TAU_Urban_Acoustic_Scenes"},
    "GTZAN": {"task_name": "Music_Genre_Classification", "dataset_name": "GTZAN_Music_Genre"},
    "VoxGender": {"task_name": "Speaker_Gender_Identification_From_Concatenated_Audio",
                  "dataset_name": "VoxCeleb_Combined"},
}


class _Writer:
    def __init__(self, root: Path, rng: np.random.Generator, duration: tuple[float, float], layout: str):
        self.root = root
        self.rng = rng
        self.duration = duration
        self.layout = layout
        self.places = LAYOUTS[layout]

    def place(self, task: str, filename: str) -> tuple[str, str]:
        """(file to write relative to the root, path the metadata lists) of an audio file."""
        p = self.places[task]
        folder = posixpath.dirname(p.meta)
        return posixpath.join(folder, p.audio, filename), p.listed + filename

    def meta(self, task: str, obj) -> None:
        self.json(self.places[task].meta, obj)

    def folder(self, task: str) -> str:
        return self.places[task].meta

    def seconds(self) -> float:
        lo, hi = self.duration
        return round(float(lo + (hi - lo) * self.rng.random()), 2)

    def audio(self, rel: str, kind: int, rate: int, fmt: str, subtype: str | None = None,
              channels: int = 1) -> float:
        seconds = self.seconds()
        x = _signal(self.rng, seconds, rate, kind)
        if channels == 2:
            x = np.stack([x, 0.8 * x], axis=1)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # Blockwise: libsndfile's Vorbis encoder crashes on one multi-minute write call.
        with sf.SoundFile(path, "w", rate, channels, format=fmt, subtype=subtype) as f:
            for start in range(0, len(x), 1 << 16):
                f.write(x[start:start + (1 << 16)])
        return seconds

    def json(self, rel: str, obj) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=1, ensure_ascii=False), encoding="utf-8")

    def mcq(self, labels, answer_index: int, n: int) -> tuple[list[str], int]:
        """The correct label plus n-1 distractors, shuffled; returns (choices, answer position)."""
        others = [lab for i, lab in enumerate(labels) if i != answer_index]
        picks = list(self.rng.choice(len(others), size=n - 1, replace=False))
        choices = [labels[answer_index]] + [others[i] for i in picks]
        order = self.rng.permutation(n)
        choices = [choices[i] for i in order]
        return choices, choices.index(labels[answer_index])


def _flat_label_task(w: _Writer, task_name: str, per_task: int, audio_spec: dict,
                     meta_key: str, answer_as_text: bool = False, wrap: bool = False) -> None:
    task = get_task(task_name)
    samples = []
    for i in range(per_task):
        label_idx = int(w.rng.integers(len(task.labels)))
        n = min(task.n_choices, len(task.labels))
        if task.fixed_choices:
            choices, pos = list(task.choice_texts), label_idx
        else:
            choices, pos = w.mcq(list(task.choice_texts), label_idx, n)
        disk, listed = w.place(task.name, f"{task.name.lower()}_{i:03d}.{audio_spec['ext']}")
        seconds = w.audio(disk, label_idx, audio_spec["rate"], audio_spec["fmt"],
                          audio_spec.get("subtype"), audio_spec.get("channels", 1))
        record = {"path": listed, "question": task.question}
        record.update({f"choice_{LETTERS[j].lower()}": c for j, c in enumerate(choices)})
        record["answer_gt"] = choices[pos] if answer_as_text else LETTERS[pos]
        record[meta_key] = task.labels[label_idx]
        record["duration_seconds"] = seconds
        record["uniq_id"] = f"{task.name.lower()}_{i:03d}"
        if w.layout == "authors":
            record.update(_AUTHORS_FIELDS.get(task.name, {}))
        samples.append(record)
    if w.layout == "authors" and task.name == "VESUS" and samples:
        # the public release lists VESUS files it does not ship
        _, listed = w.place(task.name, "vesus_missing.mp3")
        samples.append({**samples[-1], "path": listed, "uniq_id": "vesus_missing"})
    w.meta(task.name, {"samples": samples} if wrap else samples)


def _race(w: _Writer, per_task: int) -> None:
    items = []
    for a in range(max(1, per_task // 2) + 1):
        disk, rel = w.place("RACE", f"article_{a:03d}.flac")
        w.audio(disk, a, 16000, "FLAC")
        for q in range(2):
            options = [f"Option {k} of question {q} on article {a}" for k in range(4)]
            items.append({
                "audio_path": rel,
                "question": f"What does article {a} say about topic {q}?",
                "options": options,
                "answer": LETTERS[int(w.rng.integers(4))],
                "article_id": f"high{a:04d}",
                "question_idx": q,
            })
    w.meta("RACE", items[: max(per_task, 2)])


def _desed(w: _Writer, per_task: int) -> None:
    task = get_task("DESED")
    tasks = []
    for i in range(per_task):
        present = int(w.rng.integers(len(task.labels)))
        choices, pos = w.mcq(list(task.labels), present, 4)
        disk, rel = w.place("DESED", f"desed_{i:03d}.wav")
        w.audio(disk, present, 32000, "WAV", "PCM_16")
        tasks.append({
            "path": rel,
            "task_type": "detection",
            "question": task.question,
            "choices": {LETTERS[j]: c for j, c in enumerate(choices)},
            "answer_gt": LETTERS[pos],
            "all_events": [task.labels[present]],
            "primary_event": task.labels[present],
        })
    w.meta("DESED", {"tasks": tasks})


def _had(w: _Writer, per_task: int) -> None:
    for i in range(per_task):
        sub = "real" if i % 2 == 0 else "fake"
        w.audio(f"{w.folder('HAD')}/{sub}/had_{i:03d}.wav", i, 16000, "WAV", "PCM_16")


def _librispeech(w: _Writer, per_task: int) -> None:
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hum".split()
    by_chapter: dict[str, list[str]] = {}
    for i in range(per_task):
        spk, chap = 1000 + i % 2, 2000 + i % 2
        base = f"{spk}-{chap}-{i:04d}"
        folder = f"{w.folder('LibriSpeech')}/test-clean/{spk}/{chap}"
        w.audio(f"{folder}/{base}.flac", i, 16000, "FLAC")
        text = " ".join(words[j % len(words)] for j in w.rng.integers(0, len(words), size=8)).upper()
        if i % 2 == 0:  # one style per chapter: <base>.txt or <speaker>-<chapter>.trans.txt
            (w.root / folder / f"{base}.txt").write_text(text + "\n", encoding="utf-8")
        else:
            by_chapter.setdefault(folder, []).append(f"{base} {text}")
    for folder, lines in by_chapter.items():
        spk, chap = folder.split("/")[-2:]
        (w.root / folder / f"{spk}-{chap}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


SHAPE_WRITERS: dict[str, Callable[[_Writer, int], None]] = {
    "TAU": lambda w, n: _flat_label_task(
        w, "TAU", n, {"ext": "wav", "rate": 44100, "fmt": "WAV", "subtype": "PCM_16", "channels": 2}, "scene_label"),
    "GTZAN": lambda w, n: _flat_label_task(
        w, "GTZAN", n, {"ext": "flac", "rate": 22050, "fmt": "FLAC"}, "genre_label", wrap=True),
    "VESUS": lambda w, n: _flat_label_task(
        w, "VESUS", n, {"ext": "mp3", "rate": 44100, "fmt": "MP3"}, "emotion_label"),
    "VoxGender": lambda w, n: _flat_label_task(
        w, "VoxGender", n, {"ext": "wav", "rate": 16000, "fmt": "WAV", "subtype": "PCM_16"},
        "speaker_gender", answer_as_text=True),
    "VoxAge": lambda w, n: _flat_label_task(
        w, "VoxAge", n, {"ext": "flac", "rate": 48000, "fmt": "FLAC"}, "speaker_age", answer_as_text=True),
    "SLUE": lambda w, n: _slue(w, n),
    "RACE": _race,
    "DESED": _desed,
    "HAD": _had,
    "LibriSpeech": _librispeech,
}


def _slue(w: _Writer, per_task: int) -> None:
    entities = ["Brussels", "European Commission", "Angela Merkel", "Strasbourg", "the Council", "Greece"]
    samples = []
    for i in range(per_task):
        choices = [entities[(i + k) % len(entities)] for k in range(4)]
        pos = int(w.rng.integers(4))
        disk, rel = w.place("SLUE", f"slue_{i:03d}.ogg")
        seconds = w.audio(disk, i, 16000, "OGG", "VORBIS")
        samples.append({
            "path": rel, "question": get_task("SLUE").question,
            "choice_a": choices[0], "choice_b": choices[1], "choice_c": choices[2], "choice_d": choices[3],
            "answer_gt": LETTERS[pos], "entity_types": ["GPE", "ORG"], "duration_seconds": seconds,
        })
    w.meta("SLUE", samples)


def write_synthetic_release(root: str | Path, per_task: int = 3, seed: int = 0,
                            duration: tuple[float, float] = (2.0, 4.0), tasks=None,
                            layout: str = "task_folders") -> Path:
    """Write a release under ``root`` in ``layout`` ("task_folders" or "authors") and return
    ``root``. Both layouts hold the same records and audio for the same seed."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, write in SHAPE_WRITERS.items():
        if tasks is None or name in tasks:
            write(_Writer(root, rng, duration, layout), per_task)
    return root
