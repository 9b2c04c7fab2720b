"""The settings of one ``screening serve``.

May import: stdlib.

One frozen value built by the CLI (or a test) and handed to ``create_app``, so a
test can run the app exactly as the command does, with its own store and limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ServerConfig"]


@dataclass(frozen=True)
class ServerConfig:
    """How one server runs.

    Attributes:
        store: the case store: an SQLite file or a ``postgresql://`` URL (default: ``$SCREENING_STORE``,
            else the user's SQLite store).
        home: where instruments and rule sets are read (default: the bundled ones).
        rules: the rule set used for referrals (``default``: the bundled Stockholm one; ``none``).
        trust_header: a header an authenticating reverse proxy sets to the signed-in
            account's name (e.g. ``X-Remote-User``); ``None`` (the default) ignores it.
        trusted_proxies: the addresses the trusted header is accepted from.
        max_body: the largest request body, in bytes (413 above it).
        login_attempts: failed sign-ins per name and address within ``login_window`` seconds
            before further attempts are refused (429).
        secure_cookies: mark the session cookie ``Secure`` (off only for plain-HTTP tests).
    """

    store: Path | str | None = None
    home: Path | None = None
    rules: str = "default"
    trust_header: str | None = None
    trusted_proxies: frozenset[str] = field(default_factory=lambda: frozenset({"127.0.0.1", "::1"}))
    max_body: int = 256 * 1024
    login_attempts: int = 5
    login_window: float = 15 * 60.0
    secure_cookies: bool = True
