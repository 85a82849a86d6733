"""The AIR-Bench Chat judge prompt, verbatim, as data (OFA-Sys/AIR-Bench ``score_chat.py``).

The official script fills four placeholders (XAudioX, XQuestionX, XAssistant1X, XAssistant2X) with
``str.replace`` one after the other, so a reply that happens to contain a later placeholder's
name would be filled again. Here the placeholders are filled in one pass: every character of the
template outside them is the official text, and each filled value is inserted as it is.
"""

from __future__ import annotations

import hashlib
import re

# The one user message the judge receives (no system turn). Keep the official spelling: "Assistant 1s".
CHAT_JUDGE_TEMPLATE = (
    "You are a helpful and precise assistant for checking the quality of the answer.\n"
    "[Detailed Audio Description]\nXAudioX\n[Question]\nXQuestionX\n"
    "[The Start of Assistant 1s Answer]\nXAssistant1X\n[The End of Assistant 1s Answer]\n"
    "[The Start of Assistant 2s Answer]\nXAssistant2X\n[The End of Assistant 2s Answer]\n[System]\n"
    "We would like to request your feedback on the performance of two AI assistants in response to the user "
    "question and audio description displayed above. AI assistants are provided with detailed audio descriptions "
    "and questions.\n"
    "Please rate the helpfulness, relevance, accuracy, and comprehensiveness of their responses. "
    "Each assistant receives an overall score on a scale of 1 to 10, where a higher score indicates better "
    "overall performance. "
    "Please output a single line containing only two values indicating the scores for Assistant 1 and 2, "
    "respectively. The two scores are separated by a space."
)
PLACEHOLDERS = ("XAudioX", "XQuestionX", "XAssistant1X", "XAssistant2X")
_SLOT = re.compile("|".join(PLACEHOLDERS))

# The two orders of one item. The official README asks for both: the reference as Assistant 1
# (score_chat.py's order), then swapped.
REFERENCE_FIRST = "reference-first"
MODEL_FIRST = "model-first"
ORDERS = (REFERENCE_FIRST, MODEL_FIRST)


def prompt_sha256(template: str = CHAT_JUDGE_TEMPLATE) -> str:
    """The template's identity: recorded with every judgment; the Space accepts only the official one's."""
    return "sha256:" + hashlib.sha256(template.encode("utf-8")).hexdigest()


OFFICIAL_PROMPT_SHA256 = prompt_sha256()


def render(meta_info: str, question: str, assistant_1: str, assistant_2: str,
           template: str = CHAT_JUDGE_TEMPLATE) -> str:
    """The judge's message for one item and one order."""
    values = dict(zip(PLACEHOLDERS, (meta_info, question, assistant_1, assistant_2)))
    return _SLOT.sub(lambda m: values[m.group(0)], template)


def render_order(order: str, meta_info: str, question: str, reference: str, reply: str) -> str:
    """The message with the reference and the model's reply placed as ``order`` says."""
    if order == REFERENCE_FIRST:
        return render(meta_info, question, reference, reply)
    if order == MODEL_FIRST:
        return render(meta_info, question, reply, reference)
    raise ValueError(f"unknown judge order {order!r}; expected one of {', '.join(ORDERS)}")


def model_is_first(order: str) -> bool:
    if order not in ORDERS:
        raise ValueError(f"unknown judge order {order!r}; expected one of {', '.join(ORDERS)}")
    return order == MODEL_FIRST
