"""The "Long audio" tab: verified submissions re-scored by duration bin and by evidence position.

Durations and evidence positions come from the dataset versions the server holds answer keys for
(read once, without audio); each stored submission's raw replies are scored against the server's key
with ``durations=`` / ``evidence=``. Submissions on a dataset the server cannot read are left out.
"""

from __future__ import annotations

import logging
import threading
from typing import Sequence

import gradio as gr

from audiomarathon_metric import score
from audiomarathon_metric.long_plots import PlotRun
from audiomarathon_metric.long_plots import score_vs_duration
from audiomarathon_metric.long_plots import score_vs_evidence
from audiomarathon_metric.long_plots import score_vs_ratio_by_duration

from audiomarathon.records import RUN_ID_FIELD, RecordError, parse_prediction_lines, records_of_run

from space.plots import safe_plot
from space.store import DEFAULT_BENCHMARK, VERIFIED, Entry, Store

log = logging.getLogger(__name__)
N_BOOTSTRAP = 200  # a display: enough for a band, cheap to recompute


class LongAudio:
    """Per-entry long-audio scores, cached by entry id (an entry never changes once stored)."""

    def __init__(self, store: Store):
        self.store = store
        self._info: dict[str, dict] = {}  # dataset fingerprint -> {id: ItemInfo}
        self._scores: dict[int, dict | None] = {}
        self._lock = threading.Lock()

    def _item_info(self, fingerprint: str) -> dict | None:
        if fingerprint not in self._info:
            key = self.store.answer_key(fingerprint)
            info = None
            if key is not None and key.source:
                from audiomarathon_metric.item_info import load_item_info

                try:
                    info = load_item_info(key.source, sorted({it.task for it in key.items.values()}))
                except (OSError, ValueError) as exc:
                    log.warning("long audio: cannot read durations from %s: %s", key.source, exc)
            self._info[fingerprint] = info
        return self._info[fingerprint]

    def scores(self, entry: Entry) -> dict | None:
        with self._lock:
            if entry.id not in self._scores:
                self._scores[entry.id] = self._score(entry)
            return self._scores[entry.id]

    def _score(self, entry: Entry) -> dict | None:
        key = self.store.answer_key(entry.dataset_fingerprint)
        info = self._item_info(entry.dataset_fingerprint)
        raw = self.store.predictions(entry.id)
        if key is None or info is None or raw is None:
            return None
        try:  # the records of the entry's own run, as they were scored at submission
            lines = parse_prediction_lines(raw, check_shape=False)
            if entry.config.get(RUN_ID_FIELD):
                lines = records_of_run(lines, {"config": entry.config})
        except RecordError as exc:
            log.warning("long audio: entry %s: %s", entry.id, exc)
            return None
        replies = {str(rec.get("id")): rec.get("reply") if isinstance(rec.get("reply"), str) else ""
                   for _, rec in lines}
        ids = [i for i in key.items if i in replies and i in info]
        if not ids:
            return None
        items = [key.items[i] for i in ids]
        return score([replies[i] for i in ids], [it.reference for it in items], [it.task for it in items],
                     choices=[list(it.choices) for it in items], ids=ids, n_bootstrap=N_BOOTSTRAP,
                     durations=[info[i].duration for i in ids], evidence=[info[i].evidence_position for i in ids])

    def figures(self, models: Sequence[str] = ()):
        chosen = [e for e in self.store.entries(VERIFIED) if not e.held and e.benchmark == DEFAULT_BENCHMARK
                  and (not models or e.model in models)]
        # Names are submitters' text: the plots draw them literally, and a plot that fails is one message.
        runs = [PlotRun(f"{e.model} · {e.method} {round(100 * e.ratio)}%", s, e.model, e.method, e.ratio)
                for e in chosen if (s := self.scores(e)) is not None]
        return (safe_plot(score_vs_duration, runs), safe_plot(score_vs_evidence, runs),
                safe_plot(score_vs_ratio_by_duration, runs))


def long_audio_tab(store: Store) -> None:
    """The tab's components and events (call inside ``gr.Tabs``)."""
    view = LongAudio(store)
    with gr.Tab("Long audio", id="long-audio") as tab:
        gr.Markdown("How scores fall with duration and with where the evidence sits, for verified "
                    "submissions (re-scored here with each item's duration; error bars are bootstrap 95% CIs; "
                    "more than three runs get one panel each). "
                    "The same figures come from `audiomarathon compare RUN_A RUN_B --out DIR`.")
        models = gr.Dropdown([], value=[], multiselect=True, label="Models (none selected: all)",
                             elem_id="long-audio-models")
        duration_plot = gr.Plot(label="Score vs duration", elem_id="long-audio-duration")
        evidence_plot = gr.Plot(label="Score vs evidence position", elem_id="long-audio-evidence")
        ratio_plot = gr.Plot(label="Score vs compression ratio per duration bin", elem_id="long-audio-ratio")

    def render(selected):
        return view.figures(selected or ())

    def on_open(selected):
        names = sorted({e.model for e in store.entries(VERIFIED) if e.benchmark == DEFAULT_BENCHMARK})
        return (gr.Dropdown(choices=names), *render(selected))

    tab.select(on_open, models, [models, duration_plot, evidence_plot, ratio_plot])
    models.change(render, models, [duration_plot, evidence_plot, ratio_plot])
