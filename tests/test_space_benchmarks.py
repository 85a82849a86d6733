"""The Space's MMAR and AIR-Bench Foundation boards: their published rows, each figure with its source
(checked against the leaderboards' own rules, typed out here), and submissions written by the real
runner, re-scored on the server against an answer key built from the benchmark's dataset."""

from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from runner_runs import set_replies

# The AIR-Bench README's Foundation leaderboard groups its 19 rows as speech (rows 1-9), sound (10-13)
# and music (14-19); the release's task_name of each row, typed from the release's folder names.
FOUNDATION_GROUPS = {
    "speech": ["Speech_Grounding", "Spoken_Language_Identification", "Speaker_Gender_Recognition",
               "Speaker_Emotion_Recontion", "Speaker_Age_Prediction", "Speech_Entity_Reconition",
               "Speaker_Intent_Classification", "Speaker_Number_Verification", "Synthesized_Voice_Detection"],
    "sound": ["Audio_Grounding", "vocal_sound_classification", "Acoustic_Scene_Classification", "Sound_AQA"],
    "music": ["Music_Instruments_Classfication", "Music_Genre_Recognition", "Music_Midi_Pitch_Analysis",
              "Music_Midi_Velocity_Analysis", "Music_AQA", "Music_Mood_Recognition"],
}
# Items per modality in MMAR-meta.jsonl (github.com/ddlBoJack/MMAR @ 3bce090a), 1,000 in all.
MMAR_MODALITY_COUNTS = {"speech": 294, "mix-sound-speech": 218, "music": 206, "sound": 165, "mix-music-speech": 82,
                        "mix-sound-music-speech": 24, "mix-sound-music": 11}


def half_up(x) -> float:
    """One decimal, halves up, on the exact value (``Fraction``) where one is given."""
    exact = Decimal(x.numerator) / Decimal(x.denominator) if isinstance(x, Fraction) else Decimal(repr(x))
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def _published(key: str) -> dict:
    from space.seed import published_entries

    return {e.model: e for e in published_entries() if e.benchmark == key}


# --- the published rows ------------------------------------------------------------------------------

def test_foundation_rows_reproduce_every_published_average_by_the_leaderboards_aggregation():
    rows = _published("airbench-foundation")
    assert len(rows) == 8
    for model, e in rows.items():
        complete = {c: tasks for c, tasks in FOUNDATION_GROUPS.items() if all(t in e.scores for t in tasks)}
        assert e.categories == pytest.approx({c: mean(e.scores[t] for t in tasks) for c, tasks in complete.items()})
        if e.average is not None:  # the README's Average row, from the exact category means
            exact = {c: mean(Fraction(str(e.scores[t])) for t in tasks) for c, tasks in complete.items()}
            assert half_up(mean(exact.values())) == e.average, model
    turbo = rows["Qwen-Audio-Turbo"]
    assert [half_up(turbo.categories[c]) for c in ("speech", "sound", "music")] == [63.4, 61.0, 48.9]
    assert turbo.average == 57.8
    # Figures typed from the README's table.
    assert rows["Qwen-Audio"].scores["Speaker_Intent_Classification"] == 77.8
    assert rows["PandaGPT"].scores["Music_Midi_Velocity_Analysis"] == 27.2
    whisper = rows["Whisper+GPT 4"]  # a speech-only cascade: "/" for every sound and music task and the average
    assert set(whisper.scores) == set(FOUNDATION_GROUPS["speech"]) and whisper.average is None
    assert whisper.scores["Spoken_Language_Identification"] == 96.8
    for e in rows.values():  # each row names its table, and the derived figures say so
        assert "github.com/OFA-Sys/AIR-Bench" in e.details["overall"]["source"] and "98324766" in e.details["source"]
        assert set(e.details["derived"]) == set(e.categories)


def test_mmar_rows_are_item_weighted_means_of_their_modality_figures():
    rows = _published("mmar")
    assert len(rows) == 36
    n = sum(MMAR_MODALITY_COUNTS.values())
    for model, e in rows.items():
        table = e.details["overall"]["tables"]["modality"]
        micro = sum(table[m] * c for m, c in MMAR_MODALITY_COUNTS.items()) / n
        assert abs(micro - e.average) <= 0.051, model  # the Avg column is the micro average, rounded
        assert e.scores == {} and "github.com/ddlBoJack/MMAR" in e.details["overall"]["source"]
    assert rows["Gemini 2.5 Pro"].details["overall"]["tables"]["modality"]["mix-sound-music"] == 100.0
    assert rows["Random Guess"].average == 29.3 and rows["Random Guess"].weights == "baseline"
    assert rows["Qwen3-Omni-Thinking"].details["overall"]["size_printed"] == "30B-A3B"
    assert {"Audio Flamingo 2 (0.5B)", "Audio Flamingo 2 (1.5B)", "Audio Flamingo 2 (3B)"} <= set(rows)


