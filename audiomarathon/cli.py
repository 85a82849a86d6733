"""The `audiomarathon` command.

Each package registers its own commands: its ``commands`` package holds a ``COMMANDS`` table
(name -> ``Command``), declared under the ``audiomarathon.commands`` entry-point group in
setup.cfg. The core finds them there, so it imports no package above it, and imports a
command's module only when that command runs, so `audiomarathon --help` stays fast."""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import sys
import warnings
from dataclasses import dataclass

ENTRY_POINT_GROUP = "audiomarathon.commands"


@dataclass(frozen=True)
class Command:
    module: str  # defines add_arguments(parser) and run(args) -> int
    help: str
    order: int = 100  # place in the overview (the order of the workflow)


# The core's own commands; the others come from the entry points.
CORE_COMMANDS: dict[str, Command] = {
    "tasks": Command("audiomarathon.commands.tasks", "List the 10 tasks (config names, abbreviations, prompts).", 10),
}


def _entry_points() -> list:
    entries = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    if entries:
        return entries
    # An editable checkout installed before its setup.cfg declared the group: read the same
    # declaration from the checkout's setup.cfg until the metadata is refreshed (pip install -e .).
    import configparser
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg", encoding="utf-8")
    lines = cfg.get("options.entry_points", ENTRY_POINT_GROUP, fallback="").splitlines()
    return [importlib.metadata.EntryPoint(name.strip(), value.strip(), ENTRY_POINT_GROUP)
            for name, _, value in (line.partition("=") for line in lines) if value.strip()]


def commands() -> dict[str, Command]:
    """Every installed command, in workflow order."""
    found = dict(CORE_COMMANDS)
    for entry in _entry_points():
        try:
            table = entry.load()
        except Exception as exc:  # noqa: BLE001 - one broken package must not take the others' commands
            warnings.warn(f"audiomarathon: commands of {entry.value} cannot be loaded: {exc}", stacklevel=2)
            continue
        found.update(table)
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def __getattr__(name: str):
    if name == "COMMANDS":  # the table as a module attribute, read from the entry points on use
        return commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _overview(table: dict[str, Command]) -> str:
    width = max(len(n) for n in table)
    lines = [
        "usage: audiomarathon <command> [options]",
        "",
        "Long-audio benchmark toolkit for audio language models.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {cmd.help}" for name, cmd in table.items()]
    lines += ["", "options:", "  -h, --help     this overview", "  -V, --version  the toolkit's version",
              "", "Run 'audiomarathon <command> --help' for a command's options."]
    return "\n".join(lines)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where its help already says it or there is none to show.
    An option that is required but also has an older spelling (``add_folder_option``) is shown in
    the usage line as required, without brackets."""

    def add_usage(self, usage, actions, groups, prefix=None):
        shown = []
        for action in actions:
            if getattr(action, "shown_required", False):
                action = copy.copy(action)
                action.required = True
            shown.append(action)
        super().add_usage(usage, shown, groups, prefix)

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.required or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)


def build_parser(name: str, table: dict[str, Command] | None = None) -> tuple[argparse.ArgumentParser, object]:
    cmd = (table or commands())[name]
    module = importlib.import_module(cmd.module)
    # Every option's help shows its default (options without one say nothing more).
    parser = argparse.ArgumentParser(prog=f"audiomarathon {name}", description=cmd.help,
                                     formatter_class=HelpFormatter)
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    table = commands()
    if argv and argv[0] == "help" and len(argv) > 1:  # `audiomarathon help run` = `audiomarathon run --help`
        argv = [argv[1], "--help"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_overview(table))
        return 0
    if argv[0] in ("-V", "--version"):
        from . import __version__

        print(f"audiomarathon {__version__}")
        return 0
    name = argv[0]
    if name not in table:
        print(f"audiomarathon: unknown command {name!r}; choose from: {', '.join(table)}", file=sys.stderr)
        return 2
    try:
        parser, module = build_parser(name, table)  # a command may refuse here (e.g. serve without gradio)
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


def add_folder_option(parser: argparse.ArgumentParser, flag: str, help: str, old_positional: str | None = None,
                      aliases: tuple[str, ...] = ()) -> None:
    """One way to name a folder in every command (`--data` for the dataset, `--out` for what is
    written). Older spellings still work but are not shown: a positional argument and `aliases`."""
    dest = flag.lstrip("-").replace("-", "_")
    action = parser.add_argument(flag, dest=dest, default=None, help=f"{help} (required)")
    # Not argparse-required (the older positional may give it instead; folder_option checks one
    # was given), but the usage line shows it as the required option it is.
    action.shown_required = True
    for alias in aliases:
        parser.add_argument(alias, dest=dest, default=None, help=argparse.SUPPRESS)
    if old_positional:
        parser.add_argument(f"_{dest}_positional", nargs="?", default=None, metavar=old_positional.upper(),
                            help=argparse.SUPPRESS)


def folder_option(args: argparse.Namespace, flag: str) -> str:
    """The folder given as `flag` or by the older positional spelling; refused when missing or both differ."""
    dest = flag.lstrip("-").replace("-", "_")
    named, positional = getattr(args, dest, None), getattr(args, f"_{dest}_positional", None)
    if named and positional and named != positional:
        raise CommandError(f"two different folders given: {flag} {named} and {positional}")
    value = named or positional
    if not value:
        raise CommandError(f"{flag} is required")
    return value


if __name__ == "__main__":
    sys.exit(main())


def print_columns(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A plain-text listing: every column but the last padded to its widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)][:-1]
    for row in (headers, *rows):
        print("  ".join([f"{cell:<{w}}" for cell, w in zip(row, widths)] + [str(row[-1])]))
