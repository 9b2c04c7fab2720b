"""The outcome: a ``Result`` built from the decision, with what a rule set recommends added.

May import: errors, _version and the engine's own modules / stdlib. The referral
package fills a ``Recommendation`` (defined here, so the engine needs nothing from
it) and ``screening.assessment`` puts the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from .._version import __version__ as ENGINE_VERSION
from ._decide import Decision, decide
from ._explain import explain, judgement_discrepancy
from .expr import UNKNOWN
from .instrument import JudgementInput, Text
from .phrases import phrase
from .result import (
    SCHEMA_VERSION,
    CaseFact,
    Completeness,
    FollowUp,
    InstrumentRef,
    JudgementRecord,
    LevelRange,
    Message,
    OwnViewResult,
    Referral,
    Result,
    ScoreResult,
    TraceStep,
)
from .scoring import CompiledInstrument, Evaluation

__all__ = ["Recommendation", "Scored", "build_result", "score"]

# Parts of a result that depend on the instrument and a few values only (its reference,
# a score's range, a level range) are frozen models: built once per instrument.
_MEMOS: WeakKeyDictionary[CompiledInstrument, dict[tuple[object, ...], Any]] = WeakKeyDictionary()


@dataclass
class Recommendation:
    """What the rules recommend for one result (before it is frozen into the Result)."""

    referrals: list[Referral] = field(default_factory=list)
    follow_up: list[FollowUp] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    reassess_within_days: int | None = None
    case_facts: list[CaseFact] = field(default_factory=list)


class Scored(NamedTuple):
    """Checked answers, their evaluation and decision, the person's own view and unmet requirements."""

    clean: dict[str, object]
    ev: Evaluation
    d: Decision
    own: OwnViewResult | None
    unmet: list[tuple[object, Text]]


def score(ci: CompiledInstrument, answers: Mapping[str, object], judgement: JudgementInput | None) -> Scored:
    """Check and evaluate ``answers`` and decide; raises ``AnswerError`` or ``JudgementError``."""
    clean = ci.check_answers(answers)
    ev = ci.evaluate(clean)
    d = decide(ci, ev, judgement)
    return Scored(clean, ev, d, _own_view(ci, ev, d), _unmet_requirements(ci, ev, d))


def build_result(
    ci: CompiledInstrument,
    scored: Scored,
    *,
    judgement: JudgementInput | None,
    assessor: str | None,
    assessed_at: str | None,
    rec: Recommendation | None,
    ruleset: dict[str, str] | None,
    ruleset_title: Text | None,
) -> Result:
    """The ``Result``: scores, levels, status, warnings and the explanation, plus ``rec`` if any."""
    ev, d, own, unmet = scored.ev, scored.d, scored.own, scored.unmet
    levels = ci.levels
    inst = ci.instrument
    memo = _MEMOS.get(ci)
    if memo is None or len(memo) >= 65_536:
        memo = _MEMOS[ci] = {}
    fixed = memo.get(("fixed",))
    if fixed is None:
        fixed = memo[("fixed",)] = (
            InstrumentRef(
                id=inst.id, version=inst.version, sha256=ci.sha256, title=inst.title, texts_sha256=ci.texts_sha256
            ),
            tuple((s.id, s.label) for s in inst.scores),
            {level.id: level.label for level in inst.levels},
        )
    instrument_ref, score_labels, level_labels = fixed
    scores: dict[str, ScoreResult] = {}
    for score_id, label in score_labels:
        lo, hi = ev.scores[score_id]
        said_score = ("score", score_id, lo, hi)
        made = memo.get(said_score)
        if made is None:
            made = memo[said_score] = ScoreResult(label=label, value=lo if lo == hi else None, min=lo, max=hi)
        scores[score_id] = made

    if judgement is None:
        # Without a judgement the warnings follow from these values alone.
        said = (
            "warnings", bool(d.blocked), d.complete, len(ev.unknown_items), d.status, d.lo, d.hi, ev.possible,
            bool(own and own.discrepancy), tuple([getattr(r, "id", "") for r, _ in unmet]) if unmet else (),
        )
        warnings: list[Message] | None = memo.get(said)
        if warnings is None:
            warnings = memo[said] = _warnings(ci, ev, d, own, unmet)
    else:
        warnings = _warnings(ci, ev, d, own, unmet)

    # Every value below is the engine's own, already of its field's type: the records are
    # made without validating them again (``Record.trusted``; keys in sorted order).
    unknown_items = ev.unknown_items
    result = Result.trusted({
        "answers": dict(sorted(scored.clean.items())),
        "assessed_at": assessed_at,
        "case_facts": list(rec.case_facts) if rec else [],
        "complete": d.complete,
        "completeness": Completeness.trusted({
            "complete": d.complete,
            "max_unknown": inst.missing.max_unknown,
            "skipped_items": list(ev.skipped_items),
            "unknown": len(unknown_items),
            "unknown_answers": list(ev.unknown_answers),
            "unknown_items": list(unknown_items),
        }),
        "computed_level": levels[ev.computed[0]] if ev.computed and ev.computed[0] == ev.computed[1] else None,
        "computed_range": _span(memo, levels, *ev.computed) if ev.computed else None,
        "critical": [ci.critical[i][0].id for i in ev.fired],
        "critical_level": None if d.floor is None else levels[d.floor],
        "critical_possible": [ci.critical[i][0].id for i in ev.possible],
        "engine_version": ENGINE_VERSION,
        "final_level": None if d.final is None else levels[d.final],
        "follow_up": list(rec.follow_up) if rec else [],
        "instrument": instrument_ref,
        "judgement": None
        if judgement is None or d.judged is None or d.direction is None
        else JudgementRecord(
            level=judgement.level,
            rationale=judgement.rationale,
            assessor=assessor,
            direction=d.direction,
            acknowledged={rid: judgement.acknowledged[rid] for rid in d.acknowledged},
        ),
        "level_labels": dict(level_labels),
        "level_range": None if d.lo is None or d.hi is None else _span(memo, levels, d.lo, d.hi),
        "levels": list(levels),
        "own_view": own,
        "reassess_within_days": rec.reassess_within_days if rec else None,
        "referrals": list(rec.referrals) if rec else [],
        "requirements_unmet": [getattr(r, "id", "") for r, _ in unmet],
        "ruleset": None if ruleset is None else dict(ruleset),
        "ruleset_title": ruleset_title,
        "schema_version": SCHEMA_VERSION,
        "scores": scores,
        "status": d.status,
        "trace": explain(ci, ev, d, judgement, own, unmet) + (rec.trace if rec else []),
        "warnings": warnings + (rec.warnings if rec else []),
    })
    return result


def _span(memo: dict[tuple[object, ...], Any], levels: tuple[str, ...], lo: int, hi: int) -> LevelRange:
    """The level range ``lo``–``hi``: a frozen record, built once per instrument."""
    made = memo.get(("range", lo, hi))
    if made is None:
        made = memo[("range", lo, hi)] = LevelRange(min=levels[lo], max=levels[hi])
    return made


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
