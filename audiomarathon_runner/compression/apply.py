"""Kind of compression -> context manager that installs it on a model."""
from __future__ import annotations

from .token_pruning import token_pruning
from .presses import kv_press

APPLIERS = {"prune": token_pruning, "press": kv_press}
