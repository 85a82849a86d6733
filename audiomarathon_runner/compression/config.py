"""Compression configuration: which method, how much, where.

Torch-free: the method names, kinds and settings come from ``audiomarathon.methods``, so checking a
command line's ``--method`` never loads an implementation.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from audiomarathon.methods import (
    METHOD_RATIO_RANGE,
    PRESS_SCOPES,
    RATIO_RANGE,
    method_kind,
    method_names,
    methods_help,
    methods_reading,
)


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
            raise ValueError(f"compression ratio must be in {RATIO_RANGE}, got {self.ratio!r}")
        if self.method == "none" and float(self.ratio) != 0.0:
            # results.json would show an uncompressed run as compressed (the Space refuses such a pair)
            raise ValueError(f"compression ratio {self.ratio!r} with method 'none': nothing is removed; "
                             "give a method or ratio 0")
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


DEFAULT_SWEEP_RATIOS = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"


def add_compression_arguments(parser, *, sweep: bool = False) -> None:
    """The command-line options of compression, declared once for ``run`` (``--method``/``--ratio``)
    and ``sweep`` (``--methods``/``--ratios``); both take ``--layer``, ``--seed`` and ``--press-scope``.
    Method names and their help come from the method tables."""
    defaults = CompressionConfig()
    group = parser.add_argument_group("compression")
    if sweep:
        group.add_argument("--methods", default="none", metavar="M1,M2,...",
                           help=f"comma-separated compression methods ({', '.join(method_names())})")
        group.add_argument("--ratios", default=DEFAULT_SWEEP_RATIOS, metavar="R1,R2,...",
                           help=f"comma-separated fractions of audio tokens removed, each in {RATIO_RANGE} "
                                "(0: the method's uncompressed point)")
    else:
        group.add_argument("--method", default=defaults.method, choices=method_names(), metavar="METHOD",
                           help=f"compression method. {methods_help()}")
        group.add_argument("--ratio", type=float, default=defaults.ratio,
                           help=f"fraction of audio tokens removed by --method, in {METHOD_RATIO_RANGE}; "
                                "required with every method but none (whose ratio is 0, the default)")
    group.add_argument("--layer", type=int, default=defaults.layer,
                       help="decoder layer K at which token-pruning methods prune (layer K-1 is scored)")
    group.add_argument("--seed", type=int, default=defaults.seed,
                       help=f"seed of the random methods ({', '.join(methods_reading('seed'))}) and of the noise "
                            "audio control")
    group.add_argument("--press-scope", choices=list(PRESS_SCOPES), default=defaults.press_scope,
                       help="KV-cache presses: audio = evict only audio positions, ratio over audio tokens; "
                            "all = any position, ratio over the whole prompt (the paper's behaviour)")


def config_from_args(args, method: str | None = None, ratio: float | None = None) -> CompressionConfig:
    """The CompressionConfig of parsed options (``method``/``ratio`` given explicitly for a sweep point)."""
    return CompressionConfig(method=args.method if method is None else method,
                             ratio=args.ratio if ratio is None else ratio,
                             layer=args.layer, seed=args.seed, press_scope=args.press_scope)
