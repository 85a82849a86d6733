#!/usr/bin/env python
"""Time import-release spends before decoding any audio: walking a full-size release in the
authors' layout (the paper's 6,567 instances as empty placeholder audio files), assigning every
metadata file to a task, and resolving every listed audio path inside the root.

    python benchmarks/release_discovery.py [--workdir /tmp/am-bench-discovery] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path


def _write_release(root: Path) -> int:
    """The authors' folders with the paper's instance counts; returns the number of files."""
    from audiomarathon.prompts import LETTERS
    from audiomarathon.tasks import get_task
    from audiomarathon_dataset.synthetic_release import LAYOUTS

    places = LAYOUTS["authors"]
    n_files = 0

    def touch(path: Path) -> None:
        nonlocal n_files
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        n_files += 1

    for name in ("TAU", "GTZAN", "VESUS", "VoxGender", "VoxAge", "SLUE"):
        task, place = get_task(name), places[name]
        meta = root / place.meta
        records = []
        for i in range(task.paper_count):
            filename = f"{name.lower()}_{i:05d}.wav"
            touch(meta.parent / place.audio / filename)
            texts = task.choice_texts or ("a", "b", "c", "d")
            choices = list(texts[:task.n_choices]) if task.fixed_choices else [texts[(i + k) % len(texts)] for k in range(4)]
            rec = {"path": place.listed + filename, "question": task.question, "answer_gt": LETTERS[i % len(choices)],
                   "uniq_id": i}
            rec.update({f"choice_{LETTERS[k].lower()}": c for k, c in enumerate(choices)})
            records.append(rec)
        meta.write_text(json.dumps(records))
    for name, key in (("DESED", "tasks"), ("RACE", None)):
        task, place = get_task(name), places[name]
        meta = root / place.meta
        records = []
        for i in range(task.paper_count):
            filename = f"{name.lower()}_{i:05d}.wav"
            touch(meta.parent / place.audio / filename)
            if key:
                records.append({"path": place.listed + filename, "question": "q?", "answer_gt": "A",
                                "choices": {"A": "Dog", "B": "Cat", "C": "Blender", "D": "Frying"}})
            else:
                records.append({"audio_path": place.listed + filename, "question": "q?",
                                "options": ["1", "2", "3", "4"], "answer": "B", "question_idx": i})
        meta.write_text(json.dumps({key: records} if key else records))
    for i in range(get_task("HAD").paper_count):
        touch(root / places["HAD"].meta / ("real" if i % 2 else "fake") / f"had_{i:05d}.wav")
    for i in range(get_task("LibriSpeech").paper_count):
        chapter = root / places["LibriSpeech"].meta / "test-clean" / str(100 + i % 40) / str(1000 + i % 40)
        touch(chapter / f"{100 + i % 40}-{1000 + i % 40}-{i:04d}.flac")
        (chapter / f"{100 + i % 40}-{1000 + i % 40}-{i:04d}.txt").write_text("HELLO WORLD\n")
    return n_files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/am-bench-discovery")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from audiomarathon.tasks import TASK_NAMES
    from audiomarathon_dataset.release.discovery import discover, settle
    from audiomarathon_dataset.release.importer import collect_records

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    n_files = _write_release(work / "release")
    walk, total = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        disc = discover(work / "release")
        sources = settle(disc, TASK_NAMES, [])
        t1 = time.perf_counter()
        n_records = 0
        from audiomarathon.tasks import get_task

        for task, found in sources.items():
            for source in found:
                records, _issues = collect_records(get_task(task), source, disc)
                n_records += len(records)
        t2 = time.perf_counter()
        walk.append(t1 - t0)
        total.append(t2 - t0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"release: {n_files} audio files, {len(sources)} tasks, {n_records} records")
    print(f"discover + settle: {statistics.median(walk) * 1000:.0f} ms (median of {args.repeats})")
    print(f"discover + settle + every record parsed and its audio path resolved: "
          f"{statistics.median(total) * 1000:.0f} ms (median of {args.repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
