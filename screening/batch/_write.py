"""The re-scorer's writes: one chunk's derived rows in one transaction, and the run's audit record.

May import: errors, the store's values, crypto and audit, this package's _score and
_store (``Row``) / stdlib (sqlite3). Why rows are written per range of ids, and what
is stored per assessment: see ``_store``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from ..store.crypto import Keyring, default_keyring
from ..store.values import OutcomeKeys, canonical, encode, now, outcome_key, reason, seal_text
from ._score import Outcome
from ._store import Row

if TYPE_CHECKING:
    from ._rescorer import Rescored, Unchanged

__all__ = ["make_row", "record_run", "write_rows"]


def write_rows(
    conn: sqlite3.Connection,
    rows: Sequence[Sequence[Any]],
    *,
    commit: Callable[[], None] | None = None,
    keyring: Keyring | None = None,
) -> int:
    """Insert one chunk's rows in one transaction; return how many were new.

    Raises:
        StoreError: nothing of the chunk was written (the re-run will do it).
    """
    if not rows:
        return 0
    created = now()
    ring = keyring or default_keyring(create=False)
    try:
        conn.execute("BEGIN IMMEDIATE")
        known: OutcomeKeys = {}
        cur = conn.executemany(
            "INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(r[0], r[1], outcome_key(conn, r[2], r[3], r[4], r[5], known),
              seal_text(r[0], "rescore", r[6], revision=r[1], key=(r[2], r[3], r[4]), keyring=ring), r[8], created)
             for r in rows],
        )
        stored = cur.rowcount
        full = [r for r in rows if r[7] is not None]
        if full:
            conn.executemany(
                "INSERT INTO results (assessment_id, revision, instrument_sha256, rules_sha256, engine_version,"
                " result, result_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(r[0], r[1], r[2], r[3], r[4],
                  encode(r[0], "result", r[7], revision=r[1], key=(r[2], r[3], r[4]), keyring=ring), r[8], created)
                 for r in full],
            )
        (commit or (lambda: conn.execute("COMMIT")))()
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"re-scored results were not saved ({reason(exc)}); run again to finish") from None
    return stored


def record_run(conn: sqlite3.Connection, detail: str, outcome: str, keyring: Keyring | None = None) -> None:
    """One audit record for a whole run over the store: who re-scored, against what, how many (never content).

    Raises:
        StoreError: the record could not be written (the run itself is stored).
    """
    from ..store import audit

    ring = keyring or default_keyring(create=False)
    try:
        conn.execute("BEGIN IMMEDIATE")
        audit.append(conn, ring, [audit.Event("rescore", detail=detail, outcome=outcome)], actor=audit.default_actor())
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"the audit record of the re-score was not saved ({reason(exc)})") from None


def make_row(
    item: Rescored | Unchanged, rules_sha256: str, engine_version: str, texts: dict[Outcome, bytes]
) -> Row:
    """The row a re-scored assessment is stored as; ``texts`` caches each distinct outcome's JSON text."""
    rec = item.record
    result = digest = None
    full = getattr(item, "result", None)  # a Rescored's full Result, if it was built
    if full is not None and getattr(item, "change", "unchanged") != "unchanged":
        result = full.model_dump(mode="json")
        # The same text as Result.to_json(), without dumping the model a second time.
        text = json.dumps(result, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Row(
        rec.id, rec.revision, item.target.sha256, rules_sha256, engine_version, item.target.instrument.version,
        _outcome_text(item.new, texts), result, digest,
    )


def _outcome_text(outcome: Outcome, texts: dict[Outcome, bytes]) -> bytes:
    text = texts.get(outcome)
    if text is None:
        if len(texts) >= 65_536:  # a handful in practice; bounded all the same
            texts.clear()
        text = texts[outcome] = canonical(outcome.to_json())
    return text
