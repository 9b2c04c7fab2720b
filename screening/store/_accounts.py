"""The server's accounts, API tokens, sessions and case teams (schema 5), audited like every write.

May import: errors, audit, _base, values / stdlib.

Why here and not in the server: the accounts live in the same database as the
cases they open, so a store copied to PostgreSQL, backed up or restored takes
its accounts along, and an account change is chained into the same
tamper-evident audit trail ("account" records) as the case actions. This
module stores and finds; it never hashes a password nor makes a secret —
``screening.accounts`` does that (Argon2, ``secrets``) — so the store only
ever sees an Argon2 hash and the SHA-256 of a token or session id.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from ..engine.pnr import looks_like_personnummer
from ..errors import StoreError
from . import audit as _audit
from ._base import StoreBase
from ._trail import clean_actor
from .values import now as _now

__all__ = ["ROLES", "Account", "StoreAccounts"]

ROLES = ("caseworker", "team_lead", "auditor", "admin", "system")


@dataclass(frozen=True)
class Account:
    """A staff member or another program that may use the server.

    Attributes:
        name: the sign-in name (staff, never a client).
        role: one of ``ROLES``.
        team: the team whose cases the account works on (``None`` for auditor/admin).
        scopes: for a ``system`` account, what its tokens may do at most.
        disabled: a disabled account cannot sign in and its tokens stop working.
        password_hash: the Argon2 hash (``None``: no password, tokens or sign-on only).
    """

    name: str
    role: str
    team: str | None
    scopes: frozenset[str]
    disabled: bool
    created_at: str
    password_hash: str | None = None

    def __repr__(self) -> str:  # the hash is not secret-less; keep it out of logs and tracebacks
        return f"Account(name={self.name!r}, role={self.role!r}, team={self.team!r}, disabled={self.disabled})"


@dataclass(frozen=True)
class Token:
    """An API token's record (the secret itself is shown once and never stored)."""

    id: str
    account: str
    scopes: frozenset[str]
    created_at: str
    revoked_at: str | None


def _scopes(text: str) -> frozenset[str]:
    return frozenset(s for s in text.split() if s)


def _account(row: sqlite3.Row | tuple[object, ...]) -> Account:
    name, role, team, scopes, disabled, created, pw = row
    return Account(str(name), str(role), None if team is None else str(team), _scopes(str(scopes)),
                   bool(disabled), str(created), None if pw is None else str(pw))


_ACCOUNT_SQL = "SELECT name, role, team, scopes, disabled, created_at, password_hash FROM accounts"


