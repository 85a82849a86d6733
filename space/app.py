"""The AudioMarathon leaderboard: a Gradio 6 app.

Run locally with `audiomarathon serve --data DATASET` or `python space/app.py --data DATASET`
(localhost only by default); on a Hugging Face Space it starts with the settings in
space/settings.json (see README.md in this folder).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python space/app.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # never phone home from a test or a Space

import gradio as gr  # noqa: E402

from audiomarathon.citation import CITATION, LICENSE, PAPER_URL  # noqa: E402
from audiomarathon.tasks import CATEGORIES, TASKS  # noqa: E402

from space import boards as other_boards  # noqa: E402
from space import leaderboard as lb  # noqa: E402
from space.claims import KNOWN_MODELS, SIZE_TOLERANCE  # noqa: E402
from space.long_audio import long_audio_tab  # noqa: E402
from space.port import PortInUse, check_port  # noqa: E402
from space.plots import safe_plot, score_vs_prefill, score_vs_ratio  # noqa: E402
from space.service import Service, accepted_lines, message_html  # noqa: E402
from space.store import HELD_LABEL, SOURCE_LABELS  # noqa: E402
from space.settings import Settings, add_arguments, settings_from  # noqa: E402
from space.uploads import NotAnUpload, Sweeper, own_upload_folder, uploaded_path  # noqa: E402
from space.validation import SubmissionRejected  # noqa: E402

CSS = """
.gradio-container { max-width: 100% !important; }
#leaderboard-table th, #leaderboard-table th span, #leaderboard-table [role=gridcell],
#leaderboard-table [role=gridcell] span { font-size: {font}px; }
#leaderboard-table th { padding-left: 3px; padding-right: 3px; }
#leaderboard-table .cell-wrap { padding-left: 4px; padding-right: 4px; }
/* A header wraps between words (and after a hyphen), never inside one: the column widths
   (leaderboard.column_width) leave room for each header's longest word. */
#leaderboard-table th span { word-break: normal; overflow-wrap: normal; hyphens: manual; }
/* The column menu sorts or filters only the rows of the page in view: the board's own sort and
   filters above the table act on every row. */
