"""Judge-assisted answer extraction (opt-in): a judge reads which option a reply states, for the
replies this metric's extraction calls invalid; its own scoring mode, never mixed into strict or paper.

The prompt is AIR-Bench's ``align_in_foundation.py`` text with one change: where the official text
says "If there are no matching options, then choose one at random", here "None" is an answer, so a
reply that states no option stays invalid instead of being given a random one. Otherwise as the
script: the question and the reply quoted in the first paragraph, the options one a line as
"A. text", then the reminder. Two deliberate differences: every option the item has is listed (the
script lists only A and B when choice_c or choice_d is missing), and the placeholders are filled in
one pass (the script's chained replace would fill "QUESTION" inside a reply that contains it).

The judge's reply is read strictly: one option letter of the item, or "None", alone (an optional
trailing period and surrounding whitespace aside); anything else is no reading.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from audiomarathon.prompts import LETTERS

# The official text, "choose one at random" replaced by "respond with None".
EXTRACT_TEMPLATE = (
    'There is a question "QUESTION", and one response is "ANSWER". Among the following choices, which option best '
    "matches this response? You may only response with the letter of the option. If the letter of an option has "
    "already appeared in the Answer, then simply return that letter. If there are no matching options, then respond "
    "with None. The following lines are the options."
)
EXTRACT_REMINDER = "To reiterate, the response you provide to me must be a single letter, either A, B, C, or D, or None."
NONE = "None"
EXTRACT_PROMPT_SHA256 = "sha256:" + hashlib.sha256((EXTRACT_TEMPLATE + "\n" + EXTRACT_REMINDER).encode()).hexdigest()
_SLOT = re.compile("QUESTION|ANSWER")


def extract_message(question: str, reply: str, choices: Sequence[str]) -> str:
    values = {"QUESTION": question, "ANSWER": reply}
    head = _SLOT.sub(lambda m: values[m.group(0)], EXTRACT_TEMPLATE)
    options = "".join(f"\n{LETTERS[i]}. {text}" for i, text in enumerate(choices))
    return head + options + "\n" + EXTRACT_REMINDER


def read_extraction(reply: str | None, n_choices: int) -> tuple[bool, str | None]:
    """(read, letter): read is False when the reply is neither one of the item's letters nor None."""
    text = (reply or "").strip().rstrip(".").strip()
    if text.lower() == NONE.lower():
        return True, None
    if len(text) == 1 and text.upper() in LETTERS[:n_choices] and text.isupper():
        return True, text
    return False, None
