"""The Space's commands, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "submit": Command("space.commands.submit", "Submit a run folder to a leaderboard (a Space URL or a local "
                      "store); prints the verdict as JSON.", 58),
    "serve": Command("space.commands.serve", "Start the leaderboard Space (Gradio) on localhost.", 60),
    "review": Command("space.commands.review", "List a leaderboard's held entries (probable duplicates); "
                      "accept or remove one.", 61),
}
