"""Fixtures of the server tests: a store with one account per role and team, the app, and clients.

Accounts (password ``PASSWORD`` for people):
  anna (caseworker, team a), bo (caseworker, team b), lena (team_lead, team a),
  olle (team_lead, team b), greta (auditor), admin (admin), sys (system, team a,
  every system scope; its token in ``tokens["sys"]``), sysread (system, team a, scope
  cases:read only; ``tokens["sysread"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .client import Api, Loop

PASSWORD = "a long test password"
PEOPLE = {"anna": ("caseworker", "a"), "bo": ("caseworker", "b"), "lena": ("team_lead", "a"),
          "olle": ("team_lead", "b"), "greta": ("auditor", None), "admin": ("admin", None)}


@dataclass
class Site:
    """The app under test, its store, and a way to get a signed-in client per account."""

    app: object
    store: Path | str
    loop: Loop
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, name: str | None = None, *, address: str = "127.0.0.1") -> Api:
        """A new client; signed in as ``name`` (a person by password, a system account by its token)."""
        api = Api(self.loop, self.app, client=(address, 50000))
        if name in self.tokens:
            api.token = self.tokens[name]
        elif name is not None:
            response = api.login(name, PASSWORD)
            assert response.status_code == 200, response.text
        return api


_HASHES: list[str] = []


def password_hash() -> str:
    """The fixture password's Argon2id hash, made once per run with small cost parameters.

    Signing in still runs argon2's real ``verify`` (it reads the parameters from the
    hash); at the library's default cost one hash or check takes ~0.5 s on a loaded
    machine, and every site and every sign-in of the server tests paid it.
    """
    if not _HASHES:
        from argon2 import PasswordHasher

        _HASHES.append(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD))
    return _HASHES[0]


def make_store(path: Path) -> dict[str, str]:
    from screening.accounts import SYSTEM_SCOPES, add_user, issue_token
    from screening.store import Store

    with Store.open(path, create=True) as st:
        for name, (role, team) in PEOPLE.items():
            st.add_account(name, role, team=team, password_hash=password_hash())
        add_user(st, "sys", "system", team="a", scopes=SYSTEM_SCOPES)
        add_user(st, "sysread", "system", team="a", scopes=frozenset({"cases:read"}))
        return {"sys": issue_token(st, "sys"), "sysread": issue_token(st, "sysread")}


@pytest.fixture
def site_factory(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """Build a ``Site`` with ``ServerConfig`` overrides (e.g. ``trust_header="X-Remote-User"``)."""
    from screening.server import ServerConfig, create_app

    loops: list[Loop] = []
    apps: list[Any] = []

    def make(store: Path | str | None = None, **overrides: object) -> Site:
        path = store if store is not None else tmp_path / f"store{len(loops)}.db"
        tokens = make_store(path)
        loop = Loop()
        loops.append(loop)
        app = create_app(ServerConfig(store=path, **overrides))  # type: ignore[arg-type]
        apps.append(app)
        return Site(app, path, loop, tokens)

    yield make
    for loop in loops:
        loop.close()
    for app in apps:  # the app's store connections (its lifespan does not run under the ASGI transport)
        app.state.server.stores.close()


@pytest.fixture
def site(site_factory: Callable[..., Site]) -> Site:
    return site_factory()
