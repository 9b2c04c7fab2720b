"""What the store asks its database about itself, on either backend: its tables and their columns.

May import: stdlib (sqlite3).

SQLite answers from ``sqlite_schema`` and ``PRAGMA table_info``; PostgreSQL from
``information_schema`` (``_pg.PgConnection``, which says so by its ``dialect``). The
deletion, key rotation and audit code look tables up rather than list them, so that a
table added later (``outcomes``, and whatever comes next) is deleted and rotated too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

__all__ = ["column_names", "is_pg", "rows", "table_names"]


def is_pg(conn: object) -> bool:
    """Whether ``conn`` is a PostgreSQL store connection (``_pg.PgConnection``)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def table_names(conn: sqlite3.Connection) -> list[str]:
    """The store's tables, sorted by name."""
    if is_pg(conn):
        # pg_tables, not information_schema: the latter hides tables this account may not read
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    else:
        sql = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
    return [str(r[0]) for r in conn.execute(sql)]


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of ``table`` (a plain identifier), in order."""
    if not table.replace("_", "").isalnum():
        raise ValueError("a table name is a plain identifier")
    if is_pg(conn):
        rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0"
                            " AND NOT attisdropped ORDER BY attnum", (table,))
        return [str(r[0]) for r in rows]
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]


def rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> Iterator[Any]:
    """The rows of a query that may be large (the whole audit trail, every answer), as they come.

    SQLite's cursor steps through them already. PostgreSQL's adapter fetches a result
    whole, so a scan goes through a server-side cursor, in a read-only snapshot of its own
    unless the caller is in a transaction already.
    """
    if not is_pg(conn):
        return iter(conn.execute(sql, params))
    return _pg_rows(conn, sql, params)


def _pg_rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> Iterator[Any]:
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield from conn.stream(sql, params)  # type: ignore[attr-defined]  # a PgConnection
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")
