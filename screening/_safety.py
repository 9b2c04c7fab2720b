"""The three safety rules every rule set obeys, enforced in code after the tables ran.

May import: expr, result, rules, referral, _texts / stdlib.

They live in code, not YAML, because they must hold for every municipality's rule
set, including one written tomorrow by someone who never read this file. Each adds
what is missing (with a rule id ``safety.*`` and a reason in both languages) or
removes what is forbidden, and says so in the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._texts import phrase
from .expr import UNKNOWN
from .result import FollowUp, Message, TraceStep

if TYPE_CHECKING:
    from .referral import CompiledRuleSet, CompiledTable, Recommendation

__all__ = ["CHILDREN_FACT", "HONOUR_FACT", "apply_safety_rules"]

CHILDREN_FACT = "children_in_household"
HONOUR_FACT = "honour_context"


def _maybe(value: object) -> bool:
    return value is True or value is UNKNOWN


def apply_safety_rules(
    crs: CompiledRuleSet,
    tables: tuple[CompiledTable, ...],
    env: Mapping[str, object],
    status: str,
    rec: Recommendation,
    instrument_id: str,
) -> None:
    """Apply the children, incomplete and honour safety rules to ``rec`` in place."""
    _children(crs, tables, env, rec)
    _honour(crs, tables, env, rec)
    _incomplete(crs, status, rec, instrument_id)


def _services_with_role(crs: CompiledRuleSet, role: str) -> list[str]:
    return [sid for sid, s in crs.catalogue.services.items() if s.role == role]


def _children(
    crs: CompiledRuleSet, tables: tuple[CompiledTable, ...], env: Mapping[str, object], rec: Recommendation
) -> None:
    disclosed = [t.violence.fn(env) for t in tables if t.violence is not None]
    if not any(_maybe(v) for v in disclosed):
        return
    children = env.get(CHILDREN_FACT, UNKNOWN)
    if children is UNKNOWN:
        rec.warnings.append(Message(code="children_unknown", text=phrase("warn_children_unknown")))
        return
    if children is not True:
        return
    targets = _services_with_role(crs, "child_report")
    present = {r.service for r in rec.referrals}
    for sid in targets:
        if sid not in present:
            rec.referrals.append(crs.referral(sid, "safety.children", "immediate", phrase("safety_children"), []))
            rec.trace.append(TraceStep(kind="rule", ref="safety.children", text=phrase("safety_children")))


def _honour(
    crs: CompiledRuleSet, tables: tuple[CompiledTable, ...], env: Mapping[str, object], rec: Recommendation
) -> None:
    context = [t.honour.fn(env) for t in tables if t.honour is not None]
    context.append(env.get(HONOUR_FACT, False))
    if not any(v is True for v in context):
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


def _incomplete(crs: CompiledRuleSet, status: str, rec: Recommendation, instrument_id: str) -> None:
    if status not in ("incomplete", "indeterminate"):
        return
    services = crs.catalogue.services
    if any(services[r.service].tier != "information" for r in rec.referrals):
        return
    for sid in crs.ruleset.incomplete_support:
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
