"""Submission validation and server-side re-scoring against an answer key built from a real
imported synthetic release; leaderboard filters, seeding, plots, Hub sync records, settings."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from audiomarathon.tasks import TASK_NAMES, get_task
from audiomarathon_metric import score
from audiomarathon_metric.published import PUBLISHED

from space import leaderboard as lb
from space.answer_key import build_answer_key
from space.plots import pareto_front, score_vs_prefill, score_vs_ratio
from space.service import Service, message_html, submit_run_dir
from space.store import PAPER, VERIFIED
from space.validation import Limits, SubmissionRejected, submit_bytes

from runner_runs import set_replies
from audiomarathon.records import read_results, write_results


@pytest.fixture
def make_run(runner_runs):
    """make_run(out, model=..., method=..., ratio=...): a run folder the real runner wrote."""
    return runner_runs.make


def perfect(key):
    """The reply a perfect model gives: the answer letter, or the transcript for ASR."""
    return lambda r: key.items[r["id"]].reference


def wrong(key):
    def reply(r):
        item = key.items[r["id"]]
        task = get_task(item.task)
        if not task.is_mcq:
            return "mistake " + item.reference
        return next(x for x in task.letters if x != item.reference)
    return reply


def edit_results(run: Path, **changes) -> None:
    results = read_results(run / "results.json")
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = results
        for name in parents:
            node = node[name]
        node[leaf] = value
    write_results(run / "results.json", results)


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


def test_accepted_submission_is_rescored_by_the_server(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run", model="Tiny-Audio-2B")
    recs = set_replies(run, lambda r: perfect(key)(r) if hash(r["id"]) % 5 < 3 else r["reply"])
    edit_results(run, scores__average=99.9)  # a forged average: the server never reads it
    sub = service.submit(run / "predictions.jsonl", run / "results.json")
    expected = score([r["reply"] for r in recs], [key.items[r["id"]].reference for r in recs],
                     [key.items[r["id"]].task for r in recs],
                     choices=[list(key.items[r["id"]].choices) for r in recs])
    [stored] = service.store.entries(VERIFIED)
    assert stored.average == pytest.approx(expected["average"])
    assert stored.scores == pytest.approx({t: v["score"] for t, v in expected["tasks"].items()})
    assert stored.average != 99.9  # the score written in results.json is ignored
    # The size is the run's counted parameters, not the "2B" in the name.
    num_parameters = json.loads((run / "results.json").read_text())["config"]["num_parameters"]
    assert stored.size_b == pytest.approx(num_parameters / 1e9) and stored.method == "none"
    # The Efficiency tab's prefill: the runner's prefill_ms, warm-up excluded, in seconds.
    timed = [r["timings"]["prefill_ms"] for r in recs if not r["timings"]["warmup"]]
    assert stored.prefill_s == pytest.approx(sum(timed) / len(timed) / 1000.0)
    assert service.store.predictions(stored.id) == (run / "predictions.jsonl").read_bytes()
    assert any("differs from the server's re-score" in w for w in sub.warnings)


def test_forged_references_in_predictions_are_ignored(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    forged = set_replies(run, wrong(key))
    for r in forged:  # claim every reply was right
        r["reference"] = r["reply"]
    write_lines(run, forged)
    service.submit(run / "predictions.jsonl", run / "results.json")
    [stored] = service.store.entries(VERIFIED)
    assert all(stored.scores[t.name] < 50 for t in map(get_task, TASK_NAMES) if t.is_mcq)


def test_perfect_replies_score_100(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    set_replies(run, perfect(key))
    service.submit(run / "predictions.jsonl", run / "results.json")
    [stored] = service.store.entries(VERIFIED)
    assert stored.average == pytest.approx(100.0)


def test_missing_ids_rejected(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    write_lines(run, recs[:-2])
    msg = rejected(service, run, "2 id\\(s\\) of dataset version .* have no prediction")
    assert recs[-1]["id"] in msg


def test_duplicate_ids_rejected_with_line_numbers(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    write_lines(run, recs + [recs[4]])
    rejected(service, run, f"predictions.jsonl line {len(recs) + 1}: duplicate id '{recs[4]['id']}' \\(first on line 5\\)")


def test_ids_of_another_dataset_version_rejected(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    recs[0]["id"] = "TAU-09999"
    write_lines(run, recs)
    rejected(service, run, "1 id\\(s\\) are not in dataset version .*another dataset version.*TAU-09999")


def test_declared_fingerprint_of_another_version_rejected(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    edit_results(run, dataset__fingerprint="sha256:0123456789abcdef")
    rejected(service, run, "dataset fingerprint 'sha256:0123456789abcdef' is another dataset version")


def test_task_mismatch_rejected(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    recs[0]["task"] = "GTZAN" if recs[0]["task"] != "GTZAN" else "TAU"
    write_lines(run, recs)
    rejected(service, run, "line 1: id .* but its task says")


@pytest.mark.parametrize(
    "content, match",
    [
        (b'{"id": "x", "reply": "A"\n', "predictions.jsonl line 1: malformed JSON"),
        (b'["not", "an", "object"]\n', "predictions.jsonl line 1: expected an object, found a list"),
        (b"", "predictions.jsonl: the file is empty"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_malformed_predictions_rejected(make_run, service, key, tmp_path, content, match):
    run = make_run(tmp_path / "run")
    (run / "predictions.jsonl").write_bytes(content)
    rejected(service, run, match)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("id", None, "predictions.jsonl line 3: id: expected a string, found null"),
        ("reply", 3, "predictions.jsonl line 3: reply: expected a string or null, found 3"),
        ("timings", [], "predictions.jsonl line 3: timings: expected an object, found a list"),
        ("choices", ["A", 1], "predictions.jsonl line 3: choices\\[1\\]: expected a string, found 1"),
    ],
)
def test_a_bad_field_of_a_runner_record_is_named(make_run, service, key, tmp_path, field, value, match):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    recs[2][field] = value
    write_lines(run, recs)
    rejected(service, run, match)


def test_a_missing_field_of_a_runner_record_is_named(make_run, service, key, tmp_path):
    run = make_run(tmp_path / "run")
    recs = lines(run)
    del recs[0]["id"]
    write_lines(run, recs)
    rejected(service, run, "predictions.jsonl line 1: id: missing")


@pytest.mark.parametrize(
    "results, match",
    [
        ("{not json", "results.json: malformed JSON at line 1"),
        ("[]", "results.json: expected an object, found a list"),
    ],
)
def test_malformed_results_rejected(make_run, service, key, tmp_path, results, match):
    run = make_run(tmp_path / "run")
    (run / "results.json").write_text(results)
    rejected(service, run, match)


@pytest.mark.parametrize(
    "path, value, match",
    [
        ("config", None, "results.json: config: missing"),
        ("config__model", "  ", "results.json: config.model must be a non-empty string"),
        ("config__ratio", 1.5, "results.json: config.ratio must be a number in \\[0, 1\\)"),
        ("config__ratio", "x", "results.json: config.ratio: expected a number, found 'x'"),
        ("dataset__fingerprint", 7, "results.json: dataset.fingerprint: expected a string, found 7"),
        ("schema", None, "results.json: schema: missing"),
    ],
)
def test_a_bad_field_of_the_runners_results_is_named(make_run, service, key, tmp_path, path, value, match):
    run = make_run(tmp_path / "run")
    results = json.loads((run / "results.json").read_text())
    *parents, leaf = path.split("__")
    node = results
    for name in parents:
        node = node[name]
    if value is None:
        del node[leaf]
    else:
        node[leaf] = value
    (run / "results.json").write_text(json.dumps(results))
    rejected(service, run, match)


def test_files_over_the_size_limit_rejected_before_reading(make_run, tmp_path, key, imported_dataset):
    service = Service.open(tmp_path / "lb.sqlite", [imported_dataset], limits=Limits(max_predictions_bytes=1000))
    run = make_run(tmp_path / "run")
    size = (run / "predictions.jsonl").stat().st_size
    rejected(service, run, f"predictions.jsonl: {size:,} bytes is over the size limit of 1,000 bytes")


def test_same_model_and_configuration_rejected_but_other_ratio_accepted(make_run, service, key, tmp_path):
    a = make_run(tmp_path / "a", model="Tiny-Audio-2B", method="random", ratio=0.5)
    service.submit(a / "predictions.jsonl", a / "results.json")
    b = make_run(tmp_path / "b", model="Tiny-Audio-2B", method="random", ratio=0.5)
    write_lines(b, [dict(r, reply="A") for r in lines(b)])  # other replies, same configuration
    with pytest.raises(SubmissionRejected, match="Tiny-Audio-2B with this configuration is already on the leaderboard"):
        service.submit(b / "predictions.jsonl", b / "results.json")
    c = make_run(tmp_path / "c", model="Tiny-Audio-2B", method="random", ratio=0.25)
    service.submit(c / "predictions.jsonl", c / "results.json")
    assert service.store.count(VERIFIED) == 2


def test_twenty_concurrent_submissions_each_stored_once(make_run, service, key, tmp_path):
    runs = [files(make_run(tmp_path / f"r{i}", model=f"Model-{i}-1B")) for i in range(20)]
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
    assert refused.startswith("Model-0-1B with this configuration is already on the leaderboard (run id rid:")
    assert sorted(e.model for e in service.store.entries(VERIFIED)) == sorted(f"Model-{i}-1B" for i in range(20))


def test_submission_without_answer_key_is_refused(make_run, tmp_path, key):
    service = Service.open(tmp_path / "lb.sqlite")
    run = make_run(tmp_path / "run")
    rejected(service, run, "no answer key yet")


def test_published_rows_seeded_and_marked(service):
    from space.seed import published_entries

    paper = [e for e in service.store.entries(PAPER) if e.benchmark == "audiomarathon"]  # the other boards': test_space_benchmarks
    assert sorted(e.model for e in paper) == sorted(r.model for r in PUBLISHED)
    assert {e.weights for e in paper} == {"open", "closed", "human"}
    for e, row in ((e, next(r for r in PUBLISHED if r.model == e.model)) for e in paper):
        assert e.source_label == "paper"
        assert e.average == row.average  # the paper's Avg. column, as reported
        assert e.details["mean_of_reported_tasks"] == pytest.approx(row.average, abs=0.051)  # rounding
    Service.open(service.store.path)  # re-opening does not duplicate the seed
    assert service.store.count(PAPER) == len(published_entries())


def test_leaderboard_filters_sort_and_search(make_run, service, key, tmp_path):
    for i, (method, ratio) in enumerate([("none", 0.0), ("random", 0.5), ("random", 0.25)]):
        run = make_run(tmp_path / f"r{i}", model="Tiny-Audio-2B", method=method, ratio=ratio)
        service.submit(run / "predictions.jsonl", run / "results.json")
    entries = service.entries()
    full = lb.leaderboard_frame(entries)
    assert list(full.columns) == list(lb.COLUMNS)
    assert len(full) == len(PUBLISHED) + 3
    assert list(full[lb.AVERAGE].dropna()) == sorted(full[lb.AVERAGE].dropna(), reverse=True)
    assert set(lb.leaderboard_frame(entries, lb.Filters(weights=["closed"]))[lb.TYPE]) == {"closed"}
    assert set(lb.leaderboard_frame(entries, lb.Filters(sources=["verified"]))[lb.MODEL]) == {"Tiny-Audio-2B"}
    pruned = lb.leaderboard_frame(entries, lb.Filters(methods=["random"], ratios=["50%"]))
    assert list(pruned[lb.METHOD]) == ["random"] and list(pruned[lb.RATIO]) == [50.0]
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


def test_pareto_front_and_plots(make_run, service, key, tmp_path):
    assert pareto_front([(1.0, 50.0), (2.0, 40.0), (2.0, 60.0), (3.0, 60.0), (0.5, 10.0)]) == [4, 0, 2]
    for i, (method, ratio) in enumerate([("none", 0.0), ("random", 0.5), ("random", 0.75)]):
        run = make_run(tmp_path / f"r{i}", model="Tiny-Audio-2B", method=method, ratio=ratio)
        service.submit(run / "predictions.jsonl", run / "results.json")
    ratio_fig = score_vs_ratio(service.entries())
    [line] = ratio_fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [0.0, 50.0, 75.0]  # the uncompressed run is the 0% point
    prefill_fig = score_vs_prefill(service.entries())
    assert len(prefill_fig.axes[0].collections) == 2  # one scatter per method
    assert "no compressed runs yet" in [t.get_text() for t in score_vs_ratio([]).axes[0].texts]


def test_submit_run_dir_for_the_demo(make_run, tmp_path, key, imported_dataset, capsys):
    run = make_run(tmp_path / "run", model="Demo-Model-1B")
    entry = submit_run_dir(run, tmp_path / "demo.sqlite", [imported_dataset])
    assert entry.id is not None and entry.source == VERIFIED
    out = capsys.readouterr().out
    assert "Demo-Model-1B" in out and "Qwen2.5-Omni-7B" in out
    with pytest.raises(SubmissionRejected, match=f"{run}: Demo-Model-1B with this configuration"):
        submit_run_dir(run, tmp_path / "demo.sqlite", [imported_dataset], show=False)


def test_hub_sync_off_without_token_and_records_round_trip(make_run, service, key, tmp_path, monkeypatch):
    # The suite runs offline; this test talks only to its own Hub stand-in on 127.0.0.1.
    from huggingface_hub import constants
    from hub_server import LocalHub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)

    from space.sync import HubSync, export_records, import_records

    assert "Hub sync is off" in HubSync().status()
    assert "no token" in HubSync("org/lb").status()
    run = make_run(tmp_path / "run", model="Synced-1B")
    sub = service.submit(run / "predictions.jsonl", run / "results.json")
    with LocalHub() as hub:
        hub.state.repos["org/lb"] = {}
        sync = HubSync("org/lb", "hf_test", endpoint=hub.endpoint)
        assert sync.enabled and sync.push(sub.entry, sub.predictions_jsonl), sync.last_error
        pushed = hub.state.files["org/lb"]
    assert set(pushed) == {f"submissions/{sub.entry.run_id.replace(':', '-')}.{ext}" for ext in ("json", "jsonl")}
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
