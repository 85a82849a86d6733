"""Readers for the official release's metadata shapes, detected from content (not file names).

Each shape turns one metadata file (or one folder, for the folder-only shapes) into
``SourceRecord``s and ``Issue``s. Answers are normalized to a letter plus its option text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

from audiomarathon.prompts import LETTERS
from audiomarathon.tasks import Task

from ..files import BadLine, SourceFileError, folder_error, read_text, sorted_audio, transcript_lines, walk_audio
from ..report import ANSWER_NOT_IN_OPTIONS, BAD_RECORD, MALFORMED_JSON, MISSING_CLASS, UNREADABLE, Issue
from .paths import release_name, resolve_listed


@dataclass
class SourceRecord:
    """One release record before its audio is decoded."""

    task: str
    file: str  # metadata file (or audio file for folder shapes), relative to the release root
    record: str  # locator inside ``file``
    audio: Path
    question: str
    choices: list[str]
    answer: str
    answer_text: str
    key: str  # identity used to detect duplicates
    meta: dict = field(default_factory=dict)
    expected_duration: float | None = None


@dataclass
class Context:
    task: Task
    task_dir: Path  # the task's root inside the release: audio paths fall back to it
    root: Path  # release root, for relative names in reports
    base: Path | None = None  # the metadata file's own folder: audio paths resolve here first

    def rel(self, path: Path | str) -> str:
        return release_name(path, self.root)

    def issue(self, kind: str, file: str, record: str, message: str) -> Issue:
        return Issue(kind, self.task.name, file, record, message)

    def resolve_audio(self, listed: str) -> Path:
        """A listed path relative to the metadata's folder (or its wav/), then the task root;
        absolute paths from the authors' machines are matched by their longest suffix there."""
        return resolve_listed(listed, self.base or self.task_dir, self.task_dir, self.root)


def text_field(item: dict, key: str) -> str:
    """A field that must hold text (numbers are accepted as their text): a null, an object or a
    list is a bad record, never stringified into "None" or "{'x': 1}"."""
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = "null" if value is None else f"a JSON {'object' if isinstance(value, dict) else 'list' if isinstance(value, list) else type(value).__name__}"
        raise ValueError(f"field {key!r} is {kind}, not text")
    return str(value)


def resolve_answer(answer: Any, choices: list[str]) -> tuple[str, str] | None:
    """Map an answer given as a letter ('B', 'b', '(B)', 'B.') or as an option's text to
    (letter, option text). None when it names no option."""
    if answer is None:
        return None
    text = str(answer).strip()
    letter = text.strip("()[]. :").upper()
    if len(letter) == 1 and letter in LETTERS[: len(choices)]:
        return letter, choices[LETTERS.index(letter)]
    matches = [i for i, c in enumerate(choices) if c.strip().lower() == text.lower()]
    if len(matches) == 1:
        return LETTERS[matches[0]], choices[matches[0]]
    return None


def _duration_hint(meta: dict) -> float | None:
    for key in ("duration_seconds", "duration"):
        value = meta.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


class JsonShape:
    """A metadata JSON layout."""

    name: ClassVar[str]

    @staticmethod
    def items(obj: Any) -> list | None:
        """The record list when ``obj`` has this shape, else None."""
        raise NotImplementedError

    def parse(self, item: dict, ctx: Context, file: str, locator: str) -> SourceRecord | Issue:
        raise NotImplementedError

    def records(self, obj: Any, ctx: Context, file: str) -> Iterator[SourceRecord | Issue]:
        for i, item in enumerate(self.items(obj) or []):
            if not self.wanted(item, ctx):
                continue
            locator = position(obj, i)
            if isinstance(item, BadLine):
                yield ctx.issue(MALFORMED_JSON, file, locator, item.reason)
                continue
            if not isinstance(item, dict):
                yield ctx.issue(BAD_RECORD, file, locator, f"record is a {type(item).__name__}, not an object")
                continue
            locator = self.locate(item, locator)
            try:
                yield self.parse(item, ctx, file, locator)
            except KeyError as exc:
                yield ctx.issue(BAD_RECORD, file, locator, f"missing field {exc.args[0]!r}")
            except (TypeError, ValueError, AttributeError) as exc:
                yield ctx.issue(BAD_RECORD, file, locator, f"malformed record: {exc}")

    def wanted(self, item: Any, ctx: Context) -> bool:
        """Whether ``item`` is a record of ``ctx.task`` (a file holding several tasks' records
        answers per record)."""
        return True

    def locate(self, item: dict, locator: str) -> str:
        """The record's locator in reports: its position, plus its own id when it has one."""
        return locator

    USED: ClassVar[set[str]] = set()  # the fields a record's question, options and answer come from

    def extra_fields(self, item: dict) -> dict:
        """The record's other fields, kept in the instance's ``meta``."""
        return {k: v for k, v in item.items() if k not in self.USED}

    def _record(
        self, ctx: Context, file: str, locator: str, audio: str, question: str,
        choices: list[str], answer: Any, meta: dict, key: str,
    ) -> SourceRecord | Issue:
        if not isinstance(audio, str) or not audio:
            return ctx.issue(BAD_RECORD, file, locator, "record names no audio file")
        question = text_field({"question": question}, "question")
        task = ctx.task
        if task.fixed_choices:
            # The prompt fixes the option order ('a' = Male); a release listing them in another
            # order is re-lettered so the stored letter means what the prompt says.
            named = [task.option_label(c) for c in choices]
            if None in named or sorted(named) != sorted(task.labels):
                return ctx.issue(BAD_RECORD, file, locator,
                                 f"options {choices} are not the task's fixed options {list(task.choice_texts)}")
            resolved = resolve_answer(answer, choices)
            if resolved is not None:
                answer = task.option_text(task.option_label(resolved[1]))
            choices = list(task.choice_texts)
        if len(choices) < 2:
            return ctx.issue(BAD_RECORD, file, locator, f"record has {len(choices)} option(s); at least 2 needed")
        resolved = resolve_answer(answer, choices)
        if resolved is None:
            return ctx.issue(
                ANSWER_NOT_IN_OPTIONS, file, locator,
                f"answer {answer!r} names none of the options {choices}",
            )
        letter, text = resolved
        return SourceRecord(
            task=ctx.task.name, file=file, record=locator, audio=ctx.resolve_audio(audio),
            question=str(question), choices=choices, answer=letter, answer_text=text,
            key=key, meta=meta, expected_duration=_duration_hint(meta),
        )


