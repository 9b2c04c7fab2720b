"""The result of an assessment: a JSON-serialisable record with its own JSON Schema.

May import: instrument / pydantic.

The result keeps the computed level, the critical-item level and the judgement
apart (peers collapse them; we do not), carries completeness as an interval of
levels, and a trace in words. Nothing in it depends on the clock unless the
caller passes ``assessed_at``, so the same inputs give byte-identical JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any, ClassVar, Literal, Self

import orjson as _orjson
from pydantic import BaseModel, ConfigDict

from .instrument import Text

__all__ = [
    "AnswerValue",
    "CaseFact",
    "Completeness",
    "FollowUp",
    "InstrumentRef",
    "JudgementRecord",
    "LevelRange",
    "Message",
    "OwnViewResult",
    "Referral",
    "Result",
    "ScoreResult",
    "Status",
    "TraceStep",
    "compact_outcome",
]

SCHEMA_VERSION = 1

Status = Literal["concluded", "indeterminate", "incomplete", "judgement_required", "no_level"]
Direction = Literal["raised", "confirmed", "lowered", "resolved", "set"]
Scalar = str | int | None
AnswerValue = str | int | list[dict[str, Scalar]] | None


class Record(BaseModel):
    """Result models keep their fields in sorted key order underneath (``__dict__``).

    The order the canonical JSON (``Result.to_json``: sorted keys, as the stored results
    and their hashes have always been) writes them, so ``model_dump`` gives it too.
    Declarations stay in reading order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    _unsorted: ClassVar[bool] = False
    _field_names: ClassVar[set[str]] = set()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._unsorted = list(cls.model_fields) != sorted(cls.model_fields)
        cls._field_names = set(cls.model_fields)

    def model_post_init(self, context: object, /) -> None:
        if self._unsorted:
            d = self.__dict__
            items = sorted(d.items())
            d.clear()
            d.update(items)

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Self:
        """A record from values the engine made itself, without validating them again.

        For the engine's own hot path only (``build_result``): ``values`` must hold every
        field, in sorted key order, each already of its declared type. Validating a
        ``Result`` the engine has just computed cost a third of ``assess``; the property
        tests check that such a record equals the one validation gives
        (``tests/test_result_trusted.py``), so a mistake here fails a test, not a user.
        """
        record = cls.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(record, "__dict__", values)
        setattr_(record, "__pydantic_fields_set__", cls._field_names.copy())
        setattr_(record, "__pydantic_extra__", None)
        setattr_(record, "__pydantic_private__", None)
        return record


class InstrumentRef(Record):
    id: str
    version: str
    sha256: str
    title: Text
    texts_sha256: str | None = None


class ScoreResult(Record):
    """A score; ``value`` is ``None`` when unknowns leave it anywhere in ``min``–``max``."""

    label: Text
    value: int | None
    min: int
    max: int


class LevelRange(Record):
    min: str
    max: str


class JudgementRecord(Record):
    """The assessor's level, with the direction relative to the computed range.

    ``acknowledged``: critical rule id → why the assessor judged it not to hold,
    for each rule an unknown answer could have fired above the judged level.
    """

    level: str
    rationale: str
    assessor: str | None
    direction: Direction
    acknowledged: dict[str, str] = {}


class Completeness(Record):
    """Unknown answers: ``unknown``/``unknown_items`` count against ``max_unknown`` (items that feed a
    score or a critical rule); ``unknown_answers`` is every shown item answered "unknown" (a
    "Vet inte" option, skipped or not given), also the own view and descriptive items, so what
    a summary shows as unknown and what the result counts agree."""

    unknown: int
    unknown_items: list[str]
    skipped_items: list[str]
    max_unknown: int
    complete: bool
    unknown_answers: list[str] = []


class OwnViewResult(Record):
    """The person's own view, and whether it differs from the final level."""

    answer: str | None
    level: str | None
    discrepancy: bool
    direction: Literal["person_lower", "person_higher", "same"] | None


class Message(Record):
    code: str
    text: Text


class TraceStep(Record):
    """One step of the explanation: what was looked at and what it gave, in words."""

    kind: Literal[
        "answer",
        "unknown",
        "skipped",
        "score",
        "band",
        "critical",
        "judgement",
        "final",
        "own_view",
        "requirement",
        "rule",
        "near_miss",
    ]
    ref: str
    text: Text


