"""CLI subcommands of the runner (registered in audiomarathon.cli.COMMANDS)."""
