"""Value types of the case store, the one codec every stored value passes through, result rows.

May import: errors, result, crypto / stdlib.

``encode``/``decode`` are the single seam every answer, judgement and result
value passes through: JSON, then AES-GCM bound to everything that identifies the
value — (assessment, revision, field), and for a result or outcome also its key
(instrument hash, rules hash, engine version) — with the
keyring a ``Store`` was opened with, or else the process's
(``crypto.codec_keyring``: the one the last store was opened with). Nothing else
writes those columns, and the schema's triggers refuse a value that is not
sealed under one of the store's active keys. ``decode`` refuses plaintext
outright: a value that is not ciphertext was not written by us and is not
trusted. Case references are checked here because the rule
"never a personnummer" must hold for every writer, not only the CLI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ..engine.pnr import looks_like_personnummer
from ..engine.result import Result, compact_outcome
from ..errors import StoreError
from .crypto import HEADER, NONCE_BYTES, Keyring, aad, bind, codec_keyring

__all__ = [
    "AnswerReader",
    "AssessmentInfo",
    "OutcomeKeys",
    "ResultKey",
    "SavedResult",
    "Status",
    "binding",
    "canonical",
    "check_case_ref",
    "decode",
    "encode",
    "info_from_row",
    "insert_outcome",
    "insert_result",
    "new_case_ref",
    "nonce_of",
    "now",
    "open_legacy",
    "open_text",
    "outcome_key",
    "reason",
    "reseal_revision",
    "seal_text",
]

Status = Literal["draft", "completed"]

_REF = re.compile(r"[\w.-]{1,64}")



@dataclass(frozen=True)
class AssessmentInfo:
    """One assessment's metadata at its current revision; never its answers."""

    id: str
    case_ref: str
    instrument_id: str
    instrument_version: str
    instrument_sha256: str
    instrument_path: str | None
    assessor: str | None
    lang: str
    created_at: str
    updated_at: str
    revision: int
    status: Status
    completed_at: str | None


@dataclass(frozen=True)
class SavedResult:
    """What ``save_result`` stored: the result's hash and whether a new row was written."""

    sha256: str
    created: bool


def check_case_ref(ref: str) -> str:
    """Accept a pseudonym; refuse anything that looks like a personal identity number.

    The message never repeats the reference: if it *is* a personnummer, it must not
    reach a terminal log or an error report.

    Raises:
        StoreError: the reference is empty, too long, has odd characters, or contains
            what looks like a personnummer or samordningsnummer.
    """
    if looks_like_personnummer(ref):
        raise StoreError(
            "the case reference looks like a personal identity number; use a pseudonym, "
            "or leave it out to get a random reference"
        )
    if not _REF.fullmatch(ref):
        raise StoreError("a case reference is 1–64 letters, digits, '.', '-' or '_'")
    return ref


def new_case_ref() -> str:
    """A random reference (``ref-`` and 8 hex digits) that cannot be traced to a person."""
    return f"ref-{secrets.token_hex(4)}"


# Case facts (children in the household, age, immediate danger, …) are stored as rows of
# the answers table under ``fact:<name>``: an item id cannot contain ':', so the two never
# meet, and a fact gets every guarantee an answer has without a second copy of the
# machinery: sealed and bound to (assessment, revision, field), one commit per fact, part of the
# revision (frozen on completion, copied into a correction), rotated with the key and
# deleted with the case.
FACT_PREFIX = "fact:"


