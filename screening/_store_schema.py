"""Open the case store's SQLite file safely: owner-only files, pinned pragmas, schema.

May import: errors / stdlib (sqlite3, os).

Why this is its own module: every durability promise of the store rests on how
the file is opened, and those rules are easy to lose in a bigger class.

* The database is pre-created with ``os.open(..., 0o600)`` and connected under
  ``umask 0o077``: SQLite gives its ``-wal`` and ``-shm`` files the database's
  mode, so all three stay owner-only even when the user's umask is 022.
* WAL with ``synchronous=FULL`` makes every commit durable once it returns, so
  the interview can acknowledge an answer right after COMMIT.
* The pragmas are read back and a drift is an error: a silently ignored
  ``journal_mode`` (some file systems refuse WAL) would void the promise.
* ``isolation_level=None``: the legacy implicit transactions of ``sqlite3`` lost
  every acknowledged answer under kill -9 in our measurements; the store opens
  each transaction itself with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .errors import StoreError

__all__ = ["SCHEMA_VERSION", "connect", "default_store_path", "ensure_private_dir"]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000

# Expected value of each pragma after it was set; read back at every connect.
PRAGMAS: tuple[tuple[str, str, object], ...] = (
    ("journal_mode", "WAL", "wal"),
    ("synchronous", "FULL", 2),
    ("foreign_keys", "ON", 1),
    ("trusted_schema", "OFF", 0),
    ("secure_delete", "ON", 1),  # overwritten draft answers do not linger in free pages
    ("busy_timeout", str(BUSY_TIMEOUT_MS), BUSY_TIMEOUT_MS),
)

# Answer, judgement and result values sit in one column per row, written through
# _store_values.encode, so a later privacy issue can turn exactly those columns into
# ciphertext bound to (assessment, field) without reshaping the tables.
_SCHEMA_V1 = """
CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);
CREATE TABLE assessments (
    id                TEXT PRIMARY KEY,       -- random hex; also names the lock file
    case_ref          TEXT NOT NULL,          -- the caseworker's pseudonym, never a personnummer
    instrument_id     TEXT NOT NULL,
    instrument_path   TEXT,                   -- a hint for finding the pinned file again
    assessor          TEXT,
    lang              TEXT NOT NULL,
    current_revision  INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX assessments_by_case ON assessments (case_ref);
CREATE INDEX assessments_by_instrument ON assessments (instrument_id, created_at);
CREATE TABLE revisions (
    assessment_id       TEXT NOT NULL REFERENCES assessments (id),
    revision            INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'completed')),
    instrument_version  TEXT NOT NULL,
    instrument_sha256   TEXT NOT NULL,        -- the version is pinned by content hash
    judgement           ANY,                  -- encode(…, 'judgement', {level, rationale})
    created_at          TEXT NOT NULL,
    completed_at        TEXT,
    PRIMARY KEY (assessment_id, revision)
) STRICT;
CREATE INDEX revisions_by_version ON revisions (instrument_version, instrument_sha256);
CREATE TABLE answers (
    assessment_id  TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    item_id        TEXT NOT NULL,
    value          ANY NOT NULL,              -- encode(…, 'answer:<item>', value); JSON text for now
    partial        INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),  -- a group still being filled
    answered_at    TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision, item_id),
    FOREIGN KEY (assessment_id, revision) REFERENCES revisions (assessment_id, revision)
) STRICT;
CREATE TABLE results (
    assessment_id      TEXT NOT NULL,
    revision           INTEGER NOT NULL,
    instrument_sha256  TEXT NOT NULL,
    rules_sha256       TEXT NOT NULL,
    engine_version     TEXT NOT NULL,
    result             ANY NOT NULL,          -- encode(…, 'result', Result JSON)
    result_sha256      TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision, instrument_sha256, rules_sha256, engine_version),
    FOREIGN KEY (assessment_id, revision) REFERENCES revisions (assessment_id, revision)
) STRICT;
-- A completed revision is frozen: its answers can be neither added, changed nor removed.
CREATE TRIGGER answers_frozen_insert BEFORE INSERT ON answers
WHEN (SELECT status FROM revisions WHERE assessment_id = NEW.assessment_id AND revision = NEW.revision) = 'completed'
BEGIN SELECT RAISE(ABORT, 'revision is completed'); END;
CREATE TRIGGER answers_frozen_update BEFORE UPDATE ON answers
WHEN (SELECT status FROM revisions WHERE assessment_id = OLD.assessment_id AND revision = OLD.revision) = 'completed'
BEGIN SELECT RAISE(ABORT, 'revision is completed'); END;
CREATE TRIGGER answers_frozen_delete BEFORE DELETE ON answers
WHEN (SELECT status FROM revisions WHERE assessment_id = OLD.assessment_id AND revision = OLD.revision) = 'completed'
BEGIN SELECT RAISE(ABORT, 'revision is completed'); END;
CREATE TRIGGER results_immutable BEFORE UPDATE ON results
BEGIN SELECT RAISE(ABORT, 'results are never rewritten'); END;
CREATE TRIGGER revisions_frozen BEFORE UPDATE ON revisions
WHEN OLD.status = 'completed'
BEGIN SELECT RAISE(ABORT, 'revision is completed'); END;
"""


def default_store_path() -> Path:
    """``$SCREENING_STORE``, else ``$XDG_DATA_HOME/screening/screening.db``, else ``~/.local/share/…``."""
    env = os.environ.get("SCREENING_STORE")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "screening" / "screening.db"


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """Owner-only for anything created inside (process-wide, so keep the block short)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; existing directories are left alone."""
    if path.is_dir():
        return
    with _private_umask():
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory {path} ({exc.strerror})") from None


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path`` with the durable, private settings.

    Raises:
        StoreError: the file cannot be created or opened, is not a screening store,
            was written by a newer version, or a pragma did not take effect.
    """
    ensure_private_dir(path.parent)
    with _private_umask():
        _precreate(path)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path} ({exc})") from None
        try:
            _apply_pragmas(conn, path)
            _migrate(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot use the store {path} ({exc})") from None
        except BaseException:
            conn.close()
            raise
    return conn


def _precreate(path: Path) -> None:
    """Create the database file 0600 so SQLite's -wal and -shm inherit owner-only modes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.close(os.open(path, flags, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot create the store {path} ({exc.strerror})") from None


def _apply_pragmas(conn: sqlite3.Connection, path: Path) -> None:
    for name, value, _ in PRAGMAS:
        conn.execute(f"PRAGMA {name} = {value}")
    for name, _, expected in PRAGMAS:
        row = conn.execute(f"PRAGMA {name}").fetchone()
        got = row[0] if row else None
        if isinstance(got, str):
            got = got.lower()
        if got != expected:
            raise StoreError(f"the store {path} refused PRAGMA {name} (wanted {expected!r}, got {got!r})")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema on a new file; refuse a file from a newer version or another program."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} has schema version {version}; this screening understands up to "
            f"{SCHEMA_VERSION} — upgrade screening"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have won
        if version == 0:
            if conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise StoreError(f"{path} is an SQLite database but not a screening store")
            for statement in _statements(_SCHEMA_V1):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (SCHEMA_VERSION,),
            )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> Iterator[str]:
    """Split the schema script into statements (``executescript`` would COMMIT on its own)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
