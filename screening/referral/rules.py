"""Referral rule sets and service catalogues: strict pydantic models.

May import: instrument / pydantic.

A *catalogue* lists one municipality's services (Stockholm's RVC and Origo,
Göteborg's Kriscentrum, …) with what each is for and whether contacting it needs
a formal decision or a legal basis for disclosure. A *rule set* is a set of
decision tables over a result: each rule has a condition in the instrument
expression language, the services it recommends, an urgency and a reason in
both languages. Municipalities differ, so all of this is data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from ..engine.instrument import Id, InstrumentId, Model, NonEmpty, SemVer, Text

__all__ = [
    "GENDERS",
    "URGENCIES",
    "Catalogue",
    "Contact",
    "FactSpec",
    "FollowUpSpec",
    "LegalBasis",
    "LegalTable",
    "Rule",
    "RuleSet",
    "Service",
    "Table",
]

URGENCIES = ("immediate", "within_days", "planned")
Urgency = Literal["immediate", "within_days", "planned"]
ServiceId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Role = Literal[
    "child_report",
    "protection_assessment",
    "honour_consultation",
    "police",
    "shelter",
    "support",
    "healthcare",
    "information",
    "perpetrator_programme",
    "emergency",
    "other",
]


# The gender ids a service's target group may name. A rule set that refers to a
# service with ``genders`` declares a choice fact ``gender`` with these values.
GENDERS = ("woman", "man", "other")
Gender = Literal["woman", "man", "other"]
# YAML gives dates as text (the loader never builds dates); parse ISO dates here only.
IsoDate = Annotated[dt.date, Field(strict=False)]


class LegalBasis(Model):
    """A legal ground, as in force, from the one legal table (``rules/legal.yaml``).

    ``reference`` cites the provision in force; ``former`` names the provision it
    replaced (the Social Services Act 2001:453 was replaced by SoL 2025:400 on
    1 July 2025), so older case files stay readable without citing a repealed law
    as if it applied.
    """

    label: Text
    reference: Text
    former: Text | None = None


class LegalTable(Model):
    """``rules/legal.yaml``: the laws in force and the legal grounds every catalogue shares."""

    id: Literal["legal"]
    checked: IsoDate
    laws: dict[Id, Text] = {}
    legal_bases: dict[Id, LegalBasis] = Field(min_length=1)


class Contact(Model):
    """A phone number or web address, with where it was confirmed and when.

    A number nobody can trace to a source is worse than none: a caseworker may
    read it aloud to someone in danger. Contacts are catalogue data for the
    caseworker's own tools; the report templates do not print them (a report to a
    referral partner must never carry them by accident).
    """

    kind: Literal["phone", "web"]
    value: NonEmpty
    source: Annotated[str, StringConstraints(pattern=r"^https://[^\s]+$")]
    checked: IsoDate
    note: Text | None = None

    @field_validator("value")
    @classmethod
    def _value_shape(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _shape(self) -> Contact:
        if self.kind == "web" and not self.value.startswith("https://"):
            raise ValueError("a web contact is an https:// address")
        if self.kind == "phone" and not all(c.isdigit() or c in " +-()" for c in self.value):
            raise ValueError("a phone contact holds digits, spaces, '+', '-' and parentheses only")
        return self


class Service(Model):
    """A service people can be referred to; contacting it is always the caseworker's act.

    ``status: proposed`` marks a service that does not exist yet (the lämna-program
    is a proposal the committee supports). A rule may still name it, because the
    need it answers is real, but it is never recommended as available: the engine
    takes it out of the referrals and adds a note, in both languages, that it is
    "föreslagen – finns ännu inte" and that the need must be met with the services
    that exist. A caseworker reads the referral list as "what I can do now"; a
    service that cannot be contacted does not belong there, and no safety check
    (incomplete results, support after filtering) may count it as support.

    The target group is ``age_min``/``age_max`` and ``genders`` (None: anyone).
    A person known to be outside it is not referred; an unknown age or gender
    never removes a service.
    """

    name: Text
    description: Text
    purpose: Text
    target_group: Text
    role: Role
    tier: Literal["information", "support", "protection"]
    status: Literal["available", "proposed"] = "available"
    decision_required: bool = False
    legal_basis: list[Id] = []
    contacts_family: bool = False
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    genders: list[Gender] | None = Field(default=None, min_length=1)
    area: Text | None = None
    contact: list[Contact] = []

    def fits(self, age: object, gender: object) -> bool:
        """Whether a person is inside the target group, as far as is known (unknown fits)."""
        if isinstance(age, int) and not isinstance(age, bool):
            below = self.age_min is not None and age < self.age_min
            if below or (self.age_max is not None and age > self.age_max):
                return False
        return not (isinstance(gender, str) and self.genders is not None and gender not in self.genders)


class Catalogue(Model):
    """One municipality's services, in ``rules/services/<id>.yaml``."""

    id: InstrumentId
    version: SemVer
    title: Text
    municipality: NonEmpty
    legal_bases: dict[Id, LegalBasis] = {}
    services: dict[ServiceId, Service] = Field(min_length=1)


