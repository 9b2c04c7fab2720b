"""Who is asking: a session cookie, an API token, or the trusted sign-on header; CSRF and the login limit.

May import: accounts, store, _problems, _stores, _config / fastapi, starlette, stdlib.

Three ways in, tried in this order:

1. ``Authorization: Bearer scr_…`` — a system account's API token (its scopes narrow
   the role's permissions). No cookie, so no CSRF risk.
2. The trusted identity header (``ServerConfig.trust_header``, off by default), only
   from ``trusted_proxies``: an authenticating reverse proxy (the municipality's
   single sign-on) names the account; the account must exist and be enabled here,
   so sign-on decides *who*, this store decides *what they may do*. The proxy must
   strip the header from clients' requests (docs/server.md shows how). The browser
   is signed in to the proxy by the proxy's own cookie, which a page on another
   site can make it send, and there is no session here to hold a CSRF token: a
   state-changing request signed on this way is refused when the browser says it
   came from another site (``Sec-Fetch-Site``, else an ``Origin`` that is not
   this host). Programs send neither header and are not affected.
3. The session cookie from ``POST /api/session`` (built-in accounts): ``Secure``,
   ``HttpOnly``, ``SameSite=Strict``; every state-changing request must also carry
   the session's CSRF token (``X-CSRF-Token`` header or a ``csrf`` form field).

Failed sign-ins are limited per (name, address): after ``login_attempts`` failures
within ``login_window`` seconds further attempts get 429 with ``Retry-After``,
whether or not the password is right, so a guesser learns nothing.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..accounts import Principal, principal_for_account, principal_for_session, principal_for_token
from ._config import ServerConfig
from ._problems import Problem
from ._stores import StorePool

__all__ = ["COOKIE", "Authenticator", "LoginLimiter", "client_address"]

COOKIE = "screening_session"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _cross_site(request: Request) -> bool:
    """Whether the browser says the request was made by a page of another site (Fetch Metadata, else Origin)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host", "")


class LoginLimiter:
    """Failed sign-ins per (name, address) and per address in a sliding window; thread-safe, per process.

    The per-address ceiling (``ADDRESS_FACTOR`` × the per-name limit) stops one address
    from trying a password against many names. Old keys are forgotten only when they
    hold no failure inside the window, so flooding the table cannot unlock a name.
    """

    ADDRESS_FACTOR = 10

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> collections.deque[float]:
        failures = self._failures.setdefault(key, collections.deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, name: str, address: str) -> None:
        """Raise 429 while (name, address) is over the limit; otherwise count this attempt as failed.

        The attempt is counted now, before its (slow, Argon2) password check, and taken
        back by ``succeeded``: counted only at its end, any number of guesses sent at
        once all passed this check before the first of them failed.
        """
        now = time.monotonic()
        with self._lock:
            failures = self._recent((name.casefold(), address), now)
            everyone = self._recent(("", address), now)  # "" is no name: a name is 1–64 characters
            for seen, limit in ((failures, self.attempts), (everyone, self.attempts * self.ADDRESS_FACTOR)):
                if len(seen) >= limit:
                    wait = int(seen[0] + self.window - now) + 1
                    raise Problem("too-many-attempts", headers={"Retry-After": str(wait)})
            failures.append(now)
            everyone.append(now)
            if len(self._failures) > 10_000:  # forget keys with nothing left in the window
                for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                    del self._failures[key]

    def failed(self, name: str, address: str) -> None:
        """A failed attempt: already counted by ``check``."""

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name.casefold(), address), None)
            everyone = self._failures.get(("", address))
            if everyone:
                everyone.pop()  # this attempt was not a failure


class Authenticator:
    """Finds the ``Principal`` of a request, or refuses it (401, or 403 for a failed CSRF check)."""

    def __init__(self, config: ServerConfig, stores: StorePool) -> None:
        self.config, self.stores = config, stores

    async def __call__(self, request: Request) -> Principal:
        """Sign the request in; on SQLite right here, on PostgreSQL in the thread pool.

        A sync dependency costs a hop to the thread pool before the endpoint's own hop
        (about 0.15 ms of the ~2 ms the server adds to a scoring call). On SQLite what
        this reads — a token's or session's row by its hash, an account by name — are
        indexed reads of a local file that a WAL reader never waits for, so they run on
        the event loop. A PostgreSQL server can be slow or away, which must never stall
        the loop, so there it goes to the pool like every other store call.
        """
        if self.stores.local:
            return self.identify(request)
        return await run_in_threadpool(self.identify, request)

    def identify(self, request: Request) -> Principal:
        store = self.stores.get()
        auth = request.headers.get("authorization")
        if auth is not None:
            scheme, _, secret = auth.partition(" ")
            found = principal_for_token(store, secret.strip()) if scheme.lower() == "bearer" else None
            if found is None:
                raise Problem("unauthenticated", "the API token is not valid (revoked, or its account disabled)",
                              headers={"WWW-Authenticate": 'Bearer realm="screening"'})
            return found
        header = self.config.trust_header
        if header and client_address(request) in self.config.trusted_proxies:
            name = request.headers.get(header)
            if name is not None:
                account = store.account(name.strip())
                if account is None or account.disabled:
                    raise Problem("unauthenticated", "the signed-on account has no enabled account here")
                if request.method not in _SAFE and _cross_site(request):
                    raise Problem("csrf-failed", "a request signed on by the proxy must come from this site's "
                                                 "own pages")
                return principal_for_account(account, "header")
        sid = request.cookies.get(COOKIE)
        found = principal_for_session(store, sid) if sid else None
        if found is None:
            raise Problem("unauthenticated", "sign in first (POST /api/session), or send an API token",
                          headers={"WWW-Authenticate": 'Bearer realm="screening"'})
        if request.method not in _SAFE:
            sent = request.headers.get("x-csrf-token") or getattr(request.state, "csrf_form", None) or ""
            if not (found.csrf and secrets.compare_digest(sent.encode(), found.csrf.encode())):
                raise Problem("csrf-failed", "send the session's CSRF token in the X-CSRF-Token header")
        return found
