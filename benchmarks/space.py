"""Leaderboard Space speed: render time with 1,000 stored rows, and re-scoring a full-size
submission (6,567 replies, the paper's instance counts). Targets: < 1 s and < 5 s.

    .venv/bin/python benchmarks/space.py [--rows 1000] [--repeats 5] [--http]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from audiomarathon.tasks import TASKS  # noqa: E402

from space import leaderboard as lb  # noqa: E402
from space.store import VERIFIED, Entry, Store  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def fill_store(store: Store, n: int, seed: int = 0) -> None:
    from audiomarathon_metric.aggregate import aggregate

    rng = np.random.default_rng(seed)
    methods = ["none", "fastv", "dart", "random", "snapkv", "tova"]
    entries = []
    for i in range(n):
        scores = {t.name: float(rng.uniform(10, 100)) for t in TASKS}
        agg = aggregate(scores)
        method = methods[i % len(methods)]
        ratio = 0.0 if method == "none" else float(rng.choice([0.25, 0.5, 0.75]))
        entries.append(Entry(model=f"Bench-Model-{i // 12}-{1 + i % 9}B", source=VERIFIED, weights="open",
                             scores=scores, run_id=f"cfg:bench{i}", size_b=float(1 + i % 9), method=method,
                             ratio=ratio, categories=agg["categories"], average=agg["average"],
                             prefill_s=float(rng.uniform(0.1, 2.0)), dataset_fingerprint="sha256:bench",
                             config={"model": f"m{i}", "method": method, "ratio": ratio}))
    store.add_entries(entries)


def bench_render(tmp: Path, rows: int, repeats: int, http: bool) -> dict:
    import gradio as gr

    from space.service import Service

    service = Service.open(tmp / "render.sqlite")  # seeds the published rows too
    fill_store(service.store, rows)
    n = service.store.count()
    frame_s, frame = timed(lambda: service.table(), repeats)
    filt = lb.Filters(search="model-1", types=["open"], methods=["fastv", "dart"], ratios=["50%"], sort_by="ASR")
    filtered_s, _ = timed(lambda: service.table(filt), repeats)
    component = gr.Dataframe(datatype=lb.DATATYPES, interactive=False)
    payload_s, _ = timed(lambda: component.postprocess(service.table()), repeats)
    out = {"rows": n, "table_s": frame_s, "filtered_s": filtered_s, "table_plus_serialize_s": payload_s,
           "frame_rows": len(frame)}
    if http:
        from gradio_client import Client

        from space.app import build_app

        demo = build_app(service)
        demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=None, quiet=True,
                            ssr_mode=False)
        client = Client(demo.local_url, verbose=False)
        args = ("", list(lb.WEIGHTS_CHOICES), ["reported in the paper", "verified submission"],
                list(lb.SIZE_CHOICES), [], [], lb.AVERAGE, False, list(lb.DEFAULT_OPTIONAL), 1, lb.DEFAULT_PAGE_SIZE)
        out["http_roundtrip_s"], result = timed(lambda: client.predict(*args, api_name="/leaderboard"), repeats)
        table = result[0].get("value", result[0])  # the table comes back as a component update
        out["http_rows"] = len(table["data"])  # one page
        demo.close()
    return out


def scaled_key(base, per_task: dict[str, int]):
    """A key with the paper's instance counts, cycling the base key's items of each task (a
    full-size submission without building a full-size dataset)."""
    from space.answer_key import AnswerKey

    by_task: dict[str, list] = {}
    for ident, item in base.items.items():
        by_task.setdefault(item.task, []).append(ident)
    items, origin = {}, {}
    for task, n in per_task.items():
        pool = by_task[task]
        for i in range(n):
            items[f"{task}-{i:05d}"] = base.items[pool[i % len(pool)]]
            origin[f"{task}-{i:05d}"] = pool[i % len(pool)]
    return AnswerKey(f"{base.fingerprint}-x{sum(per_task.values())}", items, base.source), origin


def full_size_run(tmp: Path, dataset: Path, key, origin: dict) -> Path:
    """The tiny model's real run on the small dataset, its records repeated to the full key's ids."""
    from audiomarathon.records import read_predictions, read_results, write_predictions, write_results
    from audiomarathon_runner.run import RunConfig, run_evaluation
    from audiomarathon_runner.tiny import save_tiny_model

    model = save_tiny_model("qwen2_audio", tmp / "Bench-Full-7B")
    small = tmp / "small-run"
    run_evaluation(RunConfig(model=str(model), data=str(dataset), out=str(small), dtype="fp32", device="cpu",
                             max_new_tokens=8, progress=False))
    by_id = {r["id"]: r for r in read_predictions(small / "predictions.jsonl")}
    run = tmp / "run"
    run.mkdir()
    write_predictions(run / "predictions.jsonl", [dict(by_id[origin[i]], id=i) for i in key.items])
    results = read_results(small / "results.json")
    results["dataset"]["fingerprint"] = key.fingerprint
    write_results(run / "results.json", results)
    return run


def bench_rescore(tmp: Path, repeats: int) -> dict:
    from audiomarathon_dataset.release import import_release
    from audiomarathon_dataset.synthetic_release import write_synthetic_release

    from space.answer_key import build_answer_key
    from space.validation import parse_predictions, rescore, submit_files

    src = write_synthetic_release(tmp / "release", per_task=3, seed=0, duration=(1.0, 1.5))
    import_release(src, tmp / "dataset", progress=False)
    key, origin = scaled_key(build_answer_key(tmp / "dataset"), {t.name: t.paper_count for t in TASKS})
    run = full_size_run(tmp, tmp / "dataset", key, origin)
    preds = parse_predictions((run / "predictions.jsonl").read_bytes())
    rescore_s, _ = timed(lambda: rescore(preds, key), repeats)
    times = []
    for i in range(repeats):  # the whole Submit path: read, parse, check ids, re-score, store
        store = Store(tmp / f"submit{i}.sqlite")
        store.put_answer_key(key)
        t0 = time.perf_counter()
        submit_files(store, run / "predictions.jsonl", run / "results.json")
        times.append(time.perf_counter() - t0)
    return {"replies": key.num_ids, "rescore_s": rescore_s, "submit_s": statistics.median(times),
            "predictions_bytes": (run / "predictions.jsonl").stat().st_size,
            **bench_junk_config(tmp, run, key, repeats)}


def bench_junk_config(tmp: Path, run: Path, key, repeats: int, n: int = 8, junk_bytes: int = 3_900_000) -> dict:
    """Table time with `n` submissions whose results.json carries a `junk_bytes` config value:
    stored as sent (what the store held before configs were trimmed at submission) against stored
    through the submission path (trimmed)."""
    import json

    from audiomarathon.records import read_results
    from space.service import Service
    from space.validation import submit_bytes

    preds = (run / "predictions.jsonl").read_bytes()
    results = read_results(run / "results.json")
    raw, trimmed = Service.open(tmp / "junk-raw.sqlite"), Service.open(tmp / "junk-trimmed.sqlite")
    trimmed.store.put_answer_key(key)
    base_s, _ = timed(lambda: raw.table(), repeats)
    for i in range(n):
        results["config"].update(model=f"Junk-{i}", junk="x" * junk_bytes)
        sub = submit_bytes(trimmed.store, preds, json.dumps(results).encode())
        raw.store.add_entries([Entry(**{**sub.entry.to_record(), "id": None, "config": dict(sub.entry.config,
                                                                                              junk="x" * junk_bytes)})])
    raw_s, _ = timed(lambda: raw.table(), repeats)
    trimmed_s, _ = timed(lambda: trimmed.table(), repeats)
    return {"junk_n": n, "junk_mb": junk_bytes / 1e6, "table_empty_s": base_s, "table_junk_raw_s": raw_s,
            "table_junk_trimmed_s": trimmed_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--http", action="store_true", help="also time the /leaderboard endpoint over HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        render = bench_render(Path(tmp), args.rows, args.repeats, args.http)
        score = bench_rescore(Path(tmp), args.repeats)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
          f"median of {args.repeats}")
    print(f"leaderboard with {render['rows']} stored rows: build table {render['table_s']:.3f} s, "
          f"filtered+sorted {render['filtered_s']:.3f} s, table+Gradio serialization "
          f"{render['table_plus_serialize_s']:.3f} s" +
          (f", HTTP /leaderboard round trip {render['http_roundtrip_s']:.3f} s ({render['http_rows']} rows)"
           if "http_roundtrip_s" in render else "") + "  (target < 1 s)")
    print(f"re-scoring {score['replies']} replies: metric {score['rescore_s']:.3f} s; whole submission "
          f"(read {score['predictions_bytes'] / 1e6:.1f} MB, validate, re-score, store) {score['submit_s']:.3f} s"
          "  (target < 5 s)")
    print(f"{score['junk_n']} submissions with a {score['junk_mb']:.1f} MB config value: table "
          f"{score['table_junk_raw_s']:.3f} s stored as sent, {score['table_junk_trimmed_s']:.3f} s as stored now "
          f"(trimmed at submission); {score['table_empty_s']:.3f} s without them")
    ok = max(render["table_plus_serialize_s"], render.get("http_roundtrip_s", 0)) < 1 and score["submit_s"] < 5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
