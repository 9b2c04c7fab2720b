"""Open a PostgreSQL case store: connect, check the schema version, attach the keyring; and its migrations.

May import: errors, crypto, _pg, _keys / stdlib (importlib.resources).

The schema is a series of versioned, forward-only SQL files in ``screening/store/pg/``
(``0001_initial.sql``, ``0002_….sql``), each run in one transaction (PostgreSQL's DDL is
transactional: a migration is applied whole or not at all) and recorded in
``schema_version``. Why opening never upgrades an existing database, unlike the SQLite
store: a team's caseworkers connect with an account that should not own the tables
(see docs/postgresql.md); changing the schema is the administrator's step,
``screening store upgrade``. An empty database is given the schema on first use only
when the store is to be created (an interview starts) — as the SQLite file is — and a
database written by a newer ``screening`` is refused.
"""

from __future__ import annotations

import re
from importlib import resources

from ..errors import StoreError
from ._pg import PgConnection, advisory_key, redact
from .crypto import Keyring

__all__ = ["PG_SCHEMA_VERSION", "migrations", "open_pg", "schema_version", "upgrade"]

_FILE = re.compile(r"([0-9]{4})_[a-z0-9_]+\.sql")
MIGRATE_KEY = advisory_key("screening:migrate")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped, in order; versions are 1, 2, 3 … without gaps."""
    found = []
    for entry in resources.files("screening.store").joinpath("pg").iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append((int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [v for v, _, _ in found] != list(range(1, len(found) + 1)):
        raise StoreError("the PostgreSQL migrations shipped with screening are not numbered 1, 2, 3 …")
    return found


PG_SCHEMA_VERSION = 2  # the newest migration; tests/test_pg_store.py checks it against the files


def _tables(conn: PgConnection) -> set[str]:
    """Every table of the schema, also those this account may not read (information_schema would hide them)."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {str(r[0]) for r in rows}


def schema_version(conn: PgConnection) -> int | None:
    """The recorded version; ``None`` for an empty database.

    Raises:
        StoreError: the database has tables but is not a screening store.
    """
    tables = _tables(conn)
    if "schema_version" not in tables:
        if tables:
            raise StoreError(f"{redact(conn.url)} is a PostgreSQL database but not a screening store "
                             f"(it has other tables); use an empty database")
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def upgrade(conn: PgConnection) -> tuple[int, int]:
    """Apply every migration newer than the database's, each in its own transaction.

    Returns:
        (version before, version after); before is 0 for an empty database.

    Raises:
        StoreError: the database is newer than this screening, is not a screening store,
            or a migration failed (it was rolled back; the database is at the last one that worked).
    """
    import sqlite3

    before = schema_version(conn) or 0
    if before > PG_SCHEMA_VERSION:
        raise _newer(conn, before)
    current = before
    for version, name, sql in migrations():
        if version <= current:
            continue
        try:
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_KEY,))
            now = schema_version(conn) or 0  # another process may have run it meanwhile
            if now < version:
                conn.script(sql)  # shipped SQL, never input
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                             (version, _now()))
            conn.execute("COMMIT")
        except (sqlite3.Error, StoreError) as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            text = exc.message if isinstance(exc, StoreError) else str(exc)
            raise StoreError(f"the migration {name} failed and was rolled back ({text}); the store "
                             f"{redact(conn.url)} is at version {current}") from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current = version
    return before, current


def _now() -> str:
    from .values import now

    return now()


def _newer(conn: PgConnection, version: int) -> StoreError:
    return StoreError(f"the store {redact(conn.url)} has schema version {version}; this screening understands up "
                      f"to {PG_SCHEMA_VERSION} — upgrade screening")


def open_pg(url: str, keyring: Keyring | None, *, create: bool) -> tuple[PgConnection, Keyring]:
    """Connect to the PostgreSQL store at ``url`` and check its schema and key.

    Raises:
        StoreError: no server or login; an empty database and not ``create``; a database that is not
            a screening store, is older (run ``screening store upgrade``) or newer than this screening;
            the key is missing or belongs to another store.
    """
    from ._keys import attach_keyring

    conn = PgConnection.connect(url)
    try:
        version = schema_version(conn)
        if version is None:
            if not create:
                raise StoreError(f"there is no case store in {redact(url)} (an empty database); nothing was "
                                 "created. Run `screening store upgrade --store URL` to make one")
            upgrade(conn)
        elif version > PG_SCHEMA_VERSION:
            raise _newer(conn, version)
        elif version < PG_SCHEMA_VERSION:
            raise StoreError(f"the store {redact(url)} has schema version {version}; this screening needs "
                             f"{PG_SCHEMA_VERSION} — run `screening store upgrade` (as the database's owner)")
        ring = attach_keyring(conn, redact(url), keyring)  # type: ignore[arg-type]  # the adapter speaks sqlite3's API
    except BaseException:
        conn.close()
        raise
    return conn, ring