def test_each_board_shows_only_its_benchmarks_rows(tmp_path):
    from audiomarathon_metric.published import PUBLISHED

    from space import boards, leaderboard
    from space.service import Service

    service = Service.open(tmp_path / "lb.sqlite")
    assert {e.model for e in service.entries()} == {r.model for r in PUBLISHED}  # AudioMarathon's board
    assert len(leaderboard.leaderboard_frame(service.entries(None))) == len(PUBLISHED)
    mmar, foundation, _chat = boards.boards()
    frame = boards.board_frame(foundation, service.entries(None))
    assert list(frame["Model"][:2]) == ["Qwen-Audio-Turbo", "Qwen-Audio"]
    assert frame.iloc[-1]["Model"] == "Whisper+GPT 4"  # no average: last
    assert len(boards.board_frame(mmar, service.entries(None))) == 36
    assert boards.board_frame(mmar, service.entries(None)).iloc[0]["Model"] == "Gemini 2.5 Pro"


# --- submissions -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def benchmark_runs(runner_runs, benchmark_datasets, tmp_path_factory):
    """The real runner's runs of the tiny model: --tasks MMAR and --tasks foundation."""
    root = tmp_path_factory.mktemp("benchmark-runs")
    return {"mmar": runner_runs.run_benchmark(root / "mmar", benchmark_datasets["mmar"], "MMAR"),
            "airbench-foundation": runner_runs.run_benchmark(root / "foundation",
                                                             benchmark_datasets["airbench-foundation"], "foundation")}


def _copy(run: Path, out: Path) -> Path:
    out.mkdir(parents=True)
    for name in ("predictions.jsonl", "results.json"):
        shutil.copyfile(run / name, out / name)
    return out


def _meta(dataset: Path, config: str) -> dict[str, dict]:
    import datasets

    ds = datasets.load_dataset(str(dataset), config, split="test").select_columns(["id", "meta"])
    return {r["id"]: json.loads(r["meta"]) for r in ds}


def test_mmar_submission_is_rescored_per_modality_on_its_own_board(benchmark_runs, benchmark_datasets, tmp_path):
    from space import boards
    from space.service import Service

    run = _copy(benchmark_runs["mmar"], tmp_path / "run")
    meta = _meta(benchmark_datasets["mmar"], "MMAR")
    letters = "ABCDEF"
    # Every other item answered with its answer's text (MMAR's options are unlettered), the rest
    # with a refusal, which strict mode scores as wrong.
    records = set_replies(run, lambda r: r["choices"][letters.index(r["reference"])]
                          if sorted(meta).index(r["id"]) % 2 == 0 else "I cannot tell from this clip.")
    assert len(records) == len(meta) and len({len(r["choices"]) for r in records}) > 1  # 2-6 options, not padded
    right = {r["id"] for r in records if sorted(meta).index(r["id"]) % 2 == 0}

    service = Service.open(tmp_path / "lb.sqlite", [benchmark_datasets["mmar"]])
    entry = service.submit(run / "predictions.jsonl", run / "results.json").entry
    assert entry.benchmark == "mmar" and entry.source == "verified"
    assert entry.average == pytest.approx(100 * len(right) / len(meta))
    table = entry.details["overall"]["tables"]["modality"]
    for modality in {m["modality"] for m in meta.values()}:
        ids = [i for i, m in meta.items() if m["modality"] == modality]
        assert table[modality] == pytest.approx(100 * sum(i in right for i in ids) / len(ids))
    assert entry not in service.entries()  # not on AudioMarathon's board
    mmar_board = boards.boards()[0]
    frame = boards.board_frame(mmar_board, service.entries(None))
    [row] = frame[frame["Source"] == "verified"].to_dict("records")
    assert row["Average"] == pytest.approx(entry.average) and row["Figures from"].startswith("re-scored here")


def test_foundation_submission_is_rescored_by_category_means(benchmark_runs, benchmark_datasets, tmp_path):
    from space import boards
    from space.service import Service

    run = _copy(benchmark_runs["airbench-foundation"], tmp_path / "run")
    # Speech and music tasks answered right (the answer's letter), sound tasks wrong (another letter).
    wrong = set(FOUNDATION_GROUPS["sound"])
    set_replies(run, lambda r: next(x for x in "ABCD" if x != r["reference"]) if r["task"] in wrong else r["reference"])
    service = Service.open(tmp_path / "lb.sqlite", [benchmark_datasets["airbench-foundation"]])
    entry = service.submit(run / "predictions.jsonl", run / "results.json").entry
    assert entry.benchmark == "airbench-foundation"
    expected = {c: 0.0 if c == "sound" else 100.0 for c in FOUNDATION_GROUPS}
    assert entry.categories == pytest.approx(expected)
    assert entry.average == pytest.approx(mean(expected.values()))  # 66.7: the mean of the three categories
    assert set(entry.scores) == {t for tasks in FOUNDATION_GROUPS.values() for t in tasks}
    frame = boards.board_frame(boards.boards()[1], service.entries(None))
    [row] = frame[frame["Source"] == "verified"].to_dict("records")
    assert (row["Speech"], row["Sound"], row["Music"]) == (100.0, 0.0, 100.0)
    assert list(frame["Model"]).index(row["Model"]) == 0  # 66.7 ranks above Qwen-Audio-Turbo's 57.8


def test_a_run_of_one_benchmark_is_refused_by_another_benchmarks_key(benchmark_runs, benchmark_datasets, tmp_path):
    from space.service import Service
    from space.validation import SubmissionRejected

    service = Service.open(tmp_path / "lb.sqlite", [benchmark_datasets["airbench-foundation"]])
    run = benchmark_runs["mmar"]
    with pytest.raises(SubmissionRejected, match="another dataset version"):
        service.submit(run / "predictions.jsonl", run / "results.json")
