"""Move a case store between SQLite and PostgreSQL (either way), and upgrade a store's schema.

May import: errors, audit, values, _base (``StoreBase``), _dialect, _pg, _pgschema, _schema, _store / stdlib.

Why the copy is byte for byte and keeps the store's id: a store's values are sealed
bound to (assessment, revision, field, result key) — not to the database — so their
ciphertexts open wherever they are; and its audit trail is one HMAC chain that starts
from the store's id (``store_meta``). Re-sealing or re-chaining would make the copy a
different store whose history nobody could check against checkpoints kept earlier. So
the copy *is* the store, moved: same id, same keys, same chain, which ``audit.verify``
re-checks in the destination, from record 1, before the copy is reported done. Its one
new record, a ``migrate`` appended in the copy's transaction, says where it came from.

Why the destination must be empty: merging two chains is not a thing a chain can do.

Order matters because the destination's triggers hold during the copy: keys first
(values are accepted only under an active key), each revision as a draft until its
answers are in and then completed (a completed revision takes no new answers), results
and outcomes (outcome key ids renumbered: they are the destination's own), and the
audit trail as it is. One transaction: a copy that fails leaves the destination empty.
The source is read in one snapshot (a read transaction), in key order, in batches.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import StoreError
from . import audit as _audit
from ._base import StoreBase
from ._dialect import is_pg
from .values import outcome_key

__all__ = ["CopyCounts", "copy_store", "upgrade_store"]

BATCH = 5000

_TABLES = ("assessments", "revisions", "answers", "results", "outcomes", "audit", "accounts", "api_tokens",
           "case_teams")
# Browser sessions are not copied: they belong to a running server, and a moved store makes
# everyone sign in again (their tokens, accounts and case teams move with the store).


@dataclass(frozen=True)
class CopyCounts:
    """Rows copied per table (and found in the destination afterwards)."""

    assessments: int
    revisions: int
    answers: int
    results: int
    outcomes: int
    audit: int
    accounts: int
    api_tokens: int
    case_teams: int
    checkpoint: str


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _rows(conn: sqlite3.Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    """A large query's rows as they come (a server-side cursor on PostgreSQL)."""
    if is_pg(conn):
        yield from conn.stream(sql, ())  # type: ignore[attr-defined]  # a PgConnection
    else:
        yield from conn.execute(sql)


def _batched(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(row))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_store(src: StoreBase, dst: StoreBase) -> CopyCounts:
    """Copy every row of ``src`` into the empty store ``dst``, verify the copy's audit trail, count.

    Raises:
        StoreError: the source's audit trail does not verify (nothing copied); the
            destination is not empty; the copy failed (the destination is left as it was);
            the copy's counts or audit trail differ from the source's.
    """
    found = _audit.verify(src)
    if not found.ok:
        raise StoreError(f"the source's audit trail does not verify ({found.reason}); nothing was copied")
    s, d = src.connection, dst.connection
    if any(_count(d, t) for t in _TABLES):
        raise StoreError(f"the destination {dst.path} is not empty; a store is copied only into a new, empty one")
    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if is_pg(s) else "BEGIN")  # one snapshot
    try:
        with dst._write("the copy") as conn:
            _copy_rows(s, conn)
            n = _count(conn, "assessments")
            dst._pending.append(_audit.Event(
                "migrate", detail=f"copied from a {'PostgreSQL' if is_pg(s) else 'SQLite'} store: {n} assessments"))
        expected = {t: _count(s, t) for t in _TABLES}
    finally:
        if s.in_transaction:
            s.execute("ROLLBACK")
    got = {t: _count(d, t) for t in _TABLES}
    expected["audit"] += 1  # the copy's own record
    if got != expected:
        raise StoreError(f"the copy's counts differ from the source's ({got} against {expected}); do not use it")
    check = _audit.verify(dst)
    if not check.ok:
        raise StoreError(f"the copy's audit trail does not verify ({check.reason}); do not use it")
    return CopyCounts(**{t: got[t] for t in _TABLES}, checkpoint=str(check.checkpoint))


