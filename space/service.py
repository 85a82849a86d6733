"""The leaderboard service without the UI: open the store, seed it, hold answer keys, accept
submissions. The Gradio app, the tests, the benchmark and the demo all go through this."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from audiomarathon.benchmarks import get_benchmark
from audiomarathon.records import PREDICTIONS_FILE, RESULTS_FILE
from audiomarathon_metric.display import fmt1
from space.answer_key import AnswerKey, build_answer_key
from space.leaderboard import Filters, leaderboard_frame, text_table
from space.seed import seed_published
from space.store import DEFAULT_BENCHMARK, Entry, RateLimited, Store
from space.sync import HubSync
from space.validation import Limits, Submission, SubmissionRejected, submit_files

log = logging.getLogger(__name__)


@dataclass
class Service:
    store: Store
    sync: HubSync = field(default_factory=HubSync)
    limits: Limits = field(default_factory=Limits)
    seed_note: str = ""
    # Submissions one submitter may make per hour (accepted, held or refused alike); 0: no limit.
    max_per_hour: int = 0

    @classmethod
    def open(cls, db: str | Path, datasets: Sequence[str | Path] = (), hub_repo: str | None = None,
             hub_token: str | None = None, limits: Limits = Limits(), seed: bool = True,
             max_per_hour: int = 0) -> "Service":
        keys = [(build_answer_key(ds), ds) for ds in datasets]  # an unreadable dataset fails before the store exists
        store = Store(db)
        service = cls(store, HubSync(hub_repo, hub_token), limits, max_per_hour=max_per_hour)
        if seed:
            service.seed_note = seed_published(store)
        for key, ds in keys:
            service._put_answer_key(key, ds)
        service.sync.pull(store)
        return service

    def add_dataset(self, dataset: str | Path) -> AnswerKey:
        return self._put_answer_key(build_answer_key(dataset), dataset)

    def _put_answer_key(self, key: AnswerKey, dataset: str | Path) -> AnswerKey:
        self.store.put_answer_key(key)
        log.info("answer key %s: %d ids from %s", key.fingerprint, key.num_ids, dataset)
        return key

    def entries(self, benchmark: str | None = DEFAULT_BENCHMARK) -> list[Entry]:
        """The rows of one benchmark's board (by its key; AudioMarathon's unless named), or of every
        benchmark with None."""
        return [e for e in self.store.entries() if benchmark is None or e.benchmark == benchmark]

    def table(self, filters: Filters = Filters()):
        return leaderboard_frame(self.store.entries(), filters)

    def submit(self, predictions_path: str | Path | bytes | None, results_path: str | Path | bytes | None,
               submitter: str | None = None, judgments_path: str | Path | bytes | None = None) -> Submission:
        """Validate, re-score and store; raises SubmissionRejected with every reason. Each file is
        a path or its bytes. With a ``submitter`` (who sent it: a Hub user or an address), the
        attempt counts against the per-submitter rate limit first. ``judgments_path``: an AIR-Bench
        Chat run's judgments.jsonl, re-aggregated instead of re-scored (space.chat_submission)."""
        if submitter is not None and self.max_per_hour > 0:
            self.check_rate(submitter)
        if judgments_path is not None:
            from space.chat_submission import submit_chat_files

            sub = submit_chat_files(self.store, predictions_path, results_path, judgments_path, self.limits)
        else:
            sub = submit_files(self.store, predictions_path, results_path, self.limits)
        self.sync.push_async(sub.entry, sub.predictions_jsonl)
        return sub

    def check_rate(self, submitter: str) -> None:
        try:
            self.store.log_submission(submitter, self.max_per_hour, 3600.0)
        except RateLimited as exc:
            when = datetime.fromtimestamp(exc.retry_at, timezone.utc).strftime("%H:%M:%S UTC")
            raise SubmissionRejected([f"rate limit: at most {self.max_per_hour} submissions per hour from one "
                                      f"submitter; the next is possible at {when}"]) from None

    def submit_report(self, predictions_path: str | Path | bytes | None, results_path: str | Path | bytes | None,
                      submitter: str | None = None) -> dict:
        """The API's answer to a submission: JSON, never HTML, never an exception."""
        try:
            sub = self.submit(predictions_path, results_path, submitter)
        except SubmissionRejected as exc:
            return {"accepted": False, "reasons": exc.problems, "entry_id": None}
        e = sub.entry
        return {"accepted": True, "reasons": [], "entry_id": e.id, "benchmark": e.benchmark, "model": e.model, "method": e.method,
                "ratio": e.ratio, "average": e.average, "scores": e.scores,
                "dataset_fingerprint": e.dataset_fingerprint, "warnings": sub.warnings,
                "held": e.held, "held_because": held_line(self.store, e) if e.held else None}

    def status_lines(self) -> list[str]:
        keys = self.store.answer_keys()
        if keys:
            versions = "; ".join(f"{k.fingerprint} ({k.num_ids:,} ids, "
                                 f"{', '.join(get_benchmark(b).name for b in k.benchmarks)})" for k in keys)
            key_line = f"Submissions are re-scored against dataset version(s): {versions}."
        else:
            key_line = "Submissions are closed: this server was started without a dataset to build its answer key from."
        # Nothing about the server's file system: the page is public.
        lines = [key_line, self.sync.status(), f"Store schema v{self.store.schema_version()}."]
        if self.seed_note:
            lines.append(self.seed_note)
        return lines


