"""The decision: level indexes and status from an evaluation and the assessor's judgement.

May import: errors and the engine's own modules / stdlib.

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
from typing import NamedTuple

from ..errors import JudgementError
from ._fast import Summary
from ._status import settle
from .expr import UNKNOWN, Interval
from .instrument import JudgementInput, Text
from .phrases import phrase, unknowns
from .result import (
    Status,
)
from .scoring import CompiledInstrument, Evaluation

__all__ = ["Decision", "allowed_levels", "decide", "rule_level", "summarize"]


class Decision(NamedTuple):
    """Level indexes and status; ``precautionary`` is the highest level not ruled out.

    A named tuple, not a frozen dataclass: one is made per assessment, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) cost three times as much.
    """

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
    raise_to = ci.raise_to
    floor = max(map(raise_to.__getitem__, ev.fired)) if ev.fired else None
    possible = max(map(raise_to.__getitem__, ev.possible)) if ev.possible else None
    if ev.computed is not None:
        clo, chi = ev.computed
    else:
        clo = chi = -1 if floor is None and possible is None else 0
    complete = len(ev.unknown_items) <= inst.missing.max_unknown
    policy = inst.judgement.policy
    needs_judgement = policy == "required" or inst.bands is None
    lo, hi, status_now, final_now = settle(clo, chi, floor, possible, policy == "none", needs_judgement, complete)
    if judgement is None:
        d = Decision(lo, hi, floor, None, None, final_now, status_now, complete)
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



def summarize(ci: CompiledInstrument, answers: Mapping[str, object]) -> Summary:
    """Level, status, score totals and critical floor, without building a ``Result``.

    The batch re-scorer's hot path: answer sets without skip logic in play go through
    the precomputed fast path (unknown answers too, as intervals); anything else
    through ``evaluate`` and ``decide``, with the same outcome.

    Raises:
        AnswerError: only on the slow path, for answers that do not fit.
    """
    fast = ci.fast
    quick = fast.complete(answers) or fast.summary(answers)
    if quick is not None:
        return quick
    ev = ci.evaluate(ci.check_answers(answers))
    d = decide(ci, ev, None)
    totals = tuple(ev.scores[s.id][0] if ev.scores[s.id][0] == ev.scores[s.id][1] else -1 for s in ci.instrument.scores)
    return d.final, d.status, totals, d.floor




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
