"""A webhook receiver written from the Standard Webhooks specification, not from our sender:
a real HTTP server on the loopback interface that verifies every message it gets.

Verification (spec, "Verifying signatures"): the secret is `whsec_` + base64 of the key; the
signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`; `webhook-signature` is a
space-delimited list of `v1,<base64 HMAC-SHA256>`; compare in constant time; refuse a
timestamp outside a tolerance (replay protection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 5 * 60


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """True when one of the `v1` signatures matches and the timestamp is fresh."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit():
        return False
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got, and what it answers next (a list of statuses, then 200s)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    headers_out: dict[str, str] = field(default_factory=dict)


@contextmanager
def receiver(answers: list[int] | None = None, path: str = "/hooks") -> Iterator[Receiver]:
    state = Receiver(url="", answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body, self.path)
            )
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            for name, value in state.headers_out.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
