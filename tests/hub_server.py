"""A local stand-in for the Hub's HTTP API, enough for create_repo + create_commit.

It answers preupload with "regular" for every file, so files travel inline in the commit
(no LFS/xet storage involved), and keeps what was committed for the test to inspect.
"""

from __future__ import annotations

import base64
import json
import threading

import yaml
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HubState:
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.validated: list[dict] = []


def _handler(state: HubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _json(self, code: int, obj) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self._body()
            state.requests.append(("POST", self.path))
            host = f"http://{self.headers['Host']}"
            if self.path == "/api/validate-yaml":
                # The real Hub rejects a README whose YAML front matter does not parse.
                content = json.loads(body)["content"]
                try:
                    front = content.split("---\n", 2)[1]
                    meta = yaml.safe_load(front)
                    assert isinstance(meta, dict) and meta.get("configs")
                except Exception as exc:  # noqa: BLE001 - any failure is a validation error
                    return self._json(400, {"errors": [{"message": f"invalid card YAML: {exc}"}]})
                state.validated.append(meta)
                return self._json(200, {"warnings": []})
            if self.path == "/api/repos/create":
                req = json.loads(body)
                repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                state.repos[repo_id] = req
                return self._json(200, {"url": f"{host}/datasets/{repo_id}", "name": repo_id})
            parts = self.path.split("/")
            # /api/datasets/{org}/{name}/(preupload|commit)/{revision}
            if len(parts) >= 7 and parts[1] == "api" and parts[2] == "datasets":
                repo_id = f"{parts[3]}/{parts[4]}"
                if parts[5] == "preupload":
                    files = json.loads(body)["files"]
                    return self._json(200, {"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                    ]})
                if parts[5] == "commit":
                    stored = state.files.setdefault(repo_id, {})
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            value = item["value"]
                            stored[value["path"]] = base64.b64decode(value["content"])
                    return self._json(200, {
                        "success": True, "commitOid": "0" * 40,
                        "commitUrl": f"{host}/datasets/{repo_id}/commit/{'0' * 40}",
                    })
            return self._json(404, {"error": f"not handled: {self.path}"})

        def do_GET(self):
            state.requests.append(("GET", self.path))
            return self._json(404, {"error": f"not handled: {self.path}"})

    return Handler


class LocalHub:
    """Context manager: a Hub stand-in on 127.0.0.1 with an ephemeral port."""

    def __enter__(self):
        self.state = HubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
