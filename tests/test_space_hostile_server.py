"""A hostile or careless user against a real `audiomarathon serve` process (127.0.0.1 only): a
model name in matplotlib math syntax in the store, aborted and parallel uploads, arguments that
are not uploads, a flood of submissions from one address, a copy of stored replies."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from space_server import SpaceServer


EVIL = r"Evil$\foo$"
# As the board shows it: a backslash in a model's name separates a (Windows) folder's parts, as in
# the run identity, and what is left is still math syntax to matplotlib.
SHOWN = r"Evil$/foo$"
LIMIT = 3  # submissions per hour per address on this server
# Uploads older than this are deleted; long enough for the 20 parallel submissions below to be
# handled (an upload must outlive its request's wait in the queue).
TTL_S = 15


@pytest.fixture(scope="module")
def server(runner_runs, imported_dataset, tmp_path_factory):
    """A store that already holds runs of a model named in math syntax, served by a fresh process."""
    from space.service import Service

    base = tmp_path_factory.mktemp("hostile-server")
    service = Service.open(base / "lb.sqlite", [imported_dataset])
    for method, ratio in (("none", 0.0), ("random", 0.25)):
        run = runner_runs.make(base / f"evil-{method}", model=EVIL, method=method, ratio=ratio)
        service.submit(run / "predictions.jsonl", run / "results.json")
    srv = SpaceServer(base / "lb.sqlite", imported_dataset, base / "uploads", "--upload-ttl-s", str(TTL_S),
                      "--max-submissions-per-hour", str(LIMIT))
    srv.start()  # `serve` starts whatever the store holds
    yield srv
    srv.stop()


def client(server, address: str):
    """A gradio_client seen by the server as coming from ``address`` (uvicorn takes the client
    address from X-Forwarded-For when the connection comes from 127.0.0.1, a trusted proxy)."""
    from gradio_client import Client

    return Client(server.url, verbose=False, headers={"X-Forwarded-For": address})


def submit_run(c, run: Path) -> dict:
    from gradio_client import handle_file

    return c.predict(handle_file(str(run / "predictions.jsonl")), handle_file(str(run / "results.json")),
                     api_name="/submit_run")


def view(shown=None) -> list:
    """The leaderboard's filter and page inputs at their defaults, as the page sends them."""
    from space import leaderboard as lb

    return ["", list(lb.WEIGHTS_CHOICES), list(lb.SOURCE_CHOICES), list(lb.SIZE_CHOICES), [], [], lb.AVERAGE, False,
            list(shown or lb.DEFAULT_OPTIONAL), 1, lb.DEFAULT_PAGE_SIZE]


def files_in(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file())


def table_rows(update: dict) -> list[dict]:
    """The rows of the table a handler returned (a component update holding the frame)."""
    table = update.get("value", update)
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def test_a_name_in_math_syntax_leaves_the_page_and_plots_working(server):
    c = client(server, "10.7.0.1")
    # The page-load event: the table and both plots, with the name in the store.
    table, *_, ratio_plot, prefill_plot = c.predict(*view(), [], api_name="/refresh")
    assert SHOWN in [row["Model"] for row in table_rows(table)]
    for plot in (ratio_plot, prefill_plot):
        assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
    ratio_plot, prefill_plot = c.predict([SHOWN], api_name="/render_plots")
    assert ratio_plot["plot"] and prefill_plot["plot"]
    assert "could not be drawn" not in server.output() and "Traceback" not in server.output(), server.output()


