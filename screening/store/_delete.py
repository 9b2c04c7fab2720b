"""Deleting an assessment so that nothing readable of it stays in the database file or its WAL.

May import: errors, _dialect / stdlib (sqlite3).

Deletion is the one path allowed through the freeze triggers: inside the
delete transaction a ``maintenance`` row says "delete", the triggers let the
rows go, and the row is removed before COMMIT. Every table with an
``assessment_id`` column is cleared (so tables added later, such as the batch
re-scorer's, are not forgotten), children before ``revisions`` before
``assessments``. The audit trail is kept: it holds only the pseudonym.

Why ``scrub`` does three things: ``secure_delete`` (set at connect) overwrites
the deleted cells in their pages; the WAL still holds older copies of those
pages until a checkpoint, so ``wal_checkpoint(TRUNCATE)`` copies them back and
empties the WAL; ``VACUUM`` rebuilds the file so no free page keeps a fragment,
and a second checkpoint truncates the WAL that VACUUM itself wrote. Another
process holding a read transaction can stop the checkpoint (SQLite reports
"busy"); ``scrub`` then says so instead of claiming success. What the file
system does with freed blocks is outside SQLite's reach (values are encrypted
in any case).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StoreError
from ._dialect import column_names, is_pg, table_names

__all__ = ["delete_rows", "scrub"]

_LAST = ("revisions", "assessments")


def _tables_with_assessment(conn: sqlite3.Connection) -> list[str]:
    found = []
    for name in table_names(conn):
        if name in (*_LAST, "audit") or not name.replace("_", "").isalnum():
            continue
        if "assessment_id" in column_names(conn, name):
            found.append(name)
    return found


def delete_rows(conn: sqlite3.Connection, assessment_id: str) -> int:
    """Delete one assessment's rows everywhere but the audit trail (inside the caller's transaction).

    Returns:
        How many rows were deleted.
    """
    conn.execute("INSERT INTO maintenance (reason) VALUES ('delete')")
    deleted = 0
    for table in _tables_with_assessment(conn):
        deleted += conn.execute(f"DELETE FROM {table} WHERE assessment_id = ?", (assessment_id,)).rowcount
    deleted += conn.execute("DELETE FROM revisions WHERE assessment_id = ?", (assessment_id,)).rowcount
    deleted += conn.execute("DELETE FROM assessments WHERE id = ?", (assessment_id,)).rowcount
    conn.execute("DELETE FROM maintenance")
    return deleted


def scrub(conn: sqlite3.Connection, path: Path) -> bool:
    """Checkpoint, VACUUM and truncate the WAL; ``True`` if nothing of the old pages remains in the files.

    On PostgreSQL, ``VACUUM`` of the tables a deletion touches makes the dead rows' space
    reusable, but the server's WAL, its archive and every backup keep older pages as long
    as they are kept, so ``False`` is returned: the values there are sealed, the case
    reference and dates are not (docs/postgresql.md).

    Raises:
        StoreError: VACUUM failed (disk full, or the store is busy).
    """
    if is_pg(conn):
        try:
            for table in (*_tables_with_assessment(conn), *_LAST):
                conn.execute(f"VACUUM {table}")
        except sqlite3.Error as exc:
            raise StoreError(f"the deleted data was removed, but the tables could not be vacuumed ({exc}); "
                             "ask the database administrator to run VACUUM") from None
        return False
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"the deleted data was removed, but the store could not be compacted ({exc}); "
                         "run screening cases delete again when no other screening is running") from None
    try:
        wal_empty = Path(f"{path}-wal").stat().st_size == 0
    except FileNotFoundError:
        wal_empty = True
    return busy == 0 and wal_empty
