"""Why an assessment's outcome changed, in words, from the compact outcomes and the migration.

May import: instrument, scoring, referral, migration, _texts, _score / stdlib.

The diff goes to a team lead, so its reasons may name items, rules, levels and
services but never an answer: they are the instrument's and the rule set's own
words (critical rules, bands, rule reasons) and the engine's band sentence,
never the assessor's free-text rationale or an answer's label.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..content.migration import MigrationPlan, Note
from ..engine.instrument import JudgementInput, Text
from ..engine.scoring import CompiledInstrument
from ..referral import CompiledRuleSet
from ._score import Outcome
from ._texts import label, phrase

__all__ = ["not_asked", "reasons_for"]


def _level(ci: CompiledInstrument, level: str | None) -> Text:
    for lv in ci.instrument.levels:
        if lv.id == level:
            return lv.label
    return Text.model_construct(sv=level or "–", en=level or "–")


def reasons_for(
    ci: CompiledInstrument,
    rules: CompiledRuleSet | None,
    old: Outcome,
    new: Outcome,
    notes: tuple[Note, ...],
    plan: MigrationPlan,
    dropped: str | None,
    judgement: JudgementInput | None,
    not_asked: tuple[str, ...],
) -> Iterator[Text]:
    """Bilingual sentences, most important first: level, critical rules, judgement, referrals, migration.

    Built from the compact outcomes (no ``Result`` is needed): the fired critical
    rules, the score behind the band, the reason of each referral's rule.
    """
    old_level = plan.level(old.level) if old.level else None
    if old_level != new.level:
        yield phrase("level", old=_level(ci, old_level), new=_level(ci, new.level))
    for rule in new.critical:
        if rule not in old.critical:
            crit = next((c for c, _, _ in ci.critical if c.id == rule), None)
            reason = crit.reason if crit else Text.model_construct(sv=rule, en=rule)
            yield phrase("critical_new", reason=reason)
    for rule in old.critical:
        gone = next((c for c, _, _ in ci.critical if c.id == rule), None)
        if rule not in new.critical and gone is not None:
            yield phrase("critical_gone", reason=gone.reason)
    if old_level != new.level:
        yield from _band(ci, new)
    if dropped is not None and judgement is not None:
        yield phrase(
            "judgement_dropped",
            level=_level(ci, plan.level(judgement.level)),
            version=ci.instrument.version,
            reason=Text.model_construct(sv=dropped, en=dropped),
        )
    if (old.status != new.status and new.status == "incomplete") or (old.complete and not new.complete):
        yield phrase("incomplete")
    elif old.status != new.status:
        yield phrase("status", old=label(f"status_{old.status}"), new=label(f"status_{new.status}"))
    yield from _referrals(rules, old, new)
    yield from _migration(ci, plan, notes, not_asked)


def _band(ci: CompiledInstrument, new: Outcome) -> Iterator[Text]:
    """The band the score fell in (the engine's own sentence), when the score is exact."""
    from ..engine.phrases import phrase as engine_phrase

    bands = ci.instrument.bands
    index = next((n for n, s in enumerate(ci.instrument.scores) if bands and s.id == bands.score), None)
    if bands is None or index is None or index >= len(new.scores):
        return
    value = new.scores[index]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        return
    band = next((b for b in bands.ranges if b.min <= value <= b.max), None)
    if band is not None:
        label = ci.instrument.scores[index].label
        yield engine_phrase(
            "band", score=label, value=value, low=band.min, high=band.max, level=_level(ci, band.level)
        )


def _referrals(rules: CompiledRuleSet | None, old: Outcome, new: Outcome) -> Iterator[Text]:
    if rules is None:
        return
    services = rules.catalogue.services
    grouped: dict[tuple[str, str], tuple[list[Text], Text]] = {}  # one sentence per reason, naming its services
    for n, sid in enumerate(new.referrals):
        if sid in old.referrals:
            continue
        reason = new.why[n] if n < len(new.why) else Text.model_construct(sv="–", en="–")
        name = services[sid].name if sid in services else Text.model_construct(sv=sid, en=sid)
        grouped.setdefault((reason.sv, reason.en), ([], reason))[0].append(name)
    for names, reason in grouped.values():
        joined = Text.model_construct(sv=", ".join(n.sv for n in names), en=", ".join(n.en for n in names))
        yield phrase("referral_added", service=joined, reason=reason)
    for sid in old.referrals:
        if sid not in new.referrals:
            name = services[sid].name if sid in services else Text.model_construct(sv=sid, en=sid)
            yield phrase("referral_removed", service=name)


def not_asked(notes: tuple[Note, ...], answers: Mapping[str, object]) -> tuple[str, ...]:
    """The items of the new version an old assessment did not ask (added, or left open by a split)."""
    added = {new for op, _, new in notes if op == "added"}
    split_new = {n for op, _, new in notes if op == "split" for n in new.split(",")}
    return tuple(sorted(n for n in added | split_new if n not in answers))


def _questions(ci: CompiledInstrument, keys: list[str]) -> Text:
    """Items of the new version by their question, quoted; those it no longer has, counted."""
    shown = [ci.items[k].text for k in keys if k in ci.items]
    gone = sum(1 for k in keys if k not in ci.items)
    rest = [phrase("question_gone") if gone == 1 else phrase("questions_gone", n=gone)] if gone else []
    sv = [f"”{t.sv}”" for t in shown] + [r.sv for r in rest]
    en = [f"“{t.en}”" for t in shown] + [r.en for r in rest]
    return Text.model_construct(sv="; ".join(sv), en="; ".join(en))


def _migration(
    ci: CompiledInstrument, plan: MigrationPlan, notes: tuple[Note, ...], not_asked: tuple[str, ...]
) -> Iterator[Text]:
    if not plan.steps:
        return
    moved = ("renamed", "recoded", "split", "merged", "removed")
    # By the question under the new version (a renamed item by its new id), never by id.
    touched = sorted({k for op, old, new in notes if op in moved for k in (new if op == "renamed" else old).split(",")})
    if not_asked:
        yield phrase("not_asked", items=_questions(ci, list(not_asked)))
    if touched:
        yield phrase("migrated", old=plan.source, items=_questions(ci, touched))
