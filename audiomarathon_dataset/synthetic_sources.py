"""Small but valid trees for all nine source corpora, in their official layouts.

Audio is tones, chirps and filtered noise at each corpus's native rate and format
(TAU 44.1 kHz 24-bit WAV, GTZAN 22.05 kHz, LibriSpeech/SLUE FLAC, VESUS 44.1 kHz, ...);
speech corpora are spoken by espeak-ng when it is installed (``speech="auto"``), so the
transcripts of the ASR task match the audio. The same seed writes the same files.

Each corpus gets ``groups`` groups (chapters, speakers, scene locations, genres, pools,
...) of about ``group_seconds`` seconds each. The default (2 x 30 s) is sized for fast
tests and demos built with short instances, e.g.
``build_benchmark(root, out, min_duration=8, max_duration=16)``; pass
``group_seconds=320`` for trees that build full-length (90-300 s) instances.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audiomarathon.tasks import get_task

from .sources import tts

WORDS = ["the", "council", "agreed", "that", "every", "member", "state", "should", "report", "its", "progress", "before", "the", "next", "session", "while", "the", "commission", "reviews", "market", "rules", "energy", "prices", "transport", "safety", "and", "public", "health"]
ENTITIES = (("Brussels", "GPE"), ("Strasbourg", "GPE"), ("Greece", "GPE"), ("Portugal", "GPE"),
            ("the European Commission", "ORG"), ("the Council", "ORG"), ("Parliament", "ORG"), ("Europol", "ORG"),
            ("Angela Merkel", "PERSON"), ("Jean Monnet", "PERSON"), ("Robert Schuman", "PERSON"),
            ("Ursula", "PERSON"), ("Monday", "DATE"), ("two thousand nine", "DATE"))
SLUE_ENTITIES_PER_SPEAKER = 4


def _signal(rng: np.random.Generator, seconds: float, rate: int, kind: int) -> np.ndarray:
    """A tone, a chirp or filtered noise (``kind`` picks the style and pitch)."""
    n = max(1, int(round(seconds * rate)))
    t = np.arange(n) / rate
    style = kind % 3
    if style == 0:
        x = np.sin(2 * np.pi * (150 + 37 * kind) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    elif style == 1:
        f0, f1 = 200 + 25 * kind, 1500 + 60 * kind
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(seconds, 1e-3))))
    else:
        taps = 2 + kind % 13
        x = np.convolve(rng.standard_normal(n), np.ones(taps) / np.sqrt(taps), mode="same")
        x = x / (np.max(np.abs(x)) + 1e-9)
    return (x * (0.2 + 0.1 * rng.random())).astype(np.float32)


@dataclass
class _Tree:
    root: Path
    rng: np.random.Generator
    speech: bool
    scale: float = 1.0  # multiplies clip lengths and sentence lengths

    def write(self, rel: str, x: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = "PCM_16") -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, x, rate, format=fmt, subtype=subtype)
        return path

    def text(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def tone(self, seconds: float, rate: int, kind: int) -> np.ndarray:
        return _signal(self.rng, seconds, rate, kind)

    def voice(self, text: str, rate: int, kind: int) -> np.ndarray:
        """espeak-ng speech for ``text`` (pitch varies with ``kind``), or a chirp of speech-like length."""
        if self.speech:
            x, r = tts.render(text, pitch=30 + (kind * 17) % 50)
            x = soxr.resample(x, r, rate, quality="HQ") if r != rate else x
            return (0.8 * x).astype(np.float32)
        return self.tone(len(text.split()) / tts_rate(), rate, kind)

    def sentence(self, words: int) -> str:
        words = max(1, int(round(words * self.scale)))
        return " ".join(WORDS[int(i)] for i in self.rng.integers(0, len(WORDS), size=words))

    def lengths(self, total: float, lo: float, hi: float) -> list[float]:
        """Clip lengths in [lo, hi] adding up to at least ``total``."""
        out: list[float] = []
        lo, hi = lo * self.scale, hi * self.scale
        while sum(out) < total:
            out.append(round(float(lo + (hi - lo) * self.rng.random()), 2))
        return out


def tts_rate() -> float:
    return 175 / 60


def _librispeech(t: _Tree, groups: int, seconds: float) -> None:
    for g in range(groups):
        spk, chap = 1089 + g, 134686 + g
        folder = f"LibriSpeech/test-clean/{spk}/{chap}"
        lines, total, u = [], 0.0, 0
        while total < seconds:
            text = t.sentence(int(t.rng.integers(6, 14)))
            x = t.voice(text, 16000, g)
            t.write(f"{folder}/{spk}-{chap}-{u:04d}.flac", x, 16000, "FLAC")
            lines.append(f"{spk}-{chap}-{u:04d} {text.upper()}")
            total += len(x) / 16000
            u += 1
        t.text(f"{folder}/{spk}-{chap}.trans.txt", "\n".join(lines) + "\n")


def _race(t: _Tree, groups: int, seconds: float) -> None:
    for g in range(groups):
        level = ("high", "middle")[g % 2]
        n = 1000 + g
        # one article is one instance: 0.36-0.44 x group_seconds lands inside [8, 16] s for the
        # default 30 s and inside [90, 300] s for group_seconds=320
        length = seconds * (0.36 + 0.08 * float(t.rng.random()))
        article = t.sentence(max(8, int(length * tts_rate() / t.scale))).capitalize() + "."
        questions, options, answers = [], [], []
        for q in range(2):
            questions.append(f"According to the passage, what is true about point {q + 1}?")
            options.append([f"Statement {k + 1} about point {q + 1}" for k in range(4)])
            answers.append("ABCD"[int(t.rng.integers(4))])
        t.text(f"RACE/test/{level}/{n}.txt", json.dumps(
            {"answers": answers, "options": options, "questions": questions, "article": article,
             "id": f"{level}{n}.txt"}))
        x = t.voice(article, 22050, g)
        if not t.speech:
            x = t.tone(length, 22050, g)
        t.write(f"RACE/audio/{level}/{n}.wav", x, 22050)


def _slue(t: _Tree, groups: int, seconds: float) -> None:
    rows = ["id\traw_text\tnormalized_text\tspeaker_id\tsplit\traw_ner\tnormalized_ner"]
    u = 0
    for g in range(groups):
        # a speaker names a few entities only: a full-length instance (one speaker) then leaves
        # enough of the corpus's entities unsaid to serve as distractors
        own = [ENTITIES[(g * SLUE_ENTITIES_PER_SPEAKER + k) % len(ENTITIES)] for k in range(SLUE_ENTITIES_PER_SPEAKER)]
        total = 0.0
        while total < seconds:
            phrase, kind = own[int(t.rng.integers(len(own)))]
            before, after = t.sentence(int(t.rng.integers(3, 7))), t.sentence(int(t.rng.integers(2, 6)))
            raw = f"{before.capitalize()} {phrase} {after}."
            text = raw.lower().rstrip(".")  # SLUE's normalized text: lowercase, no punctuation
            ner = [[kind, len(before) + 1, len(phrase)]]
            uid = f"2009{g:02d}{u:04d}-0000-EN_{u:04d}"
            x = t.voice(text, 16000, g + 3)
            t.write(f"slue-voxpopuli/dev/{uid}.flac", x, 16000, "FLAC")
            rows.append(f"{uid}\t{raw}\t{text}\tspk{100 + g}\tdev\t{ner}\t{ner}")
            total += len(x) / 16000
            u += 1
    t.text("slue-voxpopuli/slue-voxpopuli_dev.tsv", "\n".join(rows) + "\n")


def _tau(t: _Tree, groups: int, seconds: float) -> None:
    task = get_task("ASC")
    base = "TAU-urban-acoustic-scenes-2020-mobile-development"
    rows = ["filename\tscene_label\tidentifier\tsource_label"]
    for g in range(groups):
        scene = task.labels[(3 * g) % len(task.labels)]
        ident = f"{('barcelona', 'helsinki', 'lisbon')[g % 3]}-{g}"
        for seg, length in enumerate(t.lengths(seconds, 4.0, 6.0)):
            devices = ("a", "b") if seg == 0 else ("a",)  # one segment twice: the reader keeps device a
            for dev in devices:
                name = f"audio/{scene}-{ident}-{seg}-{dev}.wav"
                t.write(f"{base}/{name}", t.tone(length, 44100, task.labels.index(scene)), 44100, subtype="PCM_24")
                rows.append(f"{name}\t{scene}\t{ident}\t{dev}")
    t.text(f"{base}/meta.csv", "\n".join(rows) + "\n")


def _gtzan(t: _Tree, groups: int, seconds: float) -> None:
    task = get_task("MC")
    for g in range(groups):
        genre = task.labels[(7 * g + 1) % len(task.labels)]
        for k, length in enumerate(t.lengths(seconds, 5.0, 7.0)):
            t.write(f"GTZAN/genres/{genre}/{genre}.{k:05d}.wav", t.tone(length, 22050, task.labels.index(genre)), 22050)


def _desed(t: _Tree, groups: int, seconds: float) -> None:
    task = get_task("SED")
    rows = ["filename\tonset\toffset\tevent_label"]
    families = [task.labels[0:3], task.labels[3:6], task.labels[6:9]]
    clip = 0
    for g in range(groups):
        family = families[g % len(families)]
        for length in t.lengths(seconds, 4.0, 6.0):
            name = f"Y{clip:05d}_synthetic_{g}.wav"
            x = t.tone(length, 44100, 2 + clip) * 0.3
            picks = sorted(set(family[int(i)] for i in t.rng.integers(0, len(family), size=2)))
            for label in picks:
                onset = round(float(t.rng.random() * length / 2), 3)
                offset = round(min(length, onset + 0.5 + float(t.rng.random()) * length / 2), 3)
                k = task.labels.index(label)
                a, b = int(onset * 44100), int(offset * 44100)
                x[a:b] += t.tone((b - a) / 44100, 44100, 3 * k)[: b - a]
                rows.append(f"{name}\t{onset}\t{offset}\t{label}")
            t.write(f"DESED/audio/validation/{name}", np.clip(x, -1, 1), 44100)
            clip += 1
    rows.append(f"Y{clip:05d}_silent.wav\t\t\t")  # a clip without events is listed too
    t.write(f"DESED/audio/validation/Y{clip:05d}_silent.wav", t.tone(5.0, 44100, 5) * 0.05, 44100)
    t.text("DESED/metadata/validation/validation.tsv", "\n".join(rows) + "\n")


def _vesus(t: _Tree, groups: int, seconds: float) -> None:
    task = get_task("ER")
    key = ["File,Emotion,Actor"]
    for g in range(groups):
        actor = f"Actor{g + 1:02d}"
        emotion = task.labels[(2 * g) % len(task.labels)]
        total, k = 0.0, 0
        while total < seconds:
            x = t.voice(t.sentence(int(t.rng.integers(5, 9))), 44100, 10 + g)
            rel = f"{actor}/{emotion}/{k + 1:03d}.wav"
            t.write(f"VESUS/Audio/{rel}", x, 44100)
            key.append(f"{rel},{emotion.capitalize()},{actor}")
            total += len(x) / 44100
            k += 1
    t.text("VESUS/VESUS_Key.csv", "\n".join(key) + "\n")


def _had(t: _Tree, groups: int, seconds: float) -> None:
    lines = []
    for pool in ("real", "fake"):
        for g in range(max(1, groups // 2)):
            total, k = 0.0, 0
            while total < seconds:
                name = f"HAD_test_{pool}_{g:02d}{k:04d}"
                x = t.voice(t.sentence(int(t.rng.integers(6, 10))), 16000, 20 + g)
                n = len(x) / 16000
                if pool == "fake":
                    a, b = round(n * 0.3, 2), round(n * 0.6, 2)
                    x[int(a * 16000):int(b * 16000)] = t.tone(b - a, 16000, 7)[: int(b * 16000) - int(a * 16000)]
                    segs = f"0.00-{a:.2f}-T/{a:.2f}-{b:.2f}-F/{b:.2f}-{n:.2f}-T"
                else:
                    segs = f"0.00-{n:.2f}-T"
                t.write(f"HAD/HAD_test/test/{name}.wav", x, 16000)
                lines.append(f"{name} {segs} {0 if pool == 'fake' else 1}")
                total += n
                k += 1
    t.text("HAD/HAD_test/HAD_test_label.txt", "\n".join(lines) + "\n")


def _voxceleb(t: _Tree, groups: int, seconds: float) -> None:
    meta = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    ages = ["VoxCeleb_ID,video_id,age"]
    age_of = (24, 35, 47, 60, 78)
    for g in range(groups):
        spk = f"id1{g:04d}"
        meta.append(f"{spk}\tPerson_{g}\t{'mf'[g % 2]}\tUSA\ttest")
        total, k = 0.0, 0
        while total < seconds:
            video = f"vid{g}{k // 3:08d}"
            x = t.voice(t.sentence(int(t.rng.integers(5, 10))), 16000, 30 + 7 * g)
            t.write(f"VoxCeleb/vox1/wav/{spk}/{video}/{k % 3 + 1:05d}.wav", x, 16000)
            if k % 3 == 0:
                ages.append(f"{spk},{video},{age_of[g % len(age_of)] + k % 2}")
            total += len(x) / 16000
            k += 1
    meta.append(f"id1{groups:04d}\tPerson_without_audio\tm\tUK\ttest")
    t.text("VoxCeleb/vox1_meta.csv", "\n".join(meta) + "\n")
    t.text("VoxCeleb/vox2_meta.csv", "VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \n")
    t.text("VoxCeleb/voxceleb_enrichment_age.csv", "\n".join(ages) + "\n")


WRITERS: dict[str, Callable[[_Tree, int, float], None]] = {
    "librispeech": _librispeech,
    "race": _race,
    "slue": _slue,
    "tau": _tau,
    "gtzan": _gtzan,
    "desed": _desed,
    "vesus": _vesus,
    "had": _had,
    "voxceleb": _voxceleb,
}


def write_synthetic_sources(root: str | Path, seed: int = 0, groups: int = 2, group_seconds: float = 30.0,
                            speech: str | bool = "auto", corpora=None, clip_scale: float = 1.0) -> Path:
    """Write synthetic source corpora under ``root`` and return ``root``.

    ``speech``: "auto" uses espeak-ng when installed, True requires it, False never uses it.
    ``corpora``: names from ``sources.CORPORA`` (default: all nine).
    ``clip_scale``: multiplies clip lengths (default 4-6 s sound clips, 2-5 s utterances);
    2.0 gives the official corpora's typical 8-12 s clips, for benchmarks.
    """
    if speech == "auto":
        speech = tts.available()
    elif speech and not tts.available():
        raise RuntimeError("speech=True needs espeak-ng (apt-get install espeak-ng)")
    if groups < 1 or group_seconds <= 0 or clip_scale <= 0:
        raise ValueError("groups must be >= 1, group_seconds and clip_scale > 0")
    unknown = set(corpora or ()) - set(WRITERS)
    if unknown:
        raise ValueError(f"unknown corpus name(s) {sorted(unknown)}; choose from {', '.join(WRITERS)}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, write in WRITERS.items():
        if corpora is None or name in corpora:
            # one generator per corpus: writing a subset gives the same files as writing all
            rng = np.random.default_rng([seed, *name.encode()])
            write(_Tree(root, rng, bool(speech), clip_scale), groups, group_seconds)
    return root
