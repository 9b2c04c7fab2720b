"""A damaged store: say what is damaged (table, row, column), never what it holds.

May import: stdlib (sqlite3, re).

A flipped bit on disk, a bad copy or an edit with another tool can leave a text
column holding bytes that are not UTF-8, or pages SQLite calls malformed. The
stdlib's error for the first quotes the bytes ("Could not decode to UTF-8 column
'actor' with text '…'"), which is the data itself; ``safe_reason`` drops it. When
a read fails like that, ``damage_message`` looks for the damaged rows, reading
every text value as bytes (so it never stops at the bad one), and names them by
table, row id or assessment id, revision and column, for whoever restores the
store. Nothing here writes: a damaged store is reported, never "repaired".
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

__all__ = ["damage_message", "describe_damage", "find_damage", "is_damage", "safe_reason"]

_DECODE = re.compile(r"Could not decode to UTF-8 column '(?P<column>[^']*)' with text", re.DOTALL)
SQLITE_CORRUPT = 11  # not SQLITE_NOTADB: a file that is no database at all is not a damaged store
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def safe_reason(exc: BaseException) -> str:
    """SQLite's words for a failure, without any data the message quotes.

    SQLite's own messages name the failure (disk full, I/O error, a constraint)
    and never a value; the one the stdlib adds for bytes that are not UTF-8
    quotes them, so it is replaced by the column's name alone.
    """
    text = str(exc) or type(exc).__name__
    found = _DECODE.match(text)
    if found:
        return f"column {_clean(found['column'])} holds bytes that are not text: the store is damaged"
    return text


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` says the store is damaged (bad text, malformed pages), not busy, full or no database.

    A ``UnicodeDecodeError`` is damage too: the stdlib raises it when SQLite's own
    message is not text, which happens when it quotes a damaged schema.
    """
    if isinstance(exc, UnicodeDecodeError):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    if _DECODE.match(str(exc)):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return code == SQLITE_CORRUPT or "malformed" in str(exc).lower()


def damage_message(conn: sqlite3.Connection, exc: BaseException, path: Path | str | None = None) -> str | None:
    """A message naming what is damaged, or ``None`` if ``exc`` is not about damage.

    Reads the whole store when it has to (only on this error path); never raises.
    """
    where = describe_damage(conn, exc)
    if where is None:
        return None
    store = f"the store {path}" if path is not None else "the store"
    return (f"{store} is damaged ({where}); nothing was changed. Restore it from a backup; "
            "`screening audit verify` still checks what it can read")


def describe_damage(conn: sqlite3.Connection, exc: BaseException) -> str | None:
    """Where the store is damaged ("table audit, record 3, column actor"), or ``None`` if ``exc`` is not damage.

    Never raises: if the damaged places cannot be found, SQLite's (safe) words are used.
    """
    if not is_damage(exc):
        return None
    if isinstance(exc, UnicodeDecodeError):
        return "its schema (the table definitions) does not read as text"
    found = _DECODE.match(str(exc))
    column = found["column"] if found else None
    try:
        places = list(find_damage(conn, column, limit=4))
        if not places and column is not None:
            places = list(find_damage(conn, None, limit=4))  # the column had another name in the query
        if not places:
            places = _quick_check(conn)
    except (sqlite3.Error, UnicodeDecodeError):
        places = []
    if not places:
        return safe_reason(exc)
    return "; ".join(places[:3]) + (" and more" if len(places) > 3 else "")


def find_damage(conn: sqlite3.Connection, column: str | None = None, *, limit: int = 10) -> Iterator[str]:
    """Where text values are not valid UTF-8: "table audit, record 3, column actor" (never the value).

    ``column`` limits the search to columns of that name. At most ``limit`` places.

    Raises:
        sqlite3.Error: the store cannot be read at all.
    """
    count = 0
    for table in _tables(conn):
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        wanted = [c for c in columns if column is None or c == column]
        if not wanted:
            continue
        for place in _scan(conn, table, columns, wanted):
            yield place
            count += 1
            if count >= limit:
                return


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = 'table' ORDER BY rootpage")
    names = [bytes(r[0]).decode("utf-8", "replace") for r in rows]
    return [n for n in names if _NAME.fullmatch(n) and not n.startswith("sqlite_")]


def _scan(conn: sqlite3.Connection, table: str, columns: list[str], wanted: list[str]) -> Iterator[str]:
    """The damaged (row, column) places of one table, in key order."""
    try:
        conn.execute(f'SELECT rowid FROM "{table}" LIMIT 0')
        rowid = True
    except sqlite3.OperationalError:  # a WITHOUT ROWID table: rows are named by their position
        rowid = False
    ids: list[str] = [c for c in ("assessment_id", "revision") if c in columns]
    if table == "assessments":
        ids = ["id"]
    # Ids are read as bytes (one may be the damaged value); the revision is a number.
    select = [("rowid" if rowid else "NULL"), *(c if c == "revision" else f'CAST("{c}" AS BLOB)' for c in ids)]
    select += [f'typeof("{c}"), CAST("{c}" AS BLOB)' for c in wanted]
    sql = f'SELECT {", ".join(select)} FROM "{table}"'
    if rowid:
        sql += " WHERE " + " OR ".join(f"typeof(\"{c}\") = 'text'" for c in wanted)
    for position, row in enumerate(conn.execute(sql), 1):
        values = row[1 + len(ids):]
        for n, name in enumerate(wanted):
            kind, raw = values[2 * n], values[2 * n + 1]
            if kind == "text" and isinstance(raw, bytes) and not _is_text(raw):
                yield _place(table, row[0], position, dict(zip(ids, row[1:1 + len(ids)], strict=True)), name)


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _place(table: str, rowid: int | None, position: int, ids: dict[str, object], column: str) -> str:
    parts = [f"table {table}"]
    aid = ids.get("assessment_id", ids.get("id"))
    if isinstance(aid, bytes) and _HEX_ID.fullmatch(aid.decode("ascii", "replace")) and column not in ids:
        parts.append(f"assessment {aid.decode('ascii')}")
        if isinstance(ids.get("revision"), int):
            parts.append(f"revision {ids['revision']}")
    elif table == "audit" and rowid is not None:
        parts.append(f"record {rowid}")
    else:
        parts.append(f"row {rowid}" if rowid is not None else f"row {position} in key order")
    parts.append(f"column {column}")
    return ", ".join(parts)


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own account of malformed pages (trees and pages, never values), table names for tree numbers."""
    roots = {int(r[1]): bytes(r[0]).decode("utf-8", "replace") for r in
             conn.execute("SELECT CAST(name AS BLOB), rootpage FROM sqlite_schema WHERE rootpage > 0")}
    lines = [bytes(r[0]).decode("utf-8", "replace") for r in conn.execute("SELECT CAST(quick_check AS BLOB) FROM "
                                                                           "pragma_quick_check(4)")]
    lines = [line for line in lines if line != "ok" and not line.startswith("***")]

    def named(match: re.Match[str]) -> str:
        name = roots.get(int(match[1]))
        return f"table {_clean(name)}" if name else match[0]

    return [_clean(re.sub(r"Tree (\d+)", named, line))[:200] for line in lines]


def _clean(text: str) -> str:
    """Names only: letters, digits and a little punctuation (a column alias such as ``min(id)``)."""
    return re.sub(r"[^A-Za-z0-9_ .,:()=-]", "?", text)
