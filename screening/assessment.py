"""``assess``: the single façade that turns answers into a ``Result``, used by CLI, API and batch.

May import: ``screening.engine``, ``screening.referral``, ``screening.errors`` / stdlib.

It sits one layer above both: the engine scores and decides and builds the
``Result`` (``screening.engine``), the referral package recommends services for
the decided level; neither imports the other's evaluation. Level provenance is
kept in three layers — computed from bands, raised by critical rules, and the
assessor's judgement — and combined by fixed safety rules (``screening.engine``):
critical rules only raise; unknown answers widen the range and never lower its
top; too many unknowns make the result incomplete; a range that spans levels is
indeterminate, never its lower end; a judgement below a critical rule an unknown
answer could fire needs a recorded reason per rule; an unmet blocking requirement
(PATRIARK without a perpetrator, a person at risk or a scenario) leaves the
result incomplete, never concluded.
"""

from __future__ import annotations

from collections.abc import Mapping
from weakref import WeakKeyDictionary

from .engine import Decision, Recommendation, build_result, rule_level, score
from .engine._fast import Summary
from .engine.instrument import JudgementInput, Text
from .engine.phrases import phrase
from .engine.result import Result, TraceStep
from .engine.scoring import CompiledInstrument, Evaluation
from .errors import AnswerError, JudgementError
from .referral import CompiledRuleSet

__all__ = ["assess", "near_misses", "summarize_referrals"]


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


def summarize_referrals(
    ci: CompiledInstrument,
    rules: CompiledRuleSet,
    answers: Mapping[str, object],
    facts: Mapping[str, object] | None = None,
) -> tuple[Summary, tuple[str, ...]]:
    """``summarize`` plus the recommended services (ids, most urgent first).

    The referral outcome is a pure function of the decision, the case facts and the
    few answers and scores the rules read, so it is memoised on exactly those
    (unknown answers included); a miss scores and recommends in full once for that
    key, without the parts of a ``Result`` that do not change which services
    (the trace, the facts in words, the near misses).
    """
    facts = facts or {}
    hit = rules.fast_for(ci)(answers, facts)
    if hit is not None:
        return hit  # type: ignore[return-value]
    _check_inputs(ci, answers, None, rules, facts)
    scored = score(ci, answers, None)
    ev, d, own = scored.ev, scored.d, scored.own
    rec = rules.recommend(
        ci,
        ev,
        rule_level(ci, d),
        d.status,
        d.complete,
        bool(own and own.discrepancy),
        rules.check_facts(facts),
        lean=True,
    )
    services = tuple(r.service for r in rec.referrals)
    totals = tuple(lo if lo == hi else -1 for lo, hi in (ev.scores[s.id] for s in ci.instrument.scores))
    summary: Summary = (d.final, d.status, totals, d.floor)
    memo = rules.memo_for(ci)
    if memo is not None:
        memo.store(answers, facts, services)
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
    scored = score(ci, answers, judgement)
    ev, d, own = scored.ev, scored.d, scored.own
    rec = None
    if rules is not None:
        rec = _recommend(ci, rules, ev, d, bool(own and own.discrepancy), rules.check_facts(facts or {}))
    elif facts:
        raise JudgementError("case facts were given but no rule set to use them")
    return build_result(
        ci,
        scored,
        judgement=judgement,
        assessor=assessor,
        assessed_at=assessed_at,
        rec=rec,
        ruleset=None
        if rules is None
        else {
            "id": rules.ruleset.id,
            "version": rules.ruleset.version,
            "sha256": rules.sha256,
            "catalogue": rules.catalogue.id,
        },
        ruleset_title=None if rules is None else rules.ruleset.title,
    )


_MEMO_LIMIT = 65_536
# rule set → instrument → (the names the rules read, recommendations by what they read)
_Known = tuple[tuple[str, ...], dict[object, Recommendation]]
_RECOMMENDED: WeakKeyDictionary[CompiledRuleSet, dict[CompiledInstrument, _Known]] = WeakKeyDictionary()


def _recommend(
    ci: CompiledInstrument,
    rules: CompiledRuleSet,
    ev: Evaluation,
    d: Decision,
    discrepancy: bool,
    facts: dict[str, object],
) -> Recommendation:
    """The full recommendation with its near misses, memoised on everything it reads.

    A recommendation — referrals with their facts in words, follow-ups, case facts,
    warnings, trace and near misses — is a pure function of the level the rules see,
    the status, completeness, discrepancy, the critical rules' states, the values of
    the names the rules read (``CompiledRuleSet.env_reads``), the given facts and, for
    the near miss, the band score's range and the final level. Without a judgement
    those are the key (a judgement changes the level and is rare in bulk); a value no
    key can hold (a repeating group's rows) is recommended afresh. It was half of
    ``assess``. The stored recommendation is shared, so nothing may change it:
    ``build_result`` copies its lists.
    """
    level = rule_level(ci, d)
    per_ci = _RECOMMENDED.get(rules)
    if per_ci is None:
        per_ci = _RECOMMENDED[rules] = {}
    known = per_ci.get(ci)
    if known is None:
        known = per_ci[ci] = (rules.env_reads(ci), {})
    names, table = known
    bands = ci.instrument.bands
    env = ev.env
    key: object = None
    if d.judged is None:
        key = (
            level, d.status, d.complete, d.final, discrepancy, ev.fired, ev.possible,
            None if bands is None else ev.scores[bands.score],
            tuple(map(env.get, names)), tuple(sorted(facts.items())),
        )
        try:
            made = table.get(key)
        except TypeError:  # rows of a group: no key
            key = made = None
        if made is not None:
            return made
    rec = rules.recommend(ci, ev, level, d.status, d.complete, discrepancy, facts)
    rec.trace.extend(near_misses(ci, ev, d, rules, facts, discrepancy, rec))
    if key is not None:
        if len(table) >= _MEMO_LIMIT:
            table.clear()
        table[key] = rec
    return rec


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
    other = rules.recommend(ci, ev, level, "concluded", True, discrepancy, facts, lean=True)  # names only
    have = {r.service for r in rec.referrals}
    added = [r.name for r in other.referrals if r.service not in have]
    label = ci.instrument.levels[level].label
    if added:
        services = Text(sv=", ".join(n.sv for n in added), en=", ".join(n.en for n in added))
        text = phrase("near_miss_added", points=band.min - value, level=label, services=services)
    else:
        text = phrase("near_miss", points=band.min - value, level=label)
    return [TraceStep(kind="near_miss", ref=band.level, text=text)]

