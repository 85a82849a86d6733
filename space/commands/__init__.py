"""The Space's command, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "serve": Command("space.commands.serve", "Start the leaderboard Space (Gradio) on localhost.", 60),
}
