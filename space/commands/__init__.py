"""The Space's command, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "submit": Command("space.commands.submit", "Submit a run folder to a leaderboard (a Space URL or a local "
                      "store); prints the verdict as JSON.", 58),
    "serve": Command("space.commands.serve", "Start the leaderboard Space (Gradio) on localhost.", 60),
}
