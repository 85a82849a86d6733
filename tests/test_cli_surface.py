"""The command line as a user meets it: commands in workflow order, help on every option with its
default, one name for the dataset folder, --version, the models/methods listings, run arguments
refused before anything loads, quiet model loading, score's table and its --out faults."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import re
import textwrap
from pathlib import Path

import pytest

from audiomarathon.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_overview_lists_commands_in_workflow_order_and_version(capsys):
    assert main(["--help"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("  ")
              and line.split()[0] in COMMANDS]
    data, evaluate, leaderboard, reference = (["import-release", "build", "push"], ["run", "sweep", "score"],
                                              ["submit", "serve"], ["tasks", "models", "methods"])
    # What the benchmark holds first (tasks, models, methods), then the workflow: data, evaluate, leaderboard.
    position = {name: listed.index(name) for name in data + evaluate + leaderboard + reference}
    assert max(position[n] for n in reference) < min(position[n] for n in data)
    assert max(position[n] for n in data) < min(position[n] for n in evaluate)
    assert max(position[n] for n in evaluate) < min(position[n] for n in leaderboard)
    assert [n for n in listed if n in data + evaluate + leaderboard] == data + evaluate + leaderboard
    assert main(["--version"]) == 0
    from importlib.metadata import version

    assert capsys.readouterr().out.split() == ["audiomarathon", version("audiomarathon-hf")]


def _help_blocks(name: str) -> tuple[list, dict[str, str]]:
    """The command's visible options and, per option, its block of the rendered --help text."""
    parser, _ = build_parser(name)
    text = parser.format_help()
    actions = [a for a in parser._actions
               if a.option_strings and a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]
    blocks = {}
    lines = text.splitlines()
    for action in actions:
        flag = action.option_strings[-1]
        start = next(i for i, ln in enumerate(lines) if re.match(rf"^\s+(-\w, )?{re.escape(flag)}\b", ln))
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s{1,4}-", lines[i]) or not lines[i].strip()),
                   len(lines))
        blocks[flag] = " ".join(" ".join(lines[start:end]).split())
    return actions, blocks


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_has_help_showing_its_default(name):
    actions, blocks = _help_blocks(name)
    for action in actions:
        flag = action.option_strings[-1]
        block = blocks[flag]
        assert action.help and action.help.strip(), f"{name} {flag}: no help"
        if action.default is None or action.default is False or action.required:
            continue
        assert "default" in block, f"{name} {flag}: its default {action.default!r} is not shown: {block}"


def test_dataset_folder_is_data_everywhere_old_names_hidden():
    for name in ("run", "sweep", "serve", "submit", "push"):
        parser, _ = build_parser(name)
        assert "--data" in parser.format_help(), name
        assert "--dataset" not in parser.format_help(), name
    # The old spellings still parse, to the same value.
    serve, _ = build_parser("serve")
    assert serve.parse_args(["--dataset", "d1", "--data", "d2"]).data == ["d1", "d2"]
    from audiomarathon.cli import folder_option

    push, _ = build_parser("push")
    assert folder_option(push.parse_args(["am_data", "--repo", "o/n"]), "--data") == "am_data"
    assert folder_option(push.parse_args(["--data", "am_data", "--repo", "o/n"]), "--data") == "am_data"
    imp, _ = build_parser("import-release")
    assert folder_option(imp.parse_args(["src", "out"]), "--out") == "out"
    assert folder_option(imp.parse_args(["src", "--out", "out"]), "--out") == "out"
    run, _ = build_parser("run")
    assert "--batch-size" not in run.format_help()  # only batch size 1 exists


BAD_RUNS = {
    "--method bogus": "--method: invalid choice: 'bogus'",  # argparse, from the method tables
    "--method fastv --ratio 1.5": "--ratio 1.5",
    "--dtype bf17": "--dtype 'bf17'",
    "--method fastv": "--method fastv needs --ratio",
    "--method fastv --ratio 0": "--method fastv needs --ratio",
    "--ratio 0.5": "needs a compression --method",
    "--batch-size 2": "--batch-size 2",
    "--tasks NOPE": "--tasks",
    "--limit 0": "--limit",
    "--device gpu": "--device 'gpu'",
}


def test_bad_run_arguments_refused_before_anything_loads(imported_dataset, tmp_path):
    """In one child process: each bad argument is refused by main() with a message naming it, in
    well under 2 s, no run folder appears, and neither transformers nor datasets has been imported.
    (The parser itself imports torch: --method's choices come from the compression tables; that
    one-time import is done before timing.)"""
    out = tmp_path / "never"
    script = textwrap.dedent(f"""
        import json, shlex, sys, time, io, contextlib
        from audiomarathon.cli import build_parser, main
        build_parser("run")
        cases = json.loads(sys.argv[1])
        report = {{}}
        for extra in cases:
            err = io.StringIO()
            t0 = time.perf_counter()
            with contextlib.redirect_stderr(err):
                try:
                    rc = main(["run", "--model", "Qwen/Qwen2-Audio-7B-Instruct", "--data", {str(imported_dataset)!r},
                               "--out", {str(out)!r}, *shlex.split(extra)])
                except SystemExit as exc:  # argparse's own refusals
                    rc = exc.code
            report[extra] = [rc, err.getvalue(), time.perf_counter() - t0]
        report["imported"] = sorted(m for m in ("transformers", "datasets") if m in sys.modules)
        print(json.dumps(report))
    """)
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(list(BAD_RUNS))], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report.pop("imported") == []
    for extra, expected in BAD_RUNS.items():
        rc, err, seconds = report[extra]
        assert rc in (1, 2) and expected in err, (extra, err)
        assert seconds < 2.0, (extra, seconds)
    assert not out.exists()


