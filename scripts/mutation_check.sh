#!/usr/bin/env bash
# Applies deliberate mistakes to the compression code, one at a time, in a temporary copy of the
# repository, and runs the selection tests on each: every mutation must make them fail.
#   scripts/mutation_check.sh            (PYTHON=/path/to/python to choose the interpreter)
# Exit status 0 when every mutation was caught; 1 when one survived.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
TESTS=${TESTS:-"tests/test_compression_selection.py tests/test_compression_guards.py"}
C=audiomarathon_runner/compression

# name | file | text | replacement   (the text must occur exactly once)
MUTATIONS=(
  "second-to-last query scored|$C/token_pruning.py|query_last=query[0, :, -1]|query_last=query[0, :, -2]"
  "audio span shifted by one|$C/token_pruning.py|audio_positions=torch.nonzero(audio_mask).flatten())|audio_positions=torch.nonzero(audio_mask).flatten() + 1)"
  "layer K-2 scored instead of K-1|$C/token_pruning.py|install_tap(layers[k - 1].self_attn, capture)|install_tap(layers[k - 2].self_attn, capture)"
  "press ratio <-> 1-ratio|$C/presses.py|config.method, float(config.ratio),|config.method, 1 - float(config.ratio),"
  "DART cosine on raw states|$C/token_pruning.py|normed_hidden=norm(primary) if|normed_hidden=primary if"
  "streaming by kvpress's tied scores|$C/presses.py|override=_ranked_streaming)|override=None)"
  "random seeded by seed only|$C/pruning.py|generator(self.seed, self.sample, self.layer)|generator(self.seed, 0, 0)"
)

survived=0
for entry in "${MUTATIONS[@]}"; do
  IFS="|" read -r name file text replacement <<<"$entry"
  tmp=$(mktemp -d)
  (cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | (cd "$tmp" && tar -xf -)
  "$PYTHON" - "$tmp/$file" "$text" "$replacement" <<'PY'
import sys
path, text, replacement = sys.argv[1:]
source = open(path).read()
if source.count(text) != 1:
    sys.exit(f"mutation text found {source.count(text)} times in {path}: {text!r}")
open(path, "w").write(source.replace(text, replacement))
PY
  start=$(date +%s)
  if (cd "$tmp" && PYTHONPATH="$tmp" "$PYTHON" -m pytest -x -q -p no:cacheprovider $TESTS >"$tmp/pytest.log" 2>&1); then
    echo "SURVIVED  $name  (suite passed, $(( $(date +%s) - start )) s)"
    survived=1
  else
    failed=$(grep -m1 -E "^FAILED|^ERROR" "$tmp/pytest.log" | cut -c1-140 || true)
    echo "caught    $name  ($(( $(date +%s) - start )) s: ${failed:-see log})"
  fi
  rm -rf "$tmp"
done
exit $survived
