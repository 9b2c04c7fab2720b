"""The PostgreSQL backend's connection: the store's SQL dialect spoken to PostgreSQL through psycopg 3.

May import: errors / stdlib (sqlite3 for its exception classes, hashlib, re); psycopg only
inside ``PgConnection.connect`` (importing ``screening`` never loads it).

Why an adapter and not a second ``Store``: every method of ``Store`` — its transactions,
the audit records appended before COMMIT, the values sealed before they reach the
database — is the same on both backends, so it is written once. ``PgConnection`` offers
the part of ``sqlite3.Connection`` the store uses (``execute``, ``executemany``,
``in_transaction``, rows readable by index and by name) and translates what differs:

* ``?`` placeholders become ``%s`` (outside string literals; a literal ``%`` is doubled).
* ``BEGIN IMMEDIATE`` becomes ``BEGIN`` plus ``pg_advisory_xact_lock`` on one key: writers
  take turns, as on SQLite. The audit trail is one chain numbered 1, 2, 3 … whose every
  record MACs the one before, so writers must be ordered anyway; the lock is released by
  COMMIT or ROLLBACK, and by the server when the session dies (no stale lock).
* Errors are raised as ``sqlite3``'s exception classes (a trigger's refusal as
  ``IntegrityError``, a lost server as ``OperationalError``) with PostgreSQL's primary
  message only — never its DETAIL, which can quote a row — so every ``except
  sqlite3.Error`` path of the store (roll back, record the failure, "not saved; try
  again") holds unchanged.
* One writer per draft: a session-level advisory lock per assessment
  (``lock_draft``), held by this connection until released or the session ends —
  the PostgreSQL form of ``_lock``'s ``flock``, which the kernel drops with the process;
  here the server drops it with the session, also under ``kill -9`` — as soon as it
  notices the connection closed, so taking a lock waits up to ``DRAFT_WAIT`` for that.
  (Why a ``Store`` is one connection and not a pool's: its draft locks belong to its
  session. A server keeps a ``Store`` per interview or worker; ``--jobs N`` opens N.)
* A server that went away (restarted, failed over) is not fatal to a long interview:
  the statement in flight fails (nothing acknowledged is lost: an answer is
  acknowledged only after COMMIT returned) and the next statement outside a
  transaction connects again and takes this connection's draft locks again; a draft
  someone else opened meanwhile is then refused (``AssessmentLocked``).

Every session pins ``synchronous_commit = on`` (a COMMIT returns only when the WAL
is flushed: the promise the interview acknowledges on), a ``lock_timeout`` (a stuck
writer is an error, not a hang) and an ``idle_in_transaction_session_timeout``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import AssessmentLocked, StoreError

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgConnection", "PgCursor", "ServerGone", "advisory_key", "is_url", "redact"]

SCHEMES = ("postgresql://", "postgres://")
# Session settings read back after they are set (as ``_schema`` does with SQLite's pragmas).
SETTINGS: tuple[tuple[str, str], ...] = (
    ("synchronous_commit", "on"),
    ("lock_timeout", "10s"),
    ("idle_in_transaction_session_timeout", "1min"),
    ("client_encoding", "UTF8"),
    ("TimeZone", "UTC"),
)
CONNECT_TIMEOUT = 10
# How long taking a draft's lock waits for another session to let it go: a session whose
# process was killed a moment ago holds it until the server notices (milliseconds, more
# under load); a draft really open elsewhere is refused after this.
DRAFT_WAIT = "1s"


def is_url(target: object) -> bool:
    """Whether a store location names a PostgreSQL database rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages and the key file's list of stores."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (stable across processes and server versions)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


WRITER_KEY = advisory_key("screening:writer")


def _draft_key(assessment_id: str) -> int:
    return advisory_key("screening:draft:" + assessment_id)


# ---------------------------------------------------------------------- SQL translation

_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")
_cache: dict[str, str] = {}


def translate(sql: str) -> str:
    """The store's SQL (``?`` placeholders) in psycopg's form (``%s``)."""
    found = _cache.get(sql)
    if found is None:
        def sub(m: re.Match[str]) -> str:
            tok = m.group(0)
            return "%s" if tok == "?" else "%%" if tok == "%" else tok.replace("%", "%%")

        found = _TOKENS.sub(sub, sql)
        if len(_cache) > 2048:
            _cache.clear()
        _cache[sql] = found
    return found


# ---------------------------------------------------------------------- rows and cursors