def test_models_and_methods_list_the_registries(capsys):
    from audiomarathon_runner.adapters import ADAPTERS
    from audiomarathon.methods import method_kind, method_names

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for model_type, cls in ADAPTERS.items():
        [line] = [ln for ln in out.splitlines() if ln.startswith(cls.family + " ")]
        assert model_type in line and cls.model_class in line
    assert main(["methods"]) == 0
    rows = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[1:] if ln.strip() and not ln.startswith("--")}
    assert set(method_names()) <= set(rows)
    words = {"none": "no compression", "prune": "pruning", "press": "KV-cache press"}
    for name in method_names():
        assert words[method_kind(name)] in rows[name], rows[name]


def test_failed_model_download_leaves_no_run_folder(imported_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["run", "--model", "nobody-here/no-such-model", "--data", str(imported_dataset), "--out", str(out),
               "--tasks", "TAU", "--limit", "1", "--device", "cpu", "--no-progress"])  # the Hub is offline here
    assert rc == 1 and "no-such-model" in capsys.readouterr().err
    assert not out.exists()


def test_model_loading_prints_no_weight_bar_even_on_resume(imported_dataset, tmp_path):
    from audiomarathon_runner.tiny import save_tiny_model

    model = save_tiny_model("qwen2_audio", tmp_path / "model")
    cmd = [sys.executable, "-m", "audiomarathon", "run", "--model", str(model), "--data", str(imported_dataset),
           "--out", str(tmp_path / "run"), "--tasks", "TAU,HAD", "--limit", "1", "--dtype", "fp32", "--device", "cpu",
           "--max-new-tokens", "2"]
    for extra in ([], ["--no-progress"]):  # the second is a resume with nothing left to do
        proc = subprocess.run(cmd + extra, capture_output=True, text=True, env=_env(), timeout=300)
        assert proc.returncode == 0, proc.stderr
        both = proc.stdout + proc.stderr
        assert "Loading weights" not in both and "Materializing" not in both, both[-2000:]
        # Two tasks of ten: the average says it is not the benchmark's.
        [average] = [ln for ln in proc.stdout.splitlines() if ln.startswith("average")]
        assert "incomplete" in average and "2 of 10" in average


def _predictions(path: Path) -> Path:
    records = [
        {"id": "g1", "task": "GTZAN", "reply": "B", "reference": "B", "choices": ["jazz", "metal", "rock", "pop"]},
        {"id": "g2", "task": "GTZAN", "reply": "C", "reference": "A", "choices": ["jazz", "metal", "rock", "pop"]},
        {"id": "s1", "task": "SGR", "reply": "female", "reference": "B", "choices": ["Male", "Female"]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_score_prints_a_short_table_json_on_request(tmp_path, capsys):
    preds = _predictions(tmp_path / "p.jsonl")
    assert main(["score", str(preds), "--n-bootstrap", "50"]) == 0
    table = capsys.readouterr().out
    assert len(table.splitlines()) <= 6 and "GTZAN" in table and "average" in table and "incomplete" in table
    with pytest.raises(json.JSONDecodeError):
        json.loads(table)
    assert main(["score", str(preds), "--n-bootstrap", "50", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert main(["score", str(preds), "--n-bootstrap", "50", "--out", str(tmp_path / "s.json")]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads((tmp_path / "s.json").read_text()) == printed


def test_score_out_faults_are_clear_and_lose_nothing(tmp_path, capsys):
    preds = _predictions(tmp_path / "p.jsonl")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "keep.json").write_text("{}")
    assert main(["score", str(preds), "--out", str(folder)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["keep.json"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["score", str(preds), "--out", str(blocker / "sub" / "s.json")]) == 1
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "x"
    # A missing parent folder is created; an existing result survives a failed re-score.
    target = tmp_path / "new" / "deeper" / "s.json"
    assert main(["score", str(preds), "--out", str(target), "--n-bootstrap", "20"]) == 0
    before = target.read_text()
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert main(["score", str(tmp_path / "bad.jsonl"), "--out", str(target)]) == 1
    assert target.read_text() == before


def test_api_model_names_are_served_names_not_folders(imported_dataset, tmp_path):
    """Behind an API, --model is the name the server serves (vLLM serves `/models/qwen` as such);
    the early folder check applies to local runs only."""
    import pytest

    from audiomarathon.cli import build_parser
    from audiomarathon_runner.commands.checks import check_run

    parser, _ = build_parser("run")
    common = ["--model", "/models/qwen", "--data", str(imported_dataset), "--out", str(tmp_path / "r")]
    check_run(parser.parse_args([*common, "--api-base", "http://127.0.0.1:9/v1"]))
    with pytest.raises(ValueError, match="--model /models/qwen: the folder does not exist"):
        check_run(parser.parse_args(common))
