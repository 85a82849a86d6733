"""AudioMarathon metric: answer extraction, per-task scores, leaderboard aggregate, statistics.

One implementation shared by the evaluate module (audiomarathon_metric.py), the runner and the
Space. Import is light: jiwer/transformers are imported only when a transcript is scored.
"""

from .aggregate import aggregate
from .comparison import compare
from .extraction import Extraction
from .extraction import RULES
from .extraction import clean_transcript
from .extraction import extract_answer
from .normalizers import NORMALIZERS
from .normalizers import get_normalizer
from .scoring import METRIC_VERSION
from .scoring import MODES
from .scoring import ScoringInputError
from .scoring import score

__all__ = [
    "Extraction",
    "METRIC_VERSION",
    "MODES",
    "NORMALIZERS",
    "RULES",
    "ScoringInputError",
    "aggregate",
    "clean_transcript",
    "compare",
    "extract_answer",
    "get_normalizer",
    "score",
]
