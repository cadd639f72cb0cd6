"""A real webhook receiver on localhost, and the guarded HTTP client the scheduler sends with."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx
from fastapi import FastAPI

from alerts.webhooks import verify
from service.alerting.egress import EgressPolicy, guarded_client
from tests.support.clock import FakeClock

# A public address the tests' resolver gives webhook hosts (the ``dns`` fixture, tests/conftest.py).
PUBLIC = "93.184.215.14"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmc="


class Receiver:
    """A real HTTP receiver on localhost that fails its first ``fail_first`` deliveries. It
    checks signatures against ``clock``, which the test sets before anything is delivered."""

    def __init__(self, secret: str, fail_first: int) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.calls = 0
        self.accepted: list[dict[str, Any]] = []
        self.processed_ids: set[str] = set()
        self.duplicates = 0
        self.bad_signatures = 0
        self.clock: FakeClock | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.calls += 1
                if receiver.calls <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    assert receiver.clock is not None, "set the receiver's clock first"
                    msg_id = verify(receiver.secret, dict(self.headers), body, receiver.clock())
                except Exception:
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                if msg_id in receiver.processed_ids:
                    receiver.duplicates += 1
                else:
                    receiver.processed_ids.add(msg_id)
                    receiver.accepted.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def guarded(app: FastAPI) -> httpx.Client:
    return guarded_client(EgressPolicy.from_settings(app.state.settings))
