#!/usr/bin/env bash
# Applies deliberate mistakes to the compression code, one at a time, in a temporary copy of the
# repository, and runs the tests that must catch each: every mutation must make them fail.
#   scripts/mutation_check.sh            (PYTHON=/path/to/python to choose the interpreter)
#   ONLY=pattern scripts/mutation_check.sh   (only the mutations whose name contains the pattern)
# Exit status 0 when every mutation was caught; 1 when one survived.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
if [[ "$PYTHON" == */* ]]; then PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON"); fi
SEL=tests/test_compression_selection.py
FAM=tests/test_compression_families.py
PRESS=tests/test_compression_press_selection.py
GUARDS=tests/test_compression_guards.py
C=audiomarathon_runner/compression

# name | file | text | replacement | test files | -k expression (optional)
# (the text must occur exactly once in the file)
MUTATIONS=(
  "second-to-last query scored|$C/token_pruning.py|query_last=query[0, :, -1]|query_last=query[0, :, -2]|$SEL|fastv"
  "audio span shifted by one|$C/token_pruning.py|audio_positions=torch.nonzero(audio_mask).flatten())|audio_positions=torch.nonzero(audio_mask).flatten() + 1)|$SEL|fastv"
  "layer K-2 scored instead of K-1|$C/token_pruning.py|install_tap(layers[k - 1].self_attn, capture)|install_tap(layers[k - 2].self_attn, capture)|$SEL|fastv"
  "press ratio <-> 1-ratio|$C/presses.py|config.method, float(config.ratio),|config.method, 1 - float(config.ratio),|$SEL $GUARDS|press"
  "DART cosine on raw states|$C/token_pruning.py|normed_hidden=norm(primary) if|normed_hidden=primary if|$SEL|dart"
  "streaming by kvpress's tied scores|$C/presses.py|override=_ranked_streaming)|override=None)|$PRESS|streaming"
  "random seeded by seed only|$C/pruning.py|generator(self.seed, self.sample, self.layer)|generator(self.seed, 0, 0)|$SEL|random"
  "kept count: ceil of the kept share|$C/counting.py|    return n_audio - removed|    return math.ceil((1 - float(ratio)) * n_audio)|$FAM|statistics"
  "realized_ratio returns the nominal ratio|$C/stats.py|        return 1.0 - kept / self.audio_tokens|        return self.ratio|$FAM|statistics or realized"
  "sliding-window mask cut as a prefix|$C/layer_kwargs.py|    return _take(_take(value, -2, index, full_len), -1, index, full_len)|    return value[..., : index.numel(), : index.numel()]|$FAM|pruned_run and gemma3n"
  "sliding-window decode keeps keys out of the window|$C/token_pruning.py|            return _sliding_decode(state, query, key, value, attention_mask, window)|            return key, value, attention_mask|$FAM|pruned_run and gemma3n"
  "press window scored with 1/sqrt(d)|$C/presses.py|window_attention(query, key, window, scaling)|window_attention(query, key, window, query.shape[-1] ** -0.5)|$PRESS|gemma3n and snapkv"
  "snapkv: query heads grouped across KV heads|$C/presses.py|q = query[:, :, -window:].float().view(b, n_kv, h // n_kv, -1, d)|q = query[:, :, -window:].float().view(b, h // n_kv, n_kv, -1, d).transpose(1, 2)|$PRESS|snapkv and not gemma3n"
  "tova: queries re-derived by kvpress|$C/presses.py|\"KV press: keys most attended by the last prompt token\", window=1)|\"KV press: keys most attended by the last prompt token\", window=None)|$PRESS|tova"
  "knorm scored on the values|$C/presses.py|self.press.score(module, hidden, keys, values, attentions, kwargs)|self.press.score(module, hidden, values, keys, attentions, kwargs)|$PRESS|knorm and keeps_the"
  "expected attention at 1/sqrt(d)|$C/presses.py|                keys = keys * (float(scaling) * keys.shape[-1] ** 0.5)|                keys = keys|$PRESS|expected_attention and gemma3n"
  "expected attention rotation averaged from position 0|$C/presses.py|positions = torch.arange(q_len, q_len + self.n_future_positions, device=mu.device)|positions = torch.arange(0, self.n_future_positions, device=mu.device)|$PRESS|expected_attention"
  "pyramidkv: one budget for every layer|$C/presses.py|kept_audio = pyramid(module, n_audio) if pyramid else kept_count(n_audio, self.ratio)|kept_audio = kept_count(n_audio, self.ratio)|$PRESS|pyramidkv"
  "kv_random: sample left out of the seed|$C/presses.py|gen = generator(self.seed, self.sample, module.layer_idx)|gen = generator(self.seed, None, module.layer_idx)|$PRESS|kv_random"
  "padded sample accepted|$C/session.py|        check_unpadded(inputs[\"attention_mask\"] if \"attention_mask\" in inputs else None, 'inputs[\"attention_mask\"]')|        pass|$GUARDS|padded"
)

survived=0
for entry in "${MUTATIONS[@]}"; do
  IFS="|" read -r name file text replacement tests kexpr <<<"$entry"
  if [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]]; then continue; fi
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
  select=()
  if [ -n "$kexpr" ]; then select=(-k "$kexpr"); fi
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086  # the test files are a space-separated list
  (cd "$tmp" && PYTHONPATH="$tmp" "$PYTHON" -m pytest -x -q -p no:cacheprovider $tests "${select[@]}" \
    >"$tmp/pytest.log" 2>&1) || rc=$?
  took=$(( $(date +%s) - start ))
  if [ "$rc" = 0 ]; then
    echo "SURVIVED  $name  (tests passed, $took s)"
    survived=1
  elif [ "$rc" = 5 ]; then
    echo "NO TESTS  $name  (the selection ran nothing)"
    survived=1
  elif [ "$rc" = 1 ] || [ "$rc" = 2 ]; then  # tests failed, or collection failed on the mutated code
    failed=$(grep -m1 -E "^FAILED|^ERROR" "$tmp/pytest.log" | cut -c1-140 || true)
    echo "caught    $name  ($took s: ${failed:-pytest exit $rc})"
  else
    echo "ERROR     $name  (pytest exit $rc: $(tail -1 "$tmp/pytest.log"))"
    survived=1
  fi
  rm -rf "$tmp"
done
exit $survived
