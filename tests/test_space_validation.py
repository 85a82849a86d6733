"""Submission validation and server-side re-scoring against an answer key built from a real
imported synthetic release; leaderboard filters, seeding, plots, Hub sync records, settings."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # space/ is a folder of the repository, not an installed package
sys.path.insert(0, str(ROOT / "tests"))  # hub_server: the local Hub stand-in

from audiomarathon.tasks import TASK_NAMES, get_task  # noqa: E402
from audiomarathon_metric import score  # noqa: E402
from audiomarathon_metric.published import PUBLISHED  # noqa: E402

from space import leaderboard as lb  # noqa: E402
from space.answer_key import build_answer_key  # noqa: E402
from space.plots import pareto_front, score_vs_prefill, score_vs_ratio  # noqa: E402
from space.service import Service, message_html, submit_run_dir  # noqa: E402
from space.store import PAPER, VERIFIED  # noqa: E402
from space.synthetic_run import make_run  # noqa: E402
from space.validation import Limits, SubmissionRejected, submit_bytes  # noqa: E402


@pytest.fixture(scope="module")
def key(imported_dataset):
    return build_answer_key(imported_dataset)


@pytest.fixture
def service(tmp_path, imported_dataset):
    return Service.open(tmp_path / "lb.sqlite", [imported_dataset])


def files(run: Path) -> tuple[bytes, bytes]:
    return (run / "predictions.jsonl").read_bytes(), (run / "results.json").read_bytes()


def lines(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]


def write_lines(run: Path, records) -> None:
    (run / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def rejected(service, run: Path, match: str) -> str:
    with pytest.raises(SubmissionRejected, match=match) as info:
        service.submit(run / "predictions.jsonl", run / "results.json")
    assert service.store.count(VERIFIED) == 0  # nothing stored by a rejected submission
    return str(info.value)


def test_answer_key_covers_every_config_of_the_dataset(key, imported_dataset):
    import datasets

    tau = datasets.load_dataset(str(imported_dataset), "TAU", split="test").select_columns(["id", "answer", "choices"])
    assert set(key.task_counts()) == set(TASK_NAMES)
    assert key.num_ids == sum(key.task_counts().values())
    for row in tau:
        assert key.items[row["id"]].reference == row["answer"]
        assert list(key.items[row["id"]].choices) == row["choices"]
    assert build_answer_key(imported_dataset).fingerprint == key.fingerprint  # deterministic


def test_accepted_submission_is_rescored_by_the_server(service, key, tmp_path):
    run = make_run(key, tmp_path / "run", model="Tiny-Audio-2B", accuracy=0.6, seed=3)
    sub = service.submit(run / "predictions.jsonl", run / "results.json")
    recs = lines(run)
    expected = score([r["reply"] for r in recs], [key.items[r["id"]].reference for r in recs],
                     [key.items[r["id"]].task for r in recs],
                     choices=[list(key.items[r["id"]].choices) for r in recs])
    [stored] = service.store.entries(VERIFIED)
    assert stored.average == pytest.approx(expected["average"])
    assert stored.scores == pytest.approx({t: v["score"] for t, v in expected["tasks"].items()})
    assert stored.average != 99.9  # the score written in results.json is ignored
    assert stored.size_b == 2.0 and stored.method == "none" and stored.prefill_s > 0
    assert service.store.predictions(stored.id) == (run / "predictions.jsonl").read_bytes()
    assert any("differs from the server's re-score" in w for w in sub.warnings)


def test_forged_references_in_predictions_are_ignored(service, key, tmp_path):
    run = make_run(key, tmp_path / "run", accuracy=0.0, seed=1)
    forged = lines(run)
    for r in forged:  # claim every reply was right
        r["reference"] = r["reply"]
    write_lines(run, forged)
    service.submit(run / "predictions.jsonl", run / "results.json")
    [stored] = service.store.entries(VERIFIED)
    assert all(stored.scores[t.name] < 50 for t in map(get_task, TASK_NAMES) if t.is_mcq)


def test_perfect_replies_score_100(service, key, tmp_path):
    run = make_run(key, tmp_path / "run", accuracy=1.0)
    service.submit(run / "predictions.jsonl", run / "results.json")
    [stored] = service.store.entries(VERIFIED)
    assert stored.average == pytest.approx(100.0)


def test_missing_ids_rejected(service, key, tmp_path):
    run = make_run(key, tmp_path / "run")
    recs = lines(run)
    write_lines(run, recs[:-2])
    msg = rejected(service, run, "2 id\\(s\\) of dataset version .* have no prediction")
    assert recs[-1]["id"] in msg


def test_duplicate_ids_rejected_with_line_numbers(service, key, tmp_path):
    run = make_run(key, tmp_path / "run")
    recs = lines(run)
    write_lines(run, recs + [recs[4]])
    rejected(service, run, f"predictions.jsonl line {len(recs) + 1}: duplicate id '{recs[4]['id']}' \\(first on line 5\\)")


def test_ids_of_another_dataset_version_rejected(service, key, tmp_path):
    run = make_run(key, tmp_path / "run")
    recs = lines(run)
    recs[0]["id"] = "TAU-09999"
    write_lines(run, recs)
    rejected(service, run, "1 id\\(s\\) are not in dataset version .*another dataset version.*TAU-09999")


def test_declared_fingerprint_of_another_version_rejected(service, key, tmp_path):
    run = make_run(key, tmp_path / "run", fingerprint="sha256:0123456789abcdef")
    rejected(service, run, "dataset fingerprint 'sha256:0123456789abcdef' is another dataset version")


def test_task_mismatch_rejected(service, key, tmp_path):
    run = make_run(key, tmp_path / "run")
    recs = lines(run)
    recs[0]["task"] = "GTZAN" if recs[0]["task"] != "GTZAN" else "TAU"
    write_lines(run, recs)
    rejected(service, run, "line 1: id .* but its task says")


@pytest.mark.parametrize(
    "content, match",
    [
        (b'{"id": "x", "reply": "A"\n', "predictions.jsonl line 1: malformed JSON"),
        (b'["not", "an", "object"]\n', "line 1: expected a JSON object"),
        (b'{"reply": "A"}\n', "line 1: missing the \"id\" string"),
        (b'{"id": "x", "reply": 3}\n', "\"reply\" must be a string or null"),
        (b"", "predictions.jsonl: the file is empty"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_malformed_predictions_rejected(service, key, tmp_path, content, match):
    run = make_run(key, tmp_path / "run")
    (run / "predictions.jsonl").write_bytes(content)
    rejected(service, run, match)


@pytest.mark.parametrize(
    "results, match",
    [
        ("{not json", "results.json: malformed JSON at line 1"),
        ("[]", "expected a JSON object"),
        ('{"dataset": {}}', "missing the \"config\" object"),
        ('{"config": {"model": ""}}', "config.model must be a non-empty string"),
        ('{"config": {"model": "m", "ratio": 1.5}}', "config.ratio must be a number in \\[0, 1\\)"),
    ],
)
def test_malformed_results_rejected(service, key, tmp_path, results, match):
    run = make_run(key, tmp_path / "run")
    (run / "results.json").write_text(results)
    rejected(service, run, match)


def test_files_over_the_size_limit_rejected_before_reading(tmp_path, key, imported_dataset):
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], limits=Limits(max_predictions_bytes=1000))
    run = make_run(key, tmp_path / "run")
    size = (run / "predictions.jsonl").stat().st_size
    rejected(service, run, f"predictions.jsonl: {size:,} bytes is over the size limit of 1,000 bytes")


def test_same_model_and_configuration_rejected_but_other_ratio_accepted(service, key, tmp_path):
    a = make_run(key, tmp_path / "a", model="Tiny-Audio-2B", method="fastv", ratio=0.5)
    service.submit(a / "predictions.jsonl", a / "results.json")
    b = make_run(key, tmp_path / "b", model="Tiny-Audio-2B", method="fastv", ratio=0.5)
    write_lines(b, [dict(r, reply="A") for r in lines(b)])  # other replies, same configuration
    with pytest.raises(SubmissionRejected, match="Tiny-Audio-2B with this configuration is already on the leaderboard"):
        service.submit(b / "predictions.jsonl", b / "results.json")
    c = make_run(key, tmp_path / "c", model="Tiny-Audio-2B", method="fastv", ratio=0.25)
    service.submit(c / "predictions.jsonl", c / "results.json")
    assert service.store.count(VERIFIED) == 2


def test_twenty_concurrent_submissions_each_stored_once(service, key, tmp_path):
    runs = [files(make_run(key, tmp_path / f"r{i}", model=f"Model-{i}-1B", seed=i)) for i in range(20)]
    runs.append(runs[0])  # the same submission twice at once: one of them must be refused
    barrier = threading.Barrier(len(runs))
    outcomes = []

    def go(data):
        barrier.wait()
        try:
            submit_bytes(service.store, *data)
            outcomes.append("ok")
        except SubmissionRejected as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=go, args=(d,)) for d in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 20
    [refused] = [o for o in outcomes if o != "ok"]
    assert refused.startswith("Model-0-1B with this configuration is already on the leaderboard (configuration cfg:")
    assert sorted(e.model for e in service.store.entries(VERIFIED)) == sorted(f"Model-{i}-1B" for i in range(20))


def test_submission_without_answer_key_is_refused(tmp_path, key):
    service = Service.open(tmp_path / "lb.sqlite")
    run = make_run(key, tmp_path / "run")
    rejected(service, run, "no answer key yet")


def test_published_rows_seeded_and_marked(service):
    paper = service.store.entries(PAPER)
    assert sorted(e.model for e in paper) == sorted(r.model for r in PUBLISHED)
    assert {e.model_type for e in paper} == {"open", "closed", "human"}
    for e, row in ((e, next(r for r in PUBLISHED if r.model == e.model)) for e in paper):
        assert e.source_label == "reported in the paper"
        assert e.average == row.average  # the paper's Avg. column, as reported
        assert e.details["mean_of_reported_tasks"] == pytest.approx(row.average, abs=0.051)  # rounding
    Service.open(service.store.path)  # re-opening does not duplicate the seed
    assert service.store.count(PAPER) == len(PUBLISHED)


def test_leaderboard_filters_sort_and_search(service, key, tmp_path):
    for i, (method, ratio) in enumerate([("none", 0.0), ("fastv", 0.5), ("snapkv", 0.5)]):
        run = make_run(key, tmp_path / f"r{i}", model="Tiny-Audio-2B", method=method, ratio=ratio, seed=i)
        service.submit(run / "predictions.jsonl", run / "results.json")
    entries = service.entries()
    full = lb.leaderboard_frame(entries)
    assert list(full.columns) == list(lb.COLUMNS)
    assert len(full) == len(PUBLISHED) + 3
    assert list(full[lb.AVERAGE].dropna()) == sorted(full[lb.AVERAGE].dropna(), reverse=True)
    assert set(lb.leaderboard_frame(entries, lb.Filters(types=["closed"]))[lb.TYPE]) == {"closed"}
    assert set(lb.leaderboard_frame(entries, lb.Filters(sources=["verified submission"]))[lb.MODEL]) == {"Tiny-Audio-2B"}
    fastv = lb.leaderboard_frame(entries, lb.Filters(methods=["fastv"], ratios=["50%"]))
    assert list(fastv[lb.METHOD]) == ["fastv"] and list(fastv[lb.RATIO]) == [50.0]
    assert list(lb.leaderboard_frame(entries, lb.Filters(search="qwen 7b"))[lb.MODEL]) == ["Qwen2.5-Omni-7B"]
    small = lb.leaderboard_frame(entries, lb.Filters(sizes=["< 4B"]))
    assert small[lb.SIZE].max() < 4
    by_asr = lb.leaderboard_frame(entries, lb.Filters(sort_by="ASR", ascending=True))
    asr = by_asr["ASR"]
    n = int(asr.notna().sum())
    assert n == len(asr) - 1  # the human row has no ASR score: it goes last
    assert list(asr[:n]) == sorted(asr[:n]) and asr[n:].isna().all()
    assert "Tiny-Audio-2B" in lb.text_table(entries)


def test_messages_escape_submitted_text():
    html = message_html(False, "Submission rejected", ["model <script>alert(1)</script> & <img src=x onerror=y>"])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;" in html


def test_pareto_front_and_plots(service, key, tmp_path):
    assert pareto_front([(1.0, 50.0), (2.0, 40.0), (2.0, 60.0), (3.0, 60.0), (0.5, 10.0)]) == [4, 0, 2]
    for i, (method, ratio, t) in enumerate([("none", 0.0, 1.0), ("fastv", 0.5, 0.6), ("fastv", 0.75, 0.4)]):
        run = make_run(key, tmp_path / f"r{i}", model="Tiny-Audio-2B", method=method, ratio=ratio,
                       prefill_s=t, seed=i)
        service.submit(run / "predictions.jsonl", run / "results.json")
    ratio_fig = score_vs_ratio(service.entries())
    [line] = ratio_fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [0.0, 50.0, 75.0]  # the uncompressed run is the 0% point
    prefill_fig = score_vs_prefill(service.entries())
    assert len(prefill_fig.axes[0].collections) == 2  # one scatter per method
    assert "no compressed runs yet" in [t.get_text() for t in score_vs_ratio([]).axes[0].texts]


def test_submit_run_dir_for_the_demo(tmp_path, key, imported_dataset, capsys):
    run = make_run(key, tmp_path / "run", model="Demo-Model-1B")
    entry = submit_run_dir(run, tmp_path / "demo.sqlite", [imported_dataset])
    assert entry.id is not None and entry.source == VERIFIED
    out = capsys.readouterr().out
    assert "Demo-Model-1B" in out and "Qwen2.5-Omni-7B" in out
    with pytest.raises(SubmissionRejected, match=f"{run}: Demo-Model-1B with this configuration"):
        submit_run_dir(run, tmp_path / "demo.sqlite", [imported_dataset], show=False)


def test_hub_sync_off_without_token_and_records_round_trip(service, key, tmp_path, monkeypatch):
    # The suite runs offline; this test talks only to its own Hub stand-in on 127.0.0.1.
    from huggingface_hub import constants
    from hub_server import LocalHub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)

    from space.sync import HubSync, export_records, import_records

    assert "Hub sync is off" in HubSync().status()
    assert "no token" in HubSync("org/lb").status()
    run = make_run(key, tmp_path / "run", model="Synced-1B")
    sub = service.submit(run / "predictions.jsonl", run / "results.json")
    with LocalHub() as hub:
        hub.state.repos["org/lb"] = {}
        sync = HubSync("org/lb", "hf_test", endpoint=hub.endpoint)
        assert sync.enabled and sync.push(sub.entry, sub.predictions_jsonl), sync.last_error
        pushed = hub.state.files["org/lb"]
    assert set(pushed) == {f"submissions/{sub.entry.config_key.replace(':', '-')}.{ext}" for ext in ("json", "jsonl")}
    # Restore a fresh store from the pushed files (what a restarted Space without disk does).
    folder = tmp_path / "snapshot"
    for name, data in pushed.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    fresh = Service.open(tmp_path / "fresh.sqlite", seed=False)
    assert import_records(fresh.store, folder) == 1
    [restored] = fresh.store.entries()
    assert (restored.model, restored.average, restored.scores) == ("Synced-1B", sub.entry.average, sub.entry.scores)
    assert fresh.store.predictions(restored.id) == sub.predictions_jsonl
    assert import_records(fresh.store, folder) == 0
    assert len(export_records(service.store, tmp_path / "export")) == 2


def test_settings_file_then_command_line(tmp_path):
    import argparse

    from space.settings import add_arguments, settings_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = tmp_path / "settings.json"
    cfg.write_text(json.dumps({"db": str(tmp_path / "a.sqlite"), "port": 9000, "datasets": ["x"]}))
    s = settings_from(parser.parse_args(["--settings", str(cfg), "--port", "9001"]))
    assert (s.db, s.port, s.datasets, s.host) == (tmp_path / "a.sqlite", 9001, ["x"], "127.0.0.1")
    cfg.write_text(json.dumps({"colour": "red"}))
    with pytest.raises(ValueError, match="unknown setting"):
        settings_from(parser.parse_args(["--settings", str(cfg)]))
