"""`python -m audiomarathon_runner [run|sweep] ...` — the entry torchrun uses:

    torchrun --nproc-per-node 2 -m audiomarathon_runner run --model M --data D --out O
"""

import sys

from audiomarathon.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        argv = ["run", *argv]  # `-m audiomarathon_runner --model ...` means run
    sys.exit(main(argv))