class Fact(Record):
    """A fact that satisfied a rule, in words: item id plus the answer's label."""

    ref: str
    text: Text


class CaseFact(Record):
    """A case fact as the referral rules saw it, named and valued in words.

    ``source``: ``given`` by the caseworker or caller, ``derived`` from one of the
    instrument's own answers (kortfrågor ask about children), or ``unknown`` —
    an unknown fact is shown as such and never read as "no".
    """

    name: str
    label: Text
    value: bool | int | str | None
    text: Text
    source: Literal["given", "derived", "unknown"]


class Referral(Record):
    """A recommendation. Nothing is ever sent: the caseworker decides and acts."""

    service: str
    name: Text
    urgency: Literal["immediate", "within_days", "planned"]
    rule: str
    reason: Text
    decision_required: bool
    legal_basis_required: bool
    legal_basis_options: list[str]
    facts: list[Fact]


class FollowUp(Record):
    kind: Literal["assessment", "consultation"]
    target: str
    name: Text
    rule: str
    reason: Text


class Result(Record):
    """Everything an assessment concluded, and why."""

    schema_version: int = SCHEMA_VERSION
    engine_version: str
    instrument: InstrumentRef
    assessed_at: str | None
    answers: dict[str, AnswerValue]
    scores: dict[str, ScoreResult]
    levels: list[str]
    level_labels: dict[str, Text]
    computed_level: str | None
    computed_range: LevelRange | None
    critical: list[str]
    critical_possible: list[str]
    critical_level: str | None
    judgement: JudgementRecord | None
    final_level: str | None
    level_range: LevelRange | None
    status: Status
    complete: bool
    completeness: Completeness
    own_view: OwnViewResult | None
    requirements_unmet: list[str]
    warnings: list[Message]
    trace: list[TraceStep]
    ruleset: dict[str, str] | None = None
    ruleset_title: Text | None = None  # the rule set's title, so summary and report can name it
    case_facts: list[CaseFact] = []
    referrals: list[Referral] = []
    follow_up: list[FollowUp] = []
    reassess_within_days: int | None = None

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, two-space indent, UTF-8 kept readable, a final newline.

        The bytes of ``to_json_python`` (``json.dumps(..., sort_keys=True,
        ensure_ascii=False, indent=2)``), written by orjson (issue 19): pydantic's own
        serializer can neither sort keys nor indent without Python callbacks, and the
        standard library cannot indent in C; orjson does both, at about 1.3× the speed
        of pydantic's *compact* ``model_dump_json``. A record is written as its fields
        (``__dict__``: every value in a ``Result`` is a record, a string, a number,
        ``None``, a list or a dict, by its types). Should orjson refuse a value (a lone
        surrogate, an integer beyond 64 bits), the standard library writes it instead.
        """
        try:
            return _orjson_dumps(self, default=_FIELDS, option=_CANONICAL).decode("utf-8") + "\n"
        except TypeError:  # orjson.JSONEncodeError
            return self.to_json_python()

    def to_json_python(self) -> str:
        """The canonical JSON by the standard library's encoder: what ``to_json`` must equal."""
        import json

        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, indent=2) + "\n"


_FIELDS = attrgetter("__dict__")  # how orjson writes a record: its fields, in any order (keys are sorted)
_CANONICAL = _orjson.OPT_INDENT_2 | _orjson.OPT_SORT_KEYS
_orjson_dumps = _orjson.dumps


def compact_outcome(result: Mapping[str, object]) -> dict[str, object]:
    """What a re-score compares of a stored result (its JSON), and nothing else.

    Level, status, completeness, fired critical rules and recommended services:
    the store keeps this next to every full result, so re-scoring a large store
    reads about 150 bytes per assessment instead of decrypting and parsing the
    whole result with its trace (measured ~3 µs against ~25 µs).
    """
    referrals = result.get("referrals")
    services = [r.get("service") for r in referrals if isinstance(r, dict)] if isinstance(referrals, list) else []
    return {
        "level": result.get("final_level"),
        "status": result.get("status"),
        "complete": result.get("complete", True),
        "critical": result.get("critical") or [],
        "referrals": services,
    }
