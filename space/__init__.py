"""The AudioMarathon leaderboard Space: store, submission validation, plots, Gradio app.

Nothing in the packages imports this folder; it imports audiomarathon (core) and
audiomarathon_metric. Run it with `audiomarathon serve` or `python space/app.py`.
"""