class FactSpec(Model):
    """A case fact (not an instrument answer): asked at the start of an interview or given by a caller.

    ``question`` is what the interview asks, in both languages; ``label`` names the
    fact in summaries and reports. A choice fact names its values in words
    (``value_labels``), so no value id ever reaches a caseworker's screen.
    """

    type: Literal["bool", "int", "choice"]
    label: Text
    question: Text
    help: Text | None = None
    min: int | None = None
    max: int | None = None
    values: list[Id] | None = None
    value_labels: dict[Id, Text] | None = None

    @model_validator(mode="after")
    def _shape(self) -> FactSpec:
        if (self.type == "int") != (self.min is not None and self.max is not None):
            raise ValueError("int facts need 'min' and 'max', and only they have them")
        if (self.type == "choice") != (self.values is not None):
            raise ValueError("choice facts need 'values', and only they have them")
        if (self.type == "choice") != (self.value_labels is not None):
            raise ValueError("choice facts need 'value_labels' (each value in words), and only they have them")
        if self.values is not None and set(self.values) != set(self.value_labels or {}):
            raise ValueError("'value_labels' names exactly the facts' 'values'")
        return self


class FollowUpSpec(Model):
    """A follow-up a rule recommends: another assessment, or a consultation."""

    kind: Literal["assessment", "consultation"]
    target: NonEmpty
    reason: Text


class Rule(Model):
    id: Id
    when: NonEmpty
    refer: list[ServiceId] = []
    urgency: Urgency = "planned"
    reason: Text
    follow_up: list[FollowUpSpec] = []
    inferred: bool = True
    note: NonEmpty | None = None


class Table(Model):
    """A decision table over results of one instrument (``*``: any instrument).

    ``derive`` fills a case fact from the instrument's own answers when the caller
    did not supply it (kortfrågor ask whether there are children, so the children
    safety rule need not wait for a separate fact).
    """

    id: Id
    instrument: Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9-]{0,63})$")]
    hit_policy: Literal["collect", "first", "unique"]
    violence_disclosed: NonEmpty | None = None
    honour_context: NonEmpty | None = None
    reassess_after_days: dict[Id, Annotated[int, Field(ge=1, le=730)]] = {}
    derive: dict[Id, NonEmpty] = {}
    rules: list[Rule] = Field(min_length=1)


class RuleSet(Model):
    """A referral rule set for one catalogue, in ``rules/<id>.yaml``.

    ``incomplete_support`` names the services recommended when a result is
    incomplete or indeterminate and the rules gave nothing beyond information:
    an incomplete result must never end in low-level advice only.
    """

    id: InstrumentId
    version: SemVer
    title: Text
    catalogue: InstrumentId
    facts: dict[Id, FactSpec] = {}
    incomplete_support: list[ServiceId] = Field(min_length=1)
    tables: list[Table] = Field(min_length=1)
