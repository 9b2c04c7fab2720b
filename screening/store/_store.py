"""The case store: assessments, their answers, judgements and derived results in SQLite.

May import: errors, the engine's instrument, result and scoring, this package's crypto,
audit and private modules / stdlib. The reads (audited views) are in ``_reads``.

The store's one promise is that nothing acknowledged is ever lost: every write
is its own ``BEGIN IMMEDIATE … COMMIT`` on a WAL database with
``synchronous=FULL``, and a method returns only after COMMIT has returned, so
a caller may acknowledge as soon as it gets control back. Answers belong to a
revision; completing freezes it (triggers refuse later edits) and a correction
is a new revision that keeps the old one. Results are derived rows keyed by
everything that produced them and are never written over the answers.

Privacy: every answer, judgement and result value passes through
``values.encode``/``decode`` — AES-GCM bound to (assessment, revision,
field, result key) under a key kept outside the database (``crypto``). Every
write also appends its audit record (``audit``) in the same transaction, so an
action and its record commit or vanish together; a refused write leaves a
"refused" record. Every read of personal data through the public API
(``answers``, ``answer_rows``, ``facts``, ``judgement``, ``results``) writes one
"view" record per call (ids and revision only), in the transaction it reads in.
The one unaudited path is ``_session_*``: the interview session reads the draft
it resumes through it, after ``interview.run_interview`` logged the case's
"view"; the batch re-scorer reads with its own queries and logs one record per
run (``screening.batch._write.record_run``). Case
references, instrument ids, dates and the assessor (staff, not the client; the
audit trail names staff anyway) stay in clear so cases can be listed and
audited without the key.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import typing
from pathlib import Path

from ..engine.instrument import JudgementInput
from ..engine.result import Result
from ..engine.scoring import CompiledInstrument
from ..errors import StoreError
from . import audit as _audit
from ._accounts import StoreAccounts
from ._lock import store_path
from ._reads import StoreReads
from ._schema import default_store_path, identity_of, open_connection
from .crypto import Keyring
from .values import (
    FACT_PREFIX,
    AssessmentInfo,
    SavedResult,
    Status,
    check_case_ref,
    encode,
    insert_result,
    new_case_ref,
    nonce_of,
    reseal_revision,
)
from .values import now as _now

__all__ = [
    "AssessmentInfo",
    "SavedResult",
    "Status",
    "Store",
    "check_case_ref",
    "default_store_path",
    "new_case_ref",
    "store_location",
]



class Store(StoreReads, StoreAccounts):
    """A case store: open one with ``Store.open(path)`` and use it as a context manager.

    One ``Store`` is one SQLite connection; use it from one thread. Several
    processes may share the file; each draft is written by one process at a time
    (see ``lock``).
    """

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        keyring: Keyring | None = None,
        actor: str | None = None,
        create: bool = False,
    ) -> Store:
        """Open the store (default: ``store_location()``); with ``create``, make it if there is none.

        ``path`` is an SQLite file, or a ``postgresql://`` URL for a PostgreSQL store
        (``store_location``; see docs/postgresql.md): the same methods, guarantees and
        audit trail on either.

        A store is created only when asked: a mistyped path is an error, never a
        new empty store. The path is resolved (symlinks followed), so every name of
        a store opens the same file and shares its draft locks. An existing store
        must be owner-only (the file and its ``-wal``/``-shm``), have one name (no
        hard links) and lie on a local file system (``$SCREENING_ALLOW_NETWORK_STORE=1``
        accepts a network one); each is refused with a message saying how to fix it.

        Args:
            path: the database file.
            keyring: the keys (default: ``$SCREENING_KEY``, ``$SCREENING_KEY_FILE`` or the
                key file in the user's config directory, created with a new store).
            actor: who the audit trail names (default ``$SCREENING_ACTOR`` or the OS user).
            create: make a new store if there is none at ``path`` (off: refuse).

        Raises:
            StoreError: there is no store (and not ``create``); it cannot be created or
                opened, is readable by other users, has a second name, is on a network
                file system, is damaged, is not a screening store, or the key is missing
                or belongs to another store.
        """
        where = store_location(path)
        if isinstance(where, str):  # a postgresql:// URL: the one place the backend is chosen
            from ._pg import redact
            from ._pgschema import open_pg

            pg, ring = open_pg(where, keyring, create=create)
            conn = typing.cast(sqlite3.Connection, pg)  # the adapter speaks the part of sqlite3's API we use
            try:
                store = cls(conn, redact(where), actor=actor, keyring=ring)
            except BaseException:
                pg.close()
                raise
            store._given_key = keyring is not None
            return store
        target = store_path(where)
        conn, ring = open_connection(target, keyring, create=create)
        store = cls(conn, target, actor=actor, keyring=ring)
        store._given_key = keyring is not None
        store._identity = identity_of(target)
        return store

    # ------------------------------------------------------------------ assessments

    def create_assessment(
        self,
        ci: CompiledInstrument,
        *,
        case_ref: str | None = None,
        assessor: str | None = None,
        lang: str = "sv",
        instrument_path: str | os.PathLike[str] | None = None,
        team: str | None = None,
    ) -> AssessmentInfo:
        """Start a draft pinned to ``ci`` (by its SHA-256) and return it.

        Args:
            ci: the compiled instrument; its ``sha256`` pins the version for good.
            case_ref: the caseworker's pseudonym; a random one if omitted.
            assessor: who interviews (name or staff id).
            lang: ``sv`` or ``en``.
            instrument_path: where the instrument file was read, to find it again on resume.
            team: the team the case belongs to (the server's; recorded in the same transaction).

        Raises:
            StoreError: a bad case reference or language, or the store cannot be written.
        """
        ref = check_case_ref(case_ref) if case_ref is not None else new_case_ref()
        if lang not in ("sv", "en"):
            raise StoreError("the language is 'sv' or 'en'")
        if not ci.sha256:
            raise StoreError("the instrument has no content hash; load it from a file to pin its version")
        aid = secrets.token_hex(16)
        now = _now()
        path = str(Path(instrument_path).absolute()) if instrument_path is not None else None
        inst = ci.instrument
        with self._write("the new assessment", event=_audit.Event("create", aid, f"{inst.id}@{inst.version}")) as conn:
            conn.execute(
                "INSERT INTO assessments (id, case_ref, instrument_id, instrument_path, assessor, lang,"
                " current_revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (aid, ref, inst.id, path, assessor, lang, now, now),
            )
            conn.execute(
                "INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256,"
                " created_at) VALUES (?, 1, 'draft', ?, ?, ?)",
                (aid, inst.version, ci.sha256, now),
            )
            if team is not None:
                conn.execute("INSERT INTO case_teams (assessment_id, team) VALUES (?, ?)", (aid, team))
        return self.get(aid)

    # ------------------------------------------------------------------ answers

    def _draft_revision(self, conn: sqlite3.Connection, assessment_id: str) -> int:
        row = conn.execute(
            "SELECT r.revision, r.status FROM assessments a JOIN revisions r"
            " ON r.assessment_id = a.id AND r.revision = a.current_revision WHERE a.id = ?",
            (assessment_id,),
        ).fetchone()
        if row is None:
            raise StoreError("no such assessment", assessment_id)
        if row[1] != "draft":
            raise StoreError(
                "the assessment is completed; make a correction (a new revision) to change it", assessment_id
            )
        return int(row[0])

    def record_answer(self, assessment_id: str, item_id: str, value: object, *, partial: bool = False) -> None:
        """Store one answer in its own transaction; on return it is durable.

        ``None`` records an explicit "unknown / skipped" (the question was asked).
        ``partial`` marks a repeating group whose rows are still being added.
        The caller validates the value against the instrument (see
        ``CompiledInstrument.check_answers``); the store only keeps it.

        Raises:
            AssessmentLocked: another process has the draft open.
            StoreError: the assessment is completed or missing, or the write failed
                (nothing was saved; the caller may try again).
        """
        now = _now()
        event = _audit.Event("answer", assessment_id, item_id + (" (partial)" if partial else ""))
        with self._write("the answer", assessment_id, event) as conn:
            revision = self._draft_revision(conn, assessment_id)
            data = encode(assessment_id, f"answer:{item_id}", value, revision=revision, keyring=self._keyring)
            self._pending[0] = dataclasses.replace(event, seal=nonce_of(data))  # which value: audit.verify
            conn.execute(
                "INSERT INTO answers (assessment_id, revision, item_id, value, partial, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (assessment_id, revision, item_id) DO UPDATE SET"
                " value = excluded.value, partial = excluded.partial, answered_at = excluded.answered_at",
                (assessment_id, revision, item_id, data, int(partial), now),
            )
            conn.execute("UPDATE assessments SET updated_at = ? WHERE id = ?", (now, assessment_id))

    def record_fact(self, assessment_id: str, name: str, value: object) -> None:
        """Store one case fact on the draft revision in its own transaction; on return it is durable.

        ``None`` records that the fact was asked and is unknown (never read as "no").
        The caller validates the value against the rule set's declaration (see
        ``CompiledRuleSet.check_facts``); the store only keeps it, sealed like an answer.

        Raises:
            AssessmentLocked: another process has the draft open.
            StoreError: the assessment is completed or missing, or the write failed.
        """
        if not name.replace("_", "").isalnum() or not name.isascii():
            raise StoreError("a case fact's name is letters, digits and '_'")
        self.record_answer(assessment_id, FACT_PREFIX + name, value)

    def set_judgement(self, assessment_id: str, judgement: JudgementInput | None) -> None:
        """Record (or clear) the assessor's level and rationale on the draft revision."""
        event = _audit.Event("judge", assessment_id, "cleared" if judgement is None else "level and rationale")
        with self._write("the judgement", assessment_id, event) as conn:
            revision = self._draft_revision(conn, assessment_id)
            data = None if judgement is None else encode(
                assessment_id, "judgement", judgement.model_dump(), revision=revision, keyring=self._keyring
            )
            self._pending[0] = dataclasses.replace(event, seal=b"" if data is None else nonce_of(data))
            conn.execute(
                "UPDATE revisions SET judgement = ? WHERE assessment_id = ? AND revision = ?",
                (data, assessment_id, revision),
            )
            conn.execute("UPDATE assessments SET updated_at = ? WHERE id = ?", (_now(), assessment_id))

    # ------------------------------------------------------------------ revisions

    def complete(
        self, assessment_id: str, *, result: Result | None = None, completed_at: str | None = None
    ) -> AssessmentInfo:
        """Freeze the current revision; with ``result``, store it in the same transaction.

        Raises:
            StoreError: already completed, missing, or the write failed.
        """
        now = completed_at or _now()
        with self._write("the completion", assessment_id, _audit.Event("complete", assessment_id)) as conn:
            revision = self._draft_revision(conn, assessment_id)
            self._pending[0] = _audit.Event("complete", assessment_id, f"revision {revision}")
            conn.execute(
                "UPDATE revisions SET status = 'completed', completed_at = ? WHERE assessment_id = ? AND revision = ?",
                (now, assessment_id, revision),
            )
            conn.execute("UPDATE assessments SET updated_at = ? WHERE id = ?", (now, assessment_id))
            if result is not None:
                saved = insert_result(conn, assessment_id, revision, result, None, keyring=self._keyring)
                self._pending.append(_audit.Event("score", assessment_id, _result_detail(revision, result),
                                                 "stored" if saved.created else "unchanged"))
        return self.get(assessment_id)

    def correct(self, assessment_id: str) -> int:
        """Start a correction: copy the completed revision into a new draft; return its number.

        The completed revision and its results stay as they were.

        Raises:
            StoreError: the current revision is still a draft.
        """
        with self._write("the correction", assessment_id, _audit.Event("correct", assessment_id)) as conn:
            row = conn.execute(
                "SELECT r.revision, r.status, r.instrument_version, r.instrument_sha256, r.judgement"
                " FROM assessments a JOIN revisions r ON r.assessment_id = a.id AND r.revision = a.current_revision"
                " WHERE a.id = ?",
                (assessment_id,),
            ).fetchone()
            if row is None:
                raise StoreError("no such assessment", assessment_id)
            if row[1] != "completed":
                raise StoreError("the assessment is still a draft; change it directly", assessment_id)
            old, new, now = int(row[0]), int(row[0]) + 1, _now()
            # Every value is bound to its revision: the copies are opened and sealed again for
            # the new one (a ciphertext copied as it is would not open there, by design).
            ring = self._keyring
            judged = None if row[4] is None else reseal_revision(ring, assessment_id, "judgement", row[4], old, new)
            conn.execute(
                "INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256,"
                " judgement, created_at) VALUES (?, ?, 'draft', ?, ?, ?, ?)",
                (assessment_id, new, row[2], row[3], judged, now),
            )
            copied = conn.execute(
                "SELECT item_id, value, partial, answered_at FROM answers WHERE assessment_id = ? AND revision = ?",
                (assessment_id, old),
            ).fetchall()
            conn.executemany(
                "INSERT INTO answers (assessment_id, revision, item_id, value, partial, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(assessment_id, new, item, reseal_revision(ring, assessment_id, f"answer:{item}", value, old, new),
                  partial, answered) for item, value, partial, answered in copied],
            )
            conn.execute(
                "UPDATE assessments SET current_revision = ?, updated_at = ? WHERE id = ?", (new, now, assessment_id)
            )
            self._pending[0] = _audit.Event("correct", assessment_id, f"revision {new} from {old}")
        return new

    # ------------------------------------------------------------------ results

    def save_result(
        self,
        assessment_id: str,
        result: Result,
        *,
        revision: int | None = None,
        rules_sha256: str | None = None,
        action: str = "score",
    ) -> SavedResult:
        """Store a derived result unless one with the same key exists (re-scoring is a no-op).

        The key is (assessment, revision, instrument hash, rules hash, engine version);
        the answers are never touched. Either way one audit record (``action``:
        ``score`` or ``rescore``; outcome ``stored`` or ``unchanged``) is written.
        """
        rev = revision if revision is not None else self.get(assessment_id).revision
        with self._write("the result") as conn:
            saved = insert_result(conn, assessment_id, rev, result, rules_sha256, keyring=self._keyring)
            self._pending.append(_audit.Event(action, assessment_id, _result_detail(rev, result),
                                             "stored" if saved.created else "unchanged"))
            return saved




def store_location(path: str | os.PathLike[str] | None = None) -> Path | str:
    """Where a store is: a ``postgresql://`` URL (kept as text) or an SQLite file's path.

    ``path`` if given, else ``$SCREENING_STORE``, else ``default_store_path()``. The one
    place that tells the backends apart (``Store.open``, ``screening store``, ``rescore``).
    """
    from ._pg import is_url

    if path is None:
        env = os.environ.get("SCREENING_STORE", "")
        if is_url(env):
            return env
        return default_store_path()
    if isinstance(path, str) and is_url(path):
        return path
    return Path(path)


def _result_detail(revision: int, result: Result) -> str:
    return f"revision {revision}, {result.instrument.id}@{result.instrument.version}, engine {result.engine_version}"