class _RowBase(tuple):  # type: ignore[type-arg]
    """A row readable by position and by column name, as ``sqlite3.Row`` is."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


_row_types: dict[tuple[str, ...], type[_RowBase]] = {}


def _row_type(names: tuple[str, ...]) -> type[_RowBase]:
    found = _row_types.get(names)
    if found is None:
        found = type("Row", (_RowBase,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})
        if len(_row_types) < 1024:
            _row_types[names] = found
    return found


def _row_factory(cursor: Any) -> Any:
    desc = cursor.description
    return tuple if desc is None else _row_type(tuple(d.name for d in desc))


class PgCursor:
    """The results of one statement (fetched at once, as the store's reads are short)."""

    def __init__(self, rows: list[Any], rowcount: int, description: Any) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount
        self.description = description
        self.row_factory: object = None  # accepted and ignored: rows are always readable by name

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        while self._pos < len(self._rows):
            self._pos += 1
            yield self._rows[self._pos - 1]


# ---------------------------------------------------------------------- errors


class ServerGone(sqlite3.OperationalError):
    """The PostgreSQL server cannot be reached (stopped, restarting, the network): nothing was saved."""


def _message(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return text.strip()


def translate_error(exc: BaseException, broken: bool) -> sqlite3.Error:
    """A psycopg error as the ``sqlite3`` exception the store handles; never the server's DETAIL."""
    import psycopg

    if broken or isinstance(exc, psycopg.InterfaceError):
        return ServerGone(f"the database server cannot be reached: {_message(exc)}")
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, psycopg.IntegrityError) or sqlstate == "P0001":  # P0001: a trigger's RAISE
        return sqlite3.IntegrityError(_message(exc))
    if sqlstate == "55P03":
        return sqlite3.OperationalError(f"database is locked ({_message(exc)})")
    if isinstance(exc, psycopg.OperationalError | psycopg.ProgrammingError):
        return sqlite3.OperationalError(_message(exc))
    return sqlite3.DatabaseError(_message(exc))


# ---------------------------------------------------------------------- the connection


class PgConnection:
    """One PostgreSQL session, spoken to in the store's SQL (see the module docstring)."""

    dialect = "postgresql"

    def __init__(self, url: str, raw: psycopg.Connection[Any]) -> None:
        self.url = url
        self._raw = raw
        self._drafts: set[str] = set()
        self._streams = 0
        self.closed = False

    @classmethod
    def connect(cls, url: str) -> PgConnection:
        """Connect and pin the session settings.

        Raises:
            StoreError: the server cannot be reached, refuses the login, or a setting did not take.
        """
        return cls(url, _open(url))

    # -- the sqlite3.Connection surface the store uses

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._raw.broken or self._raw.closed:
            return False
        return self._raw.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR,
                                                     TransactionStatus.ACTIVE)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> PgCursor:
        statement = sql.strip()
        if statement.upper() == "BEGIN IMMEDIATE":
            self._ready()
            self._run("BEGIN", None)
            return self._run("SELECT pg_advisory_xact_lock(%s)", (WRITER_KEY,))
        if not self.in_transaction:
            self._ready()
        return self._run(translate(sql), tuple(params) if params is not None else ())

    def executemany(self, sql: str, seq: Iterable[Sequence[object]]) -> PgCursor:
        import psycopg

        rows = [tuple(p) for p in seq]
        if not rows:
            return PgCursor([], 0, None)
        try:
            with self._raw.cursor() as cur:
                cur.executemany(translate(sql), rows)
                return PgCursor([], cur.rowcount, None)
        except psycopg.Error as exc:
            raise translate_error(exc, self._raw.broken) from None

    def close(self) -> None:
        self.closed = True
        self._drafts.clear()
        self._raw.close()

    def commit(self) -> None:  # the store commits with execute("COMMIT"); DB-API callers may not
        if self.in_transaction:
            self.execute("COMMIT")

    def script(self, sql: str) -> None:
        """Run several statements as one script (a migration file), errors as ``sqlite3``'s."""
        import psycopg

        self._ready()
        try:
            self._raw.execute(sql.encode("utf-8"))  # bytes: psycopg sends it as it is, placeholders and all
        except psycopg.Error as exc:
            raise translate_error(exc, self._raw.broken) from None

    def stream(self, sql: str, params: Sequence[object] = (), size: int = 5000) -> Iterator[tuple[Any, ...]]:
        """Rows of a large query through a server-side cursor, ``size`` at a time (inside a transaction).

        The batch re-scorer reads a chunk's answers so: memory stays flat however many there are.
        """
        import psycopg

        raw = self._raw
        self._streams += 1  # a name per cursor: two scans may be open at once
        try:
            with raw.cursor(name=f"screening_stream_{self._streams}") as cur:
                cur.itersize = size
                cur.execute(translate(sql), tuple(params))
                yield from cur
        except psycopg.Error as exc:
            raise translate_error(exc, raw.broken) from None

    # -- draft locks

    def lock_draft(self, assessment_id: str) -> None:
        """Take the draft's session advisory lock, or fail at once.

        Raises:
            AssessmentLocked: another session holds it.
            StoreError: the server cannot be reached.
        """
        if assessment_id in self._drafts:
            return
        if not self._try(assessment_id):
            raise AssessmentLocked("assessment is open elsewhere", assessment_id)
        self._drafts.add(assessment_id)

    def unlock_draft(self, assessment_id: str) -> None:
        if assessment_id not in self._drafts:
            return
        self._drafts.discard(assessment_id)
        if not (self._raw.broken or self._raw.closed):
            with contextlib.suppress(sqlite3.Error):  # else the session is gone, and its locks with it
                self._run("SELECT pg_advisory_unlock(%s)", (_draft_key(assessment_id),))

    def probe_draft(self, assessment_id: str) -> None:
        """Inside a write transaction: fail if another session holds the draft (shared until COMMIT).

        Raises:
            AssessmentLocked: the draft is open elsewhere.
        """
        row = self._run("SELECT pg_try_advisory_xact_lock_shared(%s)", (_draft_key(assessment_id),)).fetchone()
        if not row[0]:
            raise AssessmentLocked("assessment is open elsewhere", assessment_id)

    def _try(self, assessment_id: str) -> bool:
        """Take the draft's lock, waiting at most ``DRAFT_WAIT`` for it (see the module docstring)."""
        try:
            self.execute(f"SET lock_timeout = '{DRAFT_WAIT}'")
            try:
                self.execute("SELECT pg_advisory_lock(?)", (_draft_key(assessment_id),))
            finally:
                if not (self._raw.broken or self._raw.closed):
                    self.execute(f"SET lock_timeout = '{dict(SETTINGS)['lock_timeout']}'")
        except sqlite3.OperationalError as exc:
            if "database is locked" in str(exc):  # lock_timeout: another session holds it
                return False
            raise StoreError(f"the draft could not be locked ({exc})", assessment_id) from None
        except sqlite3.Error as exc:
            raise StoreError(f"the draft could not be locked ({exc})", assessment_id) from None
        return True

    # -- internals

    def _run(self, sql: str, params: Sequence[object] | None) -> PgCursor:
        import psycopg

        try:
            with self._raw.cursor(row_factory=_row_factory) as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description is not None else []
                return PgCursor(rows, cur.rowcount, cur.description)
        except psycopg.Error as exc:
            raise translate_error(exc, self._raw.broken) from None

    def _ready(self) -> None:
        """Connect again if the server went away, and take this session's draft locks again."""
        if self.closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if not (self._raw.broken or self._raw.closed):
            return
        self._raw.close()  # the broken one: its session, and its locks, are gone already
        try:
            self._raw = _open(self.url)
        except StoreError as exc:
            raise ServerGone(f"the database server cannot be reached: {exc.message}") from None
        lost = [aid for aid in sorted(self._drafts) if not self._try(aid)]
        if lost:
            self._drafts.difference_update(lost)
            raise AssessmentLocked("assessment was opened elsewhere while the database server was away", lost[0])


def _open(url: str) -> psycopg.Connection[Any]:
    import psycopg

    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                              application_name="screening")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the PostgreSQL store {redact(url)} ({_message(exc)})") from None
    try:
        for name, value in SETTINGS:
            raw.execute(f"SET {name} = '{value}'")
        for name, value in SETTINGS:
            got = raw.execute(f"SHOW {name}").fetchone()
            if got is None or str(got[0]).lower() != value.lower():
                raise StoreError(f"the PostgreSQL store {redact(url)} refused {name} = {value} "
                                 f"(got {got[0] if got else None!r})")
    except psycopg.Error as exc:
        raw.close()
        raise StoreError(f"cannot use the PostgreSQL store {redact(url)} ({_message(exc)})") from None
    except BaseException:
        raw.close()
        raise
    return raw
