"""Two pieces of ASGI middleware: a ceiling on request bodies, and the security headers of every response.

May import: stdlib (they speak plain ASGI, so they run before FastAPI parses anything).

Why our own and not a package: each is a few lines, and the body limit must hold
for a chunked body with no ``Content-Length`` too, which needs counting the bytes
as they arrive — a refused body is never read whole into memory. Such a body is
read (up to the limit) before the app sees it: an exception raised from inside the
app's ``receive`` would be turned into a 400/422 by FastAPI's body parsing, not a 413.
The 413 is sent from outside ``SecurityHeaders``, so it carries the same headers itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["API_CSP", "SECURITY_HEADERS", "BodyLimit", "SecurityHeaders"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The API sends JSON and text: nothing may load, run or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


#: What every response carries (a page may set its own ``Content-Security-Policy`` and caching).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"strict-transport-security", b"max-age=31536000"),
    (b"content-security-policy", API_CSP.encode()),
    (b"cache-control", b"no-store"),
)


class _TooLarge(Exception):
    pass


def _swedish(scope: Scope) -> bool:
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"sv")
    first = accept.decode("latin-1").split(",")[0].strip().lower()
    return first.startswith("sv") or first in ("", "*")


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    title = "Begäran är för stor" if _swedish(scope) else "The request is too large"
    body = json.dumps({"type": "urn:screening:problem:too-large", "title": title,
                       "status": 413, "detail": f"a request body is at most {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _read_within(receive: Receive, limit: int) -> list[Message] | None:
    """The body's messages, or ``None`` as soon as they pass ``limit`` bytes."""
    buffered: list[Message] = []
    total = 0
    while True:
        message = await receive()
        buffered.append(message)
        if message["type"] != "http.request":
            return buffered
        total += len(message.get("body", b""))
        if total > limit:
            return None
        if not message.get("more_body", False):
            return buffered


class BodyLimit:
    """Refuse (413) a body over ``limit`` bytes, by its ``Content-Length`` or while it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sized = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                sized = True
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _refuse(scope, send, self.limit)
                    return
        if not sized:  # chunked: read it (at most limit + one chunk) before the app parses anything
            buffered = await _read_within(receive, self.limit)
            if buffered is None:
                await _refuse(scope, send, self.limit)
                return
            upstream = receive

            async def replay() -> Message:
                return buffered.pop(0) if buffered else await upstream()

            receive = replay
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _refuse(scope, send, self.limit)


class SecurityHeaders:
    """Headers every response carries; a page may set its own ``Content-Security-Policy``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
