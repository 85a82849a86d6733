"""`make demo` runs builder_scripts/demo.py: the whole loop, every stage, real outputs."""

from __future__ import annotations

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
    for n in range(1, 9):
        assert f"== [{n}/8]" in out
    assert "38 of 38 records written across 10 task(s); no problems" in out
    assert out.count("accepted ") == 3  # none, fastv-r0.5, snapkv-r0.5 re-scored by the server
    assert "Qwen2.5-Omni-7B" in out and "70.5" in out  # the published rows are printed beside them
    assert f"audiomarathon serve --db {work / 'leaderboard.sqlite'} --data {work / 'dataset'}" in out
    assert "score by duration" in out and "8-12s" in out and "12-16s" in out  # the duration table
    for plot in ("score_vs_duration.png", "score_vs_evidence_position.png", "score_vs_ratio_by_duration.png"):
        assert (work / "long_audio" / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # each has data
    assert "not written" not in out
    png = work / "efficiency.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with sqlite3.connect(work / "leaderboard.sqlite") as db:
        verified = db.execute("SELECT method FROM entries WHERE source = 'verified'").fetchall()
    assert sorted(m for (m,) in verified) == ["fastv", "none", "snapkv"]