def now() -> str:
    """UTC now as ISO 8601 text with milliseconds and ``Z`` (sorts as text)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


ResultKey = tuple[str, str, str]  # (instrument sha256, rules sha256, engine version) of a derived row


def encode(
    assessment_id: str,
    field: str,
    value: object,
    *,
    revision: int,
    key: ResultKey | tuple[()] = (),
    keyring: Keyring | None = None,
) -> bytes:
    """The stored form of one value: JSON sealed with AES-GCM, bound to its whole identity.

    Args:
        assessment_id: the assessment the value belongs to.
        field: ``answer:<item id>`` (case facts: ``answer:fact:<name>``), ``judgement``,
            ``result`` or ``rescore`` (the compact outcome).
        value: text, integers, ``None``, lists and mappings of those.
        revision: the revision the value belongs to: revision 1's ciphertext does not
            open in revision 2's row, so a correction cannot be rolled back by copying.
        key: a result's or outcome's (instrument sha256, rules sha256, engine version).
        keyring: the keys to use; default the process's (``crypto.codec_keyring``).

    Raises:
        StoreError: the value is not JSON data (the message never shows it), or the key is unusable.
    """
    return seal_text(assessment_id, field, canonical(value), revision=revision, key=key, keyring=keyring)


def canonical(value: object) -> bytes:
    """The JSON text ``encode`` seals (sorted keys, no spaces, UTF-8).

    Raises:
        StoreError: the value is not JSON data (the message never shows it).
    """
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise StoreError("a value could not be stored: only text, integers, null and lists of rows") from None
    return text.encode("utf-8")


def seal_text(
    assessment_id: str,
    field: str,
    text: bytes,
    *,
    revision: int,
    key: ResultKey | tuple[()] = (),
    keyring: Keyring | None = None,
) -> bytes:
    """``encode`` for a value already serialised by ``canonical``.

    The re-scorer stores the same few outcomes for a million assessments: it
    serialises each distinct one once and only seals per row (the seal binds the
    value to its assessment, revision and key, so that part cannot be shared).
    """
    return (keyring or codec_keyring()).seal(text, binding(assessment_id, field, revision, key))


def binding(assessment_id: str, field: str, revision: int, key: ResultKey | tuple[()] = ()) -> bytes:
    """The associated data of a stored value: (assessment, revision, field, result key), see ``crypto.bind``."""
    return bind(assessment_id, str(revision), field, *key)


def nonce_of(data: bytes) -> bytes:
    """A sealed value's nonce: which value was written (kept through key rotations), never what it says."""
    return data[HEADER : HEADER + NONCE_BYTES]


def decode(
    assessment_id: str,
    field: str,
    data: bytes | str,
    *,
    revision: int,
    key: ResultKey | tuple[()] = (),
    keyring: Keyring | None = None,
) -> object:
    """Inverse of ``encode``; a value moved from another row, revision, key or assessment fails.

    Raises:
        StoreError: not ciphertext, a key the keyring lacks, or a value that was altered
            or moved (tampering); the message names the assessment and field, never content.
    """
    return json.loads(open_text(assessment_id, field, data, revision=revision, key=key, keyring=keyring))


def open_text(
    assessment_id: str,
    field: str,
    data: bytes | str,
    *,
    revision: int,
    key: ResultKey | tuple[()] = (),
    keyring: Keyring | None = None,
) -> bytes:
    """``decode`` without parsing: the JSON text (for callers that parse each distinct text once).

    Raises:
        StoreError: as ``decode``.
    """
    if data.__class__ is not bytes:
        raise StoreError(f"the stored {field} is not encrypted; refusing to trust it", assessment_id)
    try:
        return (keyring or codec_keyring()).open(data, binding(assessment_id, field, revision, key), field)
    except StoreError as exc:
        raise StoreError(f"{exc.message} (revision {revision})", assessment_id) from None


