"""What decides a judge's verdicts: the score's identity, apart from the model run's.

Two judge runs with equal settings ask the same questions the same way, so one reuses the other's
recorded verdicts; anything else (servers, concurrency, timeouts, prices) only says where and how
fast, and stays out of the hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from audiomarathon_metric.judge.prompt import OFFICIAL_PROMPT_SHA256, ORDERS

# --profile: "reproducible" (ours: temperature 0, a seed) or "authors" (score_chat.py: temperature
# 1.0, and 2.0 for a random half of the requests, no seed).
JUDGE_PROFILES = ("reproducible", "authors")
DEFAULT_SEED = 42
AUTHORS_TEMPERATURES = (1.0, 2.0)
OFFICIAL_MAX_TOKENS = 1024  # score_chat.py's --max-tokens


@dataclass(frozen=True)
class JudgeSettings:
    model: str
    profile: str = "reproducible"
    temperature: float = 0.0
    seed: int | None = DEFAULT_SEED
    max_tokens: int = OFFICIAL_MAX_TOKENS
    parse_retries: int = 2  # extra requests after a reply that is no verdict
    orders: tuple[str, ...] = ORDERS
    prompt_sha256: str = OFFICIAL_PROMPT_SHA256

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("--model: name the judge model (as its server knows it)")
        if self.profile not in JUDGE_PROFILES:
            raise ValueError(f"--profile must be one of {', '.join(JUDGE_PROFILES)}, got {self.profile!r}")
        if self.parse_retries < 0:
            raise ValueError(f"--parse-retries must be >= 0, got {self.parse_retries}")
        if self.max_tokens < 1:
            raise ValueError(f"--judge-max-tokens must be >= 1, got {self.max_tokens}")
        if not self.orders or any(o not in ORDERS for o in self.orders) or len(set(self.orders)) != len(self.orders):
            raise ValueError(f"judge orders must be distinct, from {', '.join(ORDERS)}; got {self.orders}")

    @classmethod
    def for_profile(cls, model: str, profile: str = "reproducible", **overrides) -> "JudgeSettings":
        if profile == "authors":
            base = {"temperature": AUTHORS_TEMPERATURES[0], "seed": None}
        else:
            base = {"temperature": 0.0, "seed": DEFAULT_SEED}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(model=model, profile=profile, **base)

    def public(self) -> dict:
        out = asdict(self)
        out["orders"] = list(self.orders)
        return out

    def key(self) -> str:
        """The hash every judgment carries: verdicts under another key are never reused."""
        text = json.dumps({**self.public(), "model": self.model.strip()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def temperature_for(self, item_id: str, order: str) -> float:
        """The request's temperature. Under the authors' profile, a fixed half of the requests (by a
        hash of item and order, the same on every re-run) go at 2.0, as score_chat.py sends a random
        half; otherwise the settings' temperature."""
        if self.profile != "authors":
            return self.temperature
        draw = int.from_bytes(hashlib.sha256(f"{item_id}\x00{order}".encode()).digest()[:4], "little") / 2 ** 32
        return AUTHORS_TEMPERATURES[1] if draw < 0.5 else self.temperature

    def seed_for(self, attempt: int) -> int | None:
        """The seed of the ``attempt``-th request of a judgment (0 first): another draw after a reply
        that was no verdict, the same ones on every re-run."""
        return None if self.seed is None else self.seed + attempt
