"""Composer units: planning rules (ranges, never cutting, label budget, seeds), joining, loudness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiomarathon_dataset.composer import (
    Composition,
    InstancePlan,
    Range,
    compose,
    join,
    normalize_loudness,
    plan_group,
)
from audiomarathon_dataset.report import Issue
from audiomarathon_dataset.sources import ClipRef, Group


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[ClipRef]:
    """30 clips of 1-3 s at 22.05 kHz stereo, labelled with one of six classes."""
    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    out = []
    for i in range(30):
        seconds = 1 + 2 * rng.random()
        t = np.arange(int(seconds * 22050)) / 22050
        x = 0.2 * np.sin(2 * np.pi * (200 + 20 * i) * t)
        path = root / f"c{i:02d}.wav"
        sf.write(path, np.stack([x, x], axis=1), 22050)
        out.append(ClipRef(str(path), path.name, labels=frozenset({f"class{i % 6}"})))
    return out


def _plans(group, rule, durations, seed=0):
    items = list(plan_group(group, task="T", corpus="c", rule=rule, durations=durations, seed=seed))
    return [p for p in items if isinstance(p, InstancePlan)], [i for i in items if isinstance(i, Issue)]


def test_truncating_plans_land_inside_the_range_and_use_each_clip_once(clips):
    plans, issues = _plans(Group("g", "g", clips), Composition(), Range(5, 8))
    assert len(plans) >= 4 and not issues
    used = [pc.ref.path for p in plans for pc in p.clips]
    assert len(used) == len(set(used))
    for p in plans:
        assert 5 <= p.target <= 8
        result = compose(p)
        assert result.ok and abs(result.duration - p.target) < 1e-3
        assert result.placed[-1].end == pytest.approx(result.duration, abs=1e-3)


def test_non_truncating_plans_never_cut_a_clip(clips):
    plans, _ = _plans(Group("g", "g", clips), Composition(shuffle=False, truncate=False), Range(5, 8))
    for p in plans:
        result = compose(p)
        assert 5 - 0.01 <= result.duration <= 8 + 0.01
        assert abs(result.duration - sum(pc.seconds for pc in p.clips)) < 1e-3
    order = [pc.ref.path for p in plans for pc in p.clips]
    assert order == sorted(order), "reading order is kept"


def test_label_budget_and_instances_per_group(clips):
    plans, _ = _plans(Group("g", "g", clips), Composition(max_distinct_labels=2), Range(4, 6))
    assert plans and all(len(set().union(*(pc.ref.labels for pc in p.clips))) <= 2 for p in plans)
    one, _ = _plans(Group("g", "g", clips), Composition(max_instances_per_group=1), Range(4, 6))
    assert len(one) == 1


def test_seed_changes_the_composition_and_only_the_seed(clips):
    group = Group("g", "g", clips)
    a, _ = _plans(group, Composition(), Range(5, 8), seed=0)
    b, _ = _plans(group, Composition(), Range(5, 8), seed=0)
    c, _ = _plans(group, Composition(), Range(5, 8), seed=1)
    assert a == b and a != c


def test_too_short_group_gives_one_issue_and_no_plan(clips):
    plans, issues = _plans(Group("small", "dir/small", clips[:2]), Composition(), Range(30, 40))
    assert plans == [] and len(issues) == 1
    assert issues[0].kind == "group_too_short" and issues[0].file == "dir/small" and "30" in issues[0].message


def test_join_back_to_back_and_with_crossfade():
    pieces = [np.ones(1000, np.float32), np.ones(500, np.float32), np.ones(800, np.float32)]
    out, starts = join(pieces, 0.0)
    assert len(out) == 2300 and starts == [0, 1000, 1500]
    out, starts = join(pieces, 100 / 16000)
    assert len(out) == 2300 - 200 and starts == [0, 900, 1300]
    assert np.all(out <= np.sqrt(2) + 1e-5) and out[0] == 1.0 and out[-1] == 1.0


def test_loudness_normalization_reaches_the_target_without_clipping():
    import pyloudnorm

    t = np.arange(3 * 16000) / 16000
    quiet = (0.01 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = normalize_loudness(quiet, -23.0)
    assert abs(pyloudnorm.Meter(16000).integrated_loudness(y.astype(np.float64)) + 23.0) < 0.1
    loud = normalize_loudness(quiet, 0.0)  # would clip: the gain is capped at the peak
    assert np.max(np.abs(loud)) <= 0.999 + 1e-6
    short = np.full(100, 0.1, np.float32)
    assert normalize_loudness(short, -23.0) is short


def test_region_and_missing_files_are_reported(tmp_path, clips):
    region = ClipRef(clips[0].path, clips[0].source_id, start=0.25, end=0.75)
    gone = ClipRef(str(tmp_path / "gone.wav"), "gone.wav")
    plans, issues = _plans(Group("g", "g", [region, gone, *clips[1:4]]), Composition(shuffle=False), Range(1, 2))
    assert any(i.kind == "missing_audio" and i.file == "gone.wav" for i in issues)
    first = plans[0]
    assert first.clips[0].seconds == pytest.approx(0.5)
    assert Path(first.clips[0].ref.path).name == "c00.wav"
