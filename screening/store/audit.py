"""The audit trail: who did what to which case, when, and with what outcome — never answer content.

May import: errors, crypto, _dialect, _trail / stdlib (sqlite3, hmac, logging). The records and the
chain's arithmetic are in ``_trail``; writing, reading and ``verify`` are here.

Every create, answer, judgement, completion, score, re-score, correction, view,
report, export and delete writes one record in the store's ``audit`` table, in
the *same transaction* as the action itself: an action without its record (or a
record of something that did not happen) cannot be committed. A record holds
the actor (staff: the assessor or the OS user), the time, the action, the
assessment's random id and case pseudonym, a detail that names *which* item,
revision or format — never what was answered — and the outcome. The pseudonym
stays after the case is deleted: the log must still show who saw it.

Tamper evidence: records are numbered 1, 2, 3 … and chained with
HMAC-SHA256 under an audit key derived from the store key (``crypto``), which
is not in the database. Triggers refuse UPDATE and DELETE from the program;
someone who edits the raw file is caught by ``verify``: an edited, inserted or
reordered record breaks its MAC, a deleted one leaves a gap. Removing records
from the *end* leaves a valid shorter chain, so ``verify`` also takes a
``Checkpoint`` — the record count and the first 8 bytes of the last MAC, printed
for the caseworker (report footers, ``screening audit verify``) — and reports a
trail that ends before it. Without the key a checkpoint cannot be forged.

What a rollback would change is covered too (schema 4): the record of every
answer and judgement names the nonce of the sealed value it wrote (``seal``),
part of its MAC. A nonce says which value was written, not what it says, and a
key rotation keeps it. ``verify`` checks that each answer and judgement in the
store is the one its last record wrote, so a value put back from an older copy
of the file (an answer from before a correction, sealed for the same row) or
removed is found, naming the record — without the key. Values copied between
rows or revisions already fail to open (their seal binds them to their row).
"""

from __future__ import annotations

import hmac
import itertools
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, TypeGuard, cast

from ..errors import StoreError
from ._dialect import column_names, is_pg
from ._dialect import rows as scan
from ._trail import (
    ACTIONS,
    Checkpoint,
    Event,
    Record,
    Verification,
    _canonical,
    _check,
    _genesis,
    _mac,
    clean_actor,
    default_actor,
)
from .crypto import Keyring, default_keyring

__all__ = [
    "ACTIONS",
    "Checkpoint",
    "Event",
    "Record",
    "Verification",
    "accesses",
    "append",
    "checkpoint",
    "default_actor",
    "extract",
    "record",
    "record_many",
    "verify",
]

_log = logging.getLogger("screening.audit")


class _Target(Protocol):
    """A ``Store`` (anything with its connection, keyring and actor)."""

    @property
    def connection(self) -> sqlite3.Connection: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def actor(self) -> str: ...


# ---------------------------------------------------------------------- writing


def append(conn: sqlite3.Connection, keyring: Keyring, events: Sequence[Event], *, actor: str) -> Checkpoint:
    """Number, chain and insert ``events``; the caller holds a write transaction (``BEGIN IMMEDIATE``).

    Raises:
        StoreError: a malformed event (unknown action, content-like detail).
        sqlite3.Error: the insert failed; the caller's transaction must roll back.
    """
    from .values import now

    if not conn.in_transaction:
        raise StoreError("audit records are appended inside the action's own transaction")
    key = keyring.audit_key()
    assert key is not None
    kid = keyring.current_kid
    row = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(row[0]), bytes(row[1])) if row else (0, _genesis(conn))
    at = now()
    rows = []
    for event in events:
        _check(event)
        case_ref = event.case_ref
        if case_ref is None and event.assessment is not None:
            found = conn.execute("SELECT case_ref FROM assessments WHERE id = ?", (event.assessment,)).fetchone()
            case_ref = found[0] if found else None
        seq += 1
        prev = _mac(key, prev, _canonical(seq, at, actor, event, case_ref, kid))
        rows.append((seq, at, actor, event.action, event.assessment, case_ref, event.detail, event.outcome, kid, prev,
                     event.seal))
        _log.debug("audit", extra={"event": f"audit.{event.action}", "case": case_ref, "outcome": event.outcome})
    if any(row[-1] is not None for row in rows):
        conn.executemany(
            "INSERT INTO audit (seq, at, actor, action, assessment, case_ref, detail, outcome, kid, mac, seal)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    else:  # also before schema 4 (the upgrades' own records), when the table has no seal column
        conn.executemany(
            "INSERT INTO audit (seq, at, actor, action, assessment, case_ref, detail, outcome, kid, mac)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row[:-1] for row in rows],
        )
    return Checkpoint(seq, prev[:8].hex())


def _resolve(
    target: _Target | sqlite3.Connection, keyring: Keyring | None, actor: str | None
) -> tuple[sqlite3.Connection, Keyring, str]:
    if _is_conn(target):
        return target, keyring or default_keyring(), clean_actor(actor) if actor else default_actor()
    store = cast(_Target, target)
    return store.connection, keyring or store.keyring, clean_actor(actor) if actor else store.actor


def record_many(
    target: _Target | sqlite3.Connection,
    events: Iterable[Event],
    *,
    actor: str | None = None,
    keyring: Keyring | None = None,
) -> Checkpoint:
    """Append several records at once (the batch re-scorer: one call per chunk, inside its transaction).

    With a connection already in a transaction the records join it (and commit or
    roll back with it); otherwise they get their own ``BEGIN IMMEDIATE … COMMIT``.

    Raises:
        StoreError: a malformed event, or the records could not be written.
    """
    conn, ring, who = _resolve(target, keyring, actor)
    batch = list(events)
    if conn.in_transaction:
        return append(conn, ring, batch, actor=who)
    try:
        conn.execute("BEGIN IMMEDIATE")
        point = append(conn, ring, batch, actor=who)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"the audit record was not saved ({exc})") from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return point


