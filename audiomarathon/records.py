"""The run-record format: what a run writes (predictions.jsonl, results.json) and everyone reads.

The runner and the sweep write these files; ``score``, the leaderboard Space and the demo read
them. The shapes below are the one definition of both files; ``read_predictions`` /
``PredictionLog`` are the one reader and writer of predictions.jsonl, ``read_results`` /
``write_results`` of results.json, and both check what they read or write against these shapes,
naming the field at fault (``results.json: config.ratio: expected a number, found 'x'``).

predictions.jsonl
    One JSON object (``PredictionRecord``) per line, appended as each sample finishes (a kill
    loses at most the sample in flight). Lines are split on ``\\n`` only: a reply may contain any
    other line separator (U+2028, U+0085, ...). A sample retried under the same run id replaces
    its earlier record; the runner compacts the file so each (id, run id) appears once.
results.json
    One ``Results`` object per run folder, written atomically after the run, and validated first.

Units are in the field names (``prefill_ms``, ``audio_seconds``, ``kv_cache_bytes``).
"""


import hashlib
import json
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NotRequired, TypedDict, Union

from .files import write_atomic
from .run_identity import RunIdentityRecord

PREDICTIONS_FILE = "predictions.jsonl"
RESULTS_FILE = "results.json"
# Where both files keep the run id (``run_identity.run_id``): a record's ``config_hash`` and
# results.json's ``config.config_hash``. The name the files have always used, kept so that every
# run folder, old or new, reads alike; code calls the value the run id.
RUN_ID_FIELD = "config_hash"
# Version of the results.json layout; 2 added "identity" (the run identity) and the toolkit's commit.
RESULTS_SCHEMA = 2


class RecordError(ValueError):
    """A file of a run that does not follow the run-record format; the message names the field."""


# ------------------------------------------------------------------------------ the shapes
class Timings(TypedDict, total=False):
    """Per-sample measurements of a finished sample (empty for a failed one). The first sample a
    process evaluates is marked ``warmup`` and left out of results.json's summaries."""

    audio_seconds: float
    preprocess_ms: float | None  # decode + features + tokens, overlapped with the model or not
    prefetch_wait_ms: float | None  # the part of it the loop waited for
    encoder_ms: float | None
    prefill_ms: float | None  # time to first token
    decode_ms: float | None
    total_ms: float | None
    outside_ms: float | None  # harness time around the model's own generate call
    output_tokens: int
    tokens_per_s: float | None
    input_tokens: int
    audio_tokens: int
    kv_cache_bytes: int | None  # after prefill; None when the model keeps no such cache
    peak_memory_bytes: int | None
    memory_kind: str  # cuda_allocated or process_peak_rss
    latency_ms: float  # a model behind an API: the successful requests' round trips
    request_bytes: int  # a model behind an API: bytes sent
    warmup: bool


class PredictionRecord(TypedDict):
    """One evaluated sample. ``reply`` is the model's raw text (None when the sample failed, then
    ``error`` says why, and the metric scores it as an invalid reply); ``parsed``/``rule`` are the
    runner's extraction, for reading only (the metric re-extracts from ``reply``)."""

    id: str
    task: str
    reply: str | None
    parsed: str | None
    rule: str | None
    reference: str
    choices: list[str]
    timings: Timings
    compression: dict | None  # the method's own statistics (kept tokens per layer, ...); None if failed
    config_hash: str  # the run id (run_identity.run_id) the sample was computed under
    error: str | None
    traceback: NotRequired[str]  # only for a failed sample that raised
    duration: NotRequired[float]  # seconds of audio, from the dataset (for scores by duration)
    evidence_position: NotRequired[float | None]  # relative centre of the evidence, when the task marks one
    # The instance's meta (MMAR's modality / category / sub-category, AIR-Bench Foundation's task_name /
    # dataset_name), as the dataset's JSON text or parsed: the metric's breakdown tables read it.
    meta: NotRequired[dict | str | None]
    api: NotRequired[dict | None]  # a model behind an API: server, served model, attempts, cost
    # The reply stopped at the reply cap (max new tokens) without ending its turn; absent for a
    # failed sample and in runs from before it was recorded.
    hit_cap: NotRequired[bool | None]
    # Only for a reply longer than REPLY_STORE_CHARS (a misbehaving server): ``reply`` holds its
    # first REPLY_STORE_CHARS characters, these describe the whole (see stored_reply).
    reply_chars: NotRequired[int]
    reply_sha256: NotRequired[str]


