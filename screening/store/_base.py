"""The store's connection and transactions: locks, ``BEGIN IMMEDIATE … COMMIT`` with audit records, keys.

May import: errors, crypto, audit, _damage, _dialect, _keys, _lock, _pg, values, _delete / stdlib.

Split from ``store.py`` so the assessment methods read as the domain they are,
and every durability and accountability rule of a write lives in one place
(``_write``): the draft's lock is respected, the store's key is still the one
it accepts, the action's audit records are appended just before COMMIT (so
action and record commit or vanish together), and a refused or failed write
leaves a "refused"/"failed" record in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from ..errors import StoreError
from . import audit as _audit
from ._damage import damage_message, safe_reason
from ._delete import delete_rows, scrub
from ._dialect import is_pg
from ._keys import current_is_active, rekey, retire
from ._lock import AssessmentLock, Identity, probe
from ._pg import ServerGone
from ._trail import clean_actor
from .crypto import Keyring, default_keyring, reset_default_keyring
from .values import reason

__all__ = ["StoreBase"]


class _Gate(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class _NoGate:
    """The default: a ``Store`` used alone needs no queue of its own."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


_NO_GATE = _NoGate()


class _PgDraft:
    """A draft's lock on PostgreSQL: a session advisory lock of the store's connection (``_pg``)."""

    def __init__(self, conn: sqlite3.Connection, assessment_id: str) -> None:
        self._conn = conn
        self.assessment_id = assessment_id

    def acquire(self) -> None:
        self._conn.lock_draft(self.assessment_id)  # type: ignore[attr-defined]  # a PgConnection

    def release(self) -> None:
        self._conn.unlock_draft(self.assessment_id)  # type: ignore[attr-defined]


