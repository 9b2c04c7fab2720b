"""The single façade that turns answers into a ``Result``: used by CLI, API and batch.

May import: errors, expr, instrument, scoring, result, _texts / stdlib.

Level provenance is kept in three layers — computed from bands, raised by
critical rules, and the assessor's judgement — and combined by fixed safety
rules: critical rules only raise; unknown answers widen the range and never
lower its top; too many unknowns make the result incomplete; a range that spans
levels is indeterminate, never its lower end; a judgement below a critical rule
an unknown answer could fire needs a recorded reason per rule; an unmet blocking
requirement (PATRIARK without a perpetrator, a person at risk or a scenario)
leaves the result incomplete, never concluded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._version import __version__ as ENGINE_VERSION
from ..errors import AnswerError, JudgementError
from ..referral._evaluate import CompiledRuleSet, Recommendation
from ._explain import explain, judgement_discrepancy
from ._fast import Summary
from ._texts import phrase, unknowns
from .expr import UNKNOWN, Interval
from .instrument import JudgementInput, Text
from .result import (
    Completeness,
    InstrumentRef,
    JudgementRecord,
    LevelRange,
    Message,
    OwnViewResult,
    Result,
    ScoreResult,
    Status,
    TraceStep,
)
from .scoring import CompiledInstrument, Evaluation

__all__ = [
    "Decision",
    "allowed_levels",
    "assess",
    "decide",
    "near_misses",
    "rule_level",
    "summarize",
    "summarize_referrals",
]


@dataclass(frozen=True)
class Decision:
    """Level indexes and status; ``precautionary`` is the highest level not ruled out."""

    lo: int | None
    hi: int | None
    floor: int | None
    judged: int | None
    direction: str | None
    final: int | None
    status: Status
    complete: bool
    acknowledged: tuple[str, ...] = ()  # possibly-met critical rules the judgement went below, with a reason
    blocked: tuple[str, ...] = ()  # unmet blocking requirements: the result cannot be concluded

    @property
    def precautionary(self) -> int | None:
        return self.final if self.final is not None else self.hi


def decide(ci: CompiledInstrument, ev: Evaluation, judgement: JudgementInput | None) -> Decision:
    """Combine computed range, critical rules and judgement under the safety rules."""
    inst = ci.instrument
    levels = ci.levels
    floor = max((ci.critical[i][2] for i in ev.fired), default=None)
    possible = max((ci.critical[i][2] for i in ev.possible), default=None)
    lo = hi = None
    if ev.computed is not None or floor is not None or possible is not None:
        clo, chi = ev.computed if ev.computed is not None else (0, 0)
        lo = max(clo, floor if floor is not None else 0)
        hi = max(chi, lo, possible if possible is not None else 0)
    complete = len(ev.unknown_items) <= inst.missing.max_unknown
    policy = inst.judgement.policy
    if judgement is None:
        d = _undecided(ci, lo, hi, floor, complete)
        blocked = _blocking_unmet(ci, ev, d.final)
        if not blocked:
            return d
        # A missing core part (PATRIARK without a perpetrator, a person at risk or a
        # scenario) forbids concluding anything: incomplete, at the top of the range.
        status: Status = "incomplete" if d.status == "concluded" else d.status
        final = None if status == "incomplete" else d.final
        return Decision(lo, hi, floor, None, None, final, status, False, (), blocked)
    if policy == "none":
        raise JudgementError(
            f"{inst.id} gives no level, so it takes no judgement", phrase("refuse_no_level", instrument=inst.title)
        )
    if judgement.level not in levels:
        names = Text(sv=", ".join(lv.label.sv for lv in inst.levels), en=", ".join(lv.label.en for lv in inst.levels))
        raise JudgementError(
            f"unknown level {judgement.level!r} (levels: {', '.join(levels)})",
            phrase("refuse_unknown_level", levels=names),
        )
    if not judgement.rationale.strip():
        raise JudgementError("a judgement needs a rationale", phrase("refuse_no_rationale"))
    judged = levels.index(judgement.level)
    # Under raise_only the judgement may not go below the top of the range: settling an
    # indeterminate range lower would be treating unknown answers as "no".
    if policy == "raise_only" and hi is not None and judged < hi:
        narrow = lo is not None and lo < hi
        raise JudgementError(
            f"{inst.id} allows the assessor only to raise the level: at least {levels[hi]!r}"
            + (" (answer the unknown items to narrow the range)" if narrow else ""),
            phrase("refuse_raise_only_range" if narrow else "refuse_raise_only", level=inst.levels[hi].label),
        )
    if not complete and judged == 0 and len(levels) > 1:
        raise JudgementError(
            f"{len(ev.unknown_items)} unknown answers (at most {inst.missing.max_unknown}): "
            f"the lowest level {levels[0]!r} cannot be concluded",
            phrase(
                "refuse_lowest_incomplete",
                unknowns=unknowns(len(ev.unknown_items)),
                limit=inst.missing.max_unknown,
                level=inst.levels[0].label,
            ),
        )
    if lo is None or hi is None:
        direction = "set"
    elif judged > hi:
        direction = "raised"
    elif judged < lo:
        direction = "lowered"
    elif lo == hi:
        direction = "confirmed"
    else:
        direction = "resolved"
    acknowledged = _check_acknowledged(ci, ev, judgement, max(judged, floor if floor is not None else 0))
    final = max(judged, floor) if floor is not None else judged
    blocked = _blocking_unmet(ci, ev, final)
    if blocked:
        # The assessor's level stands (the rules act on it), but the result is not
        # concluded and not complete until the missing parts are there.
        return Decision(lo, hi, floor, judged, direction, final, "incomplete", False, acknowledged, blocked)
    return Decision(lo, hi, floor, judged, direction, final, "concluded", complete, acknowledged)


def allowed_levels(ci: CompiledInstrument, ev: Evaluation) -> tuple[JudgementError | None, ...]:
    """Per level, in order: ``None`` if a judgement at that level is allowed for this result, else the refusal.

    The interview offers only the allowed levels, and says why the others are not,
    before a rationale is typed. A level allowed only with acknowledgements of
    possibly-met critical rules counts as allowed: the caller asks for them.
    """
    every = {rule.id: "-" for rule, _, _ in ci.critical}
    out: list[JudgementError | None] = []
    for level in ci.levels:
        refusal: JudgementError | None = None
        for acknowledged in ({}, every) if every else ({},):
            try:
                decide(ci, ev, JudgementInput(level=level, rationale="-", acknowledged=acknowledged))
            except JudgementError as exc:
                refusal = refusal or exc  # the refusal without acknowledgements says more
                continue
            refusal = None
            break
        out.append(refusal)
    return tuple(out)


def _check_acknowledged(
    ci: CompiledInstrument, ev: Evaluation, judgement: JudgementInput, level: int
) -> tuple[str, ...]:
    """The possibly-met critical rules above ``level``; refuse unless each has a recorded reason.

    An unknown answer that could fire a critical rule must not be judged away
    silently: the assessor states, per rule, why it is judged not to hold.
    """
    ids = {rule.id for rule, _, _ in ci.critical}
    stray = sorted(k for k in judgement.acknowledged if k not in ids)
    if stray:
        raise JudgementError(
            f"no such critical rule to acknowledge: {', '.join(stray)}", phrase("refuse_no_such_critical")
        )
    above = list(dict.fromkeys(ci.critical[i][0].id for i in ev.possible if ci.critical[i][2] > level))
    missing = [rid for rid in above if rid not in judgement.acknowledged]
    if missing:
        rules = {rule.id: rule for rule, _, _ in ci.critical}
        words = Text(
            sv="; ".join(rules[r].reason.sv.rstrip(".") for r in missing),
            en="; ".join(rules[r].reason.en.rstrip(".") for r in missing),
        )
        raise JudgementError(
            f"an unknown answer could fire a critical rule above the judged level: {', '.join(missing)}; "
            "record in 'acknowledged' why each is judged not to hold, or judge higher",
            phrase("refuse_unacknowledged", rules=words),
        )
    return tuple(above)


def _blocking_unmet(ci: CompiledInstrument, ev: Evaluation, final: int | None) -> tuple[str, ...]:
    """The blocking requirements that do not hold (see ``Requirement.blocking``)."""
    if not any(req.blocking for req, _ in ci.requirements):
        return ()
    env = dict(ev.env, final_level=UNKNOWN if final is None else final)
    return tuple(req.id for req, check in ci.requirements if req.blocking and check.fn(env) is not True)


def _check_inputs(ci: object, answers: object, judgement: object, rules: object, facts: object) -> None:
    """Data of the wrong shape is a ``ScreeningError`` here, not an ``AttributeError`` deep inside."""
    if not isinstance(ci, CompiledInstrument):
        raise TypeError("ci must be a CompiledInstrument (see screening.load_instrument)")
    if rules is not None and not isinstance(rules, CompiledRuleSet):
        raise TypeError("rules must be a CompiledRuleSet (see screening.load_rules)")
    if not isinstance(answers, Mapping):
        raise AnswerError("answers", "must be a mapping of item id to answer")
    if facts is not None and not isinstance(facts, Mapping):
        raise AnswerError("facts", "must be a mapping of case fact name to value")
    if judgement is not None and not isinstance(judgement, JudgementInput):
        raise JudgementError("a judgement is a screening.JudgementInput(level=..., rationale=...)")


def _undecided(ci: CompiledInstrument, lo: int | None, hi: int | None, floor: int | None, complete: bool) -> Decision:
    policy = ci.instrument.judgement.policy
    status: Status
    final = None
    if policy == "none":
        status = "no_level"
    elif policy == "required" or ci.instrument.bands is None or lo is None:
        status = "judgement_required"
    elif not complete and not (lo == hi and lo > 0):
        # Too many unknowns forbid concluding a *low* level; a level the unknowns
        # cannot move, above the lowest, still stands (with complete=False).
        status = "incomplete"
    elif lo == hi:
        status, final = "concluded", lo
    else:
        status = "indeterminate"
    return Decision(lo, hi, floor, None, None, final, status, complete)


def summarize(ci: CompiledInstrument, answers: Mapping[str, object]) -> Summary:
    """Level, status, score totals and critical floor, without building a ``Result``.

    The batch re-scorer's hot path: complete answer sets go through the precomputed
    fast path; anything else through ``evaluate`` and ``decide``, with the same outcome.

    Raises:
        AnswerError: only on the slow path, for answers that do not fit.
    """
    quick = ci.fast.summarize(answers)
    if quick is not None:
        return quick
    ev = ci.evaluate(ci.check_answers(answers))
    d = decide(ci, ev, None)
    totals = tuple(ev.scores[s.id][0] if ev.scores[s.id][0] == ev.scores[s.id][1] else -1 for s in ci.instrument.scores)
    return d.final, d.status, totals, d.floor


def summarize_referrals(
    ci: CompiledInstrument,
    rules: CompiledRuleSet,
    answers: Mapping[str, object],
    facts: Mapping[str, object] | None = None,
) -> tuple[Summary, tuple[str, ...]]:
    """``summarize`` plus the recommended services (ids, most urgent first).

    The referral outcome is a pure function of the level, status, the case facts
    and the few answers the rules read, so it is memoised on exactly those; a miss
    runs the full ``assess`` once for that key.
    """
    facts = facts or {}
    hit = rules.fast_for(ci)(answers, facts)
    if hit is not None:
        return hit  # type: ignore[return-value]
    summary = summarize(ci, answers)
    result = assess(ci, answers, rules=rules, facts=facts)
    services = tuple(r.service for r in result.referrals)
    # Memoise only answer sets the fast path handles (complete, no skip logic): for
    # those the status and completeness follow from the instrument, so the key
    # needs no more than what make_key reads.
    quick = ci.fast.summarize(answers)
    memo = rules.memo_for(ci)
    if quick is not None and memo is not None:
        make_key, table = memo
        if len(table) >= 65_536:
            table.clear()
        table[make_key(quick, answers, facts)] = services
    return summary, services


def assess(
    ci: CompiledInstrument,
    answers: Mapping[str, object],
    *,
    judgement: JudgementInput | None = None,
    assessor: str | None = None,
    assessed_at: str | None = None,
    rules: CompiledRuleSet | None = None,
    facts: Mapping[str, object] | None = None,
) -> Result:
    """Score ``answers`` on ``ci`` and explain the outcome.

    Args:
        ci: a compiled instrument (see ``load_instrument``).
        answers: item id → answer value; ``None`` or a missing key is unknown.
        judgement: the assessor's level and rationale, if any.
        assessor: who assessed (a name or staff id; stored, never logged).
        assessed_at: ISO timestamp supplied by the caller; the engine reads no clock.
        rules: a referral rule set (see ``load_rules``); without one, no referrals.
        facts: case facts the rule set declares (children in the household, age, …).

    Raises:
        AnswerError: an answer does not fit its item (names item and allowed values).
        JudgementError: the judgement breaks the instrument's policy, or is not a ``JudgementInput``.
        TypeError: ``ci`` or ``rules`` is not a compiled instrument or rule set.
    """
    _check_inputs(ci, answers, judgement, rules, facts)
    clean = ci.check_answers(answers)
    ev = ci.evaluate(clean)
    d = decide(ci, ev, judgement)
    levels = ci.levels
    inst = ci.instrument
    def name(i: int | None) -> str | None:
        return None if i is None else levels[i]

    own = _own_view(ci, ev, d)
    unmet = _unmet_requirements(ci, ev, d)
    rec = None
    if rules is not None:
        clean_facts = rules.check_facts(facts or {})
        rec = rules.recommend(
            ci, ev, rule_level(ci, d), d.status, d.complete, bool(own and own.discrepancy), clean_facts
        )
        rec.trace.extend(near_misses(ci, ev, d, rules, clean_facts, bool(own and own.discrepancy), rec))
    elif facts:
        raise JudgementError("case facts were given but no rule set to use them")
    result = Result(
        engine_version=ENGINE_VERSION,
        instrument=InstrumentRef(
            id=inst.id, version=inst.version, sha256=ci.sha256, title=inst.title, texts_sha256=ci.texts_sha256
        ),
        assessed_at=assessed_at,
        answers=dict(sorted(clean.items())),
        scores={
            s.id: ScoreResult(
                label=s.label,
                value=lo if lo == hi else None,
                min=lo,
                max=hi,
            )
            for s in inst.scores
            for lo, hi in [ev.scores[s.id]]
        },
        levels=list(levels),
        level_labels={level.id: level.label for level in inst.levels},
        computed_level=name(ev.computed[0]) if ev.computed and ev.computed[0] == ev.computed[1] else None,
        computed_range=LevelRange(min=levels[ev.computed[0]], max=levels[ev.computed[1]]) if ev.computed else None,
        critical=[ci.critical[i][0].id for i in ev.fired],
        critical_possible=[ci.critical[i][0].id for i in ev.possible],
        critical_level=name(d.floor),
        judgement=None
        if judgement is None or d.judged is None or d.direction is None
        else JudgementRecord(
            level=judgement.level,
            rationale=judgement.rationale,
            assessor=assessor,
            direction=d.direction,
            acknowledged={rid: judgement.acknowledged[rid] for rid in d.acknowledged},
        ),
        final_level=name(d.final),
        level_range=None if d.lo is None or d.hi is None else LevelRange(min=levels[d.lo], max=levels[d.hi]),
        status=d.status,
        complete=d.complete,
        completeness=Completeness(
            unknown=len(ev.unknown_items),
            unknown_items=list(ev.unknown_items),
            unknown_answers=list(ev.unknown_answers),
            skipped_items=list(ev.skipped_items),
            max_unknown=inst.missing.max_unknown,
            complete=d.complete,
        ),
        own_view=own,
        requirements_unmet=[getattr(r, "id", "") for r, _ in unmet],
        warnings=_warnings(ci, ev, d, own, unmet) + (rec.warnings if rec else []),
        trace=explain(ci, ev, d, judgement, own, unmet) + (rec.trace if rec else []),
        ruleset=None
        if rules is None
        else {
            "id": rules.ruleset.id,
            "version": rules.ruleset.version,
            "sha256": rules.sha256,
            "catalogue": rules.catalogue.id,
        },
        ruleset_title=None if rules is None else rules.ruleset.title,
        case_facts=rec.case_facts if rec else [],
        referrals=rec.referrals if rec else [],
        follow_up=rec.follow_up if rec else [],
        reassess_within_days=rec.reassess_within_days if rec else None,
    )
    return result


def rule_level(ci: CompiledInstrument, d: Decision) -> object:
    """The level referral rules see.

    A concluded level as is; an incomplete or indeterminate one at the top of its
    range (precaution: unknown answers must not buy a lower recommendation); a
    level awaiting judgement as the interval it may still take, so only rules
    that hold for every possible judgement fire.
    """
    if d.final is not None:
        return d.final
    if d.status in ("incomplete", "indeterminate"):
        return d.hi
    if d.status == "judgement_required" and ci.levels:
        return Interval.of(d.floor or 0, len(ci.levels) - 1)
    return None


def near_misses(
    ci: CompiledInstrument,
    ev: Evaluation,
    d: Decision,
    rules: CompiledRuleSet,
    facts: Mapping[str, object],
    discrepancy: bool,
    rec: Recommendation,
) -> list[TraceStep]:
    """What would change the outcome: points to the next band and what it would add."""
    bands = ci.instrument.bands
    if bands is None or d.final is None or d.judged is not None or d.final + 1 >= len(ci.levels):
        return []
    value = ev.scores[bands.score][0]
    target = d.final + 1
    band = next((b for b in bands.ranges if ci.levels.index(b.level) >= target and b.min > value), None)
    if band is None:
        return []
    level = ci.levels.index(band.level)
    other = rules.recommend(ci, ev, level, "concluded", True, discrepancy, facts)
    have = {r.service for r in rec.referrals}
    added = [r.name for r in other.referrals if r.service not in have]
    label = ci.instrument.levels[level].label
    if added:
        services = Text(sv=", ".join(n.sv for n in added), en=", ".join(n.en for n in added))
        text = phrase("near_miss_added", points=band.min - value, level=label, services=services)
    else:
        text = phrase("near_miss", points=band.min - value, level=label)
    return [TraceStep(kind="near_miss", ref=band.level, text=text)]


def _level(ci: CompiledInstrument, index: int) -> Text:
    return ci.instrument.levels[index].label


def _own_view(ci: CompiledInstrument, ev: Evaluation, d: Decision) -> OwnViewResult | None:
    view = ci.instrument.own_view
    if view is None:
        return None
    answer = ev.env.get(view.item)
    if not isinstance(answer, str) or answer not in view.levels:
        return OwnViewResult(answer=None, level=None, discrepancy=False, direction=None)
    own = ci.levels.index(view.levels[answer])
    ref = d.precautionary
    if ref is None:
        return OwnViewResult(answer=answer, level=ci.levels[own], discrepancy=False, direction=None)
    direction = "person_lower" if own < ref else "person_higher" if own > ref else "same"
    return OwnViewResult(
        answer=answer,
        level=ci.levels[own],
        discrepancy=own != ref,
        direction=direction,
    )


def _unmet_requirements(ci: CompiledInstrument, ev: Evaluation, d: Decision) -> list[tuple[object, Text]]:
    if not ci.requirements:
        return []
    env = dict(ev.env, final_level=UNKNOWN if d.final is None else d.final)
    return [(req, req.message) for req, check in ci.requirements if check.fn(env) is not True]


def _warnings(
    ci: CompiledInstrument,
    ev: Evaluation,
    d: Decision,
    own: OwnViewResult | None,
    unmet: list[tuple[object, Text]],
) -> list[Message]:
    out: list[Message] = []
    limit = ci.instrument.missing.max_unknown
    if d.blocked:
        out.append(Message(code="incomplete", text=phrase("warn_incomplete_parts")))
    elif not d.complete:
        out.append(Message(code="incomplete", text=phrase("warn_incomplete", n=len(ev.unknown_items), limit=limit)))
    if d.status == "indeterminate" and d.lo is not None and d.hi is not None:
        out.append(
            Message(
                code="indeterminate", text=phrase("warn_indeterminate", low=_level(ci, d.lo), high=_level(ci, d.hi))
            )
        )
    for i in ev.possible:
        reason = ci.critical[i][0].reason
        out.append(Message(code="critical_possible", text=phrase("warn_critical_possible", reason=reason)))
    if d.status == "judgement_required":
        out.append(Message(code="judgement_required", text=phrase("warn_judgement_required")))
    if own is not None and own.discrepancy:
        out.append(Message(code="own_view_discrepancy", text=phrase("warn_discrepancy")))
    if judgement_discrepancy(ci, ev, d) is not None:
        # Judged well below what the answers show (many "yes", judged low): the same
        # prompt as the person's own view, to discuss and document the difference.
        out.append(Message(code="judgement_discrepancy", text=phrase("warn_judgement_discrepancy")))
    for _, message in unmet:
        out.append(Message(code="requirement_unmet", text=phrase("warn_requirement", message=message)))
    return out
