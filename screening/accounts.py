"""Who may do what through ``screening serve``: roles, their permissions, passwords, tokens and sessions.

May import: errors, store / stdlib, argon2 (lazily: only signing in and ``users`` need it).

One table (``PERMISSIONS``) says what each role may do; the server checks every
request against it and against the case's team, and the authorisation-matrix test
reads the same table. Kept out of ``server`` so ``screening users`` (the CLI) and
the server share one implementation without importing each other.

Secrets: a password is kept only as its Argon2id hash (argon2-cffi, the maintained
binding of the reference implementation: memory-hard, so a stolen store does not
give the passwords away cheaply); an API token or a session id is 32 random bytes
shown once, and the store keeps only its SHA-256 (a high-entropy secret needs no
slow hash). Nothing here logs a secret or a password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ScreeningError, StoreError

if TYPE_CHECKING:
    from .store import Account, Store

__all__ = [
    "PERMISSIONS",
    "SYSTEM_SCOPES",
    "Principal",
    "add_user",
    "check_password",
    "hash_password",
    "issue_token",
    "principal_for_account",
    "principal_for_session",
    "principal_for_token",
    "start_session",
]

_CASEWORKER = frozenset({"instruments:read", "score", "validate", "report", "cases:read", "cases:write"})
#: What a system account's token may be scoped to: never more than a caseworker.
SYSTEM_SCOPES = _CASEWORKER
#: role → what it may do. Case permissions apply to the account's own team's cases only.
PERMISSIONS: dict[str, frozenset[str]] = {
    "caseworker": _CASEWORKER,
    "team_lead": _CASEWORKER | {"cases:delete", "rescore"},
    "auditor": frozenset({"audit:read"}),
    "admin": frozenset({"instruments:read", "validate", "accounts"}),
    "system": SYSTEM_SCOPES,
}
TOKEN_PREFIX = "scr_"
SESSION_HOURS = 8  # one working day; a new sign-in after that
MIN_PASSWORD = 12


@dataclass(frozen=True)
class Principal:
    """The signed-in account of one request, and what it may do.

    Attributes:
        name, role, team: from the account.
        permissions: the role's permissions (for a token: narrowed to its scopes).
        via: ``session`` (browser cookie: state-changing requests need the CSRF token),
            ``token`` (``Authorization: Bearer``) or ``header`` (the trusted sign-on header).
        csrf: the session's CSRF token (``via == "session"`` only).
    """

    name: str
    role: str
    team: str | None
    permissions: frozenset[str]
    via: str
    csrf: str | None = None

    def may(self, permission: str) -> bool:
        return permission in self.permissions


def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - the [server] extra installs it
        raise ScreeningError("accounts need the server extra: pip install 'screening[server]'") from None
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash of a new password.

    Raises:
        StoreError: shorter than ``MIN_PASSWORD`` characters.
    """
    if len(password) < MIN_PASSWORD:
        raise StoreError(f"a password has at least {MIN_PASSWORD} characters")
    return str(_hasher().hash(password))


_DUMMY: list[str] = []


def check_password(account: Account | None, password: str) -> bool:
    """Whether ``password`` is the enabled ``account``'s; as slow for an unknown name as for a known one."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if account is None or account.password_hash is None or account.disabled:
        if not _DUMMY:
            _DUMMY.append(hasher.hash(secrets.token_hex(16)))
        target, real = _DUMMY[0], False
    else:
        target, real = account.password_hash, True
    try:
        hasher.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return real


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def add_user(store: Store, name: str, role: str, *, team: str | None = None, password: str | None = None,
             scopes: frozenset[str] = frozenset()) -> Account:
    """Create an account (``screening users add``).

    Raises:
        StoreError: a bad name, role, team or scope, a short password, or the name is taken.
    """
    if role == "system":
        unknown = scopes - SYSTEM_SCOPES
        if unknown:
            raise StoreError(f"a system account's scopes are among: {', '.join(sorted(SYSTEM_SCOPES))}")
        if password is not None:
            raise StoreError("a system account signs in with a token, not a password")
    elif scopes:
        raise StoreError("only a system account has scopes")
    hashed = hash_password(password) if password is not None else None
    return store.add_account(name, role, team=team, password_hash=hashed, scopes=scopes or frozenset())


def issue_token(store: Store, name: str, scopes: frozenset[str] | None = None) -> str:
    """A new API token for ``name`` (shown once); scopes default to the account's.

    Raises:
        StoreError: no such account, not a system account, or scopes beyond the account's.
    """
    account = store.account(name)
    if account is None:
        raise StoreError(f"there is no account named {name}")
    if account.role != "system":
        raise StoreError("API tokens are for system accounts (role system); people sign in")
    wanted = account.scopes if scopes is None else scopes
    if not wanted <= account.scopes:
        raise StoreError(f"the token's scopes must be among the account's: {', '.join(sorted(account.scopes))}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_token(name, _digest(secret), wanted)
    return secret


def principal_for_account(account: Account, via: str, *, scopes: frozenset[str] | None = None,
                          csrf: str | None = None) -> Principal:
    permissions = PERMISSIONS[account.role]
    if scopes is not None:
        permissions = permissions & scopes
    return Principal(account.name, account.role, account.team, frozenset(permissions), via, csrf)


def principal_for_token(store: Store, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    found = store.token_account(_digest(secret))
    if found is None:
        return None
    account, scopes = found
    return principal_for_account(account, "token", scopes=scopes & account.scopes)


def start_session(store: Store, account: Account) -> tuple[str, str]:
    """A new browser session for ``account``: (session id for the cookie, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=SESSION_HOURS)).isoformat(timespec="milliseconds")
    store.add_session(_digest(sid), account.name, csrf, expires.replace("+00:00", "Z"))
    return sid, csrf


def end_session(store: Store, sid: str) -> None:
    store.drop_session(_digest(sid))


def principal_for_session(store: Store, sid: str) -> Principal | None:
    if not sid or len(sid) > 200:
        return None
    found = store.session(_digest(sid))
    if found is None:
        return None
    account, csrf = found
    return principal_for_account(account, "session", csrf=csrf)
