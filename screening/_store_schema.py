"""Open the case store's SQLite file safely: owner-only files, pinned pragmas, schema.

May import: errors, crypto, audit, _store_keys, _store_values / stdlib (sqlite3, os).

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
* ``temp_store=MEMORY``: sorts and VACUUM never write store pages to ``$TMPDIR``.
* Schema 2 makes the database enforce what the code promises: triggers refuse a
  value that is not sealed under one of the store's active keys (whoever writes
  it), keep completed revisions and results frozen except inside a deletion or
  key rotation (a ``maintenance`` row present only within that transaction), and
  keep the audit trail append-only. Opening a schema-1 store seals its values in
  the upgrade transaction.
* Schema 3 keeps a compact outcome next to every stored result (``outcomes``), so
  re-scoring a large store never opens the full results, and stores the answers
  clustered by assessment.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .crypto import Keyring, default_keyring
from .errors import StoreError

__all__ = [
    "SCHEMA_VERSION", "connect", "default_store_path", "ensure_private_dir", "open_connection", "sealed_trigger",
]

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 5000

# Expected value of each pragma after it was set; read back at every connect.
PRAGMAS: tuple[tuple[str, str, object], ...] = (
    ("journal_mode", "WAL", "wal"),
    ("synchronous", "FULL", 2),
    ("foreign_keys", "ON", 1),
    ("trusted_schema", "OFF", 0),
    ("secure_delete", "ON", 1),  # overwritten draft answers do not linger in free pages
    ("temp_store", "MEMORY", 2),  # sorts and VACUUM never spill store pages into $TMPDIR
    ("busy_timeout", str(BUSY_TIMEOUT_MS), BUSY_TIMEOUT_MS),
)

# Answer, judgement and result values sit in one column per row, written through
# _store_values.encode: AES-GCM ciphertext bound to (assessment, field). Version 1
# created these tables with plaintext JSON; _SCHEMA_V2 adds keys, the audit trail and
# the triggers, and the upgrade seals the old values (see _store_keys.seal_plaintext).
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
"""


# A value is "sealed" when it is a BLOB in the crypto format (0x01, key id, nonce, …)
# under a key this store lists as active; the triggers refuse anything else, so no
# writer (the batch re-scorer included) can put plaintext or a retired key's
# ciphertext into the store. Frozen rows may change only while a `maintenance` row
# exists, which only key rotation, the v1 upgrade and case deletion insert, inside
# their own transaction, and delete again before COMMIT.
_SEALED = (
    "typeof({v}) != 'blob' OR substr({v}, 1, 1) != x'01'"
    " OR substr({v}, 2, 8) NOT IN (SELECT kid FROM store_keys WHERE state = 'active')"
)
_FROZEN = (
    "(SELECT status FROM revisions WHERE assessment_id = {r}.assessment_id AND revision = {r}.revision) = 'completed'"
)
_MAINT = "EXISTS (SELECT 1 FROM maintenance)"
_NOT_SEALED = "value is not encrypted with an active key of this store"