def _copy_rows(s: sqlite3.Connection, d: sqlite3.Connection) -> None:
    """Every row, in the order the destination's triggers accept (see the module docstring)."""
    (store_id,) = s.execute("SELECT value FROM store_meta WHERE name = 'store_id'").fetchone()
    d.execute("UPDATE store_meta SET value = ? WHERE name = 'store_id'", (bytes(store_id),))
    for kid, state, added, retired in s.execute("SELECT kid, state, added_at, retired_at FROM store_keys"):
        d.execute("INSERT INTO store_keys (kid, state, added_at, retired_at) VALUES (?, ?, ?, ?)"
                  " ON CONFLICT (kid) DO UPDATE SET state = excluded.state, retired_at = excluded.retired_at",
                  (bytes(kid), state, added, retired))
    columns = "id, case_ref, instrument_id, instrument_path, assessor, lang, current_revision, created_at, updated_at"
    for batch in _batched(_rows(s, f"SELECT {columns} FROM assessments ORDER BY rowid")):
        d.executemany(f"INSERT INTO assessments ({columns}) VALUES ({', '.join('?' * 9)})", batch)
    columns = "assessment_id, revision, instrument_version, instrument_sha256, judgement, created_at"
    completed: list[tuple[Any, ...]] = []
    for batch in _batched(_rows(s, f"SELECT {columns}, status, completed_at FROM revisions"
                                   " ORDER BY assessment_id, revision")):
        d.executemany(f"INSERT INTO revisions ({columns}, status) VALUES (?, ?, ?, ?, ?, ?, 'draft')",
                      [(*r[:4], None if r[4] is None else bytes(r[4]), r[5]) for r in batch])
        completed.extend((r[7], r[0], r[1]) for r in batch if r[6] == "completed")
    columns = "assessment_id, revision, item_id, value, partial, answered_at"
    for batch in _batched(_rows(s, f"SELECT {columns} FROM answers ORDER BY assessment_id, revision, item_id")):
        d.executemany(f"INSERT INTO answers ({columns}) VALUES (?, ?, ?, ?, ?, ?)",
                      [(*r[:3], bytes(r[3]), *r[4:]) for r in batch])
    for start in range(0, len(completed), BATCH):
        d.executemany("UPDATE revisions SET status = 'completed', completed_at = ? WHERE assessment_id = ?"
                      " AND revision = ?", completed[start:start + BATCH])
    columns = ("assessment_id, revision, instrument_sha256, rules_sha256, engine_version, result, result_sha256,"
               " created_at")
    for batch in _batched(_rows(s, f"SELECT {columns} FROM results ORDER BY assessment_id, revision")):
        d.executemany(f"INSERT INTO results ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      [(*r[:5], bytes(r[5]), *r[6:]) for r in batch])
    ids = {int(r[0]): outcome_key(d, r[1], r[2], r[3], r[4]) for r in s.execute(
        "SELECT id, instrument_sha256, rules_sha256, engine_version, instrument_version FROM outcome_keys")}
    for batch in _batched(_rows(s, "SELECT assessment_id, revision, key, outcome, result_sha256, created_at"
                                   " FROM outcomes ORDER BY assessment_id, revision, key")):
        d.executemany("INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      [(r[0], r[1], ids[int(r[2])], bytes(r[3]), *r[4:]) for r in batch])
    columns = "name, role, team, password_hash, scopes, disabled, created_at, updated_at"
    for batch in _batched(_rows(s, f"SELECT {columns} FROM accounts ORDER BY name")):
        d.executemany(f"INSERT INTO accounts ({columns}) VALUES ({', '.join('?' * 8)})", batch)
    columns = "id, account, token_sha256, scopes, created_at, revoked_at"
    for batch in _batched(_rows(s, f"SELECT {columns} FROM api_tokens ORDER BY id")):
        d.executemany(f"INSERT INTO api_tokens ({columns}) VALUES (?, ?, ?, ?, ?, ?)",
                      [(r[0], r[1], bytes(r[2]), *r[3:]) for r in batch])
    for batch in _batched(_rows(s, "SELECT assessment_id, team FROM case_teams ORDER BY assessment_id")):
        d.executemany("INSERT INTO case_teams (assessment_id, team) VALUES (?, ?)", batch)
    columns = "seq, at, actor, action, assessment, case_ref, detail, outcome, kid, mac, seal"
    for batch in _batched(_rows(s, f"SELECT {columns} FROM audit ORDER BY seq")):
        d.executemany(f"INSERT INTO audit ({columns}) VALUES ({', '.join('?' * 11)})",
                      [(*r[:8], bytes(r[8]), bytes(r[9]), None if r[10] is None else bytes(r[10]))
                       for r in batch])


def upgrade_store(where: object) -> tuple[str, int, int]:
    """Bring a store's schema up to this screening's, forward only: (backend, version before, after).

    PostgreSQL: the migrations in ``pg/`` newer than the database's, each in its own
    transaction (an empty database gets the whole schema). SQLite: opening the store
    runs its upgrades, each in one transaction, after the key was checked (``_schema``).

    Raises:
        StoreError: no store there; a schema newer than this screening; a failed migration
            (rolled back; the store stays at the last version that was applied).
    """
    from pathlib import Path

    from ._pg import PgConnection, is_url
    from ._schema import SCHEMA_VERSION

    if is_url(where):
        from ._pgschema import upgrade

        conn = PgConnection.connect(str(where))
        try:
            before, after = upgrade(conn)
        finally:
            conn.close()
        return "PostgreSQL", before, after
    from ._store import Store

    path = Path(str(where)).expanduser()
    if not path.is_file():
        raise StoreError(f"there is no case store at {path}; nothing was created")
    try:
        probe = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            before = int(probe.execute("PRAGMA user_version").fetchone()[0])
        finally:
            probe.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store {path} ({exc})") from None
    Store.open(path).close()  # upgrades (or refuses a newer store) as every open does
    return "SQLite", before, max(before, SCHEMA_VERSION)
