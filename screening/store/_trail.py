"""The audit trail's records and the chain's arithmetic: what an event may say, how a
record is written down canonically and chained with HMAC-SHA256.

May import: errors, the engine's ``pnr`` (no personal identity number in a record) /
stdlib. ``audit`` writes, reads and verifies the trail with these.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import re
import sqlite3
from dataclasses import dataclass

from ..engine.pnr import looks_like_personnummer
from ..errors import StoreError

__all__ = ["ACTIONS", "Checkpoint", "Event", "Record", "Verification", "clean_actor", "default_actor"]

ACTIONS = frozenset({
    "create", "answer", "judge", "complete", "score", "rescore", "correct", "view", "report", "export",
    "delete", "list", "extract", "rekey", "migrate", "access", "account",
})
_WORD = re.compile(r"[a-z][a-z0-9-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CHECKPOINT = re.compile(r"([0-9]{1,12}):([0-9a-f]{16})")
@dataclass(frozen=True)
class Event:
    """One thing that happened, before it is numbered and chained.

    Attributes:
        action: one of ``ACTIONS``.
        assessment: the assessment id, if the action concerns one.
        detail: which item, revision or format; never content.
        outcome: ``ok``, ``refused``, ``failed``, ``stored``, ``unchanged``, ``changed`` …
        case_ref: the pseudonym; looked up from ``assessment`` when omitted.
        seal: for an answer or judgement, the nonce of the sealed value written
            (``b""``: a judgement cleared); never content.
    """

    action: str
    assessment: str | None = None
    detail: str = ""
    outcome: str = "ok"
    case_ref: str | None = None
    seal: bytes | None = None


@dataclass(frozen=True)
class Record:
    """A stored audit record."""

    seq: int
    at: str
    actor: str
    action: str
    assessment: str | None
    case_ref: str | None
    detail: str
    outcome: str
    kid: bytes
    mac: bytes
    seal: bytes | None = None


@dataclass(frozen=True)
class Checkpoint:
    """The trail's length and the start of its last MAC: ``"1234:3f9a1c2b7e4d5a6f"``."""

    count: int
    mac_prefix: str

    def __str__(self) -> str:
        return f"{self.count}:{self.mac_prefix}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Raises: StoreError: not ``N:16 hex digits``."""
        match = _CHECKPOINT.fullmatch(text.strip().lower())
        if match is None:
            raise StoreError("a checkpoint looks like 1234:3f9a1c2b7e4d5a6f (record count and 16 hex digits)")
        return cls(int(match[1]), match[2])


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: ``ok``, or the first bad record and why."""

    count: int
    ok: bool
    first_bad: int | None = None
    reason: str | None = None
    checkpoint: Checkpoint | None = None


# ---------------------------------------------------------------------- checks


def default_actor() -> str:
    """``$SCREENING_ACTOR``, else the OS login name, else ``unknown``."""
    name = os.environ.get("SCREENING_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = "unknown"
    return clean_actor(name)


def clean_actor(name: str) -> str:
    """An actor name as recorded: control characters removed, at most 100 characters.

    Raises:
        StoreError: it looks like a personal identity number (the actor is staff).
    """
    text = _CONTROL.sub("", name).strip()[:100] or "unknown"
    if looks_like_personnummer(text):
        raise StoreError("the actor looks like a personal identity number; use a staff id or name")
    return text


def _check(event: Event) -> None:
    if event.action not in ACTIONS:
        raise StoreError(f"unknown audit action {event.action!r}")
    if not _WORD.fullmatch(event.outcome):
        raise StoreError("an audit outcome is a short lower-case word")
    if len(event.detail) > 200 or _CONTROL.search(event.detail) or looks_like_personnummer(event.detail):
        raise StoreError("an audit detail names an item, revision or format, never content")


def _genesis(conn: sqlite3.Connection) -> bytes:
    row = conn.execute("SELECT value FROM store_meta WHERE name = 'store_id'").fetchone()
    store_id = bytes(row[0]) if row and isinstance(row[0], bytes) else b""
    return hashlib.sha256(b"screening-audit/v1|" + store_id).digest()


def _canonical(seq: int, at: str, actor: str, event: Event, case_ref: str | None, kid: bytes) -> bytes:
    fields = [seq, at, actor, event.action, event.assessment, case_ref, event.detail, event.outcome, kid.hex()]
    if event.seal is not None:  # records without one (all before schema 4) keep their form and MAC
        fields.append(event.seal.hex())
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _mac(key: bytes, prev: bytes, body: bytes) -> bytes:
    return hmac.new(key, prev + body, hashlib.sha256).digest()