_SCHEMA_V2 = f"""
DROP TRIGGER IF EXISTS answers_frozen_insert;
DROP TRIGGER IF EXISTS answers_frozen_update;
DROP TRIGGER IF EXISTS answers_frozen_delete;
DROP TRIGGER IF EXISTS results_immutable;
DROP TRIGGER IF EXISTS revisions_frozen;
CREATE TABLE store_meta (
    name   TEXT PRIMARY KEY,
    value  ANY NOT NULL                    -- store_id: random bytes that start the audit chain
) STRICT;
INSERT INTO store_meta (name, value) VALUES ('store_id', randomblob(16));
CREATE TABLE store_keys (
    kid         BLOB PRIMARY KEY,          -- key id (derived from the key; never the key)
    state       TEXT NOT NULL CHECK (state IN ('active', 'retired')),
    added_at    TEXT NOT NULL,
    retired_at  TEXT
) STRICT;
CREATE TABLE maintenance (
    reason  TEXT NOT NULL CHECK (reason IN ('delete', 'rekey', 'migrate'))
) STRICT;
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,       -- 1, 2, 3, … without gaps
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,             -- who: the assessor or the OS user (staff, not the client)
    action      TEXT NOT NULL,
    assessment  TEXT,                      -- the random assessment id
    case_ref    TEXT,                      -- the pseudonym; kept after the case is deleted
    detail      TEXT NOT NULL,             -- item id, revision, format: never answer content
    outcome     TEXT NOT NULL,
    kid         BLOB NOT NULL,             -- whose audit key made the MAC
    mac         BLOB NOT NULL              -- HMAC-SHA256(audit key, previous mac | this record)
) STRICT;
CREATE INDEX audit_by_case ON audit (case_ref, seq);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER answers_insert BEFORE INSERT ON answers BEGIN SELECT CASE
    WHEN {_FROZEN.format(r="NEW")} THEN RAISE(ABORT, 'revision is completed')
    WHEN {_SEALED.format(v="NEW.value")} THEN RAISE(ABORT, '{_NOT_SEALED}') END; END;
CREATE TRIGGER answers_update BEFORE UPDATE ON answers BEGIN SELECT CASE
    WHEN {_FROZEN.format(r="OLD")} AND NOT {_MAINT} THEN RAISE(ABORT, 'revision is completed')
    WHEN {_SEALED.format(v="NEW.value")} THEN RAISE(ABORT, '{_NOT_SEALED}') END; END;
CREATE TRIGGER answers_delete BEFORE DELETE ON answers
WHEN {_FROZEN.format(r="OLD")} AND NOT {_MAINT}
BEGIN SELECT RAISE(ABORT, 'revision is completed'); END;
CREATE TRIGGER revisions_insert BEFORE INSERT ON revisions
WHEN NEW.judgement IS NOT NULL AND ({_SEALED.format(v="NEW.judgement")})
BEGIN SELECT RAISE(ABORT, '{_NOT_SEALED}'); END;
CREATE TRIGGER revisions_update BEFORE UPDATE ON revisions BEGIN SELECT CASE
    WHEN OLD.status = 'completed' AND NOT {_MAINT} THEN RAISE(ABORT, 'revision is completed')
    WHEN NEW.judgement IS NOT OLD.judgement AND NEW.judgement IS NOT NULL AND ({_SEALED.format(v="NEW.judgement")})
        THEN RAISE(ABORT, '{_NOT_SEALED}') END; END;
CREATE TRIGGER revisions_delete BEFORE DELETE ON revisions WHEN NOT {_MAINT}
BEGIN SELECT RAISE(ABORT, 'assessments are deleted only with screening cases delete'); END;
CREATE TRIGGER results_insert BEFORE INSERT ON results WHEN {_SEALED.format(v="NEW.result")}
BEGIN SELECT RAISE(ABORT, '{_NOT_SEALED}'); END;
CREATE TRIGGER results_update BEFORE UPDATE ON results BEGIN SELECT CASE
    WHEN NOT {_MAINT} THEN RAISE(ABORT, 'results are never rewritten')
    WHEN {_SEALED.format(v="NEW.result")} THEN RAISE(ABORT, '{_NOT_SEALED}') END; END;
CREATE TRIGGER results_delete BEFORE DELETE ON results WHEN NOT {_MAINT}
BEGIN SELECT RAISE(ABORT, 'results are never deleted, except with their assessment'); END;
CREATE TRIGGER assessments_delete BEFORE DELETE ON assessments WHEN NOT {_MAINT}
BEGIN SELECT RAISE(ABORT, 'assessments are deleted only with screening cases delete'); END;
"""


