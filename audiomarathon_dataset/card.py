"""The dataset card (README.md) whose YAML declares one config per task plus `all`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import yaml

from audiomarathon.citation import CITATION, LICENSE, PAPER_URL
from audiomarathon.schema import FEATURES
from audiomarathon.tasks import ALL, TASKS

if TYPE_CHECKING:
    from .writer import TaskStats

FORMAT_VERSION = 1


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated feature lists in full: Hub tooling reads plain YAML more reliably than anchors."""

    def ignore_aliases(self, data):
        return True


def _config_entries(stats: Mapping[str, "TaskStats"]) -> list[dict]:
    names = [t.name for t in TASKS if t.name in stats]
    configs = [
        {"config_name": n, "data_files": [{"split": "test", "path": f"{n}/test-*.parquet"}]}
        for n in names
    ]
    configs.append(
        {
            "config_name": ALL,
            "data_files": [{"split": "test", "path": [f"{n}/test-*.parquet" for n in names]}],
        }
    )
    return configs


def _dataset_info(stats: Mapping[str, "TaskStats"]) -> list[dict]:
    features = FEATURES._to_yaml_list()
    infos = []
    total_n = total_bytes = 0
    for t in TASKS:
        if t.name not in stats:
            continue
        s = stats[t.name]
        total_n += s.n
        total_bytes += s.num_bytes
        infos.append(
            {
                "config_name": t.name,
                "features": features,
                "splits": [{"name": "test", "num_bytes": s.num_bytes, "num_examples": s.n}],
            }
        )
    infos.append(
        {
            "config_name": ALL,
            "features": features,
            "splits": [{"name": "test", "num_bytes": total_bytes, "num_examples": total_n}],
        }
    )
    return infos


def _stats_table(stats: Mapping[str, "TaskStats"]) -> str:
    lines = [
        "| config | task | category | instances | paper | hours | min s | mean s | max s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    total_n = 0
    total_s = 0.0
    for t in TASKS:
        if t.name not in stats:
            continue
        s = stats[t.name]
        total_n += s.n
        total_s += s.total_seconds
        lines.append(
            f"| {t.name} | {t.abbrev} | {t.category} | {s.n} | {t.paper_count} | "
            f"{s.total_seconds / 3600:.2f} | {s.min_seconds:.1f} | {s.mean_seconds:.1f} | {s.max_seconds:.1f} |"
        )
    paper_total = sum(t.paper_count for t in TASKS if t.name in stats)
    lines.append(f"| **all** | | | **{total_n}** | {paper_total} | {total_s / 3600:.2f} | | | |")
    return "\n".join(lines)


def render_card(stats: Mapping[str, "TaskStats"], fingerprint: str, title: str = "AudioMarathon",
                extra_text: str = "") -> str:
    header = {
        "license": LICENSE,
        "pretty_name": title,
        "language": ["en"],
        "task_categories": ["audio-classification", "automatic-speech-recognition", "question-answering"],
        "tags": ["audio", "long-audio", "benchmark", "audiomarathon"],
        "audiomarathon_format": FORMAT_VERSION,
        # The dataset version (audiomarathon.fingerprint): runs declare it, the leaderboard checks it.
        "audiomarathon_fingerprint": fingerprint,
        "configs": _config_entries(stats),
        "dataset_info": _dataset_info(stats),
    }
    front = yaml.dump(header, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=1000)
    first = next(t.name for t in TASKS if t.name in stats)
    body = f"""# {title}

Long-audio (90–300 s) understanding benchmark for audio language models
([paper]({PAPER_URL})). Every instance is one long recording with a multiple-choice question
(or a transcript for ASR), in one schema shared by all configs:
`id, task, audio (16 kHz mono FLAC), duration, question, choices, answer, answer_text, segments, meta`.

```python
from datasets import load_dataset
ds = load_dataset("audiomarathon", "{first}", split="test")  # a local folder or a Hub repo id
```

## Contents

Counts and durations are computed from the data in this folder; "paper" is the paper's count.
Dataset version (fingerprint of ids, answers and options): `{fingerprint}`.

{_stats_table(stats)}
{extra_text}
## License

CC-BY-NC-4.0. The audio derives from the source corpora, each under its own license.

## Citation

```bibtex
{CITATION}
```
"""
    return f"---\n{front}---\n\n{body}"


def write_card(path: Path, stats: Mapping[str, "TaskStats"], fingerprint: str, title: str = "AudioMarathon",
               extra_text: str = "") -> None:
    path.write_text(render_card(stats, fingerprint, title, extra_text), encoding="utf-8")
