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

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from .instrument import Id, InstrumentId, Model, NonEmpty, SemVer, Text

__all__ = [
    "URGENCIES",
    "Catalogue",
    "FactSpec",
    "FollowUpSpec",
    "LegalBasis",
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


class LegalBasis(Model):
    """A legal ground the caseworker may choose for disclosing to a service."""

    label: Text
    reference: NonEmpty


class Service(Model):
    """A service people can be referred to; contacting it is always the caseworker's act."""

    name: Text
    description: Text
    purpose: Text
    target_group: Text
    role: Role
    tier: Literal["information", "support", "protection"]
    decision_required: bool = False
    legal_basis: list[Id] = []
    contacts_family: bool = False
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    area: Text | None = None


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