class AnswerReader:
    """``decode`` for the answers of many revisions, sharing what they share (the re-scorer's reader).

    A re-score opens twenty answers per assessment, a million times: the binding's
    assessment-and-revision part is built once per revision and its item part once
    per item, the keyring's lean ``opener`` decrypts, and each distinct plaintext of
    a scalar (``"yes"``) is parsed once (a list or mapping every time: the caller may
    change it). A value that does not open goes through ``open_text``, so it is
    refused with ``decode``'s own error; ``tests/test_crypto.py`` compares the two.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self.open = keyring.opener()
        self.items: dict[str, bytes] = {}
        self.parsed: dict[bytes, object] = {}

    def read(self, assessment_id: str, revision: int, rows: Iterable[tuple[str, object]]) -> dict[str, object]:
        """``{item: decode(assessment_id, "answer:" + item, data, revision=revision)}`` of ``(item, data)`` rows.

        Raises:
            StoreError: as ``decode``, for the first value that does not open.
        """
        a, r = assessment_id.encode("utf-8"), str(revision).encode("utf-8")
        head = b"screening-value/v2|%d:%b|%d:%b|" % (len(a), a, len(r), r)  # crypto.bind's first two parts
        items, parsed, open_ = self.items, self.parsed, self.open
        out: dict[str, object] = {}
        for item, data in rows:
            tail = items.get(item)
            if tail is None:
                f = ("answer:" + item).encode("utf-8")
                tail = items[item] = b"%d:%b" % (len(f), f)
            text = open_(data, head + tail) if data.__class__ is bytes else None
            if text is None:  # refused: decode's own message (or, should it open after all, its text)
                text = open_text(assessment_id, "answer:" + item, data, revision=revision, keyring=self.keyring)  # type: ignore[arg-type]
            value = parsed.get(text, parsed)
            if value is parsed:
                value = json.loads(text)
                if value is None or value.__class__ in _SCALARS:
                    if len(parsed) >= 4096:
                        parsed.clear()
                    parsed[text] = value
            out[item] = value
        return out


_SCALARS = (str, int, float, bool)


def reseal_revision(keyring: Keyring, assessment_id: str, field: str, data: bytes, old: int, new: int) -> bytes:
    """A revision's value sealed again for another revision (a correction copies the completed one).

    Raises:
        StoreError: the value does not open for ``old`` (altered or moved).
    """
    text = open_text(assessment_id, field, data, revision=old, keyring=keyring)
    return seal_text(assessment_id, field, text, revision=new, keyring=keyring)


def open_legacy(assessment_id: str, field: str, data: bytes, *, keyring: Keyring) -> bytes:
    """Open a value sealed before schema 4 (bound to assessment and field only); the upgrade's use only.

    Raises:
        StoreError: as ``decode``.
    """
    try:
        return keyring.open(data, aad(assessment_id, field), field)
    except StoreError as exc:
        raise StoreError(exc.message, assessment_id) from None


def info_from_row(row: sqlite3.Row) -> AssessmentInfo:
    if row["status"] not in ("draft", "completed"):  # the CHECK constraint held it; a damaged page did not
        raise StoreError(f"the store is damaged (table revisions, assessment {row['id']}, revision {row['revision']}, "
                         "column status: not a status); restore it from a backup")
    return AssessmentInfo(**{key: row[key] for key in row.keys() if key != "seq"})  # noqa: SIM118 - sqlite3.Row iterates values, not keys


def insert_result(
    conn: sqlite3.Connection,
    aid: str,
    revision: int,
    result: Result,
    rules_sha256: str | None,
    *,
    keyring: Keyring | None = None,
) -> SavedResult:
    """Insert a derived result unless its key exists; the hash is over ``Result.to_json()``.

    Its compact outcome goes into ``outcomes`` under the same key in the same
    transaction, so a re-score compares with it without opening the result.
    """
    digest = hashlib.sha256(result.to_json().encode("utf-8")).hexdigest()
    rules = rules_sha256 if rules_sha256 is not None else (result.ruleset or {}).get("sha256", "")
    data = result.model_dump(mode="json")
    key = (aid, revision, result.instrument.sha256, rules, result.engine_version)
    created = now()
    cur = conn.execute(
        "INSERT INTO results (assessment_id, revision, instrument_sha256, rules_sha256, engine_version,"
        " result, result_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (*key, encode(aid, "result", data, revision=revision, key=key[2:], keyring=keyring), digest, created),
    )
    insert_outcome(conn, key, result.instrument.version, data, digest, created, keyring=keyring)
    return SavedResult(digest, cur.rowcount == 1)


OutcomeKeys = dict[tuple[str, str, str], int]  # (instrument, rules, engine) → outcome_keys id


def outcome_key(
    conn: sqlite3.Connection,
    instrument_sha256: str,
    rules_sha256: str,
    engine_version: str,
    instrument_version: str,
    known: OutcomeKeys | None = None,
) -> int:
    """The ``outcome_keys`` id of (instrument, rules, engine), added if new (inside the caller's transaction).

    ``known`` remembers ids found earlier in the same transaction: a batch writes
    thousands of rows under one key (a rolled-back transaction takes its cache with it).
    """
    triple = (instrument_sha256, rules_sha256, engine_version)
    if known is not None and triple in known:
        return known[triple]
    conn.execute(
        "INSERT INTO outcome_keys (instrument_sha256, rules_sha256, engine_version, instrument_version)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (*triple, instrument_version),
    )
    row = conn.execute(
        "SELECT id FROM outcome_keys WHERE instrument_sha256 = ? AND rules_sha256 = ? AND engine_version = ?", triple
    ).fetchone()
    if known is not None:
        known[triple] = int(row[0])
    return int(row[0])


def insert_outcome(
    conn: sqlite3.Connection,
    key: tuple[str, int, str, str, str],
    instrument_version: str,
    result: Mapping[str, object],
    result_sha256: str,
    created_at: str,
    *,
    keyring: Keyring | None = None,
    known: OutcomeKeys | None = None,
) -> None:
    """The compact outcome row of a stored result (``key``: assessment, revision, instrument, rules, engine)."""
    aid, revision, isha, rsha, engine = key
    conn.execute(
        "INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (aid, revision, outcome_key(conn, isha, rsha, engine, instrument_version, known),
         encode(aid, "rescore", compact_outcome(result), revision=revision, key=(isha, rsha, engine), keyring=keyring),
         result_sha256, created_at),
    )


def reason(exc: sqlite3.Error) -> str:
    """SQLite's own words: they name the failure (disk full, I/O error), never the data (see ``_damage``)."""
    from ._damage import safe_reason

    return safe_reason(exc)
