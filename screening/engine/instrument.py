"""The instrument format: frozen, strict pydantic models of one instrument version.

May import: errors, migration_spec / pydantic.

These models say what an instrument *is* (items, scales, scores, bands, critical
rules, policies, golden vectors). They hold no runtime state; cross-references
and expressions are checked by ``checks.py`` and compiled by ``scoring.py``.
Every model forbids unknown keys (a typo such as ``wieght`` must fail, not fall
back to a default), is strict (``"3"`` is not 3) and hides input in errors,
because an answer can be personal data.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .migration_spec import Migration

__all__ = [
    "MAX_RATIONALE",
    "Band",
    "Bands",
    "Critical",
    "GoldenVector",
    "Instrument",
    "Item",
    "Judgement",
    "Level",
    "Missing",
    "Option",
    "OwnView",
    "Requirement",
    "Scale",
    "Score",
    "Section",
    "Source",
    "Text",
]

RESERVED = frozenset({"and", "or", "not", "in", "true", "false", "level", "final_level", "status", "complete"})

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Value = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
InstrumentId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
# A Text also carries result wording that quotes a whole rationale (the trace's "Professionell
# bedömning: … Motivering: …"), so it has room beyond MAX_RATIONALE and its own wording.
Words = Annotated[str, StringConstraints(min_length=1, max_length=16_000)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]$")]


class Model(BaseModel):
    """Shared configuration: strict, closed, immutable, and silent about input."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class Text(Model):
    """A user-facing text; Swedish is the default language, English must be complete."""

    sv: Words
    en: Words

    def model_post_init(self, context: object, /) -> None:
        # Kept in sorted key order underneath (en, sv), so a result's canonical JSON,
        # which sorts keys, comes straight from pydantic's serializer (Result.to_json).
        # Field order (schema, checks, errors, diffs) stays Swedish first.
        d = self.__dict__
        sv = d.pop("sv")
        d["sv"] = sv

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


class Source(Model):
    """Where the structure comes from, and the promise that texts are our paraphrase."""

    manual: NonEmpty
    edition: NonEmpty
    publisher: NonEmpty
    paraphrased: bool
    note: Text


class Option(Model):
    """One answer option. ``unknown`` options never score as anything but unknown."""

    value: Value
    label: Text
    points: int = 0
    unknown: bool = False
    keys: dict[Literal["sv", "en"], Key] | None = None


class Scale(Model):
    """An answer scale declared once and reused by many items."""

    options: list[Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _values_unique(self) -> Scale:
        seen: set[str] = set()
        for opt in self.options:
            if opt.value in seen:
                raise ValueError(f"option value {opt.value!r} appears twice")
            seen.add(opt.value)
        if all(o.unknown for o in self.options):
            raise ValueError("a scale needs at least one option that is not 'unknown'")
        for lang in ("sv", "en"):
            keys = [o.keys[lang] for o in self.options if o.keys and lang in o.keys]
            if len(keys) != len(set(keys)):
                raise ValueError(f"two options share the same {lang} key")
        return self

    def known_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options if not o.unknown)


class Item(Model):
    """A question (``choice``, ``number``, ``date``, ``text``) or a repeating ``group``.

    Groups hold ``fields`` (items of the simple kinds) and are answered with a list
    of rows: incidents in a calendar, perpetrators, scenarios, management actions.
    """

    id: Id
    type: Literal["choice", "number", "date", "text", "group"] = "choice"
    text: Text
    help: Text | None = None
    scale: Id | None = None
    min: int | None = None
    max: int | None = None
    show_if: NonEmpty | None = None
    fields: list[Item] | None = None
    max_rows: int = Field(default=50, ge=1, le=500)
    protected: bool = False
    pseudonym: bool = False  # a name field (a perpetrator, a victim): a personnummer is refused here
    # A date item's window: the date lies at most this many days before the interview date
    # ("the past year" is 365). A date is never in the future. Both are checked where the
    # date is typed (the interview knows the date; the engine reads no clock), so stored
    # answers re-score the same on any day.
    window_days: int | None = Field(default=None, ge=1, le=36_600)

    @model_validator(mode="after")
    def _shape(self) -> Item:
        if (self.type == "choice") != (self.scale is not None):
            raise ValueError("'scale' is required for choice items and only for them")
        if self.type != "number" and (self.min is not None or self.max is not None):
            raise ValueError("'min'/'max' belong to number items")
        if self.type == "number" and (self.min is None or self.max is None):
            raise ValueError("number items need 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is larger than 'max'")
        if (self.type == "group") != (self.fields is not None):
            raise ValueError("'fields' is required for group items and only for them")
        if self.pseudonym and self.type != "text":
            raise ValueError("'pseudonym' belongs to text items")
        if self.window_days is not None and self.type != "date":
            raise ValueError("'window_days' belongs to date items")
        for f in self.fields or ():
            if f.type == "group" or f.show_if is not None:
                raise ValueError("group fields cannot be groups or have show_if")
        return self


