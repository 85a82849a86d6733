"""A small but valid release in every official metadata shape, with real audio files of
varied formats and rates (WAV 44.1 kHz stereo, FLAC, OGG/Vorbis, MP3). Used by tests,
benchmarks and `make demo`; the same seed always writes the same files."""

from __future__ import annotations

import json
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


class _Writer:
    def __init__(self, root: Path, rng: np.random.Generator, duration: tuple[float, float]):
        self.root = root
        self.rng = rng
        self.duration = duration

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


def _flat_label_task(w: _Writer, folder: str, task_name: str, per_task: int, audio_spec: dict,
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
        rel = f"audio/{task.name.lower()}_{i:03d}.{audio_spec['ext']}"
        seconds = w.audio(f"{folder}/{rel}", label_idx, audio_spec["rate"], audio_spec["fmt"],
                          audio_spec.get("subtype"), audio_spec.get("channels", 1))
        record = {"path": rel, "question": task.question}
        record.update({f"choice_{LETTERS[j].lower()}": c for j, c in enumerate(choices)})
        record["answer_gt"] = choices[pos] if answer_as_text else LETTERS[pos]
        record[meta_key] = task.labels[label_idx]
        record["duration_seconds"] = seconds
        record["uniq_id"] = f"{task.name.lower()}_{i:03d}"
        samples.append(record)
    w.json(f"{folder}/{task.name.lower()}_meta.json", {"samples": samples} if wrap else samples)


def _race(w: _Writer, per_task: int) -> None:
    items = []
    for a in range(max(1, per_task // 2) + 1):
        rel = f"audio/article_{a:03d}.flac"
        w.audio(f"RACE/{rel}", a, 16000, "FLAC")
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
    w.json("RACE/race_audio_qa.json", items[: max(per_task, 2)])


def _desed(w: _Writer, per_task: int) -> None:
    task = get_task("DESED")
    tasks = []
    for i in range(per_task):
        present = int(w.rng.integers(len(task.labels)))
        choices, pos = w.mcq(list(task.labels), present, 4)
        rel = f"audio/desed_{i:03d}.wav"
        w.audio(f"DESED/{rel}", present, 32000, "WAV", "PCM_16")
        tasks.append({
            "path": rel,
            "task_type": "detection",
            "question": task.question,
            "choices": {LETTERS[j]: c for j, c in enumerate(choices)},
            "answer_gt": LETTERS[pos],
            "all_events": [task.labels[present]],
            "primary_event": task.labels[present],
        })
    w.json("DESED/desed_tasks.json", {"tasks": tasks})


def _had(w: _Writer, per_task: int) -> None:
    for i in range(per_task):
        sub = "real" if i % 2 == 0 else "fake"
        w.audio(f"HAD/{sub}/had_{i:03d}.wav", i, 16000, "WAV", "PCM_16")


def _librispeech(w: _Writer, per_task: int) -> None:
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hum".split()
    by_chapter: dict[str, list[str]] = {}
    for i in range(per_task):
        spk, chap = 1000 + i % 2, 2000 + i % 2
        base = f"{spk}-{chap}-{i:04d}"
        folder = f"LibriSpeech/test-clean/{spk}/{chap}"
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
        w, "TAU", "TAU", n, {"ext": "wav", "rate": 44100, "fmt": "WAV", "subtype": "PCM_16", "channels": 2},
        "scene_label"),
    "GTZAN": lambda w, n: _flat_label_task(
        w, "GTZAN", "GTZAN", n, {"ext": "flac", "rate": 22050, "fmt": "FLAC"}, "genre_label", wrap=True),
    "VESUS": lambda w, n: _flat_label_task(
        w, "VESUS", "VESUS", n, {"ext": "mp3", "rate": 44100, "fmt": "MP3"}, "emotion_label"),
    "VoxGender": lambda w, n: _flat_label_task(
        w, "VoxGender", "VoxGender", n, {"ext": "wav", "rate": 16000, "fmt": "WAV", "subtype": "PCM_16"},
        "speaker_gender", answer_as_text=True),
    "VoxAge": lambda w, n: _flat_label_task(
        w, "VoxAge", "VoxAge", n, {"ext": "flac", "rate": 48000, "fmt": "FLAC"}, "speaker_age",
        answer_as_text=True),
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
        rel = f"audio/slue_{i:03d}.ogg"
        seconds = w.audio(f"SLUE/{rel}", i, 16000, "OGG", "VORBIS")
        samples.append({
            "path": rel, "question": get_task("SLUE").question,
            "choice_a": choices[0], "choice_b": choices[1], "choice_c": choices[2], "choice_d": choices[3],
            "answer_gt": LETTERS[pos], "entity_types": ["GPE", "ORG"], "duration_seconds": seconds,
        })
    w.json("SLUE/slue_meta.json", samples)


def write_synthetic_release(root: str | Path, per_task: int = 3, seed: int = 0,
                            duration: tuple[float, float] = (2.0, 4.0), tasks=None) -> Path:
    """Write a release under ``root`` (one folder per task) and return ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, write in SHAPE_WRITERS.items():
        if tasks is None or name in tasks:
            write(_Writer(root, rng, duration), per_task)
    return root
