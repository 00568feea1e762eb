"""A tiny real HTTP server (127.0.0.1) that replays saved bodies, for the client's tests (fixtures in conftest.py)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).parent.parent / "data"
Answer = tuple[int, bytes, dict[str, str]]


def saved(name: str, status: int = 200, **headers: str) -> Answer:
    return status, (DATA / name).read_bytes(), headers


class Replay:
    """Answers each path from a list of canned answers (the last one repeats); logs every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Answer]] = {}
        self.seen: list[tuple[str, dict[str, str], dict[str, str]]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                if self.command == "POST":  # a form body is recorded like a query
                    form = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                    query = dict(parse_qsl(form, keep_blank_values=True))
                replay.seen.append((parts.path, query, dict(self.headers)))
                answers = replay.routes.get(parts.path) or [(404, b'{"errors": []}', {})]
                status, payload, headers = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.seen if p == path)