def record(
    target: _Target | sqlite3.Connection,
    *,
    action: str,
    assessment: str | None = None,
    outcome: str = "ok",
    actor: str | None = None,
    detail: str = "",
    keyring: Keyring | None = None,
) -> Checkpoint:
    """Append one audit record (see ``record_many``); returns the new checkpoint.

    Args:
        target: a ``Store`` or a store connection (``_schema.connect``).
        action: one of ``ACTIONS``.
        assessment: the assessment id; its pseudonym is looked up.
        outcome: a short word (``ok``, ``refused``, ``unchanged`` …).
        actor: who; default the store's actor or ``default_actor()``.
        detail: which item, revision or format — never content.
        keyring: default the store's or the process's keyring.
    """
    event = Event(action, assessment, detail, outcome)
    return record_many(target, [event], actor=actor, keyring=keyring)


# ---------------------------------------------------------------------- reading


def _is_conn(target: object) -> TypeGuard[sqlite3.Connection]:
    """A store connection of either backend (not a ``Store``)."""
    return isinstance(target, sqlite3.Connection) or is_pg(target)


def _conn_of(target: _Target | sqlite3.Connection) -> sqlite3.Connection:
    return target if _is_conn(target) else cast(_Target, target).connection


def _rows(conn: sqlite3.Connection, where: str = "", params: tuple[object, ...] = ()) -> Iterator[Record]:
    sealed = "seal" in column_names(conn, "audit")
    cur = scan(  # streamed: a trail has millions of records
        conn,
        "SELECT seq, at, actor, action, assessment, case_ref, detail, outcome, kid, mac"
        + (", seal" if sealed else ", NULL") + " FROM audit" + where + " ORDER BY seq",
        params,
    )
    for row in cur:
        yield Record(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7], bytes(row[8]),
                     bytes(row[9]), None if row[10] is None else bytes(row[10]))


def extract(target: _Target | sqlite3.Connection, case_ref: str) -> list[Record]:
    """Every record about one case pseudonym, in order (a log extract; nothing to decrypt)."""
    return list(_rows(_conn_of(target), " WHERE case_ref = ?", (case_ref,)))


def accesses(target: _Target | sqlite3.Connection, *, case_ref: str | None = None,
             actor: str | None = None, limit: int = 10_000) -> list[Record]:
    """The access log: the server's "access" records (allowed and refused), by case pseudonym and/or actor.

    Newest last, at most ``limit`` (the newest ones). Either filter may be left out;
    an auditor follows up one case or one person.
    """
    where, params = ["action = 'access'"], []
    if case_ref is not None:
        where.append("case_ref = ?")
        params.append(case_ref)
    if actor is not None:
        where.append("actor = ?")
        params.append(actor)
    conn = _conn_of(target)
    start = conn.execute("SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM audit WHERE " + " AND ".join(where)
                         + " ORDER BY seq DESC LIMIT ?) AS recent", (*params, limit)).fetchone()[0]
    return list(_rows(conn, " WHERE " + " AND ".join([*where, "seq >= ?"]), (*params, start)))


def checkpoint(target: _Target | sqlite3.Connection) -> Checkpoint:
    """The current checkpoint (``0:`` and zeros for an empty trail)."""
    row = _conn_of(target).execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return Checkpoint(int(row[0]), bytes(row[1])[:8].hex()) if row else Checkpoint(0, "0" * 16)


