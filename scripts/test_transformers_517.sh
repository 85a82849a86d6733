#!/usr/bin/env bash
# The runner, adapter and compression tests on transformers 5.17 (the GPU machine's release), on CPU,
# in a side environment .venv-tf517 pinned by constraints-tf517.txt. kvpress 0.5 declares
# transformers < 5.3, so it is installed without its dependency check (our hook does not need the
# cache_position that transformers >= 5.4 stopped passing). `make test` stays on the CI pin.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-tf517
PIP="$VENV/bin/python -m pip"
stamp="$VENV/.installed"
want=$(cat constraints-tf517.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
  $PIP install -q --upgrade pip
  $PIP install -q torch==2.13.0  # the local CPU build first (a looser pin pulls CUDA packages)
  grep -vE '^(torch|kvpress)==' constraints-tf517.txt > "$VENV/requirements.txt"
  $PIP install -q -r "$VENV/requirements.txt"
  $PIP install -q --no-deps "$(grep -E '^kvpress==' constraints-tf517.txt)"
  $PIP install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
"$VENV/bin/python" -c "import transformers; print('transformers', transformers.__version__)"
exec "$VENV/bin/python" -m pytest -q tests/test_compression_families.py tests/test_presses.py \
  tests/test_compression_selection.py tests/test_compression_guards.py tests/test_compression_cli.py \
  tests/test_gpu_benchmarks.py \
  tests/test_pruning_methods.py tests/test_compression_e2e.py tests/test_adapters.py \
  tests/test_runner_prefetch.py tests/test_runner.py -k "not serve" "$@"
