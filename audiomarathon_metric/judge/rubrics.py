"""MMAR-Rubrics: a reply's reasoning scored against the item's rubric by an LLM judge, as the
authors' ``evaluation_rubrics.py`` does it.

Each MMAR row of the GitHub metadata carries ``rubric``: items with ``name``, ``scoring_point``,
``note`` and ``choices`` (the allowed points, ``[0, 1]``). The procedure:

- a reply whose answer fails the official bag-of-words match (``mmar_rules.official_match``) scores
  0 and is not sent to the judge;
- otherwise the judge (temperature 0, seed 42) is asked ``RATERS`` = 5 times with the same system and
  user message; each reply must hold a JSON list with one ``{"name", "score"}`` per rubric item, each
  score one of that item's choices; a rater's score is its points over the most points possible;
- the item's score is the mean of the raters' scores with the highest and the lowest dropped.

The official script retries an unusable rater reply (up to 20 requests in all) and, when a rater
never gives one, leaves the item out of the totals ("not evaluated"); paper mode here does the
same, strict mode scores such an item 0. The user message is built as the script builds it: its
text with every line's leading whitespace removed (the script's ``clean``), the item's texts
included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

RUBRIC_SYSTEM_PROMPT = (
    "You are a impartial and meticulous AI evaluator. Your task is to assess a model's response to a question by "
    "evaluating its reasoning and its final answer. You must strictly follow the provided ground truth information "
    "and the detailed scoring rubric."
)
RATERS = 5
RUBRIC_SEED = 42
OFFICIAL_JUDGE = "gpt-4o-2024-11-20"

_CRITERION = (
    "### Criterion: {name}\n"
    "- Scoring Rule: {scoring_point}\n"
    "- Score Options: {choices}\n"
    "- Evaluate: Carefully read the model's reasoning and determine if it meets this criterion."
)
_JSON_ITEM = (
    "{{\n"
    "\"name\": \"{name}\",\n"
    "\"score\": [Assign a score from {choices}],\n"
    "\"justification\": \"Your justification for this score, citing evidence from the model's reasoning. "
    "(less than 50 words)\"\n"
    "}}{comma}"
)
_USER = (
    "## Ground Truth & Problem Context\n"
    "\n"
    "- Question: {question}\n"
    "- Correct Answer: {answer}\n"
    "- Ideal Reasoning (for reference): {thinking}\n"
    "\n"
    "## Evaluation Rubric & Scoring\n"
    "\n"
    "For each point in the rubric, provide a score and a brief justification based on the model's output.\n"
    "\n"
    "{criteria}\n"
    "\n"
    "## Required Output Format\n"
    "\n"
    "Provide your complete evaluation in a single, valid JSON object. Do not add any text before or after the "
    "JSON. The JSON structure must be as follows:\n"
    "\n"
    "[\n"
    "{json_items}\n"
    "]\n"
    "\n"
    "## Model's Submission to Evaluate\n"
    "\n"
    "- Model's Reasoning:\n"
    "{thinking_prediction} The answer is {answer_prediction}."
)


def _clean(text: str) -> str:
    """The script's whitespace rule: the block stripped, then each line's leading whitespace."""
    return "\n".join(line.lstrip() for line in text.strip().splitlines())


def _clean_each(parts: Iterable[str]) -> str:
    return "\n".join(_clean(p) for p in parts)


def rubric_message(question: str, answer: str, thinking: str, rubric: Sequence[Mapping],
                   thinking_prediction: str, answer_prediction: str) -> str:
    """The judge's user message for one item (the system turn is ``RUBRIC_SYSTEM_PROMPT``)."""
    criteria = _clean_each(_CRITERION.format(name=r["name"], scoring_point=r["scoring_point"], choices=r["choices"])
                           for r in rubric)
    items = _clean_each(_JSON_ITEM.format(name=r["name"], choices=r["choices"], comma="," if i < len(rubric) - 1 else "")
                        for i, r in enumerate(rubric))
    return _clean(_USER.format(question=question, answer=answer, thinking=thinking, criteria=criteria,
                               json_items=items, thinking_prediction=thinking_prediction,
                               answer_prediction=answer_prediction))


class RubricReplyError(ValueError):
    """A rater's reply that is not a usable evaluation."""


_LIST = re.compile(r"\[\s*\{.*\}\s*\]", re.DOTALL)


def rater_score(reply: str, rubric: Sequence[Mapping]) -> float:
    """One rater's score in 0..1: its points over the most possible; RubricReplyError otherwise."""
    match = _LIST.search(reply or "")
    try:
        found = json.loads(match.group(0) if match else reply or "")
    except ValueError as err:
        raise RubricReplyError(f"not JSON: {err}") from None
    if not isinstance(found, list):
        raise RubricReplyError("not a JSON list")
    if len(found) != len(rubric):
        raise RubricReplyError(f"{len(found)} rubric items scored, {len(rubric)} expected")
    points = best = 0
    for i, (got, item) in enumerate(zip(found, rubric)):
        if not isinstance(got, dict) or "name" not in got or "score" not in got:
            raise RubricReplyError(f"item {i} lacks a name or a score")
        score = got["score"]
        if not isinstance(score, (int, float)) or score not in item["choices"]:
            raise RubricReplyError(f"item {i} ({item['name']!r}): score {score!r} is not one of {item['choices']}")
        points += score
        best += max(item["choices"])
    return points / best if best else 0.0


def trimmed_mean(scores: Sequence[float]) -> float:
    """The raters' mean without the highest and the lowest (with 3 or more raters)."""
    ordered = sorted(scores)
    kept = ordered[1:-1] if len(ordered) >= 3 else ordered
    return sum(kept) / len(kept)


@dataclass(frozen=True)
class RubricItem:
    id: str
    score: float | None  # None: not evaluated (a rater never gave a usable reply)
    correct: bool  # the answer passed the official match
    meta: Mapping  # modality, category, sub-category


def rubric_scores(items: Sequence[RubricItem], mode: str = "strict") -> dict:
    """Score (mean item score x 100) and accuracy (share matched x 100), overall and per modality,
    category and sub-category. Paper mode leaves unevaluated items out, as the script's totals do;
    strict mode scores them 0."""
    if mode not in ("strict", "paper"):
        raise ValueError(f"mode must be strict or paper, got {mode!r}")
    kept = [i for i in items if i.score is not None or mode == "strict"]

    def summary(group: list[RubricItem]) -> dict:
        n = len(group)
        return {"n": n, "score": 100 * sum(i.score or 0.0 for i in group) / n if n else None,
                "accuracy": 100 * sum(i.correct for i in group) / n if n else None}

    out = {"mode": mode, **summary(kept), "not_evaluated": sum(i.score is None for i in items)}
    for key in ("modality", "category", "sub-category"):
        groups: dict = {}
        for i in kept:
            groups.setdefault(str(i.meta.get(key)), []).append(i)
        out[key] = {name: summary(group) for name, group in groups.items()}
    return out