#leaderboard-table .cell-menu-button { display: none; }
.am-msg { padding: 0.6em 0.9em; border-radius: 6px; margin-top: 0.4em; }
.am-ok { background: #e8f6ec; border: 1px solid #5aa469; }
.am-error { background: #fdecec; border: 1px solid #d9534f; }
.am-status { font-size: 0.9em; color: #555; }
""".replace("{font}", str(lb.FONT_PX))
# System fonts: the default theme fetches web fonts, which an offline server cannot reach.
THEME = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def _about_markdown() -> str:
    rows = "\n".join(
        f"| {t.name} | {t.abbrev} | {t.title} | {t.category} | {t.source} | {t.paper_count:,} | "
        f"{'100 − WER' if not t.is_mcq else 'macro-F1 × 100'} |"
        for t in TASKS
    )
    cats = "\n".join(f"- **{c}**: " + ", ".join(t.abbrev for t in TASKS if t.category == c) for c in CATEGORIES)
    sizes = "\n".join(
        f"| {m.hub_id}{' (paper: ' + ', '.join(m.names) + ')' if m.names else ''} | "
        f"{'' if m.counted else lb.NOMINAL_MARK}{m.params_b:.1f} | {m.source} |" for m in KNOWN_MODELS)
    return f"""
## AudioMarathon

Long-audio understanding and efficiency benchmark for audio language models ([paper]({PAPER_URL})).
Every instance is one 90–300 s recording with a multiple-choice question (or a transcript for ASR).

| config | abbrev | task | category | source | instances (paper) | score |
|---|---|---|---|---|---|---|
{rows}

### Metric
- **MCQ tasks**: the reply is turned into a letter by a fixed, documented extraction (no random
  fallback); an unparsable reply counts as wrong (strict mode). Score = macro-F1 × 100; the F1 classes
  are the label texts for closed label sets and the letters for RACE, SLUE and DESED.
- **ASR (LibriSpeech)**: score = clip(100 − WER, 0, 100) after the benchmark's text normalization.
- **Category averages** are the plain means of their tasks; the **Average** is the plain mean of the
  10 task scores.
{cats}

### Rows
- **{SOURCE_LABELS['paper']}**: the published table, copied as reported (open, closed and human rows);
  their Average is the paper's Avg. column (the human row has no ASR score and averages nine tasks).
- **{SOURCE_LABELS['verified']}**: raw replies uploaded here and re-scored by this server against its
  own answer key; scores written in the submitted files are ignored.
- **{HELD_LABEL}**: a submission whose replies equal those of an entry already on the board, under
  other settings: a probable duplicate. It is listed after the ranked rows, left out of the plots,
  and ranked only once a maintainer accepts it (two settings can give the same replies).

### MMAR and AIR-Bench Foundation
Each has its own tab: its published rows (the column **Figures from** names the table each row is
copied from) and the runs submitted on it, re-scored here with that benchmark's scoring in strict
mode (an unreadable reply is wrong and stays in the denominator). A submission goes to the board
of the benchmark its dataset holds; serve one dataset per benchmark.
- **MMAR**: accuracy over all items (micro average), and per modality.
- **AIR-Bench Foundation**: accuracy per task; Speech, Sound and Music are the unweighted means of
  their tasks, the Average the mean of the three (the published rows' category figures are derived
  this way from their published task figures).

### What is checked, and what is self-reported
The server re-computes every score from the raw replies. What it cannot re-compute is taken from
the submitted results.json and checked where it can be:
- **Method and ratio** must name one of the benchmark's compression methods (`none` and the
  runner's pruning methods and KV-cache presses), and an uncompressed run has ratio 0.
- **Size**: a model this board knows (the models the runner supports) must report a parameter count
  within {SIZE_TOLERANCE:.0%} of its published size. The size of any other model is the submitter's
  claim (its run's count, or its name) and is marked {lb.SELF_REPORTED_MARK} in the Size column.
- **Timings** (prefill) are self-reported by the submitter's run: this server does not re-measure
  them, and they are not comparable across hardware.
- Predictions and results must come from one run: every scored record carries results.json's run id.
- **One entry per run**: a submission whose run identity equals an entry's is refused. Identities are
  compared canonically: model names after Unicode NFKC, with invisible characters removed, Cyrillic
  and Greek look-alikes read as the Latin letters they imitate, case folded, trailing `/` and `/.`
  dropped, a local folder by its own name; `float32` is `fp32`, revision `main` is none, audio
  control `none` is none, and a reply cap at or above every task's own caps nothing.
- One submitter (a Hub user, else an address) may submit a limited number of runs per hour.

### Model sizes
Billions of parameters, from one table (the runner's models and the paper's open models). A size
marked {lb.NOMINAL_MARK} is the size the model is named by (no count of all its weights is published);
it is shown, never used to refuse a run's own count.

| model | size (B) | source |
|---|---|---|
{sizes}

License of the benchmark data: {LICENSE}.
"""


SUBMIT_HELP = """
Upload the two files the runner writes (`audiomarathon run ...`): **predictions.jsonl** (one line per
instance: `id`, `reply`, ...) and **results.json** (`config`: model, method, ratio, ...; `dataset`:
fingerprint). The server re-scores the raw replies with its own answer key. A submission is refused
when ids are missing or duplicated, when they belong to another dataset version, when a file is
malformed or too large, or when the same model and configuration is already on the board.
An AIR-Bench Chat run also uploads **judgments.jsonl** (written by `audiomarathon judge RUN_DIR`): the
server checks each judgment against its answer key and the submitted replies, and aggregates them itself.

From the command line: `audiomarathon submit RUN_DIR --space URL`, or through the API endpoint
`/submit_run` (two files in, JSON out) with `gradio_client`:
`Client(URL).predict(handle_file("predictions.jsonl"), handle_file("results.json"), api_name="/submit_run")`
returns `{"accepted": true|false, "reasons": [...], "entry_id": ...}`.
"""
API_NAME = "submit_run"


def submitter_of(request: gr.Request | None) -> str | None:
    """Who sent a request, for the rate limit: the signed-in Hub user, else the client's address
    (behind a proxy, uvicorn takes it from X-Forwarded-For when the proxy is trusted:
    FORWARDED_ALLOW_IPS)."""
    if request is None:
        return None
    user = getattr(request, "username", None)
    if user:
        return f"user:{user}"
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return f"address:{host}" if host else None


def build_app(service: Service, upload_ttl_s: int | None = 600) -> gr.Blocks:
    entries = service.entries()
    ttl = (max(1, upload_ttl_s), max(1, upload_ttl_s)) if upload_ttl_s else None
    with gr.Blocks(title="AudioMarathon leaderboard", fill_width=True, delete_cache=ttl) as demo:
        gr.HTML("<h1 style='margin-bottom:0'>AudioMarathon leaderboard</h1>"
                "<p>Long-audio understanding and inference efficiency of audio language models, with the "
                "MMAR and AIR-Bench Foundation leaderboards beside it (one tab each).</p>")
        boards = other_boards.boards()
        board_tables = []
        with gr.Tabs():
            with gr.Tab("AudioMarathon", id="leaderboard"):
                with gr.Row():
                    search = gr.Textbox(label="Search", placeholder="model or method, e.g. qwen fastv", scale=3,
                                        elem_id="search")
                    sort_by = gr.Dropdown(list(lb.COLUMNS), value=lb.AVERAGE, label="Sort by", scale=1)
                    ascending = gr.Checkbox(label="Ascending", value=False, scale=1)
                with gr.Row():
                    weights = gr.CheckboxGroup(list(lb.WEIGHTS_CHOICES), value=list(lb.WEIGHTS_CHOICES),
                                               label="Model type")
                    sources = gr.CheckboxGroup(list(lb.SOURCE_CHOICES), value=list(lb.SOURCE_CHOICES),
                                               label="Source")
                    sizes = gr.CheckboxGroup(list(lb.SIZE_CHOICES), value=list(lb.SIZE_CHOICES), label="Model size")
                with gr.Row():
                    methods = gr.Dropdown(lb.method_choices(entries), value=[], multiselect=True,
                                          label="Compression method (none selected: all)")
                    ratios = gr.Dropdown(lb.ratio_choices(entries), value=[], multiselect=True,
                                         label="Compression ratio (none selected: all)")
                    shown = gr.CheckboxGroup(list(lb.OPTIONAL_COLUMNS), value=list(lb.DEFAULT_OPTIONAL),
                                             label="Columns", elem_id="columns")
                columns = lb.shown_columns()
                table = gr.Dataframe(
                    value=lb.styled(lb.page_of(lb.leaderboard_frame(entries), 1, lb.DEFAULT_PAGE_SIZE), columns),
                    datatype=lb.datatypes(columns), interactive=False, elem_id="leaderboard-table",
                    pinned_columns=1, max_height=2400, label="Leaderboard", wrap=True,
                    column_widths=lb.column_widths(columns),
                )
                gr.Markdown(f"Source: **{SOURCE_LABELS['paper']}** rows are copied from the published table; "
                            f"**{SOURCE_LABELS['verified']}** rows were re-scored here from their raw replies; "
                            f"**{HELD_LABEL}** rows repeat the replies of another entry and are not ranked. "
                            f"Size: {lb.NOMINAL_MARK} the size a model is named by, {lb.SELF_REPORTED_MARK} claimed "
                            "by the submitter (a model this board does not know); prefill times are self-reported "
                            "and not re-measured (see About).", elem_id="table-note")
                with gr.Row(equal_height=True):
                    prev_btn = gr.Button("◀ Previous", size="sm", scale=1, elem_id="page-prev")
                    page = gr.Number(1, precision=0, minimum=1, label="Page", scale=1, min_width=100, elem_id="page")
                    page_size = gr.Dropdown(list(lb.PAGE_SIZES), value=lb.DEFAULT_PAGE_SIZE, label="Rows per page",
                                            scale=1, min_width=100, elem_id="page-size")
                    next_btn = gr.Button("Next ▶", size="sm", scale=1, elem_id="page-next")
                    page_info = gr.Markdown(lb.page_label(len(entries), 1, lb.DEFAULT_PAGE_SIZE), elem_id="page-info")
            every_entry = service.entries(None)
            for board in boards:  # one tab per benchmark beside AudioMarathon, its published rows and submissions
                with gr.Tab(board.title, id=board.benchmark):
                    gr.Markdown(board.intro)
                    board_tables.append(gr.Dataframe(
                        value=other_boards.styled(board, other_boards.board_frame(board, every_entry)),
                        datatype=board.datatypes(), interactive=False, elem_id=board.elem_id, pinned_columns=1,
                        max_height=2400, label=f"{board.title} leaderboard", wrap=True))
                    gr.Markdown(board.note)
            with gr.Tab("Efficiency", id="efficiency"):
                gr.Markdown("Average score against the compression ratio (one line per model and method; "
                            "the uncompressed run is the 0% point), and against the mean prefill time "
                            "with the Pareto frontier. Held rows are left out.")
                models = gr.Dropdown(sorted({e.model for e in entries}), value=[], multiselect=True,
                                     label="Models (none selected: all)")
                ratio_plot = gr.Plot(safe_plot(score_vs_ratio, entries), label="Score vs compression ratio")
                gr.Markdown("**Prefill times are self-reported** by each submitter's run on its own hardware; "
                            "this server re-scores the replies but does not re-measure timings.",
                            elem_id="prefill-note")
                prefill_plot = gr.Plot(safe_plot(score_vs_prefill, entries), label="Score vs prefill time")
            long_audio_tab(service.store)
            with gr.Tab("Submit", id="submit"):
                gr.Markdown(SUBMIT_HELP)
                with gr.Row():
                    # type="binary": the handler gets the bytes read while the upload exists (no
                    # temporary file per upload, nothing another request could delete under it).
                    pred_file = gr.File(label="predictions.jsonl", file_types=[".jsonl"], type="binary",
                                        elem_id="predictions-file")
                    results_file = gr.File(label="results.json", file_types=[".json"], type="binary",
                                           elem_id="results-file")
                    # An AIR-Bench Chat run brings its judge's verdicts (space.chat_submission).
                    judgments_file = gr.File(label="judgments.jsonl (AIR-Bench Chat runs only)",
                                             file_types=[".jsonl"], type="binary", elem_id="judgments-file")
                submit_btn = gr.Button("Submit for re-scoring", variant="primary", elem_id="submit-button")
                message = gr.HTML(elem_id="submit-message")
                # The API's own inputs and output: two files in, JSON out (never shown on the page).
                # The inputs take any JSON, so that whatever a client sends (a bare file name, a
                # path outside the uploads) reaches submit_run and gets a JSON answer.
                api_pred = gr.JSON(visible=False)
                api_results = gr.JSON(visible=False)
                api_answer = gr.JSON(visible=False)
                api_trigger = gr.Button(visible=False)
            with gr.Tab("About", id="about"):
                gr.Markdown(_about_markdown())
                gr.HTML(message_html(True, "Server status", service.status_lines()).replace("am-ok", "am-status"),
                        elem_id="status")
                gr.Code(CITATION, label="Citation (BibTeX)", language=None, interactive=False)

        filters = [search, weights, sources, sizes, methods, ratios, sort_by, ascending]
        view = [*filters, shown, page, page_size]

        def render_table(search, weights, sources, sizes, methods, ratios, sort_by, ascending, shown, page,
                         page_size):
            frame = lb.leaderboard_frame(service.entries(), lb.Filters(
                search or "", weights or [], sources or [], sizes or [], methods or [], ratios or [],
                sort_by or lb.AVERAGE, bool(ascending)))
            size = int(page_size or lb.DEFAULT_PAGE_SIZE)
            last = lb.page_count(len(frame), size)
            page = min(max(1, int(page or 1)), last)
            cols = lb.shown_columns(shown or [])
            value = lb.styled(lb.page_of(frame, page, size), cols)
            return (gr.Dataframe(value=value, datatype=lb.datatypes(cols), column_widths=lb.column_widths(cols)), page,
                    lb.page_label(len(frame), page, size))

        def render_first_page(*values):
            return render_table(*values[:-2], 1, values[-1])

        def render_plots(selected):
            current = service.entries()
            return (safe_plot(score_vs_ratio, current, selected or ()),
                    safe_plot(score_vs_prefill, current, selected or ()))

        def render_boards():
            every = service.entries(None)
            return tuple(gr.Dataframe(value=other_boards.styled(b, other_boards.board_frame(b, every))) for b in boards)

        def refresh(*values):
            current = service.entries()
            return (*render_table(*values[:-1]), gr.Dropdown(choices=lb.method_choices(current)),
                    gr.Dropdown(choices=lb.ratio_choices(current)),
                    gr.Dropdown(choices=sorted({e.model for e in current})), *render_boards(),
                    *render_plots(values[-1]))

        def submit(request: gr.Request, pred_bytes, results_bytes, judgments_bytes, *values):
            try:
                sub = service.submit(pred_bytes, results_bytes, submitter_of(request), judgments_bytes)
            except SubmissionRejected as exc:
                msg = message_html(False, "Submission rejected", exc.problems)
                files = (gr.skip(), gr.skip(), gr.skip())  # kept: the submitter may replace just one of them
            else:
                title = ("Submission accepted and re-scored: held for review, not ranked" if sub.entry.held
                         else "Submission accepted and re-scored")
                msg = message_html(True, title, accepted_lines(sub, service.store))
                # Cleared: the uploads are swept after the TTL, and a second click would only send
                # the same run again.
                files = (None, None, None)
            return (msg, *files, *refresh(*values))

        def submit_run(request: gr.Request, predictions_jsonl, results_json):
            """Submit a run: the runner's predictions.jsonl and results.json. Returns JSON:
            {"accepted": bool, "reasons": [...], "entry_id": int | null, "model", "average", ...}."""
            from gradio.utils import get_upload_folder

            folder = Path(get_upload_folder())
            paths, reasons = [], []
            for value, name in ((predictions_jsonl, "predictions.jsonl"), (results_json, "results.json")):
                try:
                    paths.append(uploaded_path(value, name, folder))
                except NotAnUpload as exc:
                    reasons.append(str(exc))
            if reasons:
                return {"accepted": False, "reasons": reasons, "entry_id": None}
            return service.submit_report(*paths, submitter=submitter_of(request))

        table_out = [table, page, page_info]
        for comp in filters + [shown, page_size]:
            # .change, not .input, for the search box: Gradio 6 fires no input event on deletions,
            # so clearing the box would leave the table filtered. A new filter starts at page 1.
            comp.change(render_first_page, view, table_out, show_progress="hidden",
                        api_name="leaderboard" if comp is search else None, trigger_mode="always_last")
        page.submit(render_table, view, table_out, show_progress="hidden")

        def step(delta):
            def go(*values):
                return render_table(*values[:-2], int(values[-2] or 1) + delta, values[-1])
            return go

        prev_btn.click(step(-1), view, table_out, show_progress="hidden")
        next_btn.click(step(+1), view, table_out, show_progress="hidden")
        models.change(render_plots, models, [ratio_plot, prefill_plot])
        outputs = [*table_out, methods, ratios, models, *board_tables, ratio_plot, prefill_plot]
        submit_btn.click(submit, [pred_file, results_file, judgments_file, *view, models],
                         [message, pred_file, results_file, judgments_file, *outputs],
                         api_name="submit", concurrency_limit=4)
        api_trigger.click(submit_run, [api_pred, api_results], api_answer, api_name=API_NAME,
                          concurrency_limit=4)
        # Every page load shows the current store (other users' submissions included).
        demo.load(refresh, [*view, models], outputs)
    return demo


def serve(settings: Settings, block: bool = True):
    check_port(settings.host, settings.port)
    service = Service.open(settings.db, settings.datasets, settings.hub_repo, os.environ.get("HF_TOKEN"),
                           settings.limits, max_per_hour=settings.max_submissions_per_hour)
    # Before the app is built: Gradio's components read the upload folder when they are created.
    uploads = own_upload_folder(settings.port)
    if settings.upload_ttl_s:
        Sweeper(uploads, settings.upload_ttl_s).start()
    demo = build_app(service, settings.upload_ttl_s)
    demo.queue(default_concurrency_limit=8)
    try:
        demo.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=True,
                    max_file_size=int(settings.max_upload_mb * 2**20) + 2**20, theme=THEME, css=CSS,
                    ssr_mode=False, footer_links=["api"], quiet=True)
    except OSError as exc:  # taken between the check and the launch: Gradio's words name its own API
        if "Cannot find empty port" not in str(exc):
            raise
        check_port(settings.host, settings.port)
        raise PortInUse(f"port {settings.port} on {settings.host} is already in use: start on a free port "
                        "with --port N") from None
    print(f"AudioMarathon leaderboard running on {demo.local_url} (Ctrl+C stops it)", flush=True)
    if block:
        demo.block_thread()
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="space/app.py", description="AudioMarathon leaderboard (Gradio)")
    add_arguments(parser)
    settings = settings_from(parser.parse_args(argv))
    try:
        serve(settings)
    except PortInUse as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