# Version 3: the compact outcome of every stored result (level, status, completeness,
# critical rules, services; ~150 bytes sealed) in `outcomes`, written with the result,
# and the outcomes the batch re-scorer stores. Re-scoring compares with these instead
# of decrypting and parsing each full result with its trace (~3 µs against ~25 µs per
# assessment). A row names its (instrument, rules, engine) by a small integer into
# `outcome_keys`: the 170 bytes of hashes per row made each insert twice as slow
# (8.3 µs against 3.9 µs). Before version 3 the re-scorer kept its own
# `rescore_results` with the hashes in every row; the upgrade moves those rows here
# and adds an outcome for every stored result that has none.
#
# Version 3 adds two covering indexes for reading assessments with their revisions in
# id order (what a re-score does per chunk). Without them each assessment's row and
# its revision's row are fetched from table pages in insertion order: a random page
# read each once a store outgrows the page cache (7.2 µs against 1.7 µs per assessment
# on 1,000,000).
#
# Version 3 also stores the answers clustered by their key (WITHOUT ROWID): an
# assessment's answers sit together, so reading them (the interview's resume, a report,
# a re-score walking assessments in id order) reads neighbouring pages instead of one
# table page per answer found through the index. Measured on 1,000,000 assessments:
# 7 µs less per assessment re-scored. The rebuild copies the table once (the
# triggers go with the old table and are made again).
_SCHEMA_V3 = f"""
CREATE TABLE answers_v3 (
    assessment_id  TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    item_id        TEXT NOT NULL,
    value          ANY NOT NULL,              -- encode(…, 'answer:<item>', value)
    partial        INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),  -- a group still being filled
    answered_at    TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision, item_id),
    FOREIGN KEY (assessment_id, revision) REFERENCES revisions (assessment_id, revision)
) STRICT, WITHOUT ROWID;
INSERT INTO answers_v3 (assessment_id, revision, item_id, value, partial, answered_at)
    SELECT assessment_id, revision, item_id, value, partial, answered_at FROM answers
    ORDER BY assessment_id, revision, item_id;
DROP TABLE answers;
ALTER TABLE answers_v3 RENAME TO answers;
CREATE INDEX IF NOT EXISTS assessments_by_id ON assessments (id, instrument_id, case_ref, assessor);
CREATE INDEX IF NOT EXISTS revisions_by_assessment ON revisions
    (assessment_id, revision, status, instrument_version, instrument_sha256, completed_at, judgement);
CREATE TABLE outcome_keys (
    id                  INTEGER PRIMARY KEY,
    instrument_sha256   TEXT NOT NULL,
    rules_sha256        TEXT NOT NULL,
    engine_version      TEXT NOT NULL,
    instrument_version  TEXT NOT NULL,
    UNIQUE (instrument_sha256, rules_sha256, engine_version)
) STRICT;
CREATE TABLE outcomes (
    assessment_id  TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    key            INTEGER NOT NULL REFERENCES outcome_keys (id),
    outcome        ANY NOT NULL,              -- encode(…, 'rescore', level, status, complete, critical, referrals)
    result_sha256  TEXT,                      -- the full Result in `results`, when there is one
    created_at     TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision, key),
    FOREIGN KEY (assessment_id, revision) REFERENCES revisions (assessment_id, revision)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER outcomes_update BEFORE UPDATE ON outcomes BEGIN SELECT CASE
    WHEN NOT {_MAINT} THEN RAISE(ABORT, 'results are never rewritten')
    WHEN {_SEALED.format(v="NEW.outcome")} THEN RAISE(ABORT, '{_NOT_SEALED}') END; END;
CREATE TRIGGER outcomes_delete BEFORE DELETE ON outcomes WHEN NOT {_MAINT}
BEGIN SELECT RAISE(ABORT, 'results are never deleted, except with their assessment'); END;
"""


def _v3_statements() -> Iterator[str]:
    """Schema 3, with the answers triggers of schema 2 made again on the rebuilt table."""
    yield from _statements(_SCHEMA_V3)
    yield from (st for st in _statements(_SCHEMA_V2) if st.startswith("CREATE TRIGGER answers_"))
    yield sealed_trigger("outcomes", "outcome")


def sealed_trigger(table: str, column: str) -> str:
    """``CREATE TRIGGER IF NOT EXISTS`` refusing an unsealed ``table.column`` on INSERT.

    For tables added after schema 2 (``outcomes``) and any made elsewhere: the
    database refuses plaintext there as in the store's first tables.
    """
    if not (table.replace("_", "").isalnum() and column.replace("_", "").isalnum()):
        raise ValueError("table and column are plain identifiers")
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_{column}_sealed BEFORE INSERT ON {table}"
        f" WHEN {_SEALED.format(v='NEW.' + column)} BEGIN SELECT RAISE(ABORT, '{_NOT_SEALED}'); END"
    )


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


