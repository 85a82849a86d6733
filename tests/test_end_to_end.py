"""Across the parts: an imported release -> a tiny model run -> the leaderboard re-scores it."""

from __future__ import annotations

import json

from audiomarathon_runner.run import RunConfig, run_evaluation
from audiomarathon_runner.tiny import save_tiny_model


def test_run_then_submit_shows_the_verified_row(imported_dataset, tmp_path):
    from space.leaderboard import leaderboard_frame
    from space.service import Service

    model = save_tiny_model("qwen2_audio", tmp_path / "tiny", seed=0)
    results = run_evaluation(RunConfig(model=str(model), data=str(imported_dataset), out=str(tmp_path / "run"),
                                       tasks="all", dtype="fp32", device="cpu", max_new_tokens=4, progress=False))
    service = Service.open(tmp_path / "lb.sqlite", [str(imported_dataset)])
    sub = service.submit(tmp_path / "run" / "predictions.jsonl", tmp_path / "run" / "results.json")
    # The server's own re-scoring agrees with the runner's scores, task by task.
    assert sub.entry.average is not None
    assert abs(sub.entry.average - results["scores"]["average"]) < 1e-6
    for task, res in results["scores"]["tasks"].items():
        assert abs(sub.entry.scores[task] - res["score"]) < 1e-6
    frame = leaderboard_frame(service.entries())  # default filters, as the page first shows it
    assert "tiny" in set(frame["Model"])  # a local folder is shown by its name, not its path
    assert json.loads((tmp_path / "run" / "results.json").read_text())["dataset"]["fingerprint"] == \
        sub.entry.dataset_fingerprint
