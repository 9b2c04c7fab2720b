"""Which keys a store is sealed with: attaching a keyring, the v1 upgrade, re-encryption, retirement.

May import: errors, crypto, _dialect, values / stdlib (sqlite3).

A store lists the key ids it is sealed with in ``store_keys``; the schema's
triggers accept a value only under an *active* one. That list is what lets us
say "this store needs key 3f9a…, and your key file has 71c2…" instead of
failing on the first answer, and what makes a stale process (one that loaded
the key file before a rotation finished) fail loudly instead of writing values
nobody can open later.

Key rotation (``rekey`` then ``retire``), and why a crash at any point is safe:

1. The caller first writes the key file with the new key as ``key`` and the old
   one as ``old`` (atomic rename, fsynced): both open values from now on.
2. ``register`` marks the new key active in the store.
3. ``rekey`` re-encrypts values in short transactions (``REKEY_BATCH`` rows),
   walking each table in primary-key order. Every value carries its key id, so
   a store that is half re-encrypted is still fully readable, and running the
   rotation again continues where it stopped. A value keeps its binding and its
   nonce (``Keyring.rekeyed``): the audit trail names each answer and judgement
   by its nonce, so a rotation changes nothing ``audit.verify`` compares.
4. ``retire`` runs in one ``BEGIN IMMEDIATE`` transaction: it re-encrypts any
   value still under an old key (a process that had not seen the new key file
   may have written one meanwhile; no writer can run during this transaction),
   then marks the old keys retired, so the triggers refuse them from then on.
5. Only after every store is done does the caller drop the old key from the
   key file (keeping its audit MAC key). A crash before that leaves an ``old``
   line that is merely unnecessary; the next ``screening key rotate`` finishes.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError
from ._dialect import table_names
from .crypto import FORMAT, HEADER, Keyring, default_keyring, record_store, reset_default_keyring
from .values import ResultKey, binding, encode, now, open_legacy, open_text, seal_text

__all__ = [
    "REKEY_BATCH",
    "Sealed",
    "attach_keyring",
    "current_is_active",
    "identity",
    "pending",
    "register",
    "rekey",
    "reseal_bound",
    "retire",
    "seal_plaintext",
    "sealed_columns",
]

REKEY_BATCH = 2000


@dataclass(frozen=True)
class Sealed:
    """One encrypted column: its table, primary key, and everything its values are bound to.

    Every sealed value is bound to (assessment, revision, field) and, for a derived
    row, to its result key (``binds``: SQL expressions over the row giving the
    instrument hash, rules hash and engine version). Rotation and the schema-4
    upgrade open and seal through ``open``/``seal`` here, so they bind exactly as
    the store's own reads and writes do.
    """

    table: str
    column: str
    key: tuple[str, ...]
    field: str  # a fixed field name, or "answer:" + the item id column
    binds: tuple[str, ...] = ()

    def field_of(self, row: sqlite3.Row) -> str:
        return f"answer:{row['item_id']}" if self.field == "answer:" else self.field

    def columns(self) -> str:
        """The select list: the key, the value as ``v``, the bound result key as ``b0``, ``b1``, …"""
        binds = "".join(f", {expr} AS b{n}" for n, expr in enumerate(self.binds))
        return f"{', '.join(self.key)}, {self.column} AS v{binds}"

    def result_key(self, row: sqlite3.Row) -> ResultKey | tuple[()]:
        if not self.binds:
            return ()
        return (str(row["b0"]), str(row["b1"]), str(row["b2"]))

    def open(self, row: sqlite3.Row, keyring: Keyring) -> bytes:
        return open_text(row["assessment_id"], self.field_of(row), row["v"], revision=int(row["revision"]),
                         key=self.result_key(row), keyring=keyring)

    def rekeyed(self, row: sqlite3.Row, keyring: Keyring) -> bytes:
        """The value under the current key, same binding and same nonce (``Keyring.rekeyed``)."""
        return keyring.rekeyed(row["v"], binding(row["assessment_id"], self.field_of(row), int(row["revision"]),
                                                 self.result_key(row)), self.field_of(row))

    def seal(self, row: sqlite3.Row, text: bytes, keyring: Keyring) -> bytes:
        return seal_text(row["assessment_id"], self.field_of(row), text, revision=int(row["revision"]),
                         key=self.result_key(row), keyring=keyring)


_RESULT_KEY = ("instrument_sha256", "rules_sha256", "engine_version")
_COLUMNS = (
    Sealed("answers", "value", ("assessment_id", "revision", "item_id"), "answer:"),
    Sealed("revisions", "judgement", ("assessment_id", "revision"), "judgement"),
    Sealed("results", "result", ("assessment_id", "revision", *_RESULT_KEY), "result", _RESULT_KEY),
    # The compact outcome of every result (schema 3), bound to the hashes its key id names
    # (not to the id: renumbering outcome_keys must not move an outcome to another key).
    # "rescore" is the field name the batch re-scorer sealed them under first.
    Sealed("outcomes", "outcome", ("assessment_id", "revision", "key"), "rescore",
           tuple(f"(SELECT k.{c} FROM outcome_keys k WHERE k.id = outcomes.key)" for c in _RESULT_KEY)),
)


def sealed_columns(conn: sqlite3.Connection) -> list[Sealed]:
    """The encrypted columns of the tables this store has."""
    tables = set(table_names(conn))
    return [c for c in _COLUMNS if c.table in tables]


def identity(conn: sqlite3.Connection) -> bytes | None:
    """The store's random id (``store_meta``), which the key file records; ``None`` before schema 2."""
    try:
        row = conn.execute("SELECT value FROM store_meta WHERE name = 'store_id'").fetchone()
    except sqlite3.OperationalError:
        return None
    return bytes(row[0]) if row and isinstance(row[0], bytes) else None