def position(obj: Any, index: int) -> str:
    """A record's place in its file for reports: its line in a JSON Lines file, else "#index"."""
    lines = getattr(obj, "lines", None)
    return f"line {lines[index]}" if lines is not None else f"#{index}"


def first_record(obj: Any) -> dict | None:
    """The first object of a record list (a JSON Lines file may open with a bad line)."""
    return next((r for r in obj if isinstance(r, dict)), None) if isinstance(obj, list) else None


def _sample_list(obj: Any, keys: set[str]) -> list | None:
    """A list of records (or {"samples": [...]}) whose first record has ``keys``."""
    if isinstance(obj, dict) and isinstance(obj.get("samples"), list):
        obj = obj["samples"]
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and keys <= obj[0].keys():
        return obj
    return None


class FlatChoices(JsonShape):
    """List (or {"samples": [...]}) of {path, question, choice_a.., answer_gt, ...}."""

    name = "flat_choices"
    CHOICE_KEYS = tuple(f"choice_{c}" for c in "abcdefghij")
    USED = {"path", "question", "answer_gt", *CHOICE_KEYS}

    @staticmethod
    def items(obj):
        return _sample_list(obj, {"path", "answer_gt", "choice_a"})

    def locate(self, item, locator):
        ident = item.get("uniq_id", item.get("id"))
        if ident is None:
            return locator
        return f"{locator} ({'uniq_id' if 'uniq_id' in item else 'id'}={ident})"

    def parse(self, item, ctx, file, locator):
        choices = []
        for key in self.CHOICE_KEYS:
            value = item.get(key)
            if value is None or (isinstance(value, str) and value.strip() == ""):
                break
            choices.append(text_field(item, key))
        meta = self.extra_fields(item)
        ident = item.get("uniq_id", item.get("id"))
        key = f"id={ident}" if ident is not None else f"{item['path']}|{item['question']}"
        return self._record(ctx, file, locator, item["path"], item["question"], choices, item["answer_gt"], meta, key)


class DesedTasks(JsonShape):
    """{"tasks": [{path, task_type, question, choices: {"A": ..}, answer_gt, ...}]}."""

    name = "desed_tasks"
    USED = {"path", "question", "choices", "answer_gt"}

    @staticmethod
    def items(obj):
        if isinstance(obj, dict) and isinstance(obj.get("tasks"), list):
            tasks = obj["tasks"]
            if tasks and isinstance(tasks[0], dict) and isinstance(tasks[0].get("choices"), dict):
                return tasks
        return None

    def parse(self, item, ctx, file, locator):
        options = item["choices"]
        if not isinstance(options, dict):
            raise ValueError("'choices' is not an object of letter -> text")
        letters = sorted(k.strip().upper() for k in options)
        if letters != list(LETTERS[: len(letters)]):
            raise ValueError(f"choice letters {sorted(options)} are not consecutive from A")
        by_letter = {k.strip().upper(): text_field(options, k) for k in options}
        choices = [by_letter[letter] for letter in letters]
        meta = self.extra_fields(item)
        key = f"{item['path']}|{item['question']}"
        return self._record(ctx, file, locator, item["path"], item["question"], choices, item["answer_gt"], meta, key)


