"""Source-corpus readers, one module per corpus, registered by corpus name.

>>> from audiomarathon_dataset.sources import CORPORA
>>> folder = CORPORA["tau"].locate("/data/sources")        # MissingCorpusError names the layout
>>> for item in CORPORA["tau"].groups(folder, Path("/data/sources"), get_task("TAU")): ...
"""

from __future__ import annotations

from . import desed, gtzan, had, librispeech, race, slue, tau, vesus, voxceleb
from .base import ClipRef, Corpus, Group, MissingCorpusError, Span

CORPORA: dict[str, Corpus] = {
    m.CORPUS.name: m.CORPUS for m in (librispeech, race, slue, tau, gtzan, desed, vesus, had, voxceleb)
}


def expected_layouts() -> str:
    """Every corpus's expected folder layout, for manual-download instructions and errors."""
    return "\n\n".join(f"{c.title} (corpus '{name}'):\n{c.layout}" for name, c in CORPORA.items())


__all__ = [
    "CORPORA", "ClipRef", "Corpus", "Group", "MissingCorpusError", "Span", "expected_layouts",
]
