"""TAU Urban Acoustic Scenes 2020 Mobile, development set:
``TAU-urban-acoustic-scenes-2020-mobile-development/meta.csv`` (tab-separated
``filename scene_label identifier source_label``) and ``audio/<scene>-<city>-<loc>-<seg>-<device>.wav``.

Groups follow the original build: files of one scene and one recording location
(``identifier``), in file-name order. The same segment recorded by several devices is
kept once (device ``a``, the reference recorder, when present) so no sound repeats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audiomarathon.tasks import Task

from ..files import SourceFileError, read_text
from ..report import BAD_RECORD, UNREADABLE, Issue
from .base import ClipRef, Corpus, Group

LAYOUT = """  TAU-urban-acoustic-scenes-2020-mobile-development/meta.csv
      tab-separated, header "filename<TAB>scene_label<TAB>identifier<TAB>source_label",
      rows like "audio/airport-barcelona-0-0-a.wav<TAB>airport<TAB>barcelona-0<TAB>a"
  TAU-urban-acoustic-scenes-2020-mobile-development/audio/*.wav
  (the zenodo archives TAU-urban-acoustic-scenes-2020-mobile-development.{meta,audio.1..16}.zip, unpacked)"""

REQUIRED_COLUMNS = ("filename", "scene_label", "identifier")


def _segment_key(filename: str) -> tuple[str, str]:
    """('airport-barcelona-0-0', 'a') from 'audio/airport-barcelona-0-0-a.wav'."""
    stem = Path(filename).stem
    base, _, device = stem.rpartition("-")
    return (base or stem), device


@dataclass(frozen=True)
class TAU(Corpus):
    def groups(self, folder: Path, sources: Path, task: Task) -> Iterator[Group | Issue]:
        meta = folder / "meta.csv"
        rel_meta = self.rel(meta, sources)
        # meta.csv is small (one line per 10 s file); grouping needs all rows of a location
        groups: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        try:
            text = read_text(meta)
        except SourceFileError as err:
            yield Issue(UNREADABLE, task.name, rel_meta, "", f"{err.reason}; no TAU instance can be built")
            return
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            yield Issue(BAD_RECORD, task.name, rel_meta, "header",
                        f"missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)} (tab-separated)")
            return
        for n, row in enumerate(reader, 2):
            filename = (row.get("filename") or "").strip()
            scene = (row.get("scene_label") or "").strip()
            ident = (row.get("identifier") or "").strip()
            if not filename or not ident or scene not in task.labels:
                yield Issue(BAD_RECORD, task.name, rel_meta, f"line {n}",
                            f"unusable row (filename={filename!r}, scene_label={scene!r}, identifier={ident!r}); skipped")
                continue
            segment, device = _segment_key(filename)
            by_segment = groups.setdefault((scene, ident), {})
            kept = by_segment.get(segment)
            if kept is None or (device == "a" and kept[1] != "a"):
                by_segment[segment] = (filename, device)
        for (scene, ident) in sorted(groups):
            clips = []
            for segment in sorted(groups[(scene, ident)]):
                filename, device = groups[(scene, ident)][segment]
                path = folder / filename
                clips.append(ClipRef(str(path), self.rel(path, sources)))
            yield Group(f"{scene}/{ident}", rel_meta, clips, label=scene,
                        meta={"scene_label": scene, "identifier": ident})


CORPUS = TAU(
    name="tau",
    title="TAU Urban Acoustic Scenes 2020 Mobile (development)",
    folders=("TAU-urban-acoustic-scenes-2020-mobile-development", "TAU2020", "TAU"),
    layout=LAYOUT,
    required=("meta.csv",),
)
