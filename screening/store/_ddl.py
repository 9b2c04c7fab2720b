"""The case store's schema as SQL: the tables and triggers of each version, and how to run them.

May import: stdlib (sqlite3).

Kept apart from ``_schema`` (which opens, checks and upgrades a store) so
that each stays readable: this module is data, in SQL, with the reasons for
each version's choices next to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

__all__ = [
    "SCHEMA_V1", "SCHEMA_V2", "SCHEMA_V3", "SCHEMA_V4", "SCHEMA_V5", "sealed_trigger", "statements", "v3_statements",
]


# Answer, judgement and result values sit in one column per row, written through
# values.encode: AES-GCM ciphertext bound to (assessment, field), and from
# version 4 on to (assessment, revision, field, result key). Version 1
# created these tables with plaintext JSON; SCHEMA_V2 adds keys, the audit trail and
# the triggers, and the upgrade seals the old values (see _keys.seal_plaintext).
SCHEMA_V1 = """
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

SCHEMA_V2 = f"""
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
SCHEMA_V3 = f"""
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


# Version 4: every sealed value is bound to its revision and result key (the upgrade seals
# each again: _keys.reseal_bound), and the audit record of each answer or judgement
# names the nonce of the value it wrote (`seal`; empty for a judgement cleared). A nonce
# says which value was written, never what it says, and stays with the value through key
# rotations, so `audit verify` finds a value rolled back to an older ciphertext of its own
# row (a copy of the file from before a correction) or removed, without the key. The
# column is part of each record's MAC when present; older records have none and verify
# as before.
SCHEMA_V4 = """
ALTER TABLE audit ADD COLUMN seal BLOB;
"""

# Version 5: who may use the store through ``screening serve``. Accounts are staff
# (never clients), so their names are in clear like the assessor; a password is kept
# only as its Argon2 hash, an API token and a session only as the SHA-256 of the
# random secret (a copy of the file opens no account). ``case_teams`` says which team
# an assessment belongs to; it has an ``assessment_id`` column, so deleting the case
# deletes it too (``_delete``). An assessment without a row (made by the CLI on a
# laptop) belongs to no team and no server account sees it. ``IF NOT EXISTS``: a store
# that tests (or a restore) set back to an older version number upgrades again cleanly.
SCHEMA_V5 = """
CREATE TABLE IF NOT EXISTS accounts (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('caseworker', 'team_lead', 'auditor', 'admin', 'system')),
    team           TEXT,
    password_hash  TEXT,
    scopes         TEXT NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS api_tokens (
    id             TEXT PRIMARY KEY,
    account        TEXT NOT NULL REFERENCES accounts (name),
    token_sha256   BLOB NOT NULL UNIQUE,
    scopes         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256      BLOB PRIMARY KEY,
    account        TEXT NOT NULL REFERENCES accounts (name),
    csrf           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS case_teams (
    assessment_id  TEXT PRIMARY KEY REFERENCES assessments (id),
    team           TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS case_teams_by_team ON case_teams (team);
"""


def v3_statements() -> Iterator[str]:
    """Schema 3, with the answers triggers of schema 2 made again on the rebuilt table."""
    yield from statements(SCHEMA_V3)
    yield from (st for st in statements(SCHEMA_V2) if st.startswith("CREATE TRIGGER answers_"))
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


def statements(script: str) -> Iterator[str]:
    """Split the schema script into statements (``executescript`` would COMMIT on its own)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
