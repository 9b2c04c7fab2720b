"""Static checks of rule sets and catalogues (``screening validate``).

May import: errors, the engine (expr, instrument, checks, scoring), this package's rules,
_evaluate and _combinations / pydantic, stdlib.

Besides references (services, instruments, levels, legal bases), three checks
reason about conditions by evaluating them over every combination of the small
finite things they read — levels, statuses, booleans, choice answers — with
everything else left unknown. The evaluation is three-valued and sound, so
"false in every combination" really means "can never fire", and "true for both"
really is an overlap.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping

from pydantic import BaseModel

from ..engine import expr
from ..engine.checks import Problem
from ..engine.expr import UNKNOWN, Expression, Interval
from ..engine.instrument import Text
from ..engine.scoring import CompiledInstrument
from ..errors import ExpressionError
from ._combinations import outcomes, pairs
from ._evaluate import CompiledRuleSet, fact_type, rule_symbols
from ._safety import GENDER_FACT
from .rules import Catalogue, Rule, Service

__all__ = ["CLAIM_PATTERNS", "check_catalogue", "check_ruleset", "claims_action"]

# Wording that would claim a referral was made. Output must only ever recommend.
CLAIM_PATTERNS = re.compile(
    r"\b(har|hade|är|blev) (skickats?|remitterats?|anmälts?|kontaktats?)\b|\bremitterad\b|\banmäld\b"
    r"|\b(has|have|was|were) been (sent|referred|reported|contacted)\b|\breferral (was |has been )?made\b",
    re.IGNORECASE,
)


def claims_action(text: str) -> bool:
    return bool(CLAIM_PATTERNS.search(text))


def _texts(obj: object, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(obj, Text):
        yield loc, obj.sv
        yield loc, obj.en
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _texts(value, (*loc, key))
    elif isinstance(obj, list | tuple):
        for n, value in enumerate(obj):
            yield from _texts(value, (*loc, n))
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _texts(getattr(obj, name), (*loc, name))


def check_catalogue(catalogue: Catalogue) -> Iterator[Problem]:
    for sid, service in catalogue.services.items():
        for n, basis in enumerate(service.legal_basis):
            if basis not in catalogue.legal_bases:
                yield Problem(
                    ("services", sid, "legal_basis", n),
                    f"unknown legal basis {basis!r}",
                    expr.suggest(basis, list(catalogue.legal_bases)),
                )
        if service.age_min is not None and service.age_max is not None and service.age_min > service.age_max:
            yield Problem(("services", sid, "age_min"), "age_min is above age_max")
    for loc, text in _texts(catalogue, ()):
        if claims_action(text):
            yield Problem(loc, "text claims that something was sent or done; output may only recommend")


def check_ruleset(crs: CompiledRuleSet, instruments: Mapping[str, CompiledInstrument]) -> Iterator[Problem]:
    """Every reference, condition, coverage and overlap problem in a rule set."""
    rs = crs.ruleset
    services = crs.catalogue.services
    for n, sid in enumerate(rs.incomplete_support):
        if sid not in services:
            yield Problem(("incomplete_support", n), f"unknown service {sid!r}", expr.suggest(sid, list(services)))
        elif services[sid].tier == "information":
            yield Problem(("incomplete_support", n), "incomplete results need more than an information service")
        elif services[sid].status == "proposed":
            yield Problem(("incomplete_support", n), f"{sid!r} is proposed and does not exist yet; not a support")
    yield from _check_incomplete_coverage(crs)
    yield from _check_gender_fact(crs)
    if any(t.violence_disclosed for t in rs.tables) and (
        rs.facts.get("children_in_household") is None or rs.facts["children_in_household"].type != "bool"
    ):
        yield Problem(("facts",), "tables with violence_disclosed need a bool fact 'children_in_household'")
    for loc, text in _texts(rs, ()):
        if claims_action(text):
            yield Problem(loc, "text claims that something was sent or done; output may only recommend")
    ids: dict[str, tuple[str | int, ...]] = {}
    for ti, table in enumerate(rs.tables):
        tloc: tuple[str | int, ...] = ("tables", ti)
        if table.id in ids:
            yield Problem((*tloc, "id"), f"duplicate table id {table.id!r}")
        ids[table.id] = tloc
        ci = None
        if table.instrument != "*":
            ci = instruments.get(table.instrument)
            if ci is None:
                yield Problem(
                    (*tloc, "instrument"),
                    f"unknown instrument {table.instrument!r}",
                    expr.suggest(table.instrument, list(instruments)),
                )
                continue
        yield from _check_table(crs, ti, ci, instruments)
    yield from _check_coverage(crs, instruments)


def _compile(
    text: str, symbols: Mapping[str, expr.Type], loc: tuple[str | int, ...]
) -> tuple[Expression | None, list[Problem]]:
    try:
        return expr.compile_expression(text, symbols), []
    except ExpressionError as exc:
        return None, [Problem(loc, f"{exc.message} in expression {text!r}", exc.suggestion, exc.column)]


def _check_table_header(
    crs: CompiledRuleSet, ti: int, ci: CompiledInstrument | None, symbols: Mapping[str, expr.Type]
) -> Iterator[Problem]:
    """Everything of a table but its rules: context conditions, derived facts, periods."""
    rs, table = crs.ruleset, crs.ruleset.tables[ti]
    tloc: tuple[str | int, ...] = ("tables", ti)
    for key in ("violence_disclosed", "honour_context"):
        text = getattr(table, key)
        if text is not None:
            _, problems = _compile(text, symbols, (*tloc, key))
            yield from problems
    for name, text in table.derive.items():
        spec = rs.facts.get(name)
        if spec is None:
            yield Problem(
                (*tloc, "derive", name), f"unknown case fact {name!r}", expr.suggest(name, list(rs.facts)), at_key=True
            )
            continue
        try:
            expr.compile_expression(text, symbols, expect=fact_type(spec))
        except ExpressionError as exc:
            yield Problem((*tloc, "derive", name), f"{exc.message} in expression {text!r}", exc.suggestion, exc.column)
    if ci is not None:
        for name, spec in rs.facts.items():
            if (
                name in ci.items
                and ci.items[name].type != {"bool": "-", "int": "number", "choice": "choice"}[spec.type]
            ):
                yield Problem(
                    ("facts", name),
                    f"case fact {name!r} clashes with item {name!r} of {ci.instrument.id} (another type)",
                )
    levels = ci.levels if ci else ()
    for level in table.reassess_after_days:
        if level not in levels:
            yield Problem(
                (*tloc, "reassess_after_days", level), f"unknown level {level!r}", expr.suggest(level, levels)
            )


def _check_table(
    crs: CompiledRuleSet, ti: int, ci: CompiledInstrument | None, instruments: Mapping[str, CompiledInstrument]
) -> Iterator[Problem]:
    rs, table = crs.ruleset, crs.ruleset.tables[ti]
    services = crs.catalogue.services
    symbols = rule_symbols(rs, ci)
    tloc: tuple[str | int, ...] = ("tables", ti)
    yield from _check_table_header(crs, ti, ci, symbols)
    compiled: list[tuple[int, Expression]] = []
    for ri, rule in enumerate(table.rules):
        rloc = (*tloc, "rules", ri)
        for n, sid in enumerate(rule.refer):
            if sid not in services:
                yield Problem((*rloc, "refer", n), f"unknown service {sid!r}", expr.suggest(sid, list(services)))
            elif table.honour_context and services[sid].contacts_family:
                yield Problem(
                    (*rloc, "refer", n),
                    f"{sid!r} contacts the family; not allowed in an honour table before a protection assessment",
                )
        for n, spec in enumerate(rule.follow_up):
            known = list(instruments) if spec.kind == "assessment" else list(services)
            if spec.target not in known:
                yield Problem(
                    (*rloc, "follow_up", n, "target"),
                    f"unknown {spec.kind} target {spec.target!r}",
                    expr.suggest(spec.target, known),
                )
        if not rule.refer and not rule.follow_up:
            yield Problem(rloc, "the rule recommends nothing (no 'refer' and no 'follow_up')")
        cond, problems = _compile(rule.when, symbols, (*rloc, "when"))
        yield from problems
        if cond is None:
            continue
        compiled.append((ri, cond))
        if not any(v is not False for v in outcomes([cond], ci, rs, symbols)):
            yield Problem((*rloc, "when"), "this rule can never fire")
        else:
            yield from _check_target_groups(crs, rule, cond, rloc, ci, symbols)
    if table.hit_policy == "unique":
        for (ra, ca), (rb, cb) in itertools.combinations(compiled, 2):
            if any(a is True and b is True for a, b in pairs(ca, cb, ci, rs, symbols)):
                yield Problem(
                    (*tloc, "rules", rb, "when"), f"overlaps rule {table.rules[ra].id!r} under hit policy 'unique'"
                )


def _check_target_groups(
    crs: CompiledRuleSet,
    rule: Rule,
    cond: Expression,
    rloc: tuple[str | int, ...],
    ci: CompiledInstrument | None,
    symbols: Mapping[str, expr.Type],
) -> Iterator[Problem]:
    """A rule that can refer only people outside a service's target group is an error.

    Precisely: for a service with an age range or genders, and a condition that
    reads ``age`` or ``gender``, evaluate the condition three-valued with the age
    held to the service's range (an interval) and the gender to each of the
    service's genders, everything else over its domain. If it is false in every
    combination, the rule can fire only for people the service does not take
    (a rule needing ``age >= 27`` referring to Origo, 13–26). Conservative: a
    condition that does not read age or gender is not an error, because the
    engine then drops the service for a person known to be outside it.
    """
    services = crs.catalogue.services
    targets: list[tuple[tuple[str | int, ...], str]] = [(("refer", n), sid) for n, sid in enumerate(rule.refer)]
    targets += [
        (("follow_up", n, "target"), spec.target)
        for n, spec in enumerate(rule.follow_up)
        if spec.kind == "consultation"
    ]
    for where, sid in targets:
        service = services.get(sid)
        if service is None or service.role == "child_report":
            continue
        if _reachable_inside(crs, service, cond, ci, symbols):
            continue
        group = _group_words(service)
        yield Problem(
            (*rloc, *where),
            f"rule {rule.id!r} can refer only people outside the target group of {sid!r} ({group})",
        )


def _reachable_inside(
    crs: CompiledRuleSet,
    service: Service,
    cond: Expression,
    ci: CompiledInstrument | None,
    symbols: Mapping[str, expr.Type],
) -> bool:
    """Whether the condition can hold (true or unknown) for someone inside the target group."""
    rs = crs.ruleset
    fixed: dict[str, object] = {}
    if "age" in cond.names and (service.age_min is not None or service.age_max is not None):
        spec = rs.facts.get("age")
        lo = service.age_min if service.age_min is not None else (spec.min if spec and spec.min is not None else 0)
        hi = service.age_max if service.age_max is not None else (spec.max if spec and spec.max is not None else 120)
        fixed["age"] = Interval(lo, hi)
    genders: list[object] = [None]
    if GENDER_FACT in cond.names and service.genders is not None:
        genders = list(service.genders)
    if not fixed and genders == [None]:
        return True
    for gender in genders:
        env_fixed = dict(fixed) if gender is None else {**fixed, GENDER_FACT: gender}
        if any(v is not False for v in outcomes([cond], ci, rs, symbols, env_fixed)):
            return True
    return False


def _group_words(service: Service) -> str:
    parts = []
    if service.age_min is not None or service.age_max is not None:
        parts.append(f"age {service.age_min if service.age_min is not None else 0}–"
                     f"{service.age_max if service.age_max is not None else ''}".rstrip("–"))
    if service.genders is not None:
        parts.append("gender " + "/".join(service.genders))
    return ", ".join(parts)


def _check_incomplete_coverage(crs: CompiledRuleSet) -> Iterator[Problem]:
    """Every person, whatever their age and gender, fits some ``incomplete_support`` service.

    The engine drops services outside their target group after the safety rules
    too, so an incomplete result for a man must not depend on a service for women.
    """
    services = [crs.catalogue.services[s] for s in crs.ruleset.incomplete_support if s in crs.catalogue.services]
    if not services:
        return
    ages: set[int] = {0, 120}
    for service in services:
        for bound in (service.age_min, service.age_max):
            if bound is not None:
                ages |= {max(0, bound - 1), bound, min(120, bound + 1)}
    spec = crs.ruleset.facts.get(GENDER_FACT)
    genders: list[object] = list(spec.values) if spec is not None and spec.values else [UNKNOWN]
    for gender in genders:
        for age in sorted(ages):
            if not any(s.fits(age, gender) for s in services):
                yield Problem(
                    ("incomplete_support",),
                    f"no incomplete_support service takes a person aged {age}"
                    + (f" given as {gender!r}" if isinstance(gender, str) else ""),
                )
                return


def _check_gender_fact(crs: CompiledRuleSet) -> Iterator[Problem]:
    """A rule set referring to services with ``genders`` declares the choice fact ``gender`` with those values.

    Without it every gender is unknown, and a man is sent to a service for women.
    """
    services = crs.catalogue.services
    named = set(crs.ruleset.incomplete_support)
    for table in crs.ruleset.tables:
        for rule in table.rules:
            named |= set(rule.refer) | {f.target for f in rule.follow_up if f.kind == "consultation"}
    used = {g for sid in named if sid in services and services[sid].genders for g in services[sid].genders or ()}
    if not used or not crs.ruleset.tables:
        return
    spec = crs.ruleset.facts.get(GENDER_FACT)
    if spec is None or spec.type != "choice":
        yield Problem(("facts",), f"the catalogue's target groups name genders; declare a choice fact {GENDER_FACT!r}")
    elif not used <= set(spec.values or ()):
        missing = ", ".join(sorted(used - set(spec.values or ())))
        yield Problem(("facts", GENDER_FACT, "values"), f"the target groups name genders not declared here: {missing}")


def _check_coverage(crs: CompiledRuleSet, instruments: Mapping[str, CompiledInstrument]) -> Iterator[Problem]:
    """Every level of every instrument with a table gets at least one recommendation."""
    rs = crs.ruleset
    for iid in sorted({t.instrument for t in rs.tables if t.instrument != "*"}):
        ci = instruments.get(iid)
        if ci is None or not ci.levels:
            continue
        symbols = rule_symbols(rs, ci)
        conds: list[Expression] = []
        for table in rs.tables:
            if table.instrument not in ("*", iid):
                continue
            table_symbols = symbols if table.instrument == iid else rule_symbols(rs, None)
            for rule in table.rules:
                if rule.refer:
                    try:
                        conds.append(expr.compile_expression(rule.when, table_symbols))
                    except ExpressionError:
                        continue
        for index, level in enumerate(ci.levels):
            fixed = {"level": index}
            if not any(v is not False for c in conds for v in outcomes([c], ci, rs, symbols, fixed)):
                first = next(n for n, t in enumerate(rs.tables) if t.instrument == iid)
                yield Problem(
                    ("tables", first, "instrument"), f"no rule recommends any service at level {level!r} of {iid}"
                )
