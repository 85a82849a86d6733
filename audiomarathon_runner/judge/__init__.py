"""The LLM judge's requests: AIR-Bench Chat replies judged through the API backend's client.

The prompt, the reading of a verdict, the judgments file and the scores are the metric package's
(``audiomarathon_metric.judge``), so the Space re-aggregates submitted judgments with the same code;
what talks to a server (retries, backoff, concurrency, the deadline per attempt, cost) is the API
backend's (``audiomarathon_runner.api``), reused here for text-only requests.
"""
