"""The case store's reads: assessments' metadata, and every read of personal data as one
audited "view" (see ``_store``'s docstring for why and for the ``_session_*`` path).

May import: errors, the engine's instrument and result, this package's audit, _base
and values / stdlib.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from ..engine.instrument import JudgementInput
from ..engine.result import Result
from ..errors import StoreError
from . import audit as _audit
from ._base import StoreBase
from .values import FACT_PREFIX, AssessmentInfo, Status, decode, info_from_row

_T = TypeVar("_T")

__all__ = ["StoreReads"]

_INFO_SQL = """
SELECT a.id, a.case_ref, a.instrument_id, r.instrument_version, r.instrument_sha256,
       a.instrument_path, a.assessor, a.lang, a.created_at, a.updated_at,
       r.revision, r.status, r.completed_at
FROM assessments a JOIN revisions r ON r.assessment_id = a.id AND r.revision = a.current_revision
"""


class StoreReads(StoreBase):
    """What a ``Store`` reads; ``Store`` adds the writes."""

    def get(self, assessment_id: str) -> AssessmentInfo:
        """Metadata of one assessment at its current revision.

        Raises:
            StoreError: no such assessment.
        """
        rows = self._read(_INFO_SQL + " WHERE a.id = ?", (assessment_id,))
        if not rows:
            raise StoreError("no such assessment", assessment_id)
        return info_from_row(rows[0])

    def find(self, case_ref: str, *, status: Status | None = None) -> list[AssessmentInfo]:
        """Assessments with this case reference, newest first."""
        sql = _INFO_SQL + " WHERE a.case_ref = ?" + (" AND r.status = ?" if status else "")
        params: tuple[object, ...] = (case_ref, status) if status else (case_ref,)
        return [info_from_row(r) for r in self._read(sql + " ORDER BY a.created_at DESC, a.id", params)]

    def list_assessments(
        self,
        *,
        instrument_id: str | None = None,
        version: str | None = None,
        instrument_sha256: str | None = None,
        status: Status | None = None,
        since: str | None = None,
        until: str | None = None,
        team: str | None = None,
        batch: int = 500,
    ) -> Iterator[AssessmentInfo]:
        """Stream assessments in creation order, filtered; nothing is loaded all at once.

        ``since``/``until`` compare with ``created_at`` (ISO 8601 UTC text, so a
        date such as ``2026-01-01`` works as a bound). Pages by rowid, so the store
        may be written between pages (batch re-scoring writes results as it goes).
        """
        where, params = [], []
        for clause, value in (
            ("a.instrument_id = ?", instrument_id),
            ("r.instrument_version = ?", version),
            ("r.instrument_sha256 = ?", instrument_sha256),
            ("r.status = ?", status),
            ("a.created_at >= ?", since),
            ("a.created_at < ?", until),
            ("a.id IN (SELECT assessment_id FROM case_teams WHERE team = ?)", team),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        last = 0
        while True:
            cond = [*where, "a.rowid > ?"]
            sql = _INFO_SQL.replace("SELECT ", "SELECT a.rowid AS seq, ", 1)
            sql += " WHERE " + " AND ".join(cond) + " ORDER BY a.rowid LIMIT ?"
            rows = self._read(sql, (*params, last, batch))
            for row in rows:
                yield info_from_row(row)
            if len(rows) < batch:
                return
            last = rows[-1]["seq"]

    def _view(self, assessment_id: str, what: str, revision: int | None,
              read: Callable[[str, int], _T]) -> _T:
        """``read(assessment_id, revision)`` inside one transaction with its "view" record (ids only).

        A read that fails (a value altered or moved, a missing assessment) rolls back
        and leaves a "refused" view record instead.
        """
        event = _audit.Event("view", assessment_id, what)
        with self._write(f"the audit record of reading the {what}", None, event):
            rev = revision if revision is not None else self.get(assessment_id).revision
            self._pending[0] = _audit.Event("view", assessment_id, f"{what}, revision {rev}")
            return read(assessment_id, rev)

    def facts(self, assessment_id: str, revision: int | None = None) -> dict[str, object]:
        """fact name → value of a revision (default: the current one); ``None`` = asked, unknown. Audited."""
        return self._view(assessment_id, "facts", revision, self._facts)

    def answers(self, assessment_id: str, revision: int | None = None) -> dict[str, object]:
        """item id → answer of a revision (default: the current one); ``None`` = asked, unknown. Audited."""
        return self._view(assessment_id, "answers", revision, self._answers)

    def answer_rows(self, assessment_id: str, revision: int | None = None) -> dict[str, tuple[object, bool]]:
        """item id → (answer, partial) — ``partial`` marks a group still being filled. Audited."""
        return self._view(assessment_id, "answers", revision, self._answer_rows)

    def _session_answer_rows(self, assessment_id: str) -> dict[str, tuple[object, bool]]:
        """``answer_rows`` of the current revision, unaudited: only for the interview session (see module doc)."""
        return self._answer_rows(assessment_id, self.get(assessment_id).revision)

    def _session_facts(self, assessment_id: str) -> dict[str, object]:
        """``facts`` of the current revision, unaudited: only for the interview session (see module doc)."""
        return self._facts(assessment_id, self.get(assessment_id).revision)

    def _session_judgement(self, assessment_id: str) -> JudgementInput | None:
        """``judgement`` of the current revision, unaudited: only for the interview session (see module doc)."""
        return self._judgement(assessment_id, self.get(assessment_id).revision)

    def _facts(self, assessment_id: str, rev: int) -> dict[str, object]:
        rows = self._read(  # the 'fact:' prefix as a range of the primary key, which LIKE would not use
            "SELECT item_id, value FROM answers"
            " WHERE assessment_id = ? AND revision = ? AND item_id >= ? AND item_id < ?",
            (assessment_id, rev, FACT_PREFIX, FACT_PREFIX[:-1] + chr(ord(FACT_PREFIX[-1]) + 1)),
        )
        return {
            r["item_id"][len(FACT_PREFIX):]: decode(assessment_id, f"answer:{r['item_id']}", r["value"],
                                                    revision=rev, keyring=self._keyring)
            for r in rows
        }

    def _answers(self, assessment_id: str, rev: int) -> dict[str, object]:
        return {item: value for item, (value, _) in self._answer_rows(assessment_id, rev).items()}

    def _answer_rows(self, assessment_id: str, rev: int) -> dict[str, tuple[object, bool]]:
        rows = self._read(
            "SELECT item_id, value, partial FROM answers WHERE assessment_id = ? AND revision = ?",
            (assessment_id, rev),
        )
        return {
            r["item_id"]: (
                decode(assessment_id, f"answer:{r['item_id']}", r["value"], revision=rev, keyring=self._keyring),
                bool(r["partial"]),
            )
            for r in rows
            if not r["item_id"].startswith(FACT_PREFIX)
        }

    def judgement(self, assessment_id: str, revision: int | None = None) -> JudgementInput | None:
        """The assessor's level and rationale on a revision (default: the current one), or ``None``. Audited."""
        return self._view(assessment_id, "judgement", revision, self._judgement)

    def _judgement(self, assessment_id: str, rev: int) -> JudgementInput | None:
        rows = self._read(
            "SELECT judgement FROM revisions WHERE assessment_id = ? AND revision = ?", (assessment_id, rev)
        )
        if not rows or rows[0]["judgement"] is None:
            return None
        return JudgementInput.model_validate(
            decode(assessment_id, "judgement", rows[0]["judgement"], revision=rev, keyring=self._keyring)
        )

    def results(self, assessment_id: str, revision: int | None = None) -> list[tuple[str, Result]]:
        """(result hash, result) for a revision (default: current), oldest first. Audited."""
        return self._view(assessment_id, "results", revision, self._results)

    def _results(self, assessment_id: str, rev: int) -> list[tuple[str, Result]]:
        rows = self._read(
            "SELECT result, result_sha256, instrument_sha256, rules_sha256, engine_version FROM results"
            " WHERE assessment_id = ? AND revision = ? ORDER BY created_at",
            (assessment_id, rev),
        )
        return [
            (r["result_sha256"], Result.model_validate(decode(
                assessment_id, "result", r["result"], revision=rev,
                key=(r["instrument_sha256"], r["rules_sha256"], r["engine_version"]), keyring=self._keyring)))
            for r in rows
        ]
