"""The records a re-score reads and returns: stored assessments, re-scored ones, failures.

May import: errors, instrument, result, scoring, migration, _score, store.values / stdlib.

Plain data, apart from ``Rescorer`` (``batch``) that makes them: what a caller
passes in (``StoredAssessment``, also read from JSON Lines) and gets back
(``Rescored``, ``Unchanged``, ``Failed``). ``batch`` re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ..content.migration import Note
from ..engine.instrument import JudgementInput, Text
from ..engine.result import Result
from ..engine.scoring import CompiledInstrument
from ..errors import StoreError
from ..store.values import check_case_ref
from ._score import Outcome

__all__ = [
    "CHANGES", "MAX_DEPTH", "Change", "Failed", "Rescored", "StoredAssessment", "Unchanged", "nesting_ok",
    "pseudonym_ok",
]

Change = Literal["rose", "review", "fell", "referrals", "other", "unchanged"]
# The order the diff lists them in: who needs a call today comes first.
CHANGES: tuple[Change, ...] = ("rose", "review", "fell", "referrals", "other", "unchanged")

# How deep lists and objects may nest in one record. What screening writes stays far
# below it (a full result with its trace is about ten levels); a record nested deeper
# is refused as a bad record, because migrating, scoring or writing it would recurse
# towards Python's limit and stop the whole batch.
MAX_DEPTH = 64


@dataclass(frozen=True)
class StoredAssessment:
    """One stored assessment as the re-scorer needs it.

    Attributes:
        id: the assessment's id in its store.
        case: the case pseudonym (never a personal identity number).
        instrument: the instrument id.
        version: the version the answers were given under.
        answers: item id → answer under ``version``.
        judgement: the assessor's level and rationale, if any.
        facts: case facts for the rule set (the bundled store keeps none).
        result: the latest stored outcome; ``None`` to compare with a recomputation
            under ``version``.
        revision, assessor, completed_at, sha256: store metadata; ``completed_at``
            becomes the new result's ``assessed_at`` so results are reproducible.
    """

    id: str
    case: str
    instrument: str
    version: str
    answers: Mapping[str, object]
    judgement: JudgementInput | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
    result: Outcome | None = None
    revision: int = 1
    assessor: str | None = None
    completed_at: str | None = None
    sha256: str | None = None

    @classmethod
    def from_json(cls, data: object) -> StoredAssessment:
        """Read one JSON Lines record ``{"id", "case", "instrument": {"id", "version"}, "answers", …}``.

        ``result`` may be a compact outcome (``level``, ``status``, …) or a full ``Result``.

        Raises:
            ValueError: the record does not have that shape (the message names fields only).
        """
        _require(isinstance(data, dict), "a record is a JSON object")
        assert isinstance(data, dict)
        _require(nesting_ok(data), f"a record nests lists and objects at most {MAX_DEPTH} levels deep")
        ident, case, inst, answers = data.get("id"), data.get("case"), data.get("instrument"), data.get("answers")
        _require(isinstance(ident, str) and bool(ident), "'id' is a required text")
        _require(isinstance(case, str) and pseudonym_ok(case), "'case' is a pseudonym (never an identity number)")
        _require(
            isinstance(inst, dict) and isinstance(inst.get("id"), str) and isinstance(inst.get("version"), str),
            "'instrument' needs 'id' and 'version'",
        )
        _require(isinstance(answers, dict), "'answers' is an object of item id → answer")
        judgement = data.get("judgement")
        facts = data.get("facts") or {}
        _require(isinstance(facts, dict), "'facts' is an object")
        raw = data.get("result")
        _require(raw is None or isinstance(raw, dict), "'result' is an object")
        result = None
        if isinstance(raw, dict):
            result = Outcome.from_result(raw) if "final_level" in raw else Outcome.from_json(raw)
        assert isinstance(ident, str) and isinstance(case, str) and isinstance(inst, dict)
        assert isinstance(answers, dict) and isinstance(facts, dict)
        try:
            judged = None if judgement is None else JudgementInput.model_validate(judgement)
        except ValueError:
            raise ValueError("'judgement' needs 'level' and 'rationale'") from None
        revision = data.get("revision", 1)
        return cls(
            id=ident, case=case, instrument=inst["id"], version=inst["version"], answers=answers,
            judgement=judged, facts=facts, result=result,
            revision=revision if isinstance(revision, int) else 1,
            sha256=inst.get("sha256") if isinstance(inst.get("sha256"), str) else None,
        )


@dataclass(frozen=True)
class Rescored:
    """One assessment re-scored: the outcome before and after, and why it changed.

    ``reasons`` are bilingual sentences built from the new result's trace and
    the migration; they name items, rules and levels, never an answer.
    ``result`` is the full new ``Result`` when the outcome changed (or when asked).
    """

    record: StoredAssessment
    target: CompiledInstrument
    old: Outcome
    new: Outcome
    change: Change
    baseline: Literal["stored", "recomputed"]
    old_rank: int | None
    new_rank: int | None
    referrals_added: tuple[str, ...]
    referrals_removed: tuple[str, ...]
    judgement_dropped: bool = False
    notes: tuple[Note, ...] = ()
    reasons: tuple[Text, ...] = ()
    result: Result | None = None
    answers: Mapping[str, object] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Failed:
    """An assessment that could not be re-scored, and why (items and versions, never answers)."""

    record_id: str
    case: str
    reason: str
    stage: Literal["record", "instrument", "migration", "answers"]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def nesting_ok(data: object, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and objects in ``data`` nest at most ``limit`` levels deep.

    Walked level by level, without recursion (a few microseconds for a usual record).
    """
    level = [data] if _nests(data) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        below: list[object] = []
        for item in level:
            cls = item.__class__
            mapping = cls is dict or (cls is not list and isinstance(item, Mapping))  # parsed JSON: no ABC check
            children: Iterable[object] = item.values() if mapping else item  # type: ignore[attr-defined,assignment]
            for child in children:
                kind = child.__class__
                if kind is dict or kind is list or (kind not in _SCALARS and _nests(child)):
                    below.append(child)
        level = below
    return True


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _nests(value: object) -> bool:
    return isinstance(value, list | tuple | Mapping) and not isinstance(value, str)


def pseudonym_ok(case: str) -> bool:
    """A case reference the store would accept: never something shaped like a personnummer."""
    try:
        check_case_ref(case)
    except StoreError:
        return False
    return True


class Unchanged(NamedTuple):
    """An assessment whose outcome did not change: what the diff counts and the store records."""

    record: StoredAssessment
    target: CompiledInstrument
    new: Outcome
    old_rank: int | None
    new_rank: int | None
