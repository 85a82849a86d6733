"""AudioMarathon metric: answer extraction, per-task scores, leaderboard aggregate, statistics.

One implementation shared by the evaluate module (audiomarathon_metric.py), the runner and the
Space. Import is light: each part loads on first use, and jiwer/transformers only when a
transcript is scored.
"""

from audiomarathon.lazy import lazy_attributes

# Imported now: the function shares its module's name, and a later import of the submodule would
# otherwise leave the module, not the function, as the package's ``aggregate``. It is light.
from .aggregate import aggregate

# Public name -> the module defining it. Loaded on first use, so importing a light part of the
# package (its command table, the normalizers) does not load scipy and numpy.
_EXPORTS = {
    "compare": "comparison",
    "Extraction": "extraction",
    "RULES": "extraction",
    "clean_transcript": "extraction",
    "extract_answer": "extraction",
    "NORMALIZERS": "normalizers",
    "get_normalizer": "normalizers",
    "METRIC_VERSION": "scoring",
    "MODES": "score_inputs",
    "ScoreSettings": "score_inputs",
    "ScoringInputError": "score_inputs",
    "score": "scoring",
}
__getattr__ = lazy_attributes(__name__, _EXPORTS)


__all__ = [
    "Extraction",
    "METRIC_VERSION",
    "MODES",
    "NORMALIZERS",
    "RULES",
    "ScoreSettings",
    "ScoringInputError",
    "aggregate",
    "clean_transcript",
    "compare",
    "extract_answer",
    "get_normalizer",
    "score",
]
