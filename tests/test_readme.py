"""Every command and snippet in README.md runs, in order, in one fresh workspace.

The workspace stands in for a researcher's machine: a synthetic release where the README says
`path/to/AudioMarathon-release`, synthetic corpora for `path/to/sources`, tiny random models saved
under the Hub ids the README names, a local Hub endpoint for `push`. The few rewrites needed to run
on 2 CPU cores (CPU instead of CUDA, fp32, short generations and instances) are listed in
SUBSTITUTIONS; blocks that cannot run here at all are listed, with the reason, in NOT_RUN.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

NOT_RUN = {
    "make demo": "the two commands: CI runs `make test` itself, and test_demo.py runs what `make demo` runs",
    'load_dataset("<org>/audiomarathon"': "needs the real Hub; push is run against a local endpoint",
    "api.openai.com": "needs OpenAI and Gemini keys; tests/test_api_runner.py runs the backend on a local server",
    "vllm serve": "needs GPUs and vLLM; tests/test_api_runner.py runs the backend on a local server",
    "sglang.launch_server": "needs GPUs and SGLang; tests/test_api_runner.py runs the backend on a local server",
    "audiomarathon judge": "needs a judge model's server (OpenAI, Gemini, vLLM); tests/test_judge.py runs the judge "
                           "on a local test server",
}

# The environment the README says to activate is the one running this test (its bin/ is on PATH).
ACTIVATE = f". {BIN / 'activate'}" if (BIN / "activate").is_file() else "true"

SUBSTITUTIONS = [
    ("source .venv/bin/activate", ACTIVATE),
    ("--device cuda", "--device cpu"),
    ('device="cuda"', 'device="cpu"'),
    ("--dtype bf16", "--dtype fp32"),
    ('dtype="bf16"', 'dtype="fp32"'),
    ("--nproc-per-node 4", "--nproc-per-node 2"),
    ("--ratios 0.1,0.3,0.5,0.7,0.9", "--ratios 0.5"),
    ("--durations 90,180,300", "--durations 8,12,16"),  # the synthetic corpora hold ~30 s per group
    ("python space/app.py", f"{sys.executable} {ROOT}/space/app.py"),
    ("python builder_scripts/", f"{sys.executable} {ROOT}/builder_scripts/"),
    ('evaluate.load("audiomarathon_metric"', f'evaluate.load("{ROOT}/audiomarathon_metric"'),
    ('data_dir="path/to/sources", seed=0)', 'data_dir="sources", seed=0, min_duration=8, max_duration=16)'),
    ("path/to/AudioMarathon-release", "release"),
    ("path/to/sources", "sources"),
    ("Qwen/Qwen2-Audio-7B-Instruct", "tiny-qwen2-audio"),
    ("Qwen/Qwen2.5-Omni-7B", "tiny-omni"),
    ("lmms-lab/Aero-1-Audio-1.5B", "tiny-aero"),  # a remote-code checkpoint: its own .py files beside it
    ("<org>", "my-org"),
]

# Appended to command lines: short generations (random tiny models never stop) and short instances
# (the synthetic corpora hold about 30 s per group).
APPEND = {
    "audiomarathon run ": " --max-new-tokens 3 --no-progress",
    "audiomarathon sweep ": " --max-new-tokens 3 --no-progress",
    "-m audiomarathon_runner run ": " --max-new-tokens 3 --no-progress",
    "audiomarathon build ": " --min-duration 8 --max-duration 16 --no-progress",
}

# What each snippet must have produced (checked right after it ran).
CHECKS = {
    "--out runs/tiny": lambda ws: (ws / "runs" / "tiny" / "results.json").is_file(),
    "audiomarathon make-sample-release": lambda ws: (
        ws / "sample_release" / "subsetTAU" / "concatenated_resampled" / "acoustic_scene_task_meta.json").is_file(),
    "audiomarathon import-release": lambda ws: (ws / "am_data" / "TAU").is_dir(),
    "audiomarathon build --sources sources --out audiomarathon_built --seed 0": lambda ws: (
        ws / "audiomarathon_built" / "README.md").is_file(),
    "--out runs/qwen2-audio --max": lambda ws: (ws / "runs" / "qwen2-audio" / "results.json").is_file(),
    # The remote-code checkpoint ran, its code's hash recorded.
    "--out runs/aero": lambda ws: "sha256:" in (ws / "runs" / "aero" / "results.json").read_text(),
    "audiomarathon sweep": lambda ws: (ws / "runs" / "sweep" / "sweep_summary.md").is_file(),
}


def readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(bash|python)\n(.*?)```", text, re.S)]


def _rewrite(code: str) -> str:
    for old, new in SUBSTITUTIONS:
        code = code.replace(old, new)
    return code


def _commands(block: str) -> list[str]:
    """Shell commands of a bash block, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", "", block)
    out = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if not line or line.startswith("#"):
            continue
        for prefix, extra in APPEND.items():
            if prefix in line + " ":
                line += extra
        out.append(line)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(command: str, ws: Path, env: dict) -> None:
    """Start a serving command, wait until its page answers, stop it."""
    port = _free_port()
    proc = subprocess.Popen(f"{command} --port {port}", shell=True, cwd=ws, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{command!r} exited early:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"{command!r} did not answer on port {port}")
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_release):
    from audiomarathon_dataset.build import build_benchmark
    from audiomarathon_dataset.synthetic_sources import write_synthetic_sources
    from audiomarathon_runner.tiny import save_tiny_model

    ws = tmp_path_factory.mktemp("readme")
    (ws / "release").symlink_to(synthetic_release, target_is_directory=True)
    write_synthetic_sources(ws / "sources", seed=0)
    save_tiny_model("qwen2_audio", ws / "tiny-qwen2-audio", seed=0)
    save_tiny_model("qwen2_5_omni_thinker", ws / "tiny-omni", seed=0)
    save_tiny_model("aero", ws / "tiny-aero", seed=0)
    # What `make demo` leaves for the commands after it (test_demo checks the README names its folders)
    build_benchmark(ws / "sources", ws / "demo_out" / "dataset", seed=0, num_proc=2, min_duration=8,
                    max_duration=16, progress=False)
    save_tiny_model("qwen2_audio", ws / "demo_out" / "tiny-qwen2_audio", seed=0)
    return ws


