"""AudioMarathon-HF core: task registry, schema, prompts."""

from .prompts import LETTERS, PromptTemplate
from .tasks import (
    ALL,
    CATEGORIES,
    SAMPLING_RATE,
    TASK_NAMES,
    TASKS,
    Task,
    UnknownTaskError,
    get_task,
    resolve_tasks,
)

__version__ = "0.1.0"

__all__ = [
    "ALL",
    "CATEGORIES",
    "LETTERS",
    "PromptTemplate",
    "SAMPLING_RATE",
    "TASKS",
    "TASK_NAMES",
    "Task",
    "UnknownTaskError",
    "get_task",
    "resolve_tasks",
    "__version__",
]
