"""The AIR-Bench Chat judge: the official prompt verbatim, strict verdicts, both orders, the scores
(checked against figures computed here from the test judge's rule), failures, resume, a kill."""

from __future__ import annotations

import json
import signal
import statistics
from pathlib import Path

import pytest

from chat_runs import TASKS, answers, chat_run, fair_judge, text_score
from openai_server import ChatServer
from run_process import audiomarathon, stop_part_way

DATA = Path(__file__).parent / "data"
CATEGORY_TASKS = {"speech": ("speech_QA", "speech_dialogue_QA"), "sound": ("sound_QA", "sound_generation_QA"),
                  "music": ("music_QA", "music_generation_analysis_QA"),
                  "mixed": ("speech_and_sound_QA", "speech_and_music_QA")}


# ------------------------------------------------------------------ the prompt
def test_the_prompt_is_the_official_text_character_by_character():
    from audiomarathon_metric.judge.prompt import CHAT_JUDGE_TEMPLATE, OFFICIAL_PROMPT_SHA256, render

    official = (DATA / "airbench_chat_judge_prompt.txt").read_text(encoding="utf-8")
    for n, (ours, theirs) in enumerate(zip(CHAT_JUDGE_TEMPLATE, official)):
        assert ours == theirs, f"character {n}: {CHAT_JUDGE_TEMPLATE[max(0, n - 30):n + 5]!r}"
    assert len(CHAT_JUDGE_TEMPLATE) == len(official)
    # Filled as score_chat.py fills it (one replace after the other).
    filled = (official.replace("XAudioX", "a dog barks").replace("XQuestionX", "What barks?")
              .replace("XAssistant1X", "A dog.").replace("XAssistant2X", "A cat."))
    assert render("a dog barks", "What barks?", "A dog.", "A cat.") == filled
    import hashlib

    assert OFFICIAL_PROMPT_SHA256 == "sha256:" + hashlib.sha256(official.encode()).hexdigest()


def test_a_reply_naming_a_placeholder_is_inserted_as_it_is():
    from audiomarathon_metric.judge.prompt import render

    text = render("m", "q", "the reference mentions XAssistant2X", "reply")
    assert "the reference mentions XAssistant2X\n[The End of Assistant 1s Answer]" in text


# ------------------------------------------------------------------ verdicts
@pytest.mark.parametrize("reply, scores", [
    ("8 7", (8, 7)), ("10 1", (10, 1)), (" 9\t3 \n", (9, 3)), ("\n6 6\n", (6, 6)),
    ("8, 7", None), ("8 7 6", None), ("Assistant 1: 8", None), ("Assistant 1: 8\nAssistant 2: 7", None),
    ("11 5", None), ("5 11", None), ("0 4", None), ("-1 4", None), ("7.5 8", None), ("8\n7", None),
    ("", None), ("eight seven", None), ("8", None), (None, None),
])
def test_a_verdict_is_exactly_two_integers_from_1_to_10_on_one_line(reply, scores):
    from audiomarathon_metric.judge.parse import parse_verdict

    verdict = parse_verdict(reply)
    assert verdict.scores == scores
    assert (verdict.problem is None) == (scores is not None)


# ------------------------------------------------------------------ expected figures, computed here
def expected(rows, model_side, ref_side, mode="strict"):
    """The scores the rules give, from per-item (model score, reference score) per order:
    ``model_side[id] = {"reference-first": s or None, "model-first": s or None}``."""
    def mean(xs):
        xs = list(xs)
        return sum(xs) / len(xs) if xs else None

    tasks = {}
    for task in TASKS:
        ids = [r["id"] for r in rows if r["task"] == task]
        if mode == "strict":
            items = [mean(model_side[i][o] if model_side[i][o] is not None else 1 for o in model_side[i]) for i in ids]
            score = mean(items)
        else:
            per_order = [mean(model_side[i][o] for i in ids if model_side[i][o] is not None)
                         for o in ("reference-first", "model-first")]
            score = mean(x for x in per_order if x is not None)
        refs = [ref_side[i][o] for i in ids for o in ref_side[i] if ref_side[i][o] is not None]
        tasks[task] = {"score": score, "reference": mean(refs), "ids": ids}
    cats = {}
    for cat, names in CATEGORY_TASKS.items():
        if mode == "paper" and cat != "mixed":
            ids = [i for t in names for i in tasks[t]["ids"]]
            per_order = [mean(model_side[i][o] for i in ids if model_side[i][o] is not None)
                         for o in ("reference-first", "model-first")]
            cats[cat] = mean(x for x in per_order if x is not None)
        else:
            cats[cat] = mean(tasks[t]["score"] for t in names)
    return tasks, cats, mean(cats.values())