class StoreAccounts(StoreBase):
    """Accounts, tokens, sessions and case teams of a ``Store``."""

    @contextlib.contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        """Name ``actor`` in the audit records written inside the block (one request of the server)."""
        before = self._actor
        self._actor = clean_actor(actor)
        try:
            yield
        finally:
            self._actor = before

    # ------------------------------------------------------------------ accounts

    def add_account(self, name: str, role: str, *, team: str | None = None, password_hash: str | None = None,
                    scopes: frozenset[str] = frozenset()) -> Account:
        """Create an account.

        Raises:
            StoreError: a bad name or role, a team missing for a team role, or the name is taken.
        """
        name = _check_name(name, "account name")
        if role not in ROLES:
            raise StoreError(f"the role is one of {', '.join(ROLES)}")
        if role in ("caseworker", "team_lead", "system") and not team:
            raise StoreError(f"a {role} account belongs to a team (--team)")
        team = _check_name(team, "team") if team else None
        now = _now()
        event = _audit.Event("account", None, f"add {name} as {role}" + (f" of {team}" if team else ""))
        with self._write("the new account", None, event) as conn:
            if conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"there is already an account named {name}")
            conn.execute(
                "INSERT INTO accounts (name, role, team, password_hash, scopes, disabled, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                (name, role, team, password_hash, " ".join(sorted(scopes)), now, now),
            )
        found = self.account(name)
        assert found is not None
        return found

    def account(self, name: str) -> Account | None:
        rows = self._read(_ACCOUNT_SQL + " WHERE name = ?", (name,))
        return _account(tuple(rows[0])) if rows else None

    def accounts(self) -> list[Account]:
        return [_account(tuple(r)) for r in self._read(_ACCOUNT_SQL + " ORDER BY name")]

    def set_account(self, name: str, *, disabled: bool | None = None, password_hash: str | None = None) -> None:
        """Disable or enable an account, or set its password hash; disabling also ends its sessions.

        Raises:
            StoreError: no such account.
        """
        what = "disable" if disabled else "enable" if disabled is False else "password"
        with self._write("the account change", None, _audit.Event("account", None, f"{what} {name}")) as conn:
            if not conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"there is no account named {name}")
            if disabled is not None:
                conn.execute("UPDATE accounts SET disabled = ?, updated_at = ? WHERE name = ?",
                             (int(disabled), _now(), name))
                if disabled:
                    conn.execute("DELETE FROM sessions WHERE account = ?", (name,))
            if password_hash is not None:
                conn.execute("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE name = ?",
                             (password_hash, _now(), name))
                conn.execute("DELETE FROM sessions WHERE account = ?", (name,))

    # ------------------------------------------------------------------ tokens

    def add_token(self, account: str, token_sha256: bytes, scopes: frozenset[str]) -> Token:
        """Record a new API token (its hash) for ``account``; returns its record."""
        tid = _token_id()
        now = _now()
        with self._write("the new token", None, _audit.Event("account", None, f"token {tid} for {account}")) as conn:
            if not conn.execute("SELECT 1 FROM accounts WHERE name = ?", (account,)).fetchone():
                raise StoreError(f"there is no account named {account}")
            conn.execute("INSERT INTO api_tokens (id, account, token_sha256, scopes, created_at)"
                         " VALUES (?, ?, ?, ?, ?)", (tid, account, token_sha256, " ".join(sorted(scopes)), now))
        return Token(tid, account, scopes, now, None)

    def tokens(self, account: str | None = None) -> list[Token]:
        sql = "SELECT id, account, scopes, created_at, revoked_at FROM api_tokens"
        rows = self._read(sql + (" WHERE account = ?" if account else "") + " ORDER BY created_at, id",
                          (account,) if account else ())
        return [Token(r[0], r[1], _scopes(r[2]), r[3], r[4]) for r in rows]

    def revoke_token(self, token_id: str) -> None:
        with self._write("the revocation", None, _audit.Event("account", None, f"revoke token {token_id}")) as conn:
            if not conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                (_now(), token_id)).rowcount:
                raise StoreError(f"there is no active token {token_id}")

    def token_account(self, token_sha256: bytes) -> tuple[Account, frozenset[str]] | None:
        """The enabled account and scopes of an active token, or ``None``."""
        rows = self._read("SELECT account, scopes FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                          (token_sha256,))
        if not rows:
            return None
        found = self.account(rows[0][0])
        return (found, _scopes(rows[0][1])) if found is not None and not found.disabled else None

    # ------------------------------------------------------------------ sessions

    def add_session(self, id_sha256: bytes, account: str, csrf: str, expires_at: str) -> None:
        with self._write("the session") as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (_now(),))
            conn.execute("INSERT INTO sessions (id_sha256, account, csrf, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?, ?)", (id_sha256, account, csrf, _now(), expires_at))

    def session(self, id_sha256: bytes) -> tuple[Account, str] | None:
        """The enabled account and CSRF token of a live session, or ``None``."""
        rows = self._read("SELECT account, csrf FROM sessions WHERE id_sha256 = ? AND expires_at > ?",
                          (id_sha256, _now()))
        if not rows:
            return None
        found = self.account(rows[0][0])
        return (found, str(rows[0][1])) if found is not None and not found.disabled else None

    def drop_session(self, id_sha256: bytes) -> None:
        with self._write("the end of the session") as conn:
            conn.execute("DELETE FROM sessions WHERE id_sha256 = ?", (id_sha256,))

    # ------------------------------------------------------------------ case teams

    def case_team(self, assessment_id: str) -> str | None:
        """The team an assessment belongs to (``None``: made outside the server, no team's)."""
        rows = self._read("SELECT team FROM case_teams WHERE assessment_id = ?", (assessment_id,))
        return str(rows[0][0]) if rows else None

    def set_case_team(self, assessment_id: str, team: str) -> None:
        """Give a team an assessment made without one (``screening cases assign``); never moves one."""
        team = _check_name(team, "team")
        with self._write("the case's team", assessment_id, _audit.Event("account", assessment_id, f"team {team}")) \
                as conn:
            if not conn.execute("SELECT 1 FROM assessments WHERE id = ?", (assessment_id,)).fetchone():
                raise StoreError("no such assessment", assessment_id)
            if conn.execute("SELECT 1 FROM case_teams WHERE assessment_id = ?", (assessment_id,)).fetchone():
                raise StoreError("the assessment already belongs to a team", assessment_id)
            conn.execute("INSERT INTO case_teams (assessment_id, team) VALUES (?, ?)", (assessment_id, team))


def _token_id() -> str:
    """A token record's short random id, never one shaped like a personnummer.

    The id is named in the audit detail, which refuses anything shaped like a
    personnummer; twelve random hex digits are all digits often enough (about one
    token in eighty) that issuing a token failed now and then.
    """
    while True:
        tid = secrets.token_hex(6)
        if not looks_like_personnummer(f"token {tid} for"):
            return tid


def _check_name(text: str, what: str) -> str:
    """Names and teams: 1–64 letters, digits, ``.``, ``_``, ``-`` or ``@`` (they appear in audit details)."""
    if not (0 < len(text) <= 64) or not all(c.isalnum() or c in "._-@" for c in text):
        raise StoreError(f"a {what} is 1–64 letters, digits, '.', '_', '-' or '@'")
    return text
