#!/usr/bin/env python
"""Write small synthetic trees for all nine source corpora, in their official layouts.

    python builder_scripts/make_synthetic_sources.py OUT [--seed 0] [--groups 2] [--group-seconds 30]
    audiomarathon build --sources OUT --out built --min-duration 8 --max-duration 16

The default groups (about 30 s each) are meant for short instances: build with
--min-duration 8 --max-duration 16 (or any range whose maximum is about half of
--group-seconds). Use --group-seconds 320 for trees that build full-length (90-300 s) instances.
"""

from __future__ import annotations

import argparse
import sys

from audiomarathon_dataset.sources import CORPORA
from audiomarathon_dataset.synthetic_sources import write_synthetic_sources


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="folder to write the corpora into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--groups", type=int, default=2, help="groups (speakers, scenes, genres, ...) per corpus")
    p.add_argument("--group-seconds", type=float, default=30.0, help="seconds of audio per group")
    p.add_argument("--speech", choices=("auto", "yes", "no"), default="auto",
                   help="speak speech corpora with espeak-ng (auto: when installed)")
    p.add_argument("--corpora", default=None, help=f"comma-separated subset of: {', '.join(CORPORA)}")
    args = p.parse_args(argv)
    speech = {"auto": "auto", "yes": True, "no": False}[args.speech]
    corpora = args.corpora.split(",") if args.corpora else None
    try:
        root = write_synthetic_sources(args.out, seed=args.seed, groups=args.groups,
                                       group_seconds=args.group_seconds, speech=speech, corpora=corpora)
    except (ValueError, RuntimeError) as err:
        print(f"make_synthetic_sources: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote synthetic source corpora to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