def pending(conn: sqlite3.Connection, keyring: Keyring, *, fresh: bool) -> dict[str, int]:
    """Values per table a rotation would re-encrypt (reads only: ``screening key rotate --dry-run``).

    ``fresh``: a new key is to be made, so every value; otherwise (an earlier
    rotation is being finished) those not yet under the current key.
    """
    counts: dict[str, int] = {}
    for col in sealed_columns(conn):
        sql = f"SELECT count(*) FROM {col.table} WHERE {col.column} IS NOT NULL"
        params: tuple[object, ...] = ()
        if not fresh:
            sql += f" AND substr({col.column}, 2, {HEADER - 1}) != ?"
            params = (keyring.current_kid,)
        counts[col.table] = int(conn.execute(sql, params).fetchone()[0])
    return counts


def _keys(conn: sqlite3.Connection) -> dict[bytes, str]:
    return {bytes(kid): state for kid, state in conn.execute("SELECT kid, state FROM store_keys")}


def register(conn: sqlite3.Connection, kid: bytes) -> None:
    """Mark ``kid`` active (inside the caller's write transaction)."""
    conn.execute(
        "INSERT INTO store_keys (kid, state, added_at) VALUES (?, 'active', ?) ON CONFLICT (kid) DO NOTHING",
        (kid, now()),
    )


def current_is_active(conn: sqlite3.Connection, keyring: Keyring) -> bool:
    row = conn.execute("SELECT state FROM store_keys WHERE kid = ?", (keyring.current_kid,)).fetchone()
    return row is not None and row[0] == "active"


