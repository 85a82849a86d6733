"""The runner's commands, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "run": Command(
        "audiomarathon_runner.commands.run",
        "Evaluate an audio LLM on AudioMarathon: predictions.jsonl + results.json (resumable).",
        40,
    ),
    "sweep": Command(
        "audiomarathon_runner.commands.sweep",
        "Run compression methods x ratios with the model loaded once; summary CSV + markdown.",
        45,
    ),
}
