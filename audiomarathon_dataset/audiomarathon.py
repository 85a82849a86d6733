"""The AudioMarathon loading script: a ``datasets.GeneratorBasedBuilder`` that composes one task
from locally downloaded source corpora (one BuilderConfig per task of the registry).

``datasets`` >= 4 no longer runs loading scripts from ``load_dataset``; use the class directly:

>>> from audiomarathon_dataset.audiomarathon import AudioMarathon
>>> builder = AudioMarathon(config_name="TAU", data_dir="/data/sources", cache_dir="/tmp/hf")
>>> builder.download_and_prepare()
>>> ds = builder.as_dataset(split="test")

Config options (keyword arguments of the constructor): ``seed``, ``min_duration``,
``max_duration``, ``limit``, ``loudness``, ``crossfade``, ``num_proc``, and for a controlled build
``evidence_position`` ("start" | "middle" | "end") and ``durations`` (a tuple of seconds). For the whole
benchmark in the distribution layout use ``audiomarathon build`` / ``build_benchmark``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import datasets

from audiomarathon.citation import CITATION, LICENSE, PAPER_URL
from audiomarathon.schema import FEATURES
from audiomarathon.tasks import TASKS, get_task

from .build import BuildOptions, TaskBuild, task_rows
from .composer import compose
from .controlled import check_task
from .parallel import Executor
from .recipes import RECIPES
from .report import Report
from .sources import CORPORA, expected_layouts

VERSION = datasets.Version("1.0.0")

_DESCRIPTION = """AudioMarathon: long-audio (90-300 s) understanding benchmark for audio language models.
Every instance is one long recording composed from clips of a source corpus, with a
multiple-choice question (or a transcript for ASR)."""

MANUAL_DOWNLOAD_INSTRUCTIONS = (
    "AudioMarathon is composed from nine source corpora that must be downloaded by hand under "
    "their own licenses. Put them side by side in one folder and pass it as data_dir "
    "(only the corpora of the configs you build are needed):\n\n" + expected_layouts()
)


@dataclass
class AudioMarathonConfig(datasets.BuilderConfig):
    """One task. The composition options change the output and are part of the cache key."""

    seed: int = 0
    min_duration: float | None = None
    max_duration: float | None = None
    limit: int | None = None
    loudness: float | None = None
    crossfade: float = 0.0
    num_proc: int = 1  # worker processes composing audio (the output does not depend on it)
    evidence_position: str | None = None  # controlled build: where the evidence clip goes
    durations: tuple[float, ...] | None = None  # controlled build: every item at each length

    def options(self) -> BuildOptions:
        return BuildOptions(seed=self.seed, min_duration=self.min_duration, max_duration=self.max_duration,
                            limit=self.limit, loudness=self.loudness, crossfade=self.crossfade,
                            evidence_position=self.evidence_position,
                            lengths=None if self.durations is None else tuple(self.durations))


def _config(task) -> AudioMarathonConfig:
    corpus = CORPORA[RECIPES[task.name].corpus]
    return AudioMarathonConfig(
        name=task.name, version=VERSION,
        description=f"{task.abbrev}: {task.title} ({task.category}), composed from {corpus.title}.",
    )


class AudioMarathon(datasets.GeneratorBasedBuilder):
    """AudioMarathon, one config per task, built from the source corpora under ``data_dir``."""

    BUILDER_CONFIG_CLASS = AudioMarathonConfig
    BUILDER_CONFIGS = [_config(t) for t in TASKS]
    DEFAULT_WRITER_BATCH_SIZE = 8  # rows hold minutes of audio: keep the write buffer small

    @property
    def manual_download_instructions(self) -> str:
        return MANUAL_DOWNLOAD_INSTRUCTIONS

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION + "\n\n" + MANUAL_DOWNLOAD_INSTRUCTIONS,
            features=FEATURES, homepage=PAPER_URL, citation=CITATION, license=LICENSE,
        )

    def _split_generators(self, dl_manager):
        data_dir = self.config.data_dir
        if not data_dir:
            raise FileNotFoundError(
                f"AudioMarathon config {self.config.name!r} needs data_dir=<folder with the source corpora>.\n"
                + MANUAL_DOWNLOAD_INSTRUCTIONS
            )
        root = os.path.abspath(os.path.expanduser(data_dir))
        task = get_task(self.config.name)
        folder = CORPORA[RECIPES[task.name].corpus].locate(root)  # MissingCorpusError names the layout
        options = self.config.options()
        options.durations(task)  # bad duration options fail before any work
        if options.controlled.active:
            recipe = RECIPES[task.name]
            check_task(task.name, recipe.questions, recipe.evidence, options.controlled)
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"root": root, "folder": str(folder)})]

    def _generate_examples(self, root: str, folder: str):
        task = get_task(self.config.name)
        options = self.config.options()
        self.build_report = Report()
        durations = options.durations(task)
        stats = TaskBuild(task.name, RECIPES[task.name].corpus, durations.low, durations.high)
        with Executor(self.config.num_proc, preload=compose.__module__) as executor:
            for row in task_rows(task, root, options, self.build_report, executor, stats, folder=folder):
                yield row.id, row.to_record()
        for issue in self.build_report.issues:
            datasets.logging.get_logger(__name__).warning(str(issue))