def attach_keyring(conn: sqlite3.Connection, path: Path, given: Keyring | None) -> Keyring:
    """The keyring to use with this store, checked against the keys the store is sealed with.

    Without ``given``, the process's default keyring; a key file is created only
    for a store that has no keys yet, so a missing or wrong key file is reported
    instead of silently starting a second key. A cached keyring that a rotation
    in another process has made stale is reloaded once.

    Raises:
        StoreError: no usable key, a key this store does not know while it is sealed
            with another, or a key that was retired for this store.
    """
    for attempt in (1, 2):
        keys = _keys(conn)
        if given is not None:
            ring = given
        else:
            try:
                ring = default_keyring(create=not keys)
            except StoreError as exc:
                if not keys:
                    raise
                needed = ", ".join(k.hex() for k, s in keys.items() if s == "active")
                raise StoreError(f"{exc.message}; the store {path} is encrypted with key {needed}: restore the "
                                 "key file that belongs to it (or point SCREENING_KEY_FILE at it)") from None
        state = keys.get(ring.current_kid)
        active = [k for k, s in keys.items() if s == "active"]
        problem: str | None = None
        if state == "retired":
            problem = (f"the key {ring.current_kid.hex()} from {ring.source} was retired for the store {path} "
                       "by a key rotation; use the rotated key file")
        elif state is None and active and not any(ring.can_open(k) for k in active):
            problem = (f"the store {path} is encrypted with key {', '.join(k.hex() for k in active)}, which "
                       f"{ring.source} does not have (it has {ring.current_kid.hex()}); use the key file that "
                       "belongs to this store")
        if problem is None:
            if state is None:
                _write(conn, functools.partial(register, conn, ring.current_kid))
            store_id = identity(conn)
            if store_id is not None:
                record_store(ring, store_id, path)  # the key file lists the stores a rotation must include
            return ring
        if given is not None or attempt == 2:
            raise StoreError(problem)
        reset_default_keyring()  # another process may have rotated the key file: read it again
    raise AssertionError("unreachable")  # pragma: no cover