class Section(Model):
    id: Id
    title: Text
    intro: Text | None = None
    items: list[Item] = Field(min_length=1)


class Score(Model):
    """A named score: the points of the chosen items summed, or a count of answers.

    ``items``/``sections`` select what it covers (default: every choice item).
    """

    id: Id
    label: Text
    kind: Literal["sum", "count"]
    values: list[Value] | None = None
    items: list[Id] | None = None
    sections: list[Id] | None = None

    @model_validator(mode="after")
    def _values_for_count(self) -> Score:
        if (self.kind == "count") != (self.values is not None):
            raise ValueError("'values' is required for count scores and only for them")
        return self


class Level(Model):
    id: Id
    label: Text
    description: Text | None = None


class Band(Model):
    """An inclusive integer range of a score that gives one level."""

    level: Id
    min: int
    max: int


class Bands(Model):
    score: Id
    ranges: list[Band] = Field(min_length=1)


class Critical(Model):
    """A critical item or combination: when it holds, the level is at least ``raise_to``."""

    id: Id
    when: NonEmpty
    raise_to: Id
    reason: Text


class Missing(Model):
    """How many unknown answers the instrument tolerates before it is incomplete."""

    max_unknown: int = Field(default=0, ge=0)


class Judgement(Model):
    """The professional-judgement policy.

    ``none``: no levels to judge. ``raise_only``: the assessor may raise, never lower.
    ``raise_or_lower``: either way, always with a rationale. ``required``: structured
    professional judgement — the level *is* the assessor's, with a rationale.
    """

    policy: Literal["none", "raise_only", "raise_or_lower", "required"]
    guidance: Text | None = None


class OwnView(Model):
    """The person's own view of the risk: a choice item mapped onto the levels."""

    item: Id
    levels: dict[Value, Id]


class Requirement(Model):
    """A condition that must hold before the assessment can be completed.

    An unmet requirement is always a warning; an unmet ``blocking`` one also makes
    the result incomplete: it cannot be ``concluded`` (PATRIARK without a rated
    perpetrator, a rated person at risk or a scenario).
    """

    id: Id
    check: NonEmpty
    message: Text
    blocking: bool = False


MAX_RATIONALE = 4000
"""The longest rationale a judgement takes, in characters: the interview's prompt, ``score
--rationale`` and the library all refuse a longer one with this number in the message."""

Rationale = Annotated[str, StringConstraints(min_length=1, max_length=MAX_RATIONALE)]


class JudgementInput(Model):
    """The assessor's level and rationale.

    ``acknowledged`` maps a critical rule id to why the assessor judges it not to
    hold: a judgement below the level of a critical rule that an unknown answer
    could fire is refused without one (the result and the report show it).
    """

    level: Id
    rationale: Rationale
    acknowledged: dict[Id, NonEmpty] = {}


class Expected(Model):
    scores: dict[Id, int] = {}
    computed_level: Id | None = None
    final_level: Id | None = None
    status: Literal["concluded", "indeterminate", "incomplete", "judgement_required", "no_level"] | None = None
    complete: bool | None = None
    critical: list[Id] | None = None
    critical_possible: list[Id] | None = None
    level_range: tuple[Id, Id] | None = None
    requirements_unmet: list[Id] | None = None
    unknown: int | None = None


class GoldenVector(Model):
    """Answers with the outcome a person worked out by hand; ``validate`` re-checks it."""

    name: NonEmpty
    answers: dict[Id, object]
    judgement: JudgementInput | None = None
    expect: Expected


class Instrument(Model):
    """One version of one instrument, as written in ``instruments/<id>/<version>.yaml``."""

    id: InstrumentId
    version: SemVer
    title: Text
    description: Text
    intro: Text
    model: Literal["gate", "profile", "count", "weighted", "spj"]
    source: Source
    scales: dict[Id, Scale]
    sections: list[Section] = Field(min_length=1)
    scores: list[Score] = []
    levels: list[Level] = []
    bands: Bands | None = None
    critical: list[Critical] = []
    missing: Missing = Missing()
    judgement: Judgement
    own_view: OwnView | None = None
    requirements: list[Requirement] = []
    tests: list[GoldenVector] = []
    migrations: list[Migration] = []

    def items(self) -> list[Item]:
        """Every top-level item in interview order."""
        return [item for section in self.sections for item in section.items]

    def level_ids(self) -> tuple[str, ...]:
        return tuple(level.id for level in self.levels)