def message_html(ok: bool, title: str, lines: Sequence[str] = ()) -> str:
    """Every piece of text is escaped: model names and file contents come from submitters."""
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    cls = "am-ok" if ok else "am-error"
    return f'<div class="am-msg {cls}"><strong>{html.escape(title)}</strong>{f"<ul>{items}</ul>" if items else ""}</div>'


def held_line(store: Store, e: Entry) -> str:
    """Why an entry is held, naming the entry whose replies it repeats."""
    first = store.entry_by_run(e.duplicate_of) if e.duplicate_of else None
    what = (f"{first.model} · method {first.method} · ratio {round(100 * first.ratio)}% (entry #{first.id})"
            if first else "an entry already on the board")
    return (f"Held for review as a probable duplicate: its replies equal those of {what}. It is shown as held "
            "and not ranked until a maintainer accepts it (two settings can give the same replies).")


def accepted_lines(sub: Submission, store: Store | None = None) -> list[str]:
    e = sub.entry
    lines = [held_line(store, e)] if e.held and store is not None else []
    lines += [
        f"Model: {e.model} · method {e.method} · ratio {round(100 * e.ratio)}% · board {get_benchmark(e.benchmark).name}",
        f"Re-scored average: {fmt1(e.average)}" if e.average is not None else "Re-scored average: n/a",
    ]
    lines += [f"{task}: {fmt1(score)}" for task, score in e.scores.items()]
    lines += [f"Stored as entry #{e.id} (dataset version {e.dataset_fingerprint})."]
    return lines + sub.warnings


def submit_run_dir(run_dir: str | Path, db: str | Path, datasets: Sequence[str | Path] = (),
                   show: bool = True) -> Entry:
    """For the demo: submit a runner output folder (predictions.jsonl + results.json) into a local
    store, re-scored against the given dataset(s), and print the leaderboard."""
    run_dir = Path(run_dir)
    service = Service.open(db, datasets)
    try:
        sub = service.submit(run_dir / PREDICTIONS_FILE, run_dir / RESULTS_FILE)
    except SubmissionRejected as exc:
        raise SubmissionRejected([f"{run_dir}: {p}" for p in exc.problems]) from None
    if show:
        print(board_text(service, sub.entry.benchmark))
    return sub.entry


def board_text(service: Service, benchmark: str) -> str:
    """The board of one benchmark (by its key) as plain text."""
    from space.boards import boards, text_board

    for board in boards():
        if board.benchmark == benchmark:
            return text_board(board, service.entries(benchmark))
    return text_table(service.entries(benchmark))