class RunSettings(TypedDict):
    """results.json's ``config``: the run's settings as given, plus what the runner found out.
    Fields a submission must carry are required; the rest are informative."""

    model: str
    method: str
    ratio: float
    revision: NotRequired[str | None]
    layer: NotRequired[int]
    seed: NotRequired[int]
    press_scope: NotRequired[str]
    dtype: NotRequired[str]
    audio_control: NotRequired[str | None]
    max_new_tokens: NotRequired[int | None]
    name: NotRequired[str | None]  # a display name (run --name): a label, never part of the run identity
    profile: NotRequired[str]  # the run profile: "card" (each model as its card runs it) or "authors"
    family: NotRequired[str | None]  # the model family whose procedure ran; None: not known (an API model)
    procedure: NotRequired[dict]  # per task: system turn, instruction, reply cap, audio preparation, source
    # A checkpoint whose model is its own code (Aero-1), run with --trust-remote-code: absent otherwise.
    trust_remote_code: NotRequired[bool]
    remote_code: NotRequired[dict | None]  # {"sha256", "files"} of its .py files; part of the run identity
    config_hash: NotRequired[str]  # the run id
    model_id: NotRequired[str]
    commit_hash: NotRequired[str | None]  # the model checkpoint's commit on the Hub
    model_type: NotRequired[str | None]  # the transformers architecture; None for a model behind an API
    backend: NotRequired[dict]  # {"kind": "transformers"} or the API's settings and totals
    adapter: NotRequired[dict | None]
    device: NotRequired[str | None]
    num_parameters: NotRequired[int | None]
    decoding: NotRequired[dict]
    compression: NotRequired[dict]


class DatasetVersion(TypedDict):
    path: NotRequired[str | None]  # where it was read from (informative: never part of the identity)
    fingerprint: str  # the version the dataset card declares, else the evaluated one
    evaluated_fingerprint: NotRequired[str]  # over the samples actually run (differs under --limit)
    num_ids: NotRequired[int]


class SampleCounts(TypedDict):
    original: dict[str, int]  # per task, samples asked for
    effective: dict[str, int]  # per task, samples that produced a reply
    failed: dict[str, str]  # id -> error
    missing: list[str]  # ids with no record (the run was stopped)


class ReplyCapTask(TypedDict):
    replies: int
    hit_cap: int
    share: float


class ReplyCap(TypedDict):
    """How many replies stopped at the reply cap without ending their turn (cut off)."""

    replies: int
    hit_cap: int
    share: float | None  # None when no reply carries the flag
    tasks: dict[str, ReplyCapTask]


class Results(TypedDict):
    """results.json. ``scores`` is the metric's ``score()`` output (strict mode); ``timing``
    summarizes ``Timings`` per field (mean/median/p90/max, warm-up excluded)."""

    schema: int
    config: RunSettings
    identity: NotRequired[RunIdentityRecord]  # written by the runner since schema 2
    versions: NotRequired[dict[str, str | None]]  # python, torch, transformers, audiomarathon-hf, git commit
    dataset: DatasetVersion
    scores: NotRequired[dict]
    timing: NotRequired[dict]
    samples: NotRequired[SampleCounts]
    reply_cap: NotRequired[ReplyCap]
    # An LLM judge's scores of the run's open-ended replies, by the hash of the judge's settings
    # (the score's identity; the run's own identity is unchanged): `audiomarathon judge`.
    judge: NotRequired[dict[str, dict]]