class RaceList(JsonShape):
    """List of {audio_path, question, options: [...], answer, article_id, question_idx}."""

    name = "race_list"
    USED = {"audio_path", "question", "options", "answer"}

    @staticmethod
    def items(obj):
        return _sample_list(obj, {"audio_path", "options", "answer"})

    def parse(self, item, ctx, file, locator):
        options = item["options"]
        if not isinstance(options, list):
            raise ValueError("'options' is not a list")
        options = [text_field({f"options[{i}]": o}, f"options[{i}]") for i, o in enumerate(options)]
        meta = self.extra_fields(item)
        qid = item.get("question_idx", item["question"])
        key = f"{item.get('article_id', item['audio_path'])}|{qid}"
        return self._record(ctx, file, locator, item["audio_path"], item["question"], options, item["answer"], meta, key)


JSON_SHAPES: tuple[JsonShape, ...] = (FlatChoices(), DesedTasks(), RaceList())


def detect_json_shape(obj: Any) -> JsonShape | None:
    for shape in JSON_SHAPES:
        if shape.items(obj) is not None:
            return shape
    return None


def _audio_files(folder: Path, errors: list[SourceFileError]) -> list[Path]:
    """Audio files under ``folder`` in name order; folders that cannot be listed go to ``errors``."""
    return list(walk_audio(folder, onerror=lambda exc: errors.append(folder_error(exc))))


def _chapter_audio(chapters: tuple[Path, ...], errors: list[SourceFileError]) -> list[Path]:
    found = []
    for chapter in chapters:
        try:
            found += sorted_audio(chapter)
        except SourceFileError as err:
            errors.append(err)
    return found


def _walk_issues(errors: list[SourceFileError], ctx: Context) -> Iterator[Issue]:
    for err in errors:
        yield ctx.issue(UNREADABLE, ctx.rel(err.path), "", f"{err.reason}; its audio files are missing from the import")


class FolderShape:
    """A release layout defined by folders and files rather than JSON (found by ``discovery``)."""

    name: ClassVar[str]

    def records(self, folder: Path, ctx: Context) -> Iterator[SourceRecord | Issue]:
        raise NotImplementedError


class RealFakeFolders(FolderShape):
    """HAD: real/*.wav and fake/*.wav; the label comes from the folder."""

    name = "real_fake_folders"

    def records(self, folder, ctx):
        task = ctx.task
        labels = list(task.labels or ("Real", "Fake"))
        for letter, sub in zip(LETTERS, ("real", "fake")):
            errors: list[SourceFileError] = []
            paths = _audio_files(folder / sub, errors)
            yield from _walk_issues(errors, ctx)
            if not paths:  # a whole class gone would still leave a dataset that looks complete
                yield ctx.issue(MISSING_CLASS, ctx.rel(folder / sub), "",
                                f"no audio file in {sub}/: the {labels[LETTERS.index(letter)]} class has no record")
            for path in paths:
                rel = ctx.rel(path)
                yield SourceRecord(
                    task=task.name, file=rel, record="", audio=path, question=task.question,
                    choices=labels, answer=letter, answer_text=labels[LETTERS.index(letter)],
                    key=rel, meta={"label_folder": sub},
                )


@dataclass(frozen=True)
class LibriSpeechTree(FolderShape):
    """test-clean/<speaker>/<chapter>/*.flac with <base>.txt or <speaker>-<chapter>.trans.txt.
    ``chapters``: the folders holding transcripts (what discovery found); None reads every
    audio file under the folder."""

    name = "librispeech_tree"
    chapters: tuple[Path, ...] | None = None

    def records(self, folder, ctx):
        task = ctx.task
        errors: list[SourceFileError] = []
        trans_cache: dict[Path, dict[str, str]] = {}  # an unreadable one: {} after one issue
        paths = _audio_files(folder, errors) if self.chapters is None else _chapter_audio(self.chapters, errors)
        yield from _walk_issues(errors, ctx)
        for path in paths:
            base = path.stem
            rel = ctx.rel(path)
            text = None
            own = path.with_suffix(".txt")
            if own.is_file():
                try:
                    text = " ".join(read_text(own).split())
                except SourceFileError as err:
                    yield ctx.issue(UNREADABLE, ctx.rel(own), "", f"transcript {err.reason}; {rel} skipped")
                    continue
            else:
                for trans in sorted(path.parent.glob("*.trans.txt")):
                    if trans not in trans_cache:
                        try:
                            trans_cache[trans] = {utt: words for _, utt, words in transcript_lines(read_text(trans))}
                        except SourceFileError as err:
                            trans_cache[trans] = {}
                            yield ctx.issue(UNREADABLE, ctx.rel(trans), "",
                                            f"transcripts {err.reason}; their utterances are skipped")
                    if base in trans_cache[trans]:
                        text = trans_cache[trans][base]
                        break
            if not text:
                yield ctx.issue(BAD_RECORD, rel, "", f"no transcript found ({base}.txt or a *.trans.txt line for {base})")
                continue
            parts = path.relative_to(folder).parts
            meta = {"utterance": base}
            if len(parts) >= 3:
                meta.update(speaker=parts[-3], chapter=parts[-2])
            yield SourceRecord(
                task=task.name, file=rel, record="", audio=path, question=task.question,
                choices=[], answer="", answer_text=text, key=rel, meta=meta,
            )