def verify(
    target: _Target | sqlite3.Connection,
    *,
    keyring: Keyring | None = None,
    against: Checkpoint | None = None,
    values: bool = True,
) -> Verification:
    """Recompute the chain from record 1; report the first record that does not fit.

    Args:
        target: a ``Store`` or a store connection.
        keyring: default the store's or the process's; needs the audit key of every
            key that wrote records (retired keys keep theirs in the key file).
        against: a checkpoint kept outside the store; a trail that ends before it,
            or whose record at that number differs, was cut or rewritten.
        values: also check that every answer and judgement the trail says was
            written (schema 4 on) is still the value in the store (``_Written``).
    """
    conn = _conn_of(target)
    written = _Written()
    ring = keyring or (default_keyring() if _is_conn(target) else cast(_Target, target).keyring)
    expected = 1
    at_checkpoint: bytes | None = None

    def bad(seq: int, reason: str) -> Verification:
        return Verification(expected - 1, False, seq, reason)

    try:
        prev = _genesis(conn)
        for rec in _rows(conn):
            if rec.seq != expected:
                return bad(expected, f"record {expected} is missing: records were deleted or renumbered")
            key = ring.audit_key(rec.kid)
            if key is None:
                return bad(rec.seq, f"record {rec.seq} was made with key {rec.kid.hex()}, which "
                                    f"{ring.source} does not have; it cannot be verified")
            event = Event(rec.action, rec.assessment, rec.detail, rec.outcome, seal=rec.seal)
            mac = _mac(key, prev, _canonical(rec.seq, rec.at, rec.actor, event, rec.case_ref, rec.kid))
            if not hmac.compare_digest(mac, rec.mac):
                return bad(rec.seq, f"record {rec.seq} does not match its MAC: it, or the order of records, "
                                    "was changed")
            if against is not None and rec.seq == against.count:
                at_checkpoint = rec.mac
            prev = rec.mac
            expected += 1
            if values:
                written.see(rec)
        found = written.compare(conn) if values else None
    except sqlite3.Error as exc:  # a damaged store: say where, and how far the trail verified
        from ._damage import describe_damage, safe_reason

        where = describe_damage(conn, exc)
        if where is None:
            raise StoreError(f"the audit trail could not be read ({safe_reason(exc)})") from None
        return bad(expected, f"the store is damaged ({where}); {expected - 1} records verified before that")
    count = expected - 1
    last = Checkpoint(count, prev[:8].hex()) if count else Checkpoint(0, "0" * 16)
    if against is not None and against.count:
        if against.count > count:
            return Verification(count, False, count + 1, f"the trail ends at record {count}, but the checkpoint "
                                f"{against} names record {against.count}: records were removed from the end", last)
        if at_checkpoint is None or at_checkpoint[:8].hex() != against.mac_prefix:
            return Verification(count, False, against.count, f"record {against.count} does not match the "
                                f"checkpoint {against}: the trail was rewritten", last)
    if found is not None:
        return Verification(count, False, found[0], found[1], last)
    return Verification(count, True, checkpoint=last)


_CORRECTED = re.compile(r"revision ([0-9]+) from [0-9]+")


class _Written:
    """Which value each answer and judgement slot last received, by the trail (for ``verify``).

    Follows the trail in order: ``create`` opens revision 1 of an assessment,
    ``correct`` ("revision N from M") revision N, ``delete`` removes it; an
    ``answer`` or ``judge`` record with a ``seal`` sets its slot of the open
    revision. Refused and failed records changed nothing and are skipped. Holds
    one small entry per slot written (ids and a 12-byte nonce), never a value.
    """

    def __init__(self) -> None:
        self.draft: dict[str, int] = {}
        self.slots: dict[tuple[str, int, str], tuple[bytes, int]] = {}
        self.deleted: set[str] = set()

    def see(self, rec: Record) -> None:
        aid = rec.assessment
        if aid is None or rec.outcome not in ("ok", "stored", "unchanged"):
            return
        if rec.action == "create":
            self.draft[aid] = 1
        elif rec.action == "correct":
            match = _CORRECTED.fullmatch(rec.detail)
            if match:
                self.draft[aid] = int(match[1])
        elif rec.action == "delete":
            self.deleted.add(aid)
        elif rec.action in ("answer", "judge") and rec.seal is not None and aid in self.draft:
            field = "judgement" if rec.action == "judge" else "answer:" + rec.detail.removesuffix(" (partial)")
            self.slots[(aid, self.draft[aid], field)] = (rec.seal, rec.seq)

    def compare(self, conn: sqlite3.Connection) -> tuple[int, str] | None:
        """The first record whose value is no longer in the store, and why; ``None`` if all are."""
        from .values import nonce_of

        slots = {k: v for k, v in self.slots.items() if k[0] not in self.deleted}
        if not slots:
            return None
        seen: dict[tuple[str, int, str], bytes] = {}
        rows = itertools.chain(  # one scan of each table, streamed
            scan(conn, "SELECT assessment_id, revision, 'answer:' || item_id, value FROM answers"),
            scan(conn, "SELECT assessment_id, revision, 'judgement', judgement FROM revisions"),
        )
        for aid, revision, field, value in rows:
            if (aid, revision, field) in slots:
                seen[(aid, revision, field)] = b"" if value is None else nonce_of(bytes(value))
        bad = [(seq, k) for k, (seal, seq) in slots.items() if seen.get(k) != seal]
        if not bad:
            return None
        seq, key = min(bad)
        aid, revision, field = key
        what = "judgement" if field == "judgement" else f"answer {field.removeprefix('answer:')}"
        state = "has another value there" if key in seen else "has none"
        return seq, (f"record {seq} wrote the {what} of assessment {aid}, revision {revision}, but the store "
                     f"{state}: it was rolled back, replaced or removed outside screening")
