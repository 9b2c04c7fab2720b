"""A synchronous face on ``httpx.AsyncClient`` + ``httpx.ASGITransport`` for the server tests.

The app runs in one event loop on a background thread (as under uvicorn); each
``Api`` is one client with its own cookie jar, so a test can hold a caseworker's
browser session, another team's and a system's token side by side.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

_T = TypeVar("_T")


class Loop:
    """One event loop in a daemon thread; ``run`` executes a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients: list[httpx.AsyncClient] = []

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def close(self) -> None:
        for client in self.clients:
            self.run(client.aclose())
        self.run(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class Api:
    """One client (cookie jar) of the app: ``api.get(path)``, ``api.post(path, json=…)`` …

    ``login(name)`` signs in with the fixture password and remembers the CSRF token,
    which every later state-changing request sends unless ``csrf=False``.
    """

    def __init__(self, loop: Loop, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._loop = loop
        transport = httpx.ASGITransport(app=app, client=client)
        self.http = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        loop.clients.append(self.http)
        self.csrf: str | None = None
        self.token: str | None = None

    def login(self, name: str, password: str) -> httpx.Response:
        response = self.request("POST", "/api/session", json={"name": name, "password": password}, csrf=False)
        if response.status_code == 200:
            self.csrf = response.json()["csrf"]
        return response

    def request(self, method: str, path: str, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self._loop.run(self.http.request(method, path, headers=headers, **kwargs))

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)