def fair_sides(rows):
    """What fair_judge gives each item in each order: the model's and the reference's scores."""
    model, ref = {}, {}
    for r in rows:
        if r["reply"] is None:
            model[r["id"]] = {"reference-first": None, "model-first": None}
            ref[r["id"]] = {"reference-first": None, "model-first": None}
            continue
        m, g = text_score(r["reply"]), text_score(r["answer_text"])
        model[r["id"]] = {"reference-first": m, "model-first": min(10, m + 1)}
        ref[r["id"]] = {"reference-first": min(10, g + 1), "model-first": g}
    return model, ref


def judge(run_dir, server, **settings):
    from audiomarathon_runner.api.config import ApiConfig
    from audiomarathon_runner.commands.judge import judge_run
    from audiomarathon_runner.judge.settings import JudgeSettings

    api = ApiConfig(base_urls=(server.base_url,), concurrency=settings.pop("concurrency", 3), backoff_s=0.01,
                    max_retries=settings.pop("max_retries", 6), timeout_s=settings.pop("timeout_s", 30.0),
                    price_in=2.5, price_out=10.0)
    return judge_run(run_dir, JudgeSettings.for_profile("judge-model", settings.pop("profile", "reproducible"),
                                                        **settings), api, n_bootstrap=200)


def lines(run_dir):
    return [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------ end to end
def test_scores_bias_and_win_rate_from_a_judge_whose_verdicts_are_known(tmp_path):
    run_dir, rows = chat_run(tmp_path)
    with ChatServer(judge=fair_judge, served_name="judge-model-2024", fingerprint="fp_judge") as server:
        entry = judge(run_dir, server)
    model, ref = fair_sides(rows)
    for mode in ("strict", "paper"):
        tasks, cats, average = expected(rows, model, ref, mode)
        got = entry[mode]
        for task in TASKS:
            assert got["tasks"][task]["score"] == pytest.approx(tasks[task]["score"]), (mode, task)
            assert got["tasks"][task]["reference"] == pytest.approx(tasks[task]["reference"])
        assert got["categories"] == pytest.approx(cats)
        assert got["average"] == pytest.approx(average)
    strict = entry["strict"]
    replied = [r for r in rows if r["reply"] is not None]
    # The model as Assistant 1 gets one point more (none at 10): the bias is that mean.
    bias = statistics.mean(min(10, text_score(r["reply"]) + 1) - text_score(r["reply"]) for r in replied)
    assert strict["position_bias"] == pytest.approx(bias) and bias > 0.5
    flips = statistics.mean(
        (m1 > g2) - (m1 < g2) != (m2 > g1) - (m2 < g1)
        for r in replied
        for m1, m2, g1, g2 in [(min(10, text_score(r["reply"]) + 1), text_score(r["reply"]),
                                min(10, text_score(r["answer_text"]) + 1), text_score(r["answer_text"]))])
    assert strict["flip_share"] == pytest.approx(flips)
    # Win rate: judgments with the model strictly above the reference; a no-reply item never wins.
    for task in TASKS:
        ids = [r["id"] for r in rows if r["task"] == task]
        wins = [model[i][o] is not None and model[i][o] > ref[i][o] for i in ids for o in model[i]]
        assert strict["tasks"][task]["win_rate"] == pytest.approx(sum(wins) / len(wins))
    no_reply = sum(r["reply"] is None for r in rows)
    assert strict["failures"]["no-reply"] == 2 * no_reply and strict["failures"]["parse"] == 0
    assert strict["ci"]["average"][0] <= strict["average"] <= strict["ci"]["average"][1]
    # Every judgment recorded with what produced it.
    recs = lines(run_dir)
    assert len(recs) == 2 * len(rows)
    asked = [r for r in recs if r["failure"] is None]
    assert {r["served_model"] for r in asked} == {"judge-model-2024"}
    assert {r["system_fingerprint"] for r in asked} == {"fp_judge"}
    assert {(r["temperature"], r["seed"]) for r in asked} == {(0.0, 42)}
    assert all(r["input_tokens"] > 0 and r["cost_usd"] > 0 and r["latency_ms"] > 0 for r in asked)
    sent = [e for e in server.log]
    assert {(e["temperature"], e["seed"], e["model"]) for e in sent} == {(0, 42, "judge-model")}
    assert len(sent) == len(asked)  # nothing asked for an item without a reply
    # results.json keeps the settings beside the scores, under their hash.
    from audiomarathon.records import read_results

    results = read_results(run_dir / "results.json")
    (key,) = results["judge"]
    assert results["judge"][key]["settings"]["temperature"] == 0.0 and results["judge"][key]["official_prompt"]
    assert results["config"]["config_hash"] == "chatrun0001"


def test_replies_that_are_no_verdict_are_asked_again_then_recorded_as_failures(tmp_path):
    run_dir, rows = chat_run(tmp_path, n_per_task=2)
    bad_first = ("8, 7", "8 7 6", "Assistant 1: 8", "11 5", "")
    never = {"sound_QA-0", "music_QA-0"}  # always three numbers: a failure after the retries

    def moody(message, seen):
        reply = answers(message)[1 if "Reference answer" in answers(message)[0] else 0]
        item = next(r["id"] for r in rows if r["reply"] == reply)
        if item in never:
            return "9 9 9"
        if seen == 0:
            return bad_first[text_score(item) % len(bad_first)]
        return fair_judge(message, seen)

    with ChatServer(judge=moody) as server:
        entry = judge(run_dir, server, parse_retries=2)
    recs = {(r["id"], r["order"]): r for r in lines(run_dir)}
    for (item, order), rec in recs.items():
        if rec["failure"] == "no-reply":
            continue
        if item in never:
            assert rec["failure"] == "parse" and rec["raw"] == "9 9 9" and len(rec["retried"]) == 2
            assert rec["seed"] == 44 and rec["model_score"] is None
        else:
            assert rec["failure"] is None and len(rec["retried"]) == 1
            assert rec["retried"][0]["raw"] in bad_first and rec["seed"] == 43
    model, ref = fair_sides(rows)
    for item in never:
        model[item] = {"reference-first": None, "model-first": None}
        ref[item] = {"reference-first": None, "model-first": None}
    for mode in ("strict", "paper"):
        tasks, cats, average = expected(rows, model, ref, mode)
        assert entry[mode]["average"] == pytest.approx(average), mode
        for task in TASKS:
            assert entry[mode]["tasks"][task]["score"] == pytest.approx(tasks[task]["score"]), (mode, task)
    assert entry["strict"]["failures"]["parse"] == 4
    # strict scores the failed side 1, paper drops it: sound_QA-0 pulls strict down only.
    assert entry["strict"]["tasks"]["sound_QA"]["score"] < entry["paper"]["tasks"]["sound_QA"]["score"]
    # A task whose every judgment failed has no paper score (nothing left), and strict scores it 1.
    assert entry["paper"]["tasks"]["speech_QA"]["score"] is not None


def test_transport_faults_are_retried_and_change_nothing(tmp_path):
    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        server.inject("429", "500", "drop", "malformed", "503", "html")
        entry = judge(run_dir, server, concurrency=2)
    clean_dir, _ = chat_run(tmp_path / "clean", n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        clean = judge(clean_dir, server)
    assert entry["strict"]["average"] == clean["strict"]["average"]
    assert entry["strict"]["failures"]["total"] == clean["strict"]["failures"]["total"]
    assert sum(r.get("http_attempts", 0) for r in lines(run_dir)) == sum(
        r.get("http_attempts", 0) for r in lines(clean_dir)) + 6


def test_a_judge_that_keeps_failing_leaves_request_failures_that_the_next_run_asks_again(tmp_path):
    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        server.inject(*["500"] * 2)
        entry = judge(run_dir, server, concurrency=1, max_retries=1)
        assert entry["strict"]["failures"]["request"] == 1
        again = judge(run_dir, server, concurrency=1, max_retries=1)
    assert again["strict"]["failures"]["request"] == 0
    assert again["progress"]["asked"] == 1


def test_a_rerun_reuses_the_recorded_verdicts_of_the_same_settings_only(tmp_path):
    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        first = judge(run_dir, server)
        n = len(server.log)
        second = judge(run_dir, server)
        assert len(server.log) == n and second["progress"]["asked"] == 0
        assert second["strict"] == first["strict"]
        other = judge(run_dir, server, seed=7)
        assert len(server.log) == 2 * n and {e["seed"] for e in server.log[n:]} == {7}
    from audiomarathon.records import read_results

    assert len(read_results(run_dir / "results.json")["judge"]) == 2
    assert other["settings_key"] != first["settings_key"]


def test_the_authors_profile_sends_half_at_temperature_2_and_no_seed(tmp_path):
    run_dir, rows = chat_run(tmp_path, n_per_task=6)
    with ChatServer(judge=fair_judge) as server:
        judge(run_dir, server, profile="authors")
    temps = [e["temperature"] for e in server.log]
    assert set(temps) == {1.0, 2.0} and 0.3 < temps.count(2.0) / len(temps) < 0.7
    assert {e["seed"] for e in server.log} == {None}
    recs = lines(run_dir)
    again = {(r["id"], r["order"]): r["temperature"] for r in recs}
    from audiomarathon_runner.judge.settings import JudgeSettings

    settings = JudgeSettings.for_profile("judge-model", "authors")
    assert all(settings.temperature_for(i, o) == t for (i, o), t in again.items())


def test_the_command_prints_the_result_as_json(tmp_path):
    import subprocess

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        out = subprocess.run(audiomarathon("judge", run_dir, "--api-base", server.base_url, "--model", "judge-model",
                                           "--json", "--bootstrap", "50"), capture_output=True, text=True, timeout=120)
        table = subprocess.run(audiomarathon("judge", run_dir, "--api-base", server.base_url, "--model", "judge-model",
                                             "--bootstrap", "50"), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["categories"]) == {"speech", "sound", "music", "mixed"}
    for key in ("average", "reference_average", "win_rate", "position_bias", "failures", "tasks", "paper", "settings"):
        assert key in result
    assert table.returncode == 0 and "average" in table.stdout and "0 judged now" in table.stdout


def test_a_judge_killed_part_way_resumes_without_losing_or_repeating_a_verdict(tmp_path):
    import subprocess

    run_dir, rows = chat_run(tmp_path, n_per_task=3)
    n_judged = 2 * sum(r["reply"] is not None for r in rows)
    with ChatServer(judge=fair_judge, delay_s=0.05) as server:
        args = audiomarathon("judge", run_dir, "--api-base", server.base_url, "--model", "judge-model",
                             "--concurrency", "2", "--bootstrap", "20", "--json")
        stop_part_way(args, run_dir / "judgments.jsonl", sig=signal.SIGKILL, records=12)
        killed = lines(run_dir)
        assert 12 <= len(killed) < 2 * len(rows)  # stopped part-way
        asked_before = len(server.log)
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    recs = lines(run_dir)
    keys = [(r["id"], r["order"]) for r in recs]
    assert len(keys) == len(set(keys)) == 2 * len(rows)  # none repeated, none missing
    assert recs[:len(killed)] == killed  # what was recorded stays as it was
    # Only the requests in flight at the kill were asked twice: each of the 2 workers' request, and
    # at most one answered but not yet written each.
    assert len(server.log) - n_judged <= 4
    assert asked_before - sum(r["failure"] is None for r in killed) <= 4
    result = json.loads(done.stdout)
    assert result["progress"]["reused"] == len(killed)
    model, ref = fair_sides(rows)
    assert result["average"] == pytest.approx(expected(rows, model, ref)[2])


def test_air_bench_chat_is_a_benchmark_of_the_registry():
    from audiomarathon.benchmarks import get_benchmark
    from audiomarathon.tasks import OPEN, resolve_tasks
    from audiomarathon_metric.judge.aggregate import CHAT_CATEGORIES

    chat = get_benchmark("airbench-chat")
    assert chat.name == "AIR-Bench Chat" and chat.task_names == TASKS
    assert [t.name for t in resolve_tasks("chat")] == list(TASKS) == [t.name for t in resolve_tasks("airbench-chat")]
    assert {t.metric for t in chat.tasks} == {OPEN} and all(not t.is_mcq for t in chat.tasks)
    # Inference_Chat.py sends the question alone.
    assert chat.tasks[0].render_prompt("What does the speaker ask for?") == "What does the speaker ask for?"
    assert {c.name: c.tasks for c in CHAT_CATEGORIES} == CATEGORY_TASKS
    assert [c.name for c in CHAT_CATEGORIES if not c.pooled_in_paper] == ["mixed"]


def _key_items(rows):
    from audiomarathon_metric.judge.submission import KeyItem

    return {r["id"]: KeyItem(r["task"], json.loads(r["meta"])["meta_info"], r["question"], r["answer_text"],
                             r["reply"]) for r in rows}


def test_submitted_judgments_are_rescored_and_tampering_is_refused(tmp_path):
    from audiomarathon_metric.judge.records import read_judgments
    from audiomarathon_metric.judge.submission import JudgmentsRejected, rescore_judgments

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        entry = judge(run_dir, server)
    submitted = read_judgments(run_dir / "judgments.jsonl")
    rescored = rescore_judgments(_key_items(rows), submitted, n_bootstrap=0)
    assert rescored["strict"]["average"] == entry["strict"]["average"]
    assert rescored["paper"]["average"] == entry["paper"]["average"]
    asked = next(i for i, j in enumerate(submitted) if j["failure"] is None and j["order"] == "reference-first")

    def refused(change, match):
        bad = [dict(j) for j in submitted]
        change(bad[asked])
        with pytest.raises(JudgmentsRejected, match=match):
            rescore_judgments(_key_items(rows), bad, n_bootstrap=0)

    refused(lambda j: j.update(prompt_sha256="sha256:" + "0" * 64), "not the official")
    refused(lambda j: j.update(model_score=10, scores=[j["scores"][0], 10]), "its scores are not what its raw judge reply")
    refused(lambda j: j.update(message_sha256="sha256:" + "1" * 64), "message hash differs")
    refused(lambda j: j.update(settings="other"), "2 judge settings")
    # A judgment of another reply than the run's (the reply swapped after judging).
    other = _key_items(rows)
    item = submitted[asked]["id"]
    other[item] = type(other[item])(**{**other[item].__dict__, "reply": "a better reply"})
    with pytest.raises(JudgmentsRejected, match="message hash differs"):
        rescore_judgments(other, submitted, n_bootstrap=0)


def test_score_sends_an_open_ended_run_to_the_judge(tmp_path):
    import subprocess

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    done = subprocess.run(audiomarathon("score", run_dir), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "open-ended" in done.stderr and "audiomarathon judge RUN_DIR" in done.stderr


# The AIR-Bench README's Chat leaderboard, typed out: speech, sound, music, mixed audio, average.
PUBLISHED_CHAT = {
    "Qwen2-Audio": (7.18, 6.99, 6.79, 6.77, 6.93), "Qwen-Audio-Turbo": (7.04, 6.59, 5.98, 5.77, 6.34),
    "SALMONN": (6.16, 6.28, 5.95, 6.08, 6.11), "Qwen-Audio": (6.47, 6.95, 5.52, 5.38, 6.08),
    "Gemini-1.5-pro": (6.97, 5.49, 5.06, 5.27, 5.70), "BLSP": (6.17, 5.55, 5.08, 4.52, 5.33),
    "PandaGPT": (3.58, 5.46, 5.06, 2.93, 4.25), "NExT-GPT": (3.86, 4.76, 4.18, 2.92, 4.13),
    "SpeechGPT": (1.57, 0.95, 0.95, 1.14, 1.15), "Macaw-LLM": (0.97, 1.01, 0.91, 1.00, 1.01),
}


def test_the_chat_board_shows_the_published_rows_by_category():
    from space.boards import board_frame, boards
    from space.seed import other_benchmark_entries

    (board,) = [b for b in boards() if b.benchmark == "airbench-chat"]
    frame = board_frame(board, other_benchmark_entries()).set_index("Model")
    for model, (speech, sound, music, mixed, average) in PUBLISHED_CHAT.items():
        row = frame.loc[model]
        assert (row["Speech"], row["Sound"], row["Music"], row["Mixed"], row["Average"]) == (
            speech, sound, music, mixed, average)
        # The printed average is the mean of the four, to the cent, in all rows but two.
        if model not in ("NExT-GPT", "Macaw-LLM"):
            assert abs((speech + sound + music + mixed) / 4 - average) < 0.0076, model
    assert list(frame.index[:3]) == ["Qwen2-Audio", "Qwen-Audio-Turbo", "SALMONN"]
    assert frame.loc["Whisper+GPT 4", "Speech"] == 7.54


def test_a_judge_server_that_cannot_be_reached_stops_the_command_with_a_clear_error(tmp_path):
    import socket
    import subprocess

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = subprocess.run(audiomarathon("judge", run_dir, "--api-base", f"http://127.0.0.1:{port}/v1", "--model", "j"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "connection refused" in done.stderr
    # Nothing was recorded as a judge's failure: a later run asks every question.
    assert all(r["failure"] != "request" for r in lines(run_dir))


def test_score_with_a_judge_server_runs_the_judge(tmp_path):
    import subprocess

    run_dir, rows = chat_run(tmp_path, n_per_task=1)
    with ChatServer(judge=fair_judge) as server:
        done = subprocess.run(audiomarathon("score", run_dir, "--judge-api-base", server.base_url, "--judge-model",
                                            "judge-model", "--json"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    model, ref = fair_sides(rows)
    assert result["average"] == pytest.approx(expected(rows, model, ref)[2])
    assert len(lines(run_dir)) == 2 * len(rows)
