"""The safety rules every rule set obeys, enforced in code after the tables ran.

May import: expr, result, rules, referral, the engine's phrases / stdlib.

They live in code, not YAML, because they must hold for every municipality's rule
set, including one written tomorrow by someone who never read this file. Each adds
what is missing (with a rule id ``safety.*`` and a reason in both languages) or
removes what is forbidden, and says so in the trace:

* children in the household and disclosed violence → report-of-concern consideration;
* a person under 18 who discloses violence → the child-protection consideration and
  a support for children and young people where the catalogue has one; an unknown
  age where age matters → a warning to establish it, and in an honour context the
  child-protection consideration meanwhile;
* honour context → nothing that contacts the family before a protection assessment;
* incomplete (``complete`` false, or an incomplete or indeterminate status) → never
  information-only advice or no referral at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..engine.expr import UNKNOWN
from ..engine.phrases import phrase
from ..engine.result import FollowUp, Message, TraceStep

if TYPE_CHECKING:
    from ._evaluate import CompiledRuleSet, CompiledTable, Recommendation
    from .rules import Service

__all__ = ["ADULT_AGE", "AGE_FACT", "CHILDREN_FACT", "HONOUR_FACT", "apply_safety_rules"]

CHILDREN_FACT = "children_in_household"
HONOUR_FACT = "honour_context"
AGE_FACT = "age"
GENDER_FACT = "gender"
ADULT_AGE = 18


def _maybe(value: object) -> bool:
    return value is True or value is UNKNOWN


def _age(env: Mapping[str, object]) -> int | None:
    age = env.get(AGE_FACT, UNKNOWN)
    return age if isinstance(age, int) and not isinstance(age, bool) else None


def _available(service: Service, env: Mapping[str, object]) -> bool:
    """Whether the service exists and the person is inside its target group, as far as is known."""
    return service.status != "proposed" and service.fits(env.get(AGE_FACT, UNKNOWN), env.get(GENDER_FACT, UNKNOWN))


def apply_safety_rules(
    crs: CompiledRuleSet,
    tables: tuple[CompiledTable, ...],
    env: Mapping[str, object],
    status: str,
    rec: Recommendation,
    instrument_id: str,
    *,
    complete: bool = True,
) -> None:
    """Apply the children, minors, honour and incomplete safety rules to ``rec`` in place."""
    disclosed = any(_maybe(t.violence.fn(env)) for t in tables if t.violence is not None)
    context = [t.honour.fn(env) for t in tables if t.honour is not None]
    context.append(env.get(HONOUR_FACT, False))
    honour = any(v is True for v in context)
    _children(crs, disclosed, env, rec)
    _minors(crs, disclosed, honour, env, rec)
    _honour(crs, honour, rec)
    _incomplete(crs, status, complete, env, rec, instrument_id)


def _services_with_role(crs: CompiledRuleSet, role: str) -> list[str]:
    return [sid for sid, s in crs.catalogue.services.items() if s.role == role]


def _add(crs: CompiledRuleSet, rec: Recommendation, sids: list[str], rule: str, urgency: str, code: str) -> None:
    present = {r.service for r in rec.referrals}
    for sid in sids:
        if sid not in present:
            referral, step = crs.safety_referral(sid, rule, urgency, code)
            rec.referrals.append(referral)
            rec.trace.append(step)


def _children(crs: CompiledRuleSet, disclosed: bool, env: Mapping[str, object], rec: Recommendation) -> None:
    if not disclosed:
        return
    children = env.get(CHILDREN_FACT, UNKNOWN)
    if children is UNKNOWN:
        rec.warnings.append(Message(code="children_unknown", text=phrase("warn_children_unknown")))
        return
    if children is True:
        _add(crs, rec, _services_with_role(crs, "child_report"), "safety.children", "immediate", "safety_children")


def _minors(
    crs: CompiledRuleSet, disclosed: bool, honour: bool, env: Mapping[str, object], rec: Recommendation
) -> None:
    """A child who discloses violence is a child at risk, whatever the instrument's level."""
    age = _age(env)
    services = crs.catalogue.services
    if age is not None:
        if age >= ADULT_AGE or not disclosed:
            return
        _add(crs, rec, _services_with_role(crs, "child_report"), "safety.minor", "immediate", "safety_minor")
        # Support for children and young people: a support service with an upper age
        # limit that the person fits (e.g. a service for young victims of crime).
        youth = [
            sid
            for sid, s in services.items()
            if s.role == "support" and s.age_max is not None and _available(s, env) and not s.contacts_family
        ]
        _add(crs, rec, youth, "safety.minor", "within_days", "safety_minor_support")
        return
    age_limited = any(
        services[r.service].age_min is not None or services[r.service].age_max is not None for r in rec.referrals
    )
    if honour or (disclosed and age_limited):
        rec.warnings.append(Message(code="age_unknown", text=phrase("warn_age_unknown")))
    if honour:
        # Precaution until the age is known: honour-related control of a child is a
        # child-protection matter, and a late report can cost the chance to protect.
        reports = _services_with_role(crs, "child_report")
        _add(crs, rec, reports, "safety.age_unknown", "immediate", "safety_age_unknown")


def _honour(crs: CompiledRuleSet, honour: bool, rec: Recommendation) -> None:
    if not honour:
        return
    services = crs.catalogue.services
    removed = [r for r in rec.referrals if services[r.service].contacts_family]
    rec.referrals = [r for r in rec.referrals if not services[r.service].contacts_family]
    for ref in removed:
        rec.trace.append(
            TraceStep(kind="rule", ref="safety.honour", text=phrase("safety_honour_removed", service=ref.name))
        )
    present = {r.service for r in rec.referrals}
    for sid in _services_with_role(crs, "protection_assessment"):
        if sid not in present:
            rec.referrals.append(crs.referral(sid, "safety.honour", "immediate", phrase("safety_honour"), []))
    rec.warnings.append(Message(code="honour_no_family_contact", text=phrase("safety_honour")))


def _incomplete(
    crs: CompiledRuleSet,
    status: str,
    complete: bool,
    env: Mapping[str, object],
    rec: Recommendation,
    instrument_id: str,
) -> None:
    """``complete: false`` (or an unsettled level) never ends in information only or nothing."""
    if complete and status not in ("incomplete", "indeterminate"):
        return
    services = crs.catalogue.services
    if any(services[r.service].tier != "information" for r in rec.referrals):
        return
    support = [sid for sid in crs.ruleset.incomplete_support if _available(services[sid], env)]
    if not support:
        # The rule set's own choice does not take this person (e.g. an adults-only
        # centre for a 16-year-old): any support or protection service that does.
        support = [
            sid
            for sid, s in services.items()
            if s.tier != "information"
            and s.role in ("support", "child_report")
            and _available(s, env)
            and not s.contacts_family
        ][:1]
    for sid in support:
        rec.referrals.append(crs.referral(sid, "safety.incomplete", "within_days", phrase("safety_incomplete"), []))
    rec.follow_up.append(
        FollowUp(
            kind="assessment",
            target=instrument_id,
            name=phrase("complete_assessment"),
            rule="safety.incomplete",
            reason=phrase("safety_incomplete"),
        )
    )
    rec.trace.append(TraceStep(kind="rule", ref="safety.incomplete", text=phrase("safety_incomplete")))
