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
    "judge": Command(
        "audiomarathon_runner.commands.judge",
        "Score a run's open-ended replies (AIR-Bench Chat) with an LLM judge, both orders (resumable).",
        47,
    ),
    "models": Command("audiomarathon_runner.commands.models",
                      "List the supported model families (config.json model_type).", 12),
    "methods": Command("audiomarathon_runner.commands.methods",
                       "List the compression methods (--method) and what each keeps.", 14),
}
