"""Space widget for the AudioMarathon metric: paste replies, get the scores.

evaluate's own `launch_gradio_widget` targets the gradio 3 API (gr.inputs), so the widget is
built here with gradio Blocks; every number still comes from the evaluate module's compute(),
i.e. from audiomarathon_metric.score(). Runs in the exported Space folder (the script is named
after the folder) and in the repository (script audiomarathon_metric.py):
    python -m audiomarathon_metric.app          # from the repository root
    python app.py                               # inside an exported Space folder
"""

import inspect
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if (HERE / "__init__.py").exists():
    # Run as a script inside the package folder: drop that folder from sys.path, or its
    # audiomarathon_metric.py would shadow the audiomarathon_metric package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import evaluate  # noqa: E402
import gradio as gr  # noqa: E402

SCRIPT_NAMES = (f"{HERE.name}.py", "audiomarathon_metric.py")  # exported Space folder, repository
COLUMNS = ["prediction", "reference", "task", "choices"]
EXAMPLE = [
    ["ANSWER: C", "C", "GTZAN", "jazz | metal | rock | pop"],
    ["The genre is jazz.", "A", "GTZAN", "jazz | metal | rock | pop"],
    ["b", "B", "VoxGender", ""],
    ["It sounds completely authentic.", "A", "HAD", ""],
    ["I'm not sure.", "B", "HAD", ""],
    ["Spoken Content: He hoped there would be stew for dinner.", "he hoped there would be stew for dinner", "ASR", ""],
]


def load_metric():
    for name in SCRIPT_NAMES:
        if (HERE / name).is_file():
            return evaluate.load(str(HERE / name), "all")
    raise FileNotFoundError(f"no metric script ({' or '.join(SCRIPT_NAMES)}) next to {__file__}")


def parse_choices(cell: str) -> list[str]:
    """Options as 'jazz | rock | pop' or a JSON list; empty for ASR and the fixed-option tasks."""
    cell = (cell or "").strip()
    if not cell:
        return []
    if cell.startswith("["):
        return [str(c) for c in json.loads(cell)]
    return [c.strip() for c in cell.split("|")]


def table_rows(table) -> list[list[str]]:
    rows = table.values.tolist() if hasattr(table, "values") else list(table or [])
    cleaned = [["" if c is None else str(c) for c in row] + [""] * (len(COLUMNS) - len(row)) for row in rows]
    return [row for row in cleaned if any(cell.strip() for cell in row)]


def summary_markdown(result: dict, fmt1) -> str:
    """The result as a table; ``fmt1`` is the metric's one-decimal, half-up formatting."""
    lines = ["| task | score | 95% CI | n | invalid | p (Bonferroni) |", "|---|---|---|---|---|---|"]
    for name, t in result["tasks"].items():
        ci = "–" if not t.get("ci95") else f"{fmt1(t['ci95'][0])}–{fmt1(t['ci95'][1])}"
        invalid = f"{fmt1(t['invalid_rate'])}%" if "invalid_rate" in t else f"WER {fmt1(t['wer'])}"
        p = f"{t['p_value_bonferroni']:.2g}" if t.get("p_value_bonferroni") is not None else "–"
        lines.append(f"| {name} | {fmt1(t['score'], 'none valid')} | {ci} | {t['n']} | {invalid} | {p} |")
    state = "all 10 tasks" if result["complete"] else f"{result['n_tasks']} of 10 tasks"
    lines.append(f"\n**Average ({state}): {fmt1(result['average'])}**")
    if result.get("unscored_tasks"):
        lines.append(f"\nNot scored (no valid reply): {', '.join(result['unscored_tasks'])}")
    return "\n".join(lines)


def make_handler(metric):
    def score_table(table, mode, normalizer, n_bootstrap, seed):
        rows = table_rows(table)
        if not rows:
            raise gr.Error("Enter at least one row: prediction, reference, task, choices.")
        try:
            result = metric.compute(
                predictions=[r[0] for r in rows],
                references=[r[1] for r in rows],
                tasks=[r[2].strip() for r in rows],
                choices=[parse_choices(r[3]) for r in rows],
                mode=mode,
                normalizer=normalizer,
                n_bootstrap=int(n_bootstrap),
                seed=int(seed),
                per_sample=True,
            )
        except (ValueError, TypeError, KeyError) as err:  # bad rows: show the message, name the row
            raise gr.Error(str(err)) from None
        return summary_markdown(result, inspect.getmodule(type(metric)).fmt1), result

    return score_table


def build_demo(metric=None) -> gr.Blocks:
    metric = metric or load_metric()
    card = HERE / "README.md"
    article = card.read_text(encoding="utf-8").split("---", 2)[-1] if card.exists() else ""
    with gr.Blocks(title="AudioMarathon metric") as demo:
        gr.Markdown("# AudioMarathon metric\nRaw model replies in; per-task scores, average and statistics out.")
        table = gr.Dataframe(value=EXAMPLE, headers=COLUMNS, datatype="str", column_count=len(COLUMNS),
                             interactive=True, label="replies")
        with gr.Row():
            mode = gr.Dropdown(["strict", "paper"], value="strict", label="mode")
            normalizer = gr.Dropdown(["benchmark", "whisper", "whisper_basic"], value="benchmark", label="ASR normalizer")
            n_bootstrap = gr.Number(value=1000, precision=0, minimum=0, label="bootstrap replicates")
            seed = gr.Number(value=0, precision=0, label="seed")
        button = gr.Button("Score", variant="primary")
        summary = gr.Markdown()
        details = gr.JSON(label="result")
        button.click(make_handler(metric), [table, mode, normalizer, n_bootstrap, seed], [summary, details],
                     api_name="score")
        gr.Markdown(article)
    return demo


if __name__ == "__main__":
    build_demo().launch()