def connect(path: Path, *, keyring: Keyring | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path`` with the durable, private settings.

    The keyring (default: the process's, ``crypto.default_keyring``) is checked
    against the keys the store is sealed with; ``encode``/``decode`` without a
    keyring then use the same one.

    Raises:
        StoreError: the file cannot be created or opened, is not a screening store,
            was written by a newer version, a pragma did not take effect, or the key
            is missing or is not this store's.
    """
    return open_connection(path, keyring)[0]


def open_connection(path: Path, keyring: Keyring | None = None) -> tuple[sqlite3.Connection, Keyring]:
    """``connect``, also returning the keyring that was checked against the store."""
    from ._store_keys import attach_keyring

    ensure_private_dir(path.parent)
    with _private_umask():
        _precreate(path)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path} ({exc})") from None
        try:
            _apply_pragmas(conn, path)
            _migrate(conn, path, keyring, upto=2)
            ring = attach_keyring(conn, path, keyring)
            _migrate(conn, path, ring)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot use the store {path} ({exc})") from None
        except BaseException:
            conn.close()
            raise
    return conn, ring


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


def _migrate(conn: sqlite3.Connection, path: Path, keyring: Keyring | None, *, upto: int = SCHEMA_VERSION) -> None:
    """Create the schema on a new file, upgrade an older store up to ``upto``; refuse newer or foreign files.

    Each upgrade runs in one transaction with its data changes, so a store is never
    half upgraded: version 1 → 2 seals every plaintext value under the current key;
    2 → 3 adds the compact outcome of every stored result. ``open_connection`` runs
    the upgrades that read sealed values only after the key was checked (``upto``).
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version >= upto:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store {path} has schema version {version}; this screening understands up to "
                f"{SCHEMA_VERSION} — upgrade screening"
            )
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have won
        target = version
        if version == 0:
            if conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise StoreError(f"{path} is an SQLite database but not a screening store")
            for statement in (*_statements(_SCHEMA_V1), *_statements(_SCHEMA_V2), *_v3_statements()):
                conn.execute(statement)
            target = SCHEMA_VERSION
        if target == 1 and upto >= 2:
            _upgrade_v1(conn, keyring)
            target = 2
        if target == 2 and upto >= 3:
            assert keyring is not None, "the 2 → 3 upgrade reads sealed results: check the key first"
            _upgrade_v2(conn, keyring)
            target = 3
        if target > version:
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (target,),
            )
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _upgrade_v1(conn: sqlite3.Connection, keyring: Keyring | None) -> None:
    """Version 1 → 2: keys, audit trail, new triggers, and every plaintext value sealed."""
    from . import audit
    from ._store_keys import seal_plaintext

    for statement in _statements(_SCHEMA_V2):
        conn.execute(statement)
    ring = keyring or default_keyring()
    sealed = seal_plaintext(conn, ring)
    audit.append(conn, ring, [audit.Event("migrate", detail=f"schema 2, {sealed} values sealed")],
                 actor=audit.default_actor())


def _upgrade_v2(conn: sqlite3.Connection, ring: Keyring) -> None:
    """Version 2 → 3: answers clustered by key; the compact outcome table, with a row for every stored result."""
    from . import audit
    from ._store_values import decode, insert_outcome

    for statement in _v3_statements():
        conn.execute(statement)
    if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'rescore_results'").fetchone():
        # The re-scorer's table of schema 2: the same sealed values (bound to the same
        # assessment and field), with their hashes moved into outcome_keys.
        conn.execute(
            "INSERT OR IGNORE INTO outcome_keys (instrument_sha256, rules_sha256, engine_version, instrument_version)"
            " SELECT instrument_sha256, rules_sha256, engine_version, min(instrument_version) FROM rescore_results"
            " GROUP BY instrument_sha256, rules_sha256, engine_version"
        )
        conn.execute(
            "INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
            " SELECT x.assessment_id, x.revision, k.id, x.outcome, x.result_sha256, x.created_at"
            " FROM rescore_results x JOIN outcome_keys k USING (instrument_sha256, rules_sha256, engine_version)"
        )
        conn.execute("DROP TABLE rescore_results")
    cur = conn.execute(
        "SELECT y.assessment_id, y.revision, y.instrument_sha256, y.rules_sha256, y.engine_version, y.result,"
        " y.result_sha256, y.created_at FROM results y WHERE NOT EXISTS (SELECT 1 FROM outcomes x"
        " JOIN outcome_keys k ON k.id = x.key WHERE x.assessment_id = y.assessment_id AND x.revision = y.revision"
        " AND k.instrument_sha256 = y.instrument_sha256 AND k.rules_sha256 = y.rules_sha256"
        " AND k.engine_version = y.engine_version)"
    )
    added = 0
    while rows := cur.fetchmany(500):  # a large store's results do not fit in memory at once
        for aid, revision, isha, rsha, engine, blob, digest, created in rows:
            data = decode(aid, "result", blob, keyring=ring)
            version = data.get("instrument", {}).get("version", "") if isinstance(data, dict) else ""
            insert_outcome(conn, (aid, revision, isha, rsha, engine), str(version),
                           data if isinstance(data, dict) else {}, digest, created, keyring=ring)
            added += 1
    audit.append(conn, ring, [audit.Event("migrate", detail=f"schema 3, {added} outcomes indexed")],
                 actor=audit.default_actor())


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