def test_uploads_aborted_parallel_and_not_uploads(server, runner_runs, tmp_path):
    uploads = server.uploads
    # Aborted uploads: 1 MB of a declared 5 MB, then the connection is dropped.
    for _ in range(3):
        head = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.jsonl"\r\n'
                b"Content-Type: application/octet-stream\r\n\r\n")
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: "
                      + str(len(head) + 5 * 2**20).encode() + b"\r\n\r\n" + head + b"x" * 2**20)
            time.sleep(0.3)
    time.sleep(0.5)
    aborted = files_in(uploads)
    assert len(aborted) == 3  # the parts received before each connection dropped

    # One submission: answered, and no empty temporary file per upload.
    run = runner_runs.make(tmp_path / "one", model="Upload-Model-1B")
    answer = submit_run(client(server, "10.8.0.1"), run)
    assert answer["accepted"] is True, answer
    assert [f for f in files_in(uploads) if f[1] == 0] == []

    # Arguments that are not uploads get the JSON answer, naming the argument.
    c = client(server, "10.8.0.2")
    from gradio_client import handle_file

    answer = c.predict("..%2f..%2fx.jsonl", handle_file(str(run / "results.json")), api_name="/submit_run")
    assert answer["accepted"] is False
    assert answer["reasons"] == ["predictions.jsonl: expected an uploaded file (gradio_client: handle_file(PATH)), "
                                 "got '..%2f..%2fx.jsonl'"]
    answer = c.predict({"path": "/etc/passwd"}, {"path": "../../results.json"}, api_name="/submit_run")
    assert answer["reasons"] == ["predictions.jsonl: 'passwd' is not a file uploaded to this server",
                                 "results.json: 'results.json' is not a file uploaded to this server"]

    # 20 identical uploads at once (one shared file on the server): each gets a proper answer.
    twin = runner_runs.make(tmp_path / "twin", model="Parallel-Model-1B")
    clients = [client(server, f"10.9.0.{i}") for i in range(20)]
    barrier = threading.Barrier(len(clients))
    answers = []

    def go(c):
        barrier.wait()
        answers.append(submit_run(c, twin))

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    print(f"20 parallel submissions answered in {time.monotonic() - t0:.1f} s")
    assert sum(a["accepted"] for a in answers) == 1
    refused = [r for a in answers if not a["accepted"] for r in a["reasons"]]
    assert len(refused) == 19 and all("is already on the leaderboard" in r for r in refused), refused

    # Nothing of the aborted uploads is left past the TTL (nor, later, of the others).
    deadline = time.monotonic() + TTL_S + 15
    while set(aborted) & set(files_in(uploads)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert set(aborted) & set(files_in(uploads)) == set()


def test_one_address_is_rate_limited_and_a_copy_of_stored_replies_is_held(server, runner_runs, tmp_path):
    run = runner_runs.make(tmp_path / "run", model="Limited-Model-1B", method="random", ratio=0.5)
    flood = client(server, "10.10.0.1")
    answers = [submit_run(flood, run) for _ in range(LIMIT + 1)]
    assert answers[0]["accepted"] and not answers[0]["held"]
    assert all("already on the leaderboard" in a["reasons"][0] for a in answers[1:LIMIT])
    [reason] = answers[LIMIT]["reasons"]
    assert reason.startswith(f"rate limit: at most {LIMIT} submissions per hour from one submitter")
    assert "already on the leaderboard" in submit_run(client(server, "10.10.0.2"), run)["reasons"][0]

    # The same replies under another name: stored, held, shown as such after the ranked rows.
    copy = runner_runs.make(tmp_path / "copy", model="Renamed-Model-1B", method="random", ratio=0.5)
    answer = submit_run(client(server, "10.10.0.3"), copy)
    assert answer["accepted"] and answer["held"], answer
    assert "Limited-Model-1B · method random · ratio 50%" in answer["held_because"]
    c = client(server, "10.10.0.4")
    table, *_ = c.predict(*view(["Source"]), [], api_name="/refresh")
    rows = table_rows(table)
    [held] = [r for r in rows if r["Model"] == "Renamed-Model-1B"]
    assert held["Source"] == "held"  # the entry it repeats is named in held_because (above)
    sources = [r["Source"] == "held" for r in rows]
    assert sources == sorted(sources)  # every held row after every ranked one
    config = json.dumps(c.config)
    assert "not re-measure" in config  # the note by the prefill plot
