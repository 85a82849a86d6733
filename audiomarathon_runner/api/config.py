"""What an API run needs beyond a local one: where the servers are and how to talk to them."""

from __future__ import annotations

import os
from dataclasses import dataclass

# input_audio formats the client can send; the server must accept the one chosen (OpenAI: wav, mp3).
AUDIO_FORMATS = ("wav", "flac", "mp3")
# What happens to a clip over --max-audio-seconds or a request over --max-request-mb.
TOO_LONG_POLICIES = ("refuse", "split")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")
WEIGHTS = ("closed", "open")


@dataclass
class ApiConfig:
    base_urls: tuple[str, ...]
    api_key_env: str | None = None  # None: OPENAI_API_KEY if set, else a placeholder (local servers)
    concurrency: int = 4
    timeout_s: float = 600.0  # per request attempt
    max_retries: int = 6  # after the first attempt, on 429 / 5xx / timeouts / malformed replies
    backoff_s: float = 1.0  # first retry delay; doubles each retry (a server's Retry-After wins)
    backoff_max_s: float = 60.0
    audio_format: str = "wav"
    max_request_mb: float | None = None
    on_too_long: str = "refuse"
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None  # USD per million output tokens
    max_tokens_field: str = "max_tokens"
    # Whether the served model's weights are public (vLLM/SGLang serving a Hub checkpoint) or not
    # (GPT-4o, Gemini): the leaderboard's open/closed column.
    weights: str = "closed"
    # The served model's family (`audiomarathon models`): its card's system prompt and its profile
    # prompts are sent. None: a model of no listed family (no system turn).
    family: str | None = None

    def __post_init__(self) -> None:
        self.base_urls = tuple(u.rstrip("/") for u in self.base_urls)
        if not self.base_urls:
            raise ValueError("--api-base: give at least one base URL (e.g. http://127.0.0.1:8000/v1)")
        for url in self.base_urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"--api-base {url!r}: must start with http:// or https://")
        if self.concurrency < 1:
            raise ValueError(f"--concurrency must be >= 1, got {self.concurrency}")
        if not self.timeout_s > 0:
            raise ValueError(f"--request-timeout must be > 0 seconds, got {self.timeout_s}")
        if self.max_retries < 0:
            raise ValueError(f"--max-retries must be >= 0, got {self.max_retries}")
        if self.backoff_s < 0:
            raise ValueError(f"--retry-backoff must be >= 0 seconds, got {self.backoff_s}")
        if self.audio_format not in AUDIO_FORMATS:
            raise ValueError(f"--audio-format must be one of {', '.join(AUDIO_FORMATS)}, got {self.audio_format!r}")
        if self.on_too_long not in TOO_LONG_POLICIES:
            raise ValueError(f"--on-too-long must be one of {', '.join(TOO_LONG_POLICIES)}, got {self.on_too_long!r}")
        if self.max_tokens_field not in MAX_TOKENS_FIELDS:
            raise ValueError(f"--max-tokens-field must be one of {', '.join(MAX_TOKENS_FIELDS)}, "
                             f"got {self.max_tokens_field!r}")
        if self.max_request_mb is not None and not self.max_request_mb > 0:
            raise ValueError(f"--max-request-mb must be > 0, got {self.max_request_mb}")
        for name in ("price_in", "price_out"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0 (USD per million tokens), got {value}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"--weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        if self.api_key_env is not None and not self.api_key_env:
            raise ValueError("--api-key-env: give the name of an environment variable")
        if self.family is not None:
            from ..profiles import family_named

            try:
                family_named(self.family)
            except ValueError as err:
                raise ValueError(f"--family: {err}") from None
        self.api_key()  # a missing key fails here, before any sample is loaded

    def api_key(self) -> str:
        """The key, read from the environment at run time (never stored in any output)."""
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ValueError(f"--api-key-env {self.api_key_env}: that environment variable is not set")
            return key
        # Local vLLM/SGLang servers accept any key; the client insists on one.
        return os.environ.get("OPENAI_API_KEY") or "EMPTY"

    def public(self) -> dict:
        """For results.json: everything but secrets (the key's variable name is not a secret)."""
        return {
            "base_urls": list(self.base_urls), "api_key_env": self.api_key_env, "concurrency": self.concurrency,
            "timeout_s": self.timeout_s, "max_retries": self.max_retries, "backoff_s": self.backoff_s,
            "audio_format": self.audio_format, "max_request_mb": self.max_request_mb,
            "on_too_long": self.on_too_long, "price_in": self.price_in, "price_out": self.price_out,
            "max_tokens_field": self.max_tokens_field, "weights": self.weights, "family": self.family,
        }


def add_api_arguments(parser) -> None:
    """The API options of `run` and `sweep` (--api-base switches the run to the API backend)."""
    group = parser.add_argument_group("OpenAI-compatible API (GPT-4o audio, Gemini, vLLM, SGLang)")
    group.add_argument("--api-base", action="append", default=None, metavar="URL",
                       help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1; repeat to "
                            "spread requests over several servers. --model is then the served model name")
    group.add_argument("--api-key-env", default=None, metavar="VAR",
                       help="environment variable holding the API key (default: OPENAI_API_KEY if set, "
                            "else none, as local vLLM/SGLang servers need)")
    group.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)")
    group.add_argument("--request-timeout", type=float, default=600.0, metavar="SECONDS",
                       help="seconds per request attempt before it is retried (default 600)")
    group.add_argument("--max-retries", type=int, default=6, metavar="N",
                       help="retries on 429, 5xx, timeouts and malformed replies (default 6)")
    group.add_argument("--retry-backoff", type=float, default=1.0, metavar="SECONDS",
                       help="first retry delay in seconds, doubled each retry up to 60 s (default 1)")
    group.add_argument("--audio-format", choices=AUDIO_FORMATS, default="wav",
                       help="input_audio encoding: wav (16-bit PCM, lossless for the benchmark's audio; default), "
                            "flac (lossless, smaller; vLLM/SGLang) or mp3 (lossy, smallest; OpenAI, Gemini)")
    group.add_argument("--max-request-mb", type=float, default=None, metavar="MB",
                       help="the server's request size limit in MB (10^6 bytes); default: none")
    group.add_argument("--on-too-long", choices=TOO_LONG_POLICIES, default="refuse",
                       help="a clip over --max-audio-seconds or a request over --max-request-mb: refuse "
                            "(the sample is recorded as failed) or split (consecutive parts; never cut)")
    group.add_argument("--price-in", type=float, default=None, metavar="USD", help="USD per million input tokens (cost estimate)")
    group.add_argument("--price-out", type=float, default=None, metavar="USD", help="USD per million output tokens (cost estimate)")
    group.add_argument("--max-tokens-field", choices=MAX_TOKENS_FIELDS, default="max_tokens",
                       help="request field carrying the registry's max tokens (default max_tokens; "
                            "max_completion_tokens for servers that reject it)")
    group.add_argument("--weights", choices=WEIGHTS, default="closed",
                       help="the served model's weights: closed (GPT-4o, Gemini; default) or open (a public "
                            "checkpoint behind vLLM/SGLang); the leaderboard's open/closed column")
    group.add_argument("--family", default=None, metavar="FAMILY",
                       help="the served model's family as `audiomarathon models` names it (e.g. Qwen2.5-Omni): "
                            "its card's system prompt and its --profile prompts are sent, as a local run "
                            "sends them; default: none (no system turn)")


def api_config_from_args(args) -> ApiConfig | None:
    if not getattr(args, "api_base", None):
        return None
    return ApiConfig(
        base_urls=tuple(args.api_base), api_key_env=args.api_key_env, concurrency=args.concurrency,
        timeout_s=args.request_timeout, max_retries=args.max_retries, backoff_s=args.retry_backoff,
        audio_format=args.audio_format, max_request_mb=args.max_request_mb, on_too_long=args.on_too_long,
        price_in=args.price_in, price_out=args.price_out, max_tokens_field=args.max_tokens_field,
        weights=args.weights, family=args.family,
    )
