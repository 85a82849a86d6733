"""The LLM judge's pure parts: the official AIR-Bench Chat judge prompt (as data), the strict reading
of a judge's reply, the judgments file's record, and the aggregation of judgments into scores.

Nothing here talks to a server: the runner sends the requests (``audiomarathon_runner.judge``), and
the Space re-aggregates submitted judgments with the same code.
"""
