"""Shared fixtures: a synthetic release in every official shape, imported once per session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory):
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    return write_synthetic_release(tmp_path_factory.mktemp("release") / "release", per_task=3, seed=0)


@pytest.fixture(scope="session")
def imported_dataset(synthetic_release, tmp_path_factory):
    from audiomarathon_dataset.release import import_release

    out = tmp_path_factory.mktemp("imported") / "audiomarathon"
    report = import_release(synthetic_release, out, progress=False)
    assert report.ok, report.issues
    return out


@pytest.fixture(scope="session")
def runner_runs(imported_dataset, tmp_path_factory):
    """Run folders written by the real runner with a tiny model (see tests/runner_runs.py)."""
    from runner_runs import RunnerRuns

    return RunnerRuns(tmp_path_factory.mktemp("runner-runs"), imported_dataset)


@pytest.fixture(scope="session")
def benchmark_datasets(tmp_path_factory):
    """MMAR's and AIR-Bench Foundation's synthetic releases, imported: {benchmark key: dataset folder}."""
    from benchmark_data import import_benchmarks

    return import_benchmarks(tmp_path_factory.mktemp("benchmarks"))
