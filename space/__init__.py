"""The AudioMarathon leaderboard Space: store, submission validation, plots, Gradio app.

An installable package that imports only the core (audiomarathon) and the metric
(audiomarathon_metric): it reads run folders through the core's run-record format and never
imports the runner or the dataset package. `audiomarathon serve` (registered by space.commands)
or `python space/app.py` (on a Hugging Face Space) starts it.
"""