def _write(conn: sqlite3.Connection, action: Callable[[], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        action()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def seal_plaintext(conn: sqlite3.Connection, keyring: Keyring) -> int:
    """Encrypt every plaintext value of a version-1 store (inside the upgrade's transaction).

    Returns:
        How many values were sealed.
    """
    register(conn, keyring.current_kid)
    conn.execute("INSERT INTO maintenance (reason) VALUES ('migrate')")
    sealed = 0
    for col in sealed_columns(conn):
        cur = conn.execute(
            f"SELECT {col.columns()} FROM {col.table}"
            f" WHERE {col.column} IS NOT NULL AND typeof({col.column}) = 'text'"
        )
        cur.row_factory = sqlite3.Row
        for row in cur.fetchall():
            value = json.loads(row["v"])
            data = encode(row["assessment_id"], col.field_of(row), value, revision=int(row["revision"]),
                          key=col.result_key(row), keyring=keyring)
            _update(conn, col, row, data)
            sealed += 1
    conn.execute("DELETE FROM maintenance")
    return sealed


def _update(conn: sqlite3.Connection, col: Sealed, row: sqlite3.Row, data: bytes) -> None:
    where = " AND ".join(f"{k} = ?" for k in col.key)
    conn.execute(
        f"UPDATE {col.table} SET {col.column} = ? WHERE {where}",
        (data, *(row[k] for k in col.key)),
    )


def _stale(conn: sqlite3.Connection, col: Sealed, keyring: Keyring, after: tuple[object, ...] | None,
           limit: int | None) -> Iterator[sqlite3.Row]:
    """Rows of ``col`` not sealed under the current key, in key order after ``after``."""
    keys = ", ".join(col.key)
    sql = (f"SELECT {col.columns()} FROM {col.table} WHERE {col.column} IS NOT NULL"
           f" AND substr({col.column}, 2, {HEADER - 1}) != ?")
    params: list[object] = [keyring.current_kid]
    if after is not None:
        sql += f" AND ({keys}) > ({', '.join('?' * len(col.key))})"
        params.extend(after)
    sql += f" ORDER BY {keys}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cur = conn.execute(sql, params)
    cur.row_factory = sqlite3.Row
    yield from cur.fetchall()


def _reseal(conn: sqlite3.Connection, col: Sealed, row: sqlite3.Row, keyring: Keyring) -> None:
    raw = row["v"]
    if not isinstance(raw, bytes) or raw[:1] != FORMAT:
        raise StoreError(f"the stored {col.field_of(row)} is not encrypted; refusing to trust it",
                         row["assessment_id"])
    try:
        data = col.rekeyed(row, keyring)
    except StoreError as exc:
        raise StoreError(exc.message, row["assessment_id"]) from None
    _update(conn, col, row, data)


def rekey(conn: sqlite3.Connection, keyring: Keyring, *, batch: int = REKEY_BATCH) -> int:
    """Re-encrypt every value not under the current key, ``batch`` rows a transaction.

    Returns:
        How many values were re-encrypted.

    Raises:
        StoreError: a value cannot be opened with any key of ``keyring``.
    """
    _write(conn, lambda: register(conn, keyring.current_kid))
    done = 0
    for col in sealed_columns(conn):
        after: tuple[object, ...] | None = None
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = list(_stale(conn, col, keyring, after, batch))
                conn.execute("INSERT INTO maintenance (reason) VALUES ('rekey')")
                for row in rows:
                    _reseal(conn, col, row, keyring)
                conn.execute("DELETE FROM maintenance")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            done += len(rows)
            if len(rows) < batch:
                break
            after = tuple(rows[-1][k] for k in col.key)
    return done


def retire(conn: sqlite3.Connection, keyring: Keyring) -> tuple[int, list[bytes]]:
    """Re-encrypt stragglers and retire every other key, in one write transaction (call inside one).

    Returns:
        (values re-encrypted now, key ids retired).
    """
    conn.execute("INSERT INTO maintenance (reason) VALUES ('rekey')")
    late = 0
    for col in sealed_columns(conn):
        for row in _stale(conn, col, keyring, None, None):
            _reseal(conn, col, row, keyring)
            late += 1
    conn.execute("DELETE FROM maintenance")
    old = [k for k, s in _keys(conn).items() if s == "active" and k != keyring.current_kid]
    conn.executemany(
        "UPDATE store_keys SET state = 'retired', retired_at = ? WHERE kid = ?", [(now(), k) for k in old]
    )
    return late, old


def reseal_bound(conn: sqlite3.Connection, keyring: Keyring, *, batch: int = REKEY_BATCH) -> int:
    """Schema 3 → 4: seal every value again bound to its revision and result key (inside the upgrade's transaction).

    Values of schema 3 are bound to (assessment, field) only (``open_legacy``). A
    value that an earlier step of the same upgrade already sealed under the new
    binding (the v1 sealing, the v3 outcomes) opens as it is and is left alone;
    anything else that does not open is an error and the upgrade rolls back. Each
    table is walked in key order, ``batch`` rows at a time, so memory stays flat.

    Returns:
        How many values were sealed again.
    """
    register(conn, keyring.current_kid)
    conn.execute("INSERT INTO maintenance (reason) VALUES ('migrate')")
    done = 0
    for col in sealed_columns(conn):
        keys = ", ".join(col.key)
        after: tuple[object, ...] | None = None
        while True:
            sql = f"SELECT {col.columns()} FROM {col.table} WHERE {col.column} IS NOT NULL"
            params: list[object] = []
            if after is not None:
                sql += f" AND ({keys}) > ({', '.join('?' * len(col.key))})"
                params.extend(after)
            cur = conn.execute(sql + f" ORDER BY {keys} LIMIT {int(batch)}", params)
            cur.row_factory = sqlite3.Row
            rows = cur.fetchall()
            for row in rows:
                raw = row["v"]
                if not isinstance(raw, bytes):
                    raise StoreError(f"the stored {col.field_of(row)} is not encrypted; refusing to trust it",
                                     row["assessment_id"])
                try:
                    text = open_legacy(row["assessment_id"], col.field_of(row), raw, keyring=keyring)
                except StoreError:
                    col.open(row, keyring)  # already bound (sealed earlier in this upgrade), or an error
                    continue
                _update(conn, col, row, col.seal(row, text, keyring))
                done += 1
            if len(rows) < batch:
                break
            after = tuple(rows[-1][k] for k in col.key)
    conn.execute("DELETE FROM maintenance")
    return done