class StoreBase:
    """Connection, locks, transactions and the audit trail of a ``Store``."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path | str, *, keyring: Keyring | None = None, actor: str | None = None
    ) -> None:
        self._conn = conn
        # The SQLite file; on PostgreSQL (``_pg``) the URL without its password, for messages.
        self.path = path
        # On PostgreSQL a draft's lock is an advisory lock of this store's session (``_pg``).
        self._pg = is_pg(conn)
        self._locks: dict[str, AssessmentLock | _PgDraft] = {}
        self._keyring = keyring or default_keyring()
        self._given_key = keyring is not None
        self._actor = clean_actor(actor) if actor else _audit.default_actor()
        self._pending: list[_audit.Event] = []
        # Threads of one process that each hold a ``Store`` on the same file (the server's
        # worker threads) queue here in order instead of in SQLite's busy handler, which
        # retries with sleeps and lets a thread starve past the busy timeout under load.
        self.write_gate: _Gate = _NO_GATE
        # (st_dev, st_ino) of the database when it was opened: a draft lock is taken only
        # while ``path`` still names this database (see ``_lock``); ``None``: unchecked.
        self._identity: Identity | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (for ``audit`` and maintenance; do not write to it directly)."""
        return self._conn

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    @property
    def actor(self) -> str:
        """Who the audit trail names for this store's actions (staff, never the client)."""
        return self._actor

    def close(self) -> None:
        for lock in list(self._locks.values()):
            lock.release()
        self._locks.clear()
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def lock(self, assessment_id: str) -> None:
        """Claim the draft for this process until ``unlock`` or ``close``.

        The lock hangs on the store's resolved path, and is taken only while that
        path still names the database this ``Store`` opened (see ``_lock``).

        Raises:
            AssessmentLocked: another process or ``Store`` has it open.
            StoreError: the store file was moved or replaced, or got a second name.
        """
        if assessment_id not in self._locks:
            lock: AssessmentLock | _PgDraft = (
                _PgDraft(self._conn, assessment_id) if self._pg
                else AssessmentLock(Path(self.path), assessment_id, self._identity))
            lock.acquire()
            self._locks[assessment_id] = lock

    def unlock(self, assessment_id: str) -> None:
        lock = self._locks.pop(assessment_id, None)
        if lock is not None:
            lock.release()

    # ------------------------------------------------------------------ transactions

    def _commit(self) -> None:
        """COMMIT, on its own so tests can make it fail like a disk would."""
        self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _write(
        self, what: str, assessment_id: str | None = None, event: _audit.Event | None = None
    ) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE … COMMIT`` with its audit records; returns only after COMMIT.

        ``event`` (and any the body adds to ``_pending``) is appended to the audit
        trail just before COMMIT. Any failure rolls back and becomes a ``StoreError``
        saying nothing was saved, so the caller can keep the value in memory and
        offer to try again; a refusal is then recorded as such, in its own transaction.
        """
        self.write_gate.acquire()
        self._pending = [event] if event is not None else []
        conn = self._conn
        try:
            held = assessment_id is None or assessment_id in self._locks
            if not held and not self._pg:
                probe(Path(self.path), assessment_id, self._identity)  # type: ignore[arg-type]  # not None: held
            conn.execute("BEGIN IMMEDIATE")
            if not held and self._pg:  # inside the transaction: shared with readers, until COMMIT
                conn.probe_draft(assessment_id)  # type: ignore[attr-defined]  # a PgConnection
            self._check_key(conn)
            yield conn
            if self._pending:
                _audit.append(conn, self._keyring, self._pending, actor=self._actor)
            self._commit()
        except BaseException as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, StoreError | sqlite3.Error):
                self._record_failure("refused" if isinstance(exc, StoreError) else "failed")
            if isinstance(exc, ServerGone):  # said in both languages: the interview shows it to the caseworker
                raise StoreError(f"databasservern svarar inte, så det sparades inte; försök igen när den är "
                                 f"tillbaka / {what} was not saved ({reason(exc)}); try again when the database "
                                 "server is back", assessment_id) from None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{what} was not saved ({reason(exc)}); try again", assessment_id) from None
            raise
        finally:
            self._pending = []
            self.write_gate.release()

    def _record_failure(self, outcome: str) -> None:
        """Best effort: a refused or failed action leaves a record too (never more than that)."""
        events = [dataclasses.replace(e, outcome=outcome) for e in self._pending]
        if not events:
            return
        with contextlib.suppress(StoreError, sqlite3.Error):
            _audit.record_many(self._conn, events, actor=self._actor, keyring=self._keyring)

    def _check_key(self, conn: sqlite3.Connection) -> None:
        """Seal only under a key the store still accepts; reload once after a rotation elsewhere."""
        if current_is_active(conn, self._keyring):
            return
        if not self._given_key:
            reset_default_keyring()
            with contextlib.suppress(StoreError):
                ring = default_keyring(create=False)
                if current_is_active(conn, ring):
                    self._keyring = ring
                    return
        raise StoreError("the store's key was rotated while screening was running; nothing was saved — "
                         "start screening again")

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        try:
            cur = self._conn.execute(sql, params)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # damage is named by table, row and column, never shown
            raise StoreError(damage_message(self._conn, exc, self.path)
                             or f"the store could not be read ({safe_reason(exc)})") from None

    # ------------------------------------------------------------------ audit, deletion, keys

    def audit(
        self, action: str, assessment_id: str | None = None, *, detail: str = "", outcome: str = "ok"
    ) -> _audit.Checkpoint:
        """Record an action that changes nothing else (a view, report or export) in its own transaction.

        Raises:
            StoreError: a malformed event, or the record could not be written.
        """
        with self._write(f"the audit record of {action}", None, _audit.Event(action, assessment_id, detail, outcome)):
            pass
        return self.checkpoint()

    def checkpoint(self) -> _audit.Checkpoint:
        """The audit trail's checkpoint, for the caseworker to keep outside the store."""
        return _audit.checkpoint(self._conn)

    def delete_assessment(self, assessment_id: str, *, compact: bool = True) -> bool:
        """Delete an assessment, its revisions, answers and results; keep its (pseudonymous) audit records.

        Args:
            assessment_id: the assessment.
            compact: checkpoint, VACUUM and truncate the WAL afterwards (``scrub``);
                pass ``False`` when deleting several and call ``scrub()`` once.

        Returns:
            Whether the store was compacted with nothing left in the WAL (``False`` when
            another process kept it busy, or ``compact`` was off).

        Raises:
            AssessmentLocked: it is open in an interview elsewhere.
            StoreError: no such assessment, or the deletion failed (nothing was deleted).
        """
        self.lock(assessment_id)
        try:
            with self._write("the deletion", assessment_id, _audit.Event("delete", assessment_id)) as conn:
                row = conn.execute("SELECT case_ref FROM assessments WHERE id = ?", (assessment_id,)).fetchone()
                if row is None:
                    raise StoreError("no such assessment", assessment_id)
                rows = delete_rows(conn, assessment_id)
                self._pending[0] = _audit.Event("delete", assessment_id, f"{rows} rows", case_ref=row[0])
        finally:
            self.unlock(assessment_id)
        return self.scrub() if compact else False

    def scrub(self) -> bool:
        """Compact the file and empty the WAL so deleted data leaves no readable trace (see ``_delete``)."""
        return scrub(self._conn, Path(self.path))

    def rekey(self) -> int:
        """Re-encrypt every value not under the current key, in short transactions (see ``_keys``)."""
        try:
            return rekey(self._conn, self._keyring)
        except sqlite3.Error as exc:
            raise StoreError(f"the re-encryption stopped ({reason(exc)}); run it again to continue") from None

    def retire_keys(self) -> tuple[int, list[bytes]]:
        """Finish a rotation: re-encrypt stragglers and retire the old keys, in one transaction.

        Returns:
            (values re-encrypted now, key ids retired).
        """
        with self._write("the key rotation", None, _audit.Event("rekey")) as conn:
            late, old = retire(conn, self._keyring)
            # The new key is named by the record's own key id (its MAC key); hex ids can hold
            # digit runs that look like a personnummer, which a detail may never contain.
            self._pending[0] = _audit.Event("rekey", detail=f"to the current key; retired {len(old)}; "
                                            f"{late} late values")
        return late, old

