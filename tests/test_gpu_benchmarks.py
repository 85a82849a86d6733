"""The GPU benchmarks run end to end at tiny size on the CPU (smoke tests; no figure is checked)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark(name: str):
    """A benchmark script of the repository as a module (the scripts are not a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


gpu_prefill = benchmark("gpu_prefill")


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


def test_gpu_runner_runs_both_loops_at_tiny_size(tmp_path):
    gpu_runner = benchmark("gpu_runner")

    out = tmp_path / "runner.json"
    assert gpu_runner.main(["--preset", "tiny", "--device", "cpu", "--dtype", "float32", "--seconds", "3",
                            "--samples", "2", "--new-tokens", "2", "--matmul-size", "256", "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert row["runner_audio_tokens"] == 75
    assert row["runner_samples_per_s"] > 0 and row["authors_samples_per_s"] > 0
    for key in ("runner_features_ms", "runner_encoder_ms", "runner_prefill_ms", "runner_decode_ms"):
        assert row[key] > 0, key
    assert row["matmul_tflops"] > 0 and row["prefill_tflops"] > 0


def test_gpu_benchmarks_import_only_torch_transformers_and_the_repository():
    import subprocess

    code = ("import builtins; seen = []; real = builtins.__import__\n"
            "def spy(name, g=None, *a, **k):\n"
            "    if (g or {}).get('__name__', '').split('.')[0] in ('gpu_prefill', 'gpu_runner', 'audiomarathon',\n"
            "            'audiomarathon_runner', 'audiomarathon_metric'): seen.append(name.split('.')[0])\n"
            "    return real(name, g, *a, **k)\n"
            "builtins.__import__ = spy\nimport gpu_prefill, gpu_runner\nprint(sorted(set(seen)))")
    # Run in the benchmarks folder: the scripts import each other as the folder's modules.
    out = subprocess.run([sys.executable, "-c", code], cwd=BENCHMARKS, capture_output=True, text=True, check=True)
    imported = set(eval(out.stdout.strip().splitlines()[-1]))
    forbidden = {"datasets", "soundfile", "evaluate", "kvpress", "sklearn", "jiwer", "pyarrow", "gradio"}
    assert not imported & forbidden, imported & forbidden