# ------------------------------------------------------------------------------ checking
def check(value: Any, shape: Any, where: str, field: str = "") -> None:
    """Raise RecordError if ``value`` is not of ``shape``, naming the file or record (``where``)
    and the dotted field path: ``results.json: config.ratio: expected a number, found 'x'``.
    Shapes: a TypedDict (required keys present, known keys typed, unknown keys allowed),
    ``X | None``, ``list[X]``, ``dict[str, X]``, ``dict``, ``str``, ``int``, ``float`` (finite), ``bool``."""

    def fail(message: str):
        raise RecordError(f"{where}: {field}: {message}" if field else f"{where}: {message}")

    def sub(name) -> str:
        return f"{field}.{name}" if field else str(name)

    if shape is Any:
        return
    if _is_typeddict(shape):
        if not isinstance(value, dict):
            fail(f"expected an object, found {_kind(value)}")
        hints = typing.get_type_hints(shape)
        for name in sorted(shape.__required_keys__):
            if name not in value:
                raise RecordError(f"{where}: {sub(name)}: missing")
        for name, inner in hints.items():
            if name in value:
                check(value[name], _strip_not_required(inner), where, sub(name))
        return
    origin = typing.get_origin(shape)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(shape):
            try:
                check(value, option, where, field)
                return
            except RecordError:
                pass
        fail(f"expected {' or '.join(_name(o) for o in typing.get_args(shape))}, found {_kind(value)}")
    if origin is list:
        if not isinstance(value, list):
            fail(f"expected a list, found {_kind(value)}")
        (item,) = typing.get_args(shape)
        for i, v in enumerate(value):
            check(v, item, where, f"{field}[{i}]")
        return
    if origin is dict or shape is dict:
        if not isinstance(value, dict):
            fail(f"expected an object, found {_kind(value)}")
        args = typing.get_args(shape)
        if args:
            for k, v in value.items():
                check(v, args[1], where, sub(k))
        return
    if shape is type(None):
        if value is not None:
            fail(f"expected null, found {_kind(value)}")
        return
    if shape is bool:
        if not isinstance(value, bool):
            fail(f"expected true or false, found {_kind(value)}")
        return
    if shape in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and shape is int and isinstance(value, float):
            ok = value.is_integer()
        if not ok:
            fail(f"expected {'an integer' if shape is int else 'a number'}, found {_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            fail(f"expected a finite number, found {value!r}")
        return
    if shape is str:
        if not isinstance(value, str):
            fail(f"expected a string, found {_kind(value)}")
        return
    raise TypeError(f"run-record shape {shape!r} at {where} {field} is not supported")  # a bug in the shapes


def _is_typeddict(shape) -> bool:
    return isinstance(shape, type) and issubclass(shape, dict) and hasattr(shape, "__required_keys__")


def _strip_not_required(shape):
    return typing.get_args(shape)[0] if typing.get_origin(shape) is NotRequired else shape


def _name(shape) -> str:
    if shape is type(None):
        return "null"
    if _is_typeddict(shape) or typing.get_origin(shape) is dict or shape is dict:
        return "an object"
    if typing.get_origin(shape) is list:
        return "a list"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(shape, str(shape))


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
        return text
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


# ------------------------------------------------------------------------------ predictions.jsonl
def split_lines(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line, terminated) for each line of ``data``, split on ``\\n`` only."""
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if i == len(lines) - 1 and not line:
            return
        yield i + 1, line, i < len(lines) - 1


def parse_prediction_lines(data: bytes, name: str = PREDICTIONS_FILE, *, check_shape: bool = True,
                           torn_tail_ok: bool = True, problems: list[str] | None = None) -> list[tuple[int, dict]]:
    """(line number, record) per non-blank line. A last line cut short by a kill (unterminated and
    unparsable) is skipped when ``torn_tail_ok``; any other bad line raises RecordError, or, when
    a ``problems`` list is given, is described there and skipped (to report every problem at once)."""
    out = []
    for lineno, line, terminated in split_lines(data):
        if not line.strip():
            continue
        try:
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                if torn_tail_ok and not terminated:
                    break
                msg = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
                raise RecordError(f"{name} line {lineno}: malformed JSON ({msg})") from None
            except RecursionError:
                raise RecordError(f"{name} line {lineno}: JSON nested too deeply") from None
            if check_shape:
                check(rec, PredictionRecord, f"{name} line {lineno}")
        except RecordError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
            continue
        out.append((lineno, rec))
    return out


def latest_lines(lines: Iterable[tuple[int, Mapping]]) -> list[tuple[int, Mapping]]:
    """The last (line number, record) per (id, run id), in the order each first appeared: a
    retried sample's new record replaces its earlier failure."""
    latest: dict[tuple, tuple[int, Mapping]] = {}
    for lineno, rec in lines:
        latest[(rec.get("id"), rec.get(RUN_ID_FIELD))] = (lineno, rec)  # an existing key keeps its place
    return list(latest.values())


def latest_records(records: Iterable[dict]) -> list[dict]:
    """``latest_lines`` of records without their line numbers."""
    return [rec for _, rec in latest_lines((0, rec) for rec in records)]


def read_predictions(path: str | Path, run_id: str | None = None, *, check_shape: bool = True) -> list[dict]:
    """The records of a predictions file (missing file: none), the latest per (id, run id), only
    those of ``run_id`` when given. A torn last line from a kill is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    records = [rec for _, rec in parse_prediction_lines(path.read_bytes(), str(path), check_shape=check_shape)]
    records = latest_records(records)
    if run_id is not None:
        records = [r for r in records if r.get(RUN_ID_FIELD) == run_id]
    return records


def run_files(path: str | Path) -> tuple[Path, Path | None]:
    """What a reader of a run is given: a run folder (its predictions.jsonl, and its results.json
    when it has one) or a predictions file (JSONL) alone. RecordError naming the path otherwise."""
    path = Path(path)
    if path.is_dir():
        predictions = path / PREDICTIONS_FILE
        if not predictions.is_file():
            raise RecordError(f"{path}: a folder without {PREDICTIONS_FILE}; give a run folder or a JSONL file")
        results = path / RESULTS_FILE
        return predictions, results if results.is_file() else None
    if not path.is_file():
        raise RecordError(f"{path}: no such run folder or predictions file")
    return path, None


def read_run_records(predictions: str | Path, results: Mapping | None = None,
                     results_name: str = RESULTS_FILE) -> list[tuple[int, dict]]:
    """(line number, record) of a finished run's predictions file, as ``score`` and ``compare``
    read it: every line a JSON object (a torn last line is an error: the run is read as finished);
    with ``results`` (its results.json, read by ``read_results``) only the records of that run
    (``records_of_run``); in the runner's format (every record carries a run id) the latest per
    (id, run id). A file written by another tool (no run ids) keeps every line."""
    path = Path(predictions)
    lines = parse_prediction_lines(path.read_bytes(), str(path), check_shape=False, torn_tail_ok=False)
    for lineno, rec in lines:
        if not isinstance(rec, dict):
            raise RecordError(f"{path} line {lineno}: expected a JSON object")
    if results is not None:
        lines = records_of_run(lines, results, str(path), results_name)
    if lines and all(RUN_ID_FIELD in rec for _, rec in lines):
        lines = latest_lines(lines)
    return lines


def results_run_id(results: Mapping, results_name: str = RESULTS_FILE, predictions_name: str = PREDICTIONS_FILE) -> str:
    """results.json's run id (``config.config_hash``): what ties it to its predictions."""
    config = results.get("config") if isinstance(results, Mapping) else None
    run = config.get(RUN_ID_FIELD) if isinstance(config, Mapping) else None
    if not isinstance(run, str) or not run.strip():
        raise RecordError(f"{results_name}: config.{RUN_ID_FIELD}: missing; it is the run id that ties "
                          f"{results_name} to the records of {predictions_name}")
    return run


def records_of_run(lines: Iterable[tuple[int, Mapping]], results: Mapping, predictions_name: str = PREDICTIONS_FILE,
                   results_name: str = RESULTS_FILE) -> list[tuple[int, Mapping]]:
    """The (line number, record) pairs of predictions.jsonl that belong to results.json: those
    carrying its run id. A file that also holds another configuration's records gives the ones
    results.json describes; a file none of whose records carries the run id is another run's, and
    the pair is refused (its replies would be scored and shown under the other run's settings).
    The one rule of ``score RUN_DIR``, ``compare`` and the leaderboard Space."""
    run = results_run_id(results, results_name, predictions_name)
    lines = list(lines)
    kept = [(n, rec) for n, rec in lines if rec.get(RUN_ID_FIELD) == run]
    if not kept:
        others = sorted({str(rec.get(RUN_ID_FIELD)) for _, rec in lines if rec.get(RUN_ID_FIELD) is not None})
        found = (f"its records carry run id(s) {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}"
                 if others else f"its records carry no run id ({RUN_ID_FIELD})")
        raise RecordError(f"{predictions_name} and {results_name} are from different runs: no record of "
                          f"{predictions_name} carries {results_name}'s run id {run} ({found})")
    return kept


# The most of a reply a record stores, in characters. A model's reply is bounded by its reply cap
# (at most 1,100 tokens, a few kB of text); only a misbehaving server sends more, and a 10 MB reply
# stored whole would swell predictions.jsonl and every reader of it.
REPLY_STORE_CHARS = 65_536


def stored_reply(text: str, limit: int = REPLY_STORE_CHARS) -> tuple[str, dict]:
    """What a record stores of ``text``: the text itself, or over ``limit`` characters its first
    ``limit`` characters plus ``reply_chars`` (the whole length) and ``reply_sha256`` (the hash of
    its UTF-8 bytes, ``sha256:<hex>``)."""
    if len(text) <= limit:
        return text, {}
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return text[:limit], {"reply_chars": len(text), "reply_sha256": f"sha256:{digest}"}


def encode_record(record: Mapping) -> bytes:
    """One line of predictions.jsonl. Every line separator other than ``\\n`` inside a string is
    kept as is (JSON escapes ``\\n`` itself), so one record is always one line."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def write_predictions(path: str | Path, records: Iterable[Mapping]) -> None:
    """Replace a predictions file atomically (compaction, shard merges), each record checked as
    ``PredictionLog.append`` checks it."""
    path = Path(path)
    write_atomic(path, b"".join(encode_record(_checked(r, path)) for r in records))


def _checked(record: Mapping, path: Path) -> Mapping:
    """``record`` if it is a ``PredictionRecord``, else RecordError naming the file and the record."""
    check(dict(record), PredictionRecord, f"{path.name} record {record.get('id')!r}")
    return record


def repair_tail(path: str | Path) -> int:
    """Make the file end at a record boundary before appending. An unterminated last line that is
    a complete record gets its newline (it was written, only the newline was lost); one that is
    not (a kill mid-write) is cut off. Returns the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return 0
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return 0
        keep = _last_newline_end(fh, size)
        fh.seek(keep)
        tail = fh.read(size - keep)
        try:
            complete = isinstance(json.loads(tail), dict)
        except (json.JSONDecodeError, UnicodeDecodeError):
            complete = False
        if complete:
            fh.seek(0, os.SEEK_END)
            fh.write(b"\n")
            removed = 0
        else:
            fh.truncate(keep)
            removed = size - keep
        fh.flush()
        os.fsync(fh.fileno())
        return removed


def _last_newline_end(fh, size: int, block: int = 4096) -> int:
    pos = size
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        chunk = fh.read(pos - start)
        idx = chunk.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        pos = start
    return 0


class PredictionLog:
    """The writer of predictions.jsonl: appends one record per sample, durably (one ``write`` of
    a complete line, flushed and fsync'd), after making the file end at a record boundary."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self._fh = open(self.path, "ab")

    def append(self, record: Mapping) -> None:
        self._fh.write(encode_record(_checked(record, self.path)))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "PredictionLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------ results.json
def check_results(obj: Any, name: str = RESULTS_FILE) -> dict:
    """``obj`` if it is a valid ``Results``, else RecordError naming the field."""
    check(obj, Results, name)
    ratio = obj["config"]["ratio"]
    if not 0.0 <= ratio < 1.0:
        raise RecordError(f"{name}: config.ratio must be a number in [0, 1), found {ratio!r}")
    if not obj["config"]["model"].strip():
        raise RecordError(f"{name}: config.model must be a non-empty string")
    return obj


def parse_results(data: bytes | str, name: str = RESULTS_FILE) -> dict:
    """Parse and validate results.json's text."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise RecordError(f"{name}: JSON nested too deeply") from None
    return check_results(obj, name)


def read_results(path: str | Path) -> dict:
    path = Path(path)
    return parse_results(path.read_bytes(), str(path))


def write_results(path: str | Path, results: Mapping) -> None:
    """Validate, then write results.json atomically (readers never see half a file)."""
    obj = json.loads(json.dumps(results, default=str))  # the JSON that will be read back
    check_results(obj, str(path))
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_json(path: str | Path, obj: Any) -> None:
    """Any other JSON file of a run folder (the sweep summary), written atomically."""
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
