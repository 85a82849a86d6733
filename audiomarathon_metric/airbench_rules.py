"""AIR-Bench Foundation's reading of a reply, as its authors' ``score_foundation.py`` reads it.

The official rule (paper mode), in order: strip the reply and remove its newlines; an empty reply
or the text "None" is a failure; a first character A, B, C or D is the answer; otherwise, when the
reply is longer than one character, a second-to-last character A-D is the answer ("... is A."); any
other reply is a failure. Failures are left out of the accuracy's denominator, which is counted per
``task_name`` x ``dataset_name`` folder.

Its flaws, fixed by strict mode (which reads the letter with this package's extraction and keeps
every item in the denominator, an unread reply scored as a wrong answer):
- the first character decides alone: "Based on the audio, ..." is B, "Certainly, ..." is C,
  "As the speaker says, ..." is A, "Definitely D" is D;
- the second-to-last character decides alone: "... the clip is from a CD." is C;
- a reply with no letter leaves the denominator, so declining to answer raises the score (the
  a report in the authors' own tracker: "makes the score high").
"""

from __future__ import annotations

OFFICIAL_LETTERS = "ABCD"  # the official script checks these four whatever the item's option count


def official_letter(reply: str | None) -> tuple[str | None, str]:
    """(the letter the official script reads, or None for a failure; which step decided).

    Steps: ``first_char``, ``second_last_char``; failures ``empty`` (nothing, or the text "None",
    or no reply at all) and ``unread``."""
    if reply is None:
        return None, "empty"
    text = reply.strip().replace("\n", "")  # the script strips first, then removes inner newlines
    if not text or text == "None":
        return None, "empty"
    if text[0] in OFFICIAL_LETTERS:
        return text[0], "first_char"
    if len(text) > 1 and text[-2] in OFFICIAL_LETTERS:
        return text[-2], "second_last_char"
    return None, "unread"
