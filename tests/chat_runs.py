"""A small AIR-Bench Chat run for the judge's tests: a dataset folder holding the text columns of
Chat items (question, answer_gt as answer_text, meta_info in meta) and a run folder of replies to
them, written in the run-record format; and a judge whose verdicts are a function of the message.

The judge reads the two answers out of the message by the official template's markers (typed out
here, not taken from the code under test) and scores each by a hash of its text: ``text_score``.
Assistant 1 gets one point more (capped at 10), a position bias of known size.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

TASKS = ("speech_QA", "speech_dialogue_QA", "sound_QA", "sound_generation_QA", "music_QA",
         "music_generation_analysis_QA", "speech_and_sound_QA", "speech_and_music_QA")
RUN_ID = "chatrun0001"
_ANSWER = re.compile(r"\[The Start of Assistant ([12])s Answer\]\n(.*?)\n\[The End of Assistant \1s Answer\]", re.S)


def text_score(text: str) -> int:
    """1..9: how the test judge rates an answer, whatever the position."""
    return 1 + hashlib.sha256(text.encode("utf-8")).digest()[0] % 9


def answers(message: str) -> tuple[str, str]:
    found = dict(_ANSWER.findall(message))
    return found["1"], found["2"]


def fair_judge(message: str, seen: int) -> str:
    """The test judge: Assistant 1 one point up (capped at 10), Assistant 2 as it is."""
    first, second = answers(message)
    return f"{min(10, text_score(first) + 1)} {text_score(second)}"


def items(n_per_task: int = 3) -> list[dict]:
    out = []
    for t, task in enumerate(TASKS):
        for k in range(n_per_task):
            meta_info = (json.dumps([{"speaker": "A", "speaking time": "0-3s", "transcription": f"hello {k}"}])
                         if task == "speech_dialogue_QA" else f"A clip of {task} number {k}.")
            out.append({"id": f"{task}-{k}", "task": task, "question": f"What happens in clip {k} of {task}?",
                        "answer_text": f"Reference answer {k} for {task}.", "meta": json.dumps({
                            "meta_info": meta_info, "task_name": task, "dataset_name": "d", "uniq_id": t * 100 + k}),
                        "reply": f"Model reply {k} about {task}." if k != 1 or t % 3 else None})
    return out


def write_dataset(folder: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    configs = []
    for task in dict.fromkeys(r["task"] for r in rows):
        part = [r for r in rows if r["task"] == task]
        (folder / task).mkdir(parents=True, exist_ok=True)
        columns = [c for c in ("id", "task", "question", "answer_text", "choices", "meta") if c in part[0]]
        table = pa.table({c: [r[c] for r in part] for c in columns})
        pq.write_table(table, folder / task / "test-00000-of-00001.parquet")
        configs.append(f"- config_name: {task}\n  data_files:\n  - split: test\n    path: {task}/test-*.parquet\n")
    (folder / "README.md").write_text("---\nconfigs:\n" + "".join(configs) + "---\n", encoding="utf-8")
    return folder


def write_run(folder: Path, rows: list[dict], data: Path) -> Path:
    from audiomarathon.records import write_results

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            failed = r["reply"] is None
            fh.write(json.dumps({"id": r["id"], "task": r["task"], "reply": r["reply"], "parsed": None, "rule": None,
                                 "reference": r["answer_text"], "choices": [], "timings": {}, "compression": None,
                                 "config_hash": RUN_ID, "error": "RuntimeError: boom" if failed else None}) + "\n")
    write_results(folder / "results.json", {
        "schema": 2, "config": {"model": "some-model", "method": "none", "ratio": 0.0, "config_hash": RUN_ID},
        "dataset": {"path": str(data), "fingerprint": "fp"}})
    return folder


def chat_run(tmp: Path, n_per_task: int = 3) -> tuple[Path, list[dict]]:
    rows = items(n_per_task)
    data = write_dataset(tmp / "data", rows)
    return write_run(tmp / "run", rows, data), rows


def write_chat_release(folder: Path, rows: list[dict], stray: bool = True) -> Path:
    """An AIR-Bench Chat release as the authors ship it: Chat/Chat_meta.json (one list of every
    task's records, the dialogue task's meta_info a JSON string) and each record's audio at
    Chat/<task_name>_<dataset_name>/<path>; ``stray``: one record of a task Chat does not have."""
    import numpy as np
    import soundfile as sf

    chat = folder / "Chat"
    records = []
    for n, r in enumerate(rows):
        meta = json.loads(r["meta"])
        path = f"clip_{n:03d}.wav"
        audio_dir = chat / f"{r['task']}_{meta['dataset_name']}"
        audio_dir.mkdir(parents=True, exist_ok=True)
        t = np.arange(16000, dtype=np.float32) / 16000
        sf.write(audio_dir / path, (0.1 * np.sin(2 * np.pi * (220 + 20 * n) * t)).astype(np.float32), 16000,
                 subtype="PCM_16")
        records.append({"meta_info": meta["meta_info"], "question": r["question"], "answer_gt": r["answer_text"],
                        "path": path, "task_name": r["task"], "dataset_name": meta["dataset_name"],
                        "uniq_id": meta["uniq_id"]})
    if stray:
        records.append({"meta_info": "x", "question": "q", "answer_gt": "a", "path": "clip_000.wav",
                        "task_name": "speech_summary_QA", "dataset_name": "d", "uniq_id": 99999})
    (chat / "Chat_meta.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder
