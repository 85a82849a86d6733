"""The metric package's commands, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "score": Command(
        "audiomarathon_metric.commands.score",
        "Score a predictions.jsonl (raw replies) with the AudioMarathon metric.",
        50,
    ),
    "compare": Command(
        "audiomarathon_metric.commands.compare",
        "Compare runs item by item (McNemar, paired bootstrap), per task and per duration bin; long-audio plots.",
        55,
    ),
}
