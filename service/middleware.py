"""Pure ASGI middleware: body size limit (413 before parsing), access logs, response headers,
the trusted Host headers and slow refusals."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import anyio
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.deprecation import headers_for as deprecation_headers
from service.problem_codes import Code, entry
from service.problems import PROBLEM_JSON, TYPE_BASE

access_log = logging.getLogger("mhf.access")


def _problem_bytes(status: int, slug: str, title: str, detail: str, **extra: Any) -> bytes:
    return json.dumps(
        {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail} | extra
    ).encode()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._reject(send, scope.get("path", ""))
                return
        if declared is not None or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read it here, up to the limit, then replay it, so an
        # oversized body is refused with 413 before anything parses it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, scope.get("path", ""))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, path: str) -> None:
        detail = f"Request bodies are limited to {self.max_bytes} bytes."
        if path == "/fhir" or path.startswith("/fhir/"):
            # FHIR clients expect an OperationOutcome, not a problem document.
            body = json.dumps(
                {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "too-costly", "diagnostics": detail}],
                }
            ).encode()
            content_type = b"application/fhir+json"
        else:
            errors = [entry([], Code.TOO_LARGE, detail, "too_large")]
            body = _problem_bytes(
                413, "payload-too-large", "Payload too large", detail, errors=errors
            )
            content_type = PROBLEM_JSON.encode()
        await _answer(send, 413, content_type, body)


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    """A whole answer sent from a middleware, before the app has seen the request."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": getattr(route, "path", None) or scope["path"],
                    "status": status["code"],
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                },
            )


# Answers that may hold patient data: the API and FHIR. Kept out of any cache (a shared proxy's
# or the browser's back-button store), and never sniffed into another content type.
_NO_STORE_PREFIXES = ("/api/", "/fhir")


class ResponseHeadersMiddleware:
    """``X-Content-Type-Options: nosniff`` on every answer, and ``Cache-Control: no-store`` on
    every API and FHIR answer unless the route chose its own, added where the response starts,
    so no route (nor a 413 or a 500) can forget them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        no_store = path.startswith(_NO_STORE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if no_store and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                # A deprecated operation's Deprecation and Sunset (the router has matched by
                # now and left the route in the scope).
                headers.extend(deprecation_headers(scope.get("route")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# Liveness and readiness probes come from the orchestrator by the container's own address.
_PROBES = ("/healthz", "/readyz")


class TrustedHostsMiddleware:
    """Starlette's ``TrustedHostMiddleware`` in front of the app (production), its refusal given
    as a problem document like every other 400, and the health probes exempt."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(self._trusted, allowed_hosts, www_redirect=False)

    async def _trusted(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["mhf.trusted_host"] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _PROBES:
            await self.app(scope, receive, send)
            return

        async def only_if_trusted(message: Message) -> None:
            # TrustedHostMiddleware's own plain-text refusal is replaced below.
            if scope.get("mhf.trusted_host"):
                await send(message)

        await self.check(scope, receive, only_if_trusted)
        if not scope.get("mhf.trusted_host"):
            body = _problem_bytes(
                400, "bad-host", "Bad request", "The Host header names no host this serves."
            )
            await _answer(send, 400, PROBLEM_JSON.encode(), body)


class SlowRefusalMiddleware:
    """Answers a refused login (429) only after ``delay`` seconds, waiting in the event loop.

    A client that loops on refusals otherwise gets hundreds of cheap answers a second, and the
    loop that serves the clinicians' queue spends its time on them (issue 18): the handler has
    already returned and freed its worker thread, so the wait costs a timer, not a thread.
    """

    def __init__(self, app: ASGIApp, paths: frozenset[str], delay: float) -> None:
        self.app = app
        self.paths = paths
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths or self.delay <= 0:
            await self.app(scope, receive, send)
            return

        async def delayed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                await anyio.sleep(self.delay)
            await send(message)

        await self.app(scope, receive, delayed)
