"""The dataset card (README.md) whose YAML declares one config per task plus each benchmark's
groups (`all`, `foundation`) and AudioMarathon's abbreviations."""

from __future__ import annotations

from typing import Mapping

import yaml

from audiomarathon.citation import CITATION, LICENSE, PAPER_URL, SOURCE_TERMS
from audiomarathon.schema import FEATURES
from audiomarathon.tasks import ALL, ALL_TASKS, AUDIOMARATHON, BENCHMARKS, Task

from .task_stats import TaskStats


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated feature lists in full: Hub tooling reads plain YAML more reliably than anchors."""

    def ignore_aliases(self, data):
        return True


def _present(stats: Mapping[str, TaskStats]) -> list[Task]:
    return [t for t in ALL_TASKS if t.name in stats]


def _groups(stats: Mapping[str, TaskStats]) -> list[tuple[str, list[Task]]]:
    """Each benchmark's group configs (AudioMarathon's ``all``, Foundation's ``foundation``) with
    their tasks present here; a group none of whose tasks is here is left out."""
    found = []
    for b in BENCHMARKS.values():
        for group, members in b.groups.items():
            tasks = [t for t in b.tasks if t.name in members and t.name in stats]
            if tasks:
                found.append((group, tasks))
    return found


def _config_entries(stats: Mapping[str, TaskStats]) -> list[dict]:
    """One config per task, each benchmark's groups (``all``, ``foundation``), then each
    abbreviation as an alias of its task's config: ``load_dataset`` knows no aliases, and every
    command accepts ``ASC`` for ``TAU``."""
    tasks = _present(stats)
    configs = [
        {"config_name": t.name, "data_files": [{"split": "test", "path": f"{t.name}/test-*.parquet"}]}
        for t in tasks
    ]
    configs += [
        {"config_name": group, "data_files": [{"split": "test", "path": [f"{t.name}/test-*.parquet" for t in members]}]}
        for group, members in _groups(stats)
    ]
    configs += [
        {"config_name": t.abbrev, "data_files": [{"split": "test", "path": f"{t.name}/test-*.parquet"}]}
        for t in tasks if t.abbrev
    ]
    return configs


def _dataset_info(stats: Mapping[str, TaskStats]) -> list[dict]:
    features = FEATURES._to_yaml_list()

    def info(name: str, tasks: list[Task]) -> dict:
        n = sum(stats[t.name].n for t in tasks)
        size = sum(stats[t.name].num_bytes for t in tasks)
        return {"config_name": name, "features": features,
                "splits": [{"name": "test", "num_bytes": size, "num_examples": n}]}

    tasks = _present(stats)
    return ([info(t.name, [t]) for t in tasks] + [info(group, members) for group, members in _groups(stats)]
            + [info(t.abbrev, [t]) for t in tasks if t.abbrev])


def _stats_table(stats: Mapping[str, TaskStats]) -> str:
    lines = [
        "| config | task | category | instances | paper | hours | min s | mean s | max s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    total_n = 0
    total_s = 0.0
    tasks = _present(stats)
    for t in tasks:
        s = stats[t.name]
        total_n += s.n
        total_s += s.total_seconds
        lines.append(
            f"| {t.name} | {t.abbrev} | {t.category} | {s.n} | {'-' if t.paper_count is None else t.paper_count} | "
            f"{s.total_seconds / 3600:.2f} | {s.min_seconds:.1f} | {s.mean_seconds:.1f} | {s.max_seconds:.1f} |"
        )
    counts = [t.paper_count for t in tasks]
    paper_total = "" if None in counts else sum(counts)
    label = ALL if all(t.benchmark == AUDIOMARATHON for t in tasks) else "total"
    lines.append(f"| **{label}** | | | **{total_n}** | {paper_total} | {total_s / 3600:.2f} | | | |")
    return "\n".join(lines)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` bucket for ``n`` instances."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "n>1M"


def _gating(names: list[str]) -> dict:
    """Hub gating fields when any included corpus restricts use (non-commercial terms or
    third-party copyright, e.g. VoxCeleb's YouTube audio); empty otherwise."""
    restricted = [n for n in names if SOURCE_TERMS[n].restricted]
    if not restricted:
        return {}
    corpora = "; ".join(dict.fromkeys(f"{SOURCE_TERMS[n].corpus}: {SOURCE_TERMS[n].license}" for n in restricted))
    return {
        "extra_gated_heading": "Agree to the source corpora's terms to access this dataset",
        "extra_gated_prompt": (
            "The audio of this dataset derives from source corpora whose terms restrict its use. "
            f"By requesting access you agree to use it for non-commercial research only and to respect: {corpora}."
        ),
        "extra_gated_fields": {
            "Name": "text",
            "Affiliation": "text",
            "I will use this dataset for non-commercial research only": "checkbox",
            "I will respect the licenses of the source corpora listed in the dataset card": "checkbox",
        },
        "extra_gated_button_content": "Agree and access",
    }


def _terms_table(names: list[str]) -> str:
    lines = ["| config | source corpus | license / terms | gated |", "|---|---|---|---|"]
    for n in names:
        t = SOURCE_TERMS[n]
        lines.append(f"| {n} | [{t.corpus}]({t.url}) | {t.license} | {'yes' if t.restricted else 'no'} |")
    return "\n".join(lines)


def _other_benchmarks_text(benchmarks: list, stats: Mapping[str, TaskStats]) -> str:
    """What a copy holding MMAR or AIR-Bench Foundation adds to the card's description."""
    lines = []
    for b in benchmarks:
        if b.name == AUDIOMARATHON:
            continue
        groups = [g for g, members in _groups(stats) if g in b.groups]
        which = f"config `{groups[0]}` loads all of its tasks at once, each task is also its own config; " if groups else ""
        lines.append(f"- {b.name} ([paper]({b.paper_url}), [release]({b.homepage})): {which}`meta` keeps the "
                     f"release's own fields ({', '.join(f'`{k}`' for k in b.breakdowns)}, ...) under their names; "
                     "`choices` are the release's options, as many as it gives; `duration` is in seconds.")
    return "\n".join(lines)


def render_card(stats: Mapping[str, TaskStats], fingerprint: str, title: str = "AudioMarathon",
                extra_text: str = "") -> str:
    present = _present(stats)
    names = [t.name for t in present]
    benchmarks = [b for b in BENCHMARKS.values() if any(t.benchmark == b.name for t in present)]
    only_audiomarathon = [b.name for b in benchmarks] == [AUDIOMARATHON]
    if not only_audiomarathon and title == AUDIOMARATHON:
        title = " + ".join(b.name for b in benchmarks)
    tags = (["audio", "long-audio", "benchmark", "audiomarathon"] if only_audiomarathon else
            ["audio", "benchmark", *(b.key for b in benchmarks)])
    total_n = sum(stats[n].n for n in names)
    header = {
        "license": LICENSE,
        "pretty_name": title,
        "language": sorted({SOURCE_TERMS[n].language for n in names}),
        "size_categories": [size_category(total_n)],
        "source_datasets": list(dict.fromkeys(SOURCE_TERMS[n].source_dataset for n in names)),
        "task_categories": ["audio-classification", "automatic-speech-recognition", "question-answering"],
        "tags": tags,
        **_gating(names),
        "configs": _config_entries(stats),
        "dataset_info": _dataset_info(stats),
    }
    front = yaml.dump(header, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=1000)
    first = names[0]
    low = min(stats[n].min_seconds for n in names)
    high = max(stats[n].max_seconds for n in names)
    mean = sum(stats[n].total_seconds for n in names) / total_n
    if only_audiomarathon:
        intro = f"Long-audio understanding benchmark for audio language models ([paper]({PAPER_URL}))."
        license_text = "The benchmark is CC-BY-NC-4.0. The audio derives from the source corpora, each under its own"
        citations = CITATION
    else:
        intro = ("Audio benchmarks for audio language models, in one schema: "
                 + ", ".join(f"{b.name} ([paper]({b.paper_url}))" for b in benchmarks) + ".")
        license_text = "Each benchmark keeps its own terms. The audio derives from the source corpora, each under its own"
        citations = "\n\n".join(b.citation for b in benchmarks)
    abbreviated = next((t for t in present if t.abbrev), None)
    aliases = "" if abbreviated is None else f"""
Each config also loads under its task's abbreviation (`{abbreviated.abbrev}` for `{abbreviated.name}`), as every
AudioMarathon command accepts it.
"""
    others = "" if only_audiomarathon else "\n" + _other_benchmarks_text(benchmarks, stats) + "\n"
    body = f"""# {title}

{intro}
The instances of this copy last {low:.1f}–{high:.1f} s (mean {mean:.1f} s). Every instance is one
recording with a multiple-choice question (or a transcript for ASR), in one schema shared by all
configs: `id, task, audio (16 kHz mono FLAC), duration, question, choices, answer, answer_text,
segments, meta`. `segments` lists each source clip as `{{source_id, start, end, evidence}}`; `evidence`
is true for the clips holding the answer (DESED: the asked event heard; SLUE: the entity named;
HAD: a fake part), false for the others of those tasks, and null where it is not known.

```python
from datasets import load_dataset
ds = load_dataset("PATH_OR_REPO_ID", "{first}", split="test")  # a local folder or a Hub repo id
```
{aliases}{others}
## Contents

Counts and durations are computed from the data in this folder; "paper" is the paper's count.
Dataset version (fingerprint of ids, answers and options): `{fingerprint}`.

{_stats_table(stats)}
{extra_text}
## License

{license_text}
terms, which also apply to this copy:

{_terms_table(names)}

## Citation

```bibtex
{citations}
```
"""
    return f"---\n{front}---\n\n{body}"
