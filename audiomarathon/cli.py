"""The `audiomarathon` command. Subcommands live in their own packages and are imported
only when used, so `audiomarathon --help` stays fast and the core depends on nothing."""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str  # defines add_arguments(parser) and run(args) -> int
    help: str


COMMANDS: dict[str, Command] = {
    "tasks": Command("audiomarathon.commands.tasks", "List the 10 tasks (config names, abbreviations, prompts)."),
    "import-release": Command(
        "audiomarathon_dataset.commands.import_release",
        "Import an official AudioMarathon release (per-task folders) into parquet + dataset card.",
    ),
    "score": Command(
        "audiomarathon_metric.commands.score",
        "Score a predictions.jsonl (raw replies) with the AudioMarathon metric.",
    ),
    "compare": Command(
        "audiomarathon_metric.commands.compare",
        "Compare runs item by item (McNemar, paired bootstrap), per task and per duration bin; long-audio plots.",
    ),
    "push": Command("audiomarathon_dataset.commands.push", "Upload a built dataset folder to a Hub dataset repo."),
    "build": Command(
        "audiomarathon_dataset.commands.build",
        "Compose all 10 tasks from the nine source corpora into parquet + dataset card.",
    ),
    "serve": Command("audiomarathon.commands.serve", "Start the leaderboard Space (Gradio) on localhost."),
    "run": Command(
        "audiomarathon_runner.commands.run",
        "Evaluate an audio LLM on AudioMarathon: predictions.jsonl + results.json (resumable).",
    ),
    "sweep": Command(
        "audiomarathon_runner.commands.sweep",
        "Run compression methods x ratios with the model loaded once; summary CSV + markdown.",
    ),
}


def _overview() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: audiomarathon <command> [options]",
        "",
        "Long-audio benchmark toolkit for audio language models.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {cmd.help}" for name, cmd in COMMANDS.items()]
    lines += ["", "Run 'audiomarathon <command> --help' for a command's options."]
    return "\n".join(lines)


def build_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    cmd = COMMANDS[name]
    module = importlib.import_module(cmd.module)
    parser = argparse.ArgumentParser(prog=f"audiomarathon {name}", description=cmd.help)
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_overview())
        return 0
    if argv[0] in ("-V", "--version"):
        from . import __version__

        print(f"audiomarathon {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"audiomarathon: unknown command {name!r}; choose from: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        parser, module = build_parser(name)  # a command may refuse here (e.g. serve without gradio)
        args = parser.parse_args(argv[1:])
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("audiomarathon: interrupted", file=sys.stderr)
        return 130
    except CommandError as err:
        print(f"audiomarathon {name}: error: {err}", file=sys.stderr)
        return 1


class CommandError(Exception):
    """An expected failure (bad path, bad option): printed without a traceback."""


if __name__ == "__main__":
    sys.exit(main())
