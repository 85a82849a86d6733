"""What the judge is asked about: each Chat item's audio description, question, reference answer
and the model's reply, read from a run folder and the dataset it ran on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.records import read_results, read_run_records, run_files


@dataclass(frozen=True)
class JudgeItem:
    id: str
    task: str
    meta_info: str  # the release's text description of the audio, as released
    question: str
    reference: str  # the release's answer_gt
    reply: str | None  # None: the model gave none (its sample failed)


@dataclass(frozen=True)
class RubricCase:
    """An MMAR item with its rubric, and the model's reply (None: it gave none)."""

    id: str
    question: str
    answer: str
    choices: list
    thinking: str
    rubric: list
    reply: str | None
    meta: dict


def meta_info_of(meta: str | dict | None, where: str) -> str:
    """The ``meta_info`` a row's ``meta`` JSON carries (a string: for the dialogue tasks the release
    itself stores it as a JSON string, and the judge reads that text)."""
    if isinstance(meta, str):
        try:
            meta = json.loads(meta or "{}")
        except ValueError:
            raise ValueError(f"{where}: meta is not JSON") from None
    value = meta.get("meta_info") if isinstance(meta, dict) else None
    if value is None:
        raise ValueError(f"{where}: meta has no meta_info (the audio description the judge reads)")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_COLUMNS = ("id", "question", "answer_text", "choices", "meta")


def read_rows(data: str, tasks: list[str]) -> dict[str, dict]:
    """id -> {question, answer_text, meta} of the ``test`` split of each task config of ``data``
    (a dataset folder or Hub id), audio left out. A folder's shards are read directly, these
    columns only (no audio is read, and no cached copy of another folder of the same name is used)."""
    from audiomarathon.data_source import locate

    source = locate(data)
    rows: dict[str, dict] = {}
    for task in tasks:
        for row in (_folder_rows(Path(source.path), task, data) if Path(source.path).is_dir()
                    else _hub_rows(source.path, task, data)):
            rows[str(row["id"])] = {"task": task, **row}
    return rows


def _folder_rows(folder: Path, task: str, data: str) -> list[dict]:
    import pyarrow.parquet as pq

    shards = sorted((folder / task).glob("test-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"dataset {data!r} has no config {task!r} (no {task}/test-*.parquet)")
    out = []
    for shard in shards:
        names = pq.read_schema(shard).names
        out += pq.read_table(shard, columns=[c for c in _COLUMNS if c in names]).to_pylist()
    return out


def _hub_rows(repo: str, task: str, data: str) -> list[dict]:
    import datasets

    try:
        ds = datasets.load_dataset(repo, task, split="test")
    except Exception as err:  # datasets raises many types for a missing config
        raise FileNotFoundError(f"cannot load config {task!r} of dataset {data!r}: {err}") from None
    return list(ds.select_columns([c for c in _COLUMNS if c in ds.column_names]))


def _run_rows(run_dir, data: str | None):
    """The run's records, the dataset rows they answer (id -> row), results.json's path and the
    predictions file."""
    predictions, results_path = run_files(run_dir)
    if results_path is None:
        raise ValueError(f"{run_dir}: no results.json; judge a finished run folder (run writes it at the end)")
    results = read_results(results_path)
    records = [rec for _, rec in read_run_records(predictions, results)]
    data = data or (results.get("dataset") or {}).get("path")
    if not data:
        raise ValueError(f"{results_path}: records no dataset path; give --data")
    rows = read_rows(data, list(dict.fromkeys(str(r["task"]) for r in records)))
    for rec in records:
        if str(rec["id"]) not in rows:
            raise ValueError(f"{predictions}: id {rec['id']}: not in dataset {data!r} (config {rec['task']})")
    return records, rows, results_path, predictions


def run_tasks(run_dir) -> set[str]:
    """The task names of the run's records."""
    predictions, results_path = run_files(run_dir)
    results = read_results(results_path) if results_path is not None else None
    return {str(rec["task"]) for _, rec in read_run_records(predictions, results)}


def run_items(run_dir: str | Path, data: str | None = None) -> tuple[list[JudgeItem], Path]:
    """The Chat items of the run in ``run_dir`` (its predictions.jsonl and results.json), their
    texts from ``data`` (default: the dataset path results.json records), and results.json's path."""
    records, rows, results_path, predictions = _run_rows(run_dir, data)
    items = []
    for rec in records:
        row = rows[str(rec["id"])]
        reply = None if rec.get("error") else rec.get("reply")
        items.append(JudgeItem(id=str(rec["id"]), task=str(rec["task"]),
                               meta_info=meta_info_of(row.get("meta"), f"{predictions}: id {rec['id']}"),
                               question=row.get("question") or "", reference=row.get("answer_text") or "",
                               reply=reply))
    return items, results_path


def rubric_cases(run_dir: str | Path, data: str | None = None) -> tuple[list, Path]:
    """The MMAR items of the run with their rubrics (the GitHub metadata's ``rubric``, ``thinking``,
    kept in ``meta`` by import-release), and results.json's path."""
    records, rows, results_path, predictions = _run_rows(run_dir, data)
    cases = []
    for rec in records:
        row = rows[str(rec["id"])]
        meta = json.loads(row.get("meta") or "{}") if isinstance(row.get("meta"), str) else dict(row.get("meta") or {})
        rubric = meta.get("rubric")
        if not isinstance(rubric, list) or not rubric:
            raise ValueError(f"{predictions}: id {rec['id']}: the dataset's meta has no rubric (the GitHub "
                             "MMAR-meta.jsonl carries them; import-release keeps them in meta)")
        cases.append(RubricCase(id=str(rec["id"]), question=row.get("question") or "",
                                answer=row.get("answer_text") or "", choices=list(row.get("choices") or []),
                                thinking=str(meta.get("thinking") or ""), rubric=rubric,
                                reply=None if rec.get("error") else rec.get("reply"),
                                meta={k: meta.get(k) for k in ("modality", "category", "sub-category")}))
    return cases, results_path
