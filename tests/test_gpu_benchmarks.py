"""The GPU benchmarks run end to end at tiny size on the CPU (smoke tests; no figure is checked)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gpu_prefill  # noqa: E402


def test_gpu_prefill_runs_the_omni_thinker_at_tiny_size(tmp_path):
    out = tmp_path / "prefill.json"
    assert gpu_prefill.main(["--preset", "tiny", "--device", "cpu", "--dtype", "float32", "--seconds", "3",
                             "--ratios", "0.75", "--methods", "fastv", "snapkv", "--reps", "1",
                             "--new-tokens", "2", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    rows = {r["method"]: r for r in data["rows"]}
    assert set(rows) == {"none", "fastv", "snapkv"}
    none, fastv = rows["none"], rows["fastv"]
    assert none["audio_tokens"] == 75  # 25 audio tokens per second through the real audio encoder
    assert fastv["kept_audio_per_layer"][2:] == [75 - int(0.75 * 75)] * 2
    assert fastv["kv_bytes"] < none["kv_bytes"] and rows["snapkv"]["kv_bytes"] < none["kv_bytes"]
    for row in rows.values():
        assert row["status"] == "ok" and row["encoder_ms"] > 0 and row["ttft_ms"] >= row["prefill_ms"] > 0
    assert fastv["predicted_speedup"] > 1 and rows["snapkv"]["predicted_speedup"] == 1.0


def test_gpu_prefill_refuses_zero_repetitions(capsys):
    with pytest.raises(SystemExit):
        gpu_prefill.main(["--preset", "tiny", "--device", "cpu", "--reps", "0"])
    assert "--reps" in capsys.readouterr().err
