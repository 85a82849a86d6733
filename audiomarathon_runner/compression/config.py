"""Compression configuration: which method, how much, where."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .registry import PRESS_SCOPES, method_kind, method_names


@dataclass(frozen=True)
class CompressionConfig:
    """One compression setting. ``ratio`` is the fraction of *audio* tokens removed.

    ``layer`` (K) is the decoder layer at which token pruning happens (pruning methods only);
    ``press_scope`` says which cache positions a KV-cache press may evict (presses only):
    ``audio`` (only audio positions, ratio over audio tokens) or ``all`` (the paper's behaviour).
    """

    method: str = "none"
    ratio: float = 0.0
    layer: int = 2
    seed: int = 0
    press_scope: str = "audio"

    def __post_init__(self) -> None:
        names = method_names()
        if self.method not in names:
            raise ValueError(f"unknown compression method {self.method!r}; known methods: {', '.join(names)}")
        if not isinstance(self.ratio, (int, float)) or not 0.0 <= float(self.ratio) < 1.0:
            raise ValueError(f"compression ratio must be in [0, 1), got {self.ratio!r}")
        if not isinstance(self.layer, int) or self.layer < 1:
            raise ValueError(f"pruning layer K must be an integer >= 1 (layer K-1 is scored), got {self.layer!r}")
        if self.press_scope not in PRESS_SCOPES:
            raise ValueError(f"press_scope must be one of {', '.join(PRESS_SCOPES)}, got {self.press_scope!r}")

    @property
    def kind(self) -> str:
        """``none``, ``prune`` (audio-token pruning) or ``press`` (KV-cache press)."""
        return method_kind(self.method)

    @property
    def active(self) -> bool:
        return self.kind != "none"

    def to_dict(self) -> dict:
        return asdict(self)


def add_compression_arguments(parser) -> None:
    """The command-line options of a compressed run (--method, --ratio, --layer, --seed, --press-scope)."""
    group = parser.add_argument_group("compression (DESIGN §5)")
    group.add_argument("--method", default="none", choices=method_names(),
                       help="audio-token pruning (fastv, dart, random, frame) or a kvpress KV-cache press")
    group.add_argument("--ratio", type=float, default=0.0, help="fraction of audio tokens removed, in [0, 1)")
    group.add_argument("--layer", type=int, default=2, help="decoder layer K at which tokens are pruned")
    group.add_argument("--seed", type=int, default=0, help="seed of random pruning / kv_random")
    group.add_argument("--press-scope", choices=list(PRESS_SCOPES), default="audio",
                       help="audio: only audio positions evicted, ratio over audio tokens; all: paper behaviour")


def config_from_args(args) -> CompressionConfig:
    return CompressionConfig(method=args.method, ratio=args.ratio, layer=args.layer, seed=args.seed,
                             press_scope=args.press_scope)
