"""Value types of the case store, the one codec every stored value passes through, result rows.

May import: errors, result / stdlib.

``encode``/``decode`` are deliberately tiny: they are the single seam where a
later privacy issue turns answer, judgement and result values into ciphertext
bound to (assessment, field); nothing else writes those columns. Case
references are checked here because the rule "never a personnummer" must hold
for every writer, not only the CLI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Literal

from .errors import StoreError
from .result import Result

__all__ = [
    "AssessmentInfo",
    "SavedResult",
    "Status",
    "check_case_ref",
    "decode",
    "encode",
    "info_from_row",
    "insert_result",
    "new_case_ref",
    "now",
    "reason",
]

Status = Literal["draft", "completed"]

_REF = re.compile(r"[\w.-]{1,64}")
# Swedish personnummer / samordningsnummer: YYMMDD-NNNN or YYYYMMDDNNNN, with or without - or +.
_PERSONNUMMER = re.compile(r"[0-9]{6}[-+]?[0-9]{4}|[0-9]{8}[-+]?[0-9]{4}")



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
    if _PERSONNUMMER.search(ref):
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


def now() -> str:
    """UTC now as ISO 8601 text with milliseconds and ``Z`` (sorts as text)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(assessment_id: str, field: str, value: object) -> bytes | str:
    """The stored form of one value; the hook for field encryption (identity JSON for now)."""
    del assessment_id, field  # bound into the ciphertext once values are encrypted
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise StoreError("a value could not be stored: only text, integers, null and lists of rows") from None


def decode(assessment_id: str, field: str, data: bytes | str) -> object:
    """Inverse of ``encode``."""
    del assessment_id, field
    return json.loads(data)


def info_from_row(row: sqlite3.Row) -> AssessmentInfo:
    return AssessmentInfo(**{key: row[key] for key in row.keys() if key != "seq"})  # noqa: SIM118 - sqlite3.Row iterates values, not keys


def insert_result(
    conn: sqlite3.Connection, aid: str, revision: int, result: Result, rules_sha256: str | None
) -> SavedResult:
    """Insert a derived result unless its key exists; the hash is over ``Result.to_json()``."""
    digest = hashlib.sha256(result.to_json().encode("utf-8")).hexdigest()
    rules = rules_sha256 if rules_sha256 is not None else (result.ruleset or {}).get("sha256", "")
    cur = conn.execute(
        "INSERT INTO results (assessment_id, revision, instrument_sha256, rules_sha256, engine_version,"
        " result, result_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (aid, revision, result.instrument.sha256, rules, result.engine_version,
         encode(aid, "result", result.model_dump(mode="json")), digest, now()),
    )
    return SavedResult(digest, cur.rowcount == 1)


def reason(exc: sqlite3.Error) -> str:
    """SQLite's own words: they name the failure (disk full, I/O error), never the data."""
    return str(exc) or type(exc).__name__