def test_every_readme_block_is_run_or_listed():
    blocks = readme_blocks()
    assert len(blocks) >= 15
    skipped = [code for _, code in blocks if any(key in code for key in NOT_RUN)]
    assert len(skipped) == len(NOT_RUN)  # each exemption matches exactly one block


def test_readme_runs_as_written(workspace, tmp_path):
    from hub_server import LocalHub

    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)  # `space` is a folder of the repo, as on a Space
    ran = 0
    with LocalHub() as hub:
        for lang, code in readme_blocks():
            if any(key in code for key in NOT_RUN):
                continue
            code = _rewrite(code)
            if lang == "bash":
                for command in _commands(code):
                    if command.startswith("audiomarathon push"):
                        command += f" --endpoint {hub.endpoint} --token hf_test"
                    if " serve " in f" {command} " or command.endswith("space/app.py --data am_data"):
                        _serve(command, workspace, env)
                    else:
                        proc = subprocess.run(command, shell=True, cwd=workspace, env=env,
                                              capture_output=True, text=True, timeout=600)
                        assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
                    ran += 1
            else:
                proc = subprocess.run([sys.executable, "-c", code], cwd=workspace, env=env,
                                      capture_output=True, text=True, timeout=600)
                assert proc.returncode == 0, f"{code}\n{proc.stderr[-3000:]}"
                ran += 1
            for key, check in CHECKS.items():
                if key in code or any(key in c for c in _commands(code) if lang == "bash"):
                    assert check(workspace), f"after {key!r}"
        assert "my-org/audiomarathon" in hub.state.files  # the push reached the endpoint
    assert ran >= 20


def test_readme_dataset_folder_is_usable_from_the_repository_root():
    """The folder the README writes and then loads by name must not be a folder of this repository:
    run from its root, `load_dataset("audiomarathon", ...)` would look inside the package."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    written = re.search(r"audiomarathon import-release \S+ (?:--out )?(\S+)", text).group(1)
    used = set(re.findall(r'load_dataset\("([^"/<]+)"', text))
    # a bare folder name (a path with a slash, e.g. the demo's demo_out/dataset, is read as a path)
    used |= {name for name in re.findall(r"--(?:data|dataset) ([^\s<`]+)", text) if "/" not in name}
    used |= set(re.findall(r'data="([^"/<]+)"', text))
    assert used == {written}, used
    assert not (ROOT / written).exists(), f"{written} is a folder of the repository"

