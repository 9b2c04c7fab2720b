"""Pure referral evaluation: a scored result → recommended services, follow-ups, dates.

May import: errors, expr, instrument, checks, scoring, rules, result, the engine's phrases / stdlib.

Rules are compiled once per instrument version and evaluated on the same
three-valued environment as the instrument. The safety rules of ``_safety`` are
enforced in code, whatever a rule set says: children in the household, or a
person under 18, with disclosed violence always give the child-protection
consideration; a result with ``complete: false`` never ends in information-only
advice; in an honour context nothing recommends contacting the family before a
protection assessment. Nothing is ever sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..engine import Recommendation, expr
from ..engine.checks import symbols_for
from ..engine.expr import UNKNOWN, Expression, Interval
from ..engine.instrument import Text
from ..engine.phrases import phrase
from ..engine.result import CaseFact, Fact, FollowUp, Message, Referral, TraceStep
from ..engine.scoring import CompiledInstrument, Evaluation
from ._memo import ReferralMemo, build_memo, env_reads, no_hit
from ._safety import GENDER_FACT, apply_safety_rules
from ._words import case_facts, check_facts, facts_read
from .rules import URGENCIES, Catalogue, FactSpec, Rule, RuleSet, Table

__all__ = ["CompiledRuleSet", "Recommendation", "rule_symbols"]


STATUSES = ("concluded", "indeterminate", "incomplete", "judgement_required", "no_level")


def fact_type(spec: FactSpec) -> expr.Type:
    if spec.type == "bool":
        return expr.BOOL
    if spec.type == "int":
        return expr.INT
    return expr.AnswerType(spec.values or ())


def rule_symbols(ruleset: RuleSet, ci: CompiledInstrument | None) -> dict[str, expr.Type]:
    """What a rule's condition may read: the instrument's items and scores, the level,
    completeness, status, the own-view discrepancy, and the declared case facts."""
    symbols: dict[str, expr.Type] = {}
    if ci is not None:
        symbols.update(symbols_for(ci.instrument))
        if ci.levels:
            symbols["level"] = expr.LevelType(ci.levels)
        symbols["discrepancy"] = expr.BOOL
    symbols["complete"] = expr.BOOL
    symbols["status"] = expr.AnswerType(STATUSES)
    for name, spec in ruleset.facts.items():
        if name in symbols and symbols[name].kind != fact_type(spec).kind:
            continue  # rules_checks reports the clash; the instrument's own type stands
        symbols[name] = fact_type(spec)
    return symbols


@dataclass(frozen=True)
class CompiledTable:
    table: Table
    rules: tuple[tuple[Rule, Expression], ...]
    violence: Expression | None
    honour: Expression | None
    derive: tuple[tuple[str, Expression], ...] = ()


class CompiledRuleSet:
    """A rule set with its catalogue, compiled lazily per instrument version."""

    def __init__(self, ruleset: RuleSet, catalogue: Catalogue, sha256: str = "") -> None:
        self.ruleset = ruleset
        self.catalogue = catalogue
        self.sha256 = sha256
        self._cache: dict[tuple[str, str], tuple[CompiledTable, ...]] = {}
        self.instrument_titles: dict[str, Text] = {}
        self._fast: dict[CompiledInstrument, Callable[[Mapping[str, object], Mapping[str, object]], object]] = {}
        self._memos: dict[tuple[str, str], ReferralMemo | None] = {}
        # Work done, for tests that the work per rule stays flat: recommendations made,
        # and rule conditions evaluated by them.
        self.counts = {"recommend": 0, "conditions": 0}
        # A rule's referrals without facts, for lean recommendations: frozen, so shared.
        # Keyed by the rule object's id: the rule set holds its rules as long as this lives.
        self._lean: dict[int, list[Referral]] = {}
        self._built: dict[tuple[object, ...], list[Referral | TraceStep]] = {}  # the same, with facts
        self._safety: dict[tuple[str, str, str, str], tuple[Referral, TraceStep]] = {}
        self._case_facts: dict[tuple[object, ...], CaseFact] = {}

    def tables_for(self, ci: CompiledInstrument) -> tuple[CompiledTable, ...]:
        """The tables that apply to ``ci``, compiled against its symbols (cached)."""
        key = (ci.instrument.id, ci.sha256)
        if key not in self._cache:
            self._cache[key] = tuple(
                self.compile_table(t, ci if t.instrument != "*" else None)
                for t in self.ruleset.tables
                if t.instrument in ("*", ci.instrument.id)
            )
        return self._cache[key]

    def compile_table(self, table: Table, ci: CompiledInstrument | None) -> CompiledTable:
        symbols = rule_symbols(self.ruleset, ci)
        rules = tuple((r, expr.compile_expression(r.when, symbols)) for r in table.rules)
        item_symbols = rule_symbols(self.ruleset, ci)
        violence = expr.compile_expression(table.violence_disclosed, item_symbols) if table.violence_disclosed else None
        honour = expr.compile_expression(table.honour_context, item_symbols) if table.honour_context else None
        derive = tuple(
            (name, expr.compile_expression(text, item_symbols, expect=fact_type(self.ruleset.facts[name])))
            for name, text in table.derive.items()
            if name in self.ruleset.facts
        )
        return CompiledTable(table, rules, violence, honour, derive)

    def memo_for(self, ci: CompiledInstrument) -> ReferralMemo | None:
        """What the referral outcome depends on, for memoising it in batch runs.

        Returns the memo of the answers and facts the rules depend on (the items
        they read, the own-view item, every declared fact, an answer the safety
        rules read under a fact's name), or ``None`` when a rule reads something a
        key cannot capture (a repeating group, a date, free text) or the
        instrument has no fast path.
        """
        key = (ci.instrument.id, ci.sha256)
        if key not in self._memos:
            self._memos[key] = build_memo(ci, self.tables_for(ci), self.ruleset) if ci.fast.usable else None
        return self._memos[key]

    def fast_for(self, ci: CompiledInstrument) -> Callable[[Mapping[str, object], Mapping[str, object]], object]:
        """A closure answering from the memo (unknown answers too), else ``None``.

        Built once per instrument: the batch hot loop then costs one fast summary,
        one tuple of the values the rules read, and one dict lookup.
        """
        fast = self._fast.get(ci)
        if fast is None:
            memo = self.memo_for(ci)
            fast = no_hit if memo is None else memo.fast
            self._fast[ci] = fast
        return fast

    def env_reads(self, ci: CompiledInstrument) -> tuple[str, ...]:
        """The names a recommendation on ``ci`` reads of the environment (see ``_memo.env_reads``)."""
        return env_reads(self.tables_for(ci), self.ruleset)

    def check_facts(self, facts: Mapping[str, object]) -> dict[str, object]:
        """Validate caller-supplied case facts against their declarations."""
        return check_facts(self.ruleset, facts)

    # ---------------------------------------------------------------- evaluation

    def recommend(
        self,
        ci: CompiledInstrument,
        ev: Evaluation,
        level: object,
        status: str,
        complete: bool,
        discrepancy: bool,
        facts: Mapping[str, object],
        *,
        lean: bool = False,
    ) -> Recommendation:
        """Evaluate every applicable table and apply the safety rules.

        ``lean``: for callers that want only which services (the referral memo's miss):
        the rules' referrals carry no facts in words and leave no trace step, which is
        most of the cost when many rules fire; the services are the same.
        """
        self.counts["recommend"] += 1
        env = dict(ev.env)
        env.update(level=level, status=status, complete=complete, discrepancy=discrepancy)
        for name in self.ruleset.facts:
            # A case fact the caller gave wins; otherwise an instrument answer of the
            # same name (hedersindikatorer asks for the age) stands.
            if name in facts:
                env[name] = facts[name]
            elif name not in env:
                env[name] = UNKNOWN
        rec = Recommendation()
        tables = self.tables_for(ci)
        for ct in tables:
            for name, source in ct.derive:
                if name not in facts:
                    env[name] = source.fn(env)
        rec.case_facts = self.case_facts(facts, env)
        for ct in tables:
            self.counts["conditions"] += len(ct.rules)
            for rule, cond in self._matching(ct, env):
                self._apply(rule, cond, ci, env, rec, lean)
        # Target groups first, so the safety rules see (and make up for) what is left;
        # again after them, for what they added (a catalogue's incomplete_support).
        removed = self._target_groups(env, rec)
        apply_safety_rules(self, tables, env, status, rec, ci.instrument.id, complete=complete)
        removed += self._target_groups(env, rec)
        self._support_left(tables, env, rec, removed)
        rec.referrals = _dedupe(rec.referrals)
        unique: dict[tuple[str, str], FollowUp] = {}
        for follow in rec.follow_up:
            unique.setdefault((follow.kind, follow.target), follow)
        rec.follow_up = list(unique.values())
        rec.reassess_within_days = self._reassess(tables, ci, level)
        return rec

    @staticmethod
    def _matching(ct: CompiledTable, env: Mapping[str, object]) -> list[tuple[Rule, Expression]]:
        hits = [(rule, cond) for rule, cond in ct.rules if cond.fn(env) is True]
        if ct.table.hit_policy == "first":
            return hits[:1]
        return hits  # "unique": overlaps are rejected when the rule set loads

    def _apply(
        self,
        rule: Rule,
        cond: Expression,
        ci: CompiledInstrument,
        env: Mapping[str, object],
        rec: Recommendation,
        lean: bool = False,
    ) -> None:
        if lean:
            lean_referrals = self._lean.get(id(rule))
            if lean_referrals is None:
                lean_referrals = self._lean[id(rule)] = [
                    self.referral(service_id, rule.id, rule.urgency, rule.reason, []) for service_id in rule.refer
                ]
            rec.referrals.extend(lean_referrals)
            return
        # A rule's referrals depend only on the values it read (and the instrument's words
        # for them): built once per distinct read, like the instrument's own trace steps.
        try:
            seen: tuple[object, ...] | None = (
                id(rule),
                ci.instrument.id,
                ci.sha256,
                ci.texts_sha256,
                *(env.get(n, UNKNOWN) for n in sorted(cond.names)),
            )
            built = self._built.get(seen)  # type: ignore[arg-type]
        except TypeError:  # a value that is no key (rows of a group)
            seen, built = None, None
        if built is None:
            facts = facts_read(ci, self.ruleset, cond.names, env)
            built = [self.referral(service_id, rule.id, rule.urgency, rule.reason, facts) for service_id in rule.refer]
            built.append(TraceStep(kind="rule", ref=rule.id, text=phrase("rule_fired", reason=rule.reason)))
            if seen is not None:
                if len(self._built) >= 65_536:
                    self._built.clear()
                self._built[seen] = built
        rec.referrals.extend(built[:-1])  # type: ignore[arg-type]
        for spec in rule.follow_up:
            rec.follow_up.append(
                FollowUp(
                    kind=spec.kind,
                    target=spec.target,
                    name=self._target_name(spec.kind, spec.target),
                    rule=rule.id,
                    reason=spec.reason,
                )
            )
        rec.trace.append(built[-1])  # type: ignore[arg-type]

    def _target_groups(self, env: Mapping[str, object], rec: Recommendation) -> list[Referral]:
        """Take out what the person cannot be referred to; return the referrals taken out.

        * a service the person is known to be outside of (``age_min``/``age_max``,
          ``genders``: Origo 13–26, Kriscentrum för kvinnor) is dropped, with a
          trace step in words; an unknown age or gender never removes a service;
        * a ``proposed`` service (it does not exist yet) is never recommended as
          available: it leaves the referrals and a note says so, with the need the
          rule saw, so the caseworker meets it with services that exist;
        * the child-protection path (role ``child_report``) is never removed: its
          target group is the child, not necessarily the person screened.
        """
        age, gender = env.get("age", UNKNOWN), env.get(GENDER_FACT, UNKNOWN)
        services = self.catalogue.services
        kept: list[Referral] = []
        removed: list[Referral] = []
        for ref in rec.referrals:
            service = services.get(ref.service)
            if service is None or service.role == "child_report":
                kept.append(ref)
            elif service.status == "proposed":
                note = phrase("service_proposed", service=ref.name, reason=ref.reason)
                if all(m.text != note for m in rec.warnings):
                    rec.warnings.append(Message(code="service_proposed", text=note))
                rec.trace.append(TraceStep(kind="rule", ref=ref.rule, text=note))
            elif not service.fits(age, gender):
                removed.append(ref)
                rec.trace.append(TraceStep(kind="rule", ref=ref.rule, text=self._outside(ref, age, gender)))
            else:
                kept.append(ref)
        rec.referrals = kept

        def fits(target: str) -> bool:
            service = services.get(target)
            return service is None or (service.status != "proposed" and service.fits(age, gender))

        rec.follow_up = [f for f in rec.follow_up if f.kind != "consultation" or fits(f.target)]
        return removed

    def _outside(self, ref: Referral, age: object, gender: object) -> Text:
        service = self.catalogue.services[ref.service]
        if isinstance(age, int) and not isinstance(age, bool) and not service.fits(age, UNKNOWN):
            return phrase("outside_target_group", service=ref.name, age=age)
        spec = self.ruleset.facts.get(GENDER_FACT)
        labels = spec.value_labels if spec is not None and spec.value_labels else {}
        word = labels.get(str(gender), Text(sv="okänt", en="unknown"))
        return phrase("outside_target_gender", service=ref.name, gender=word)

    def _support_left(
        self,
        tables: tuple[CompiledTable, ...],
        env: Mapping[str, object],
        rec: Recommendation,
        removed: list[Referral],
    ) -> None:
        """Say so plainly when the target groups left disclosed violence without any support."""
        services = self.catalogue.services
        if not any(services[r.service].tier == "support" for r in removed):
            return
        if any(services[r.service].tier == "support" for r in rec.referrals if r.service in services):
            return
        disclosed = [t.violence.fn(env) for t in tables if t.violence is not None]
        if not any(v is True or v is UNKNOWN for v in disclosed):
            return
        text = phrase("warn_no_support_in_target_group")
        rec.warnings.append(Message(code="no_support_in_target_group", text=text))
        rec.trace.append(TraceStep(kind="rule", ref="target_groups", text=text))

    def safety_referral(self, service_id: str, rule: str, urgency: str, code: str) -> tuple[Referral, TraceStep]:
        """A safety rule's referral and its trace step: always the same words, so built once."""
        key = (service_id, rule, urgency, code)
        made = self._safety.get(key)
        if made is None:
            made = self._safety[key] = (
                self.referral(service_id, rule, urgency, phrase(code), []),
                TraceStep(kind="rule", ref=rule, text=phrase(code)),
            )
        return made

    def referral(self, service_id: str, rule: str, urgency: str, reason: Text, facts: list[Fact]) -> Referral:
        service = self.catalogue.services[service_id]
        return Referral(
            service=service_id,
            name=service.name,
            urgency=urgency,
            rule=rule,
            reason=reason,
            decision_required=service.decision_required,
            legal_basis_required=bool(service.legal_basis),
            legal_basis_options=list(service.legal_basis),
            facts=facts,
        )

    def case_facts(self, given: Mapping[str, object], env: Mapping[str, object]) -> list[CaseFact]:
        """Every declared fact as the rules saw it, in words: given, derived from an answer, or unknown."""
        return case_facts(self.ruleset, given, env, self._case_facts)

    def _target_name(self, kind: str, target: str) -> Text:
        if kind == "consultation" and target in self.catalogue.services:
            return self.catalogue.services[target].name
        return self.instrument_titles.get(target, Text(sv=target, en=target))

    def _reassess(self, tables: tuple[CompiledTable, ...], ci: CompiledInstrument, level: object) -> int | None:
        index = level.hi if isinstance(level, Interval) else level
        if not isinstance(index, int) or not ci.levels:
            return None
        days = [
            t.table.reassess_after_days[ci.levels[index]]
            for t in tables
            if ci.levels[index] in t.table.reassess_after_days
        ]
        return min(days) if days else None


def _dedupe(referrals: list[Referral]) -> list[Referral]:
    """One referral per service, the most urgent kept; ordered by urgency, then first seen."""
    best: dict[str, Referral] = {}
    for ref in referrals:
        kept = best.get(ref.service)
        if kept is None or URGENCIES.index(ref.urgency) < URGENCIES.index(kept.urgency):
            best[ref.service] = ref
    order = {ref.service: n for n, ref in reversed(list(enumerate(referrals)))}
    return sorted(best.values(), key=lambda r: (URGENCIES.index(r.urgency), order[r.service]))
