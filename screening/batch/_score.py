"""The re-scorer's hot path: answers + judgement → a compact ``Outcome``, memoised.

May import: errors, expr, instrument, scoring, engine, referral, result / stdlib.

A batch re-score looks at every stored assessment but needs the full ``Result``
(with its trace) only for the few whose outcome changed. For the rest it needs
the level, the status, the fired critical rules and the recommended services:

* complete answer sets go through the instrument's fast path (C-level point
  sums); the fired critical rules are memoised on the answers they read, and
  the level comes from the engine's own ``decide`` (no safety rule is
  re-implemented here, judgement included);
* anything else (unknowns, skip logic, groups) through ``evaluate`` + ``decide``;
* the referral outcome is memoised on everything the rules can see — the
  decision, the fired and possible critical rules, every score, the items and
  case facts the rules read — and a miss runs the full ``assess`` once.

``tests/test_rescore_scorer.py`` checks the outcome equals ``assess`` on random input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..assessment import assess
from ..engine import Decision, decide
from ..engine.instrument import JudgementInput, Text
from ..engine.result import Result, compact_outcome
from ..engine.scoring import CompiledInstrument, Evaluation
from ..errors import AnswerError, JudgementError
from ..referral import CompiledRuleSet

__all__ = ["Outcome", "Scorer"]

MEMO_LIMIT = 65_536


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a re-score compares: never answers, only what was concluded from them.

    ``scores`` (totals, or (min, max) with unknowns) and ``why`` (the reason of the
    rule behind each referral) explain a change; they are not compared or stored.
    """

    level: str | None
    status: str
    complete: bool
    critical: tuple[str, ...]
    referrals: tuple[str, ...]
    scores: tuple[object, ...] = field(default=(), compare=False)
    why: tuple[Text, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "level": self.level,
            "status": self.status,
            "complete": self.complete,
            "critical": list(self.critical),
            "referrals": list(self.referrals),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Outcome:
        """Read ``to_json`` output back (from a stored row or a JSON Lines record).

        Raises:
            ValueError: the mapping does not have the expected shape.
        """
        level, status, complete = data.get("level"), data.get("status"), data.get("complete", True)
        critical, referrals = data.get("critical", []), data.get("referrals", [])
        shaped = (
            (level is None or isinstance(level, str))
            and isinstance(status, str)
            and isinstance(complete, bool)
            and isinstance(critical, list)
            and isinstance(referrals, list)
            and all(isinstance(c, str) for c in [*critical, *referrals])
        )
        if not shaped:  # a ValueError: the caller reports a malformed record, not a programming error
            raise ValueError("an outcome has 'level' (text or null), 'status', 'complete', 'critical' and 'referrals'")
        return cls(level, status, complete, tuple(critical), tuple(referrals))  # type: ignore[arg-type]

    @classmethod
    def from_result(cls, result: Mapping[str, object]) -> Outcome:
        """The outcome of a stored ``Result`` (as decoded JSON; no pydantic round trip)."""
        return cls.from_json(compact_outcome(result))


def _freeze(value: object) -> object:
    """A hashable stand-in for an answer or environment value (groups are lists of dicts)."""
    if value.__class__ is str or value is None:
        return value
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


class Scorer:
    """Scores answer sets on one instrument version and one rule set, many times."""

    def __init__(self, ci: CompiledInstrument, rules: CompiledRuleSet | None = None) -> None:
        self.ci = ci
        self.rules = rules
        inst = ci.instrument
        self.fast = ci.fast if ci.fast.plain else None  # complete sets, no skip logic: see _fast
        # Skip logic, a calendar read by a critical rule, or unknown answers: the fast path's ``detail``.
        self.detail = ci.fast.detail if ci.fast.usable else None
        self.gated_calls = self.gated_misses = 0
        self.band_score = ci.fast.band_score
        self.items = frozenset(ci.items)
        # Items the fast path does not check itself (it checks every scored item and
        # every item a critical rule reads): choice values are checked here, the rest
        # (numbers, dates, text, groups) by the instrument.
        covered = {key for _, rows in ci.scores for key, *_ in rows} | set(ci.fast.crit_names)
        self.free_choice = {
            key: frozenset(ci.known[key]) | ci.unknown_options[key] for key in ci.known if key not in covered
        }
        self.free_other = frozenset(k for k, item in ci.items.items() if item.type != "choice" and k not in covered)
        self.outcomes: dict[tuple[object, ...], Outcome | str | JudgementError] = {}
        self.ref_memo: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[Text, ...]]] = {}
        # What the safety rules read from the answers under a fact's name (referral._safety).
        names: set[str] = {"age", "children_in_household", "honour_context", "gender"}
        if rules is not None:
            for table in rules.tables_for(ci):
                for _, cond in table.rules:
                    names |= cond.names
                for extra in (table.violence, table.honour):
                    if extra is not None:
                        names |= extra.names
                for _, source in table.derive:  # a case fact derived from an answer (children in the household)
                    names |= source.names
            names |= set(rules.ruleset.facts)
        if inst.own_view is not None:
            names.add(inst.own_view.item)
        self.read = tuple(sorted(n for n in names if n in ci.items))
        self.fact_names = tuple(sorted(rules.ruleset.facts)) if rules is not None else ()
        self.no_facts = tuple(None for _ in self.fact_names)

    # ------------------------------------------------------------------ outcome

    def outcome(
        self,
        answers: Mapping[str, object],
        judgement: JudgementInput | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> Outcome:
        """The outcome ``assess`` would give, without building a ``Result``.

        Complete answer sets are memoised on everything the outcome depends on —
        score totals, the answers the critical rules and the referral rules read,
        the judgement's level and the case facts — so a million assessments cost a
        few dictionary look-ups each; a miss, and anything else, is scored in full.

        Raises:
            AnswerError: an answer or case fact does not fit.
            JudgementError: the judgement breaks the instrument's policy.
        """
        if facts:
            if self.rules is None:
                raise AnswerError("facts", "case facts were given but no rule set to use them")
            facts = self.rules.check_facts(facts)
        fast = self.fast
        if fast is not None and answers.keys() <= self.items and self._free_ok(answers):
            quick = fast.summarize(answers)
            if quick is not None:
                key = (quick[2], fast.crit_getter(answers), *self._inputs(answers, judgement, facts))
                hit = self.outcomes.get(key)
                if hit is None:
                    hit = self._fast(answers, judgement, facts, quick[2])
                    if len(self.outcomes) >= MEMO_LIMIT:
                        self.outcomes.clear()
                    self.outcomes[key] = hit
                if isinstance(hit, str):
                    raise JudgementError(hit)
                assert isinstance(hit, Outcome)
                return hit
        if self.detail is not None:
            got = self.detail(answers)
            if got is not None:
                return self._gated(answers, judgement, facts, got)
        return self._slow(answers, judgement, facts)

    def _inputs(
        self, answers: Mapping[str, object], judgement: JudgementInput | None, facts: Mapping[str, object] | None
    ) -> tuple[object, object, object]:
        """The part of a memo key the caller's inputs give: the judgement (which rules it
        acknowledges decides a refusal: an id the instrument lacks), the answers the rules
        read and the case facts."""
        return (
            None
            if judgement is None
            else (judgement.level, not judgement.rationale.strip(), tuple(sorted(judgement.acknowledged))),
            tuple(map(_freeze, map(answers.get, self.read))),
            tuple(_freeze(facts.get(f)) for f in self.fact_names) if facts else self.no_facts,
        )

    def _gated(
        self,
        answers: Mapping[str, object],
        judgement: JudgementInput | None,
        facts: Mapping[str, object] | None,
        detail: tuple[object, ...],
    ) -> Outcome:
        """Answers the fast path took (skip logic in play): the slow path's outcome, memoised.

        The key is everything the outcome reads: the decision and score ranges, the count
        of unknowns (a refusal names it), which items skip logic shows, hides or may show,
        the answers the critical rules read (which rules fire), the answers the referral
        rules read (what they are follows from the raw answer and its item's state), the
        judgement and the case facts. A miss is scored by ``evaluate`` + ``decide``.
        """
        key = ("gated", detail, *self._inputs(answers, judgement, facts))
        hit = self.outcomes.get(key)
        self.gated_calls += 1
        if hit is None:
            if self.gated_calls >= 4096 and self.gated_misses * 4 > self.gated_calls * 3:
                # Keys hardly repeat here (many answers read, varied data): the memo costs more than
                # it saves, so the rest is scored by evaluate + decide directly.
                self.detail = None
            self.gated_misses += 1
            try:
                hit = self._slow(answers, judgement, facts)
            except JudgementError as exc:
                hit = exc  # raised again on every hit, with its words for the caseworker
            if len(self.outcomes) >= MEMO_LIMIT:
                self.outcomes.clear()
            self.outcomes[key] = hit
        if isinstance(hit, JudgementError):
            raise JudgementError(hit.reason, hit.words)
        assert isinstance(hit, Outcome)
        return hit

    def _free_ok(self, answers: Mapping[str, object]) -> bool:
        """Whether the answers the fast path does not look at fit (else the slow path says why)."""
        for key, allowed in self.free_choice.items():
            value = answers.get(key)
            if value is not None and not (value.__class__ is str and value in allowed):
                return False
        if self.free_other and not self.free_other.isdisjoint(answers):
            try:
                self.ci.check_answers({k: answers[k] for k in self.free_other if k in answers})
            except AnswerError:
                return False
        return True

    def _fast(
        self,
        answers: Mapping[str, object],
        judgement: JudgementInput | None,
        facts: Mapping[str, object] | None,
        totals: tuple[int, ...],
    ) -> Outcome | str:
        """A complete answer set: the engine's own ``decide`` on the fast path's totals."""
        ci = self.ci
        assert self.fast is not None
        env = dict(zip(self.fast.crit_names, self.fast.crit_getter(answers), strict=True))
        fired = tuple(n for n, (_, cond, _) in enumerate(ci.critical) if cond.fn(env) is True)
        computed = None
        if ci.bands and self.band_score is not None:
            band = self.fast.band_level[totals[self.band_score]]
            computed = (band, band)
        try:
            d = decide(ci, Evaluation({}, (), (), {}, computed, fired, ()), judgement)
        except JudgementError as exc:
            return exc.reason
        env_values = tuple(_freeze(answers.get(n)) for n in self.read)
        return self._finish(answers, judgement, facts, d, fired, (), totals, env_values, "fast")

    def _slow(
        self, answers: Mapping[str, object], judgement: JudgementInput | None, facts: Mapping[str, object] | None
    ) -> Outcome:
        ci = self.ci
        ev = ci.evaluate(ci.check_answers(answers))
        d = decide(ci, ev, judgement)
        env_values = tuple(_freeze(ev.env.get(n)) for n in self.read)
        scores = tuple(ev.scores[s.id] for s in ci.instrument.scores)
        return self._finish(answers, judgement, facts, d, ev.fired, ev.possible, scores, env_values, "slow")

    def _finish(
        self,
        answers: Mapping[str, object],
        judgement: JudgementInput | None,
        facts: Mapping[str, object] | None,
        d: Decision,
        fired: tuple[int, ...],
        possible: tuple[int, ...],
        scores: tuple[object, ...],
        env_values: tuple[object, ...],
        path: str,
    ) -> Outcome:
        """Level, critical rules and the memoised referral outcome of one decision."""
        ci = self.ci
        level = None if d.final is None else ci.levels[d.final]
        critical = tuple(ci.critical[n][0].id for n in fired)
        referrals: tuple[str, ...] = ()
        why: tuple[Text, ...] = ()
        if self.rules is not None:
            facts = facts or {}
            memo_key = (
                path, d.final, d.lo, d.hi, d.floor, d.status, d.complete, fired, possible, scores, env_values,
                *(_freeze(facts.get(f)) for f in self.fact_names),
            )
            found = self.ref_memo.get(memo_key)
            if found is None:
                full = assess(ci, answers, judgement=judgement, rules=self.rules, facts=facts)
                found = (tuple(r.service for r in full.referrals), tuple(r.reason for r in full.referrals))
                if len(self.ref_memo) >= MEMO_LIMIT:
                    self.ref_memo.clear()
                self.ref_memo[memo_key] = found
            referrals, why = found
        return Outcome(level, d.status, d.complete, critical, referrals, scores, why)

    def result(
        self,
        answers: Mapping[str, object],
        judgement: JudgementInput | None = None,
        facts: Mapping[str, object] | None = None,
        *,
        assessor: str | None = None,
        assessed_at: str | None = None,
    ) -> Result:
        """The full ``Result`` (with its trace), for the assessments whose outcome changed."""
        return assess(
            self.ci, answers, judgement=judgement, assessor=assessor, assessed_at=assessed_at,
            rules=self.rules, facts=facts or None,
        )
