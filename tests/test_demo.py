"""`make demo` runs builder_scripts/demo.py: the whole loop, every stage, real outputs."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_the_whole_loop(tmp_path):
    work = tmp_path / "demo"
    proc = subprocess.run([sys.executable, str(ROOT / "builder_scripts" / "demo.py"), "--workdir", str(work)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # In a log: no progress-bar redraws, no bar for saving the tiny model
    assert "\r" not in proc.stderr and "Writing model shards" not in proc.stderr
    # Every folder of demo_out/ the README names for the commands after the demo is there
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"demo_out/([\w.-]+)", readme))
    assert {"dataset", "tiny-qwen2_audio"} <= named
    for name in named:
        assert (work / name).exists(), f"README names demo_out/{name}, which the demo does not write"
    for n in range(1, 10):
        assert f"== [{n}/9]" in out
    assert "38 of 38 records written across 10 task(s); no problems" in out
    assert out.count("accepted ") == 5  # none, fastv-r0.5, snapkv-r0.5, the MMAR and Foundation runs: re-scored
    assert "Qwen2.5-Omni-7B" in out and "70.5" in out  # the published rows are printed beside them
    assert f"audiomarathon serve --db {work / 'leaderboard.sqlite'} --data {work / 'dataset'}" in out
    assert "score by duration" in out and "8-12s" in out and "12-16s" in out  # the duration table
    for plot in ("score_vs_duration.png", "score_vs_evidence_position.png", "score_vs_ratio_by_duration.png"):
        assert (work / "long_audio" / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # each has data
    assert "not written" not in out
    png = work / "efficiency.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with sqlite3.connect(work / "leaderboard.sqlite") as db:
        verified = db.execute("SELECT method, details_json FROM entries WHERE source = 'verified'").fetchall()
    boards = sorted(json.loads(d)["overall"].get("benchmark", "audiomarathon") for _, d in verified)
    assert sorted(m for m, _ in verified) == ["fastv", "none", "none", "none", "snapkv"]
    assert boards == ["airbench-foundation", "audiomarathon", "audiomarathon", "audiomarathon", "mmar"]
    # MMAR and AIR-Bench Foundation: imported from releases in their authors' layouts, run, scored, on their boards
    assert "8 of 8 records written across 1 task(s); no problems" in out  # MMAR (jsonl, audio in the tarball)
    assert "25 of 25 records written across 19 task(s); no problems" in out  # Foundation's 25 folders
    for key, name, items in (("mmar", "MMAR", 8), ("airbench", "AIR-Bench Foundation", 25)):
        results = json.loads((work / "runs" / key / "results.json").read_text())
        [section] = results["scores"]["benchmarks"].values()
        assert section["n"] == items and section["complete"] and section["average"] is not None
        assert re.search(rf"{name} with the tiny model: strict \d+\.\d, paper \d+\.\d \(random guessing \d+\.\d\) "
                         rf"over {items} items", out)
        assert f"accepted on the {name} board" in out
        assert (work / f"{key}_dataset" / "README.md").is_file()
    assert "Gemini 2.5 Pro" in out and "Qwen-Audio-Turbo" in out  # their published rows beside the tiny model
    assert f"--data {work / 'mmar_dataset'} --data {work / 'airbench_dataset'}" in out  # the serve command
