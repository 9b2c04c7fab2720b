"""Conditions evaluated over every combination of the small finite things they read.

May import: the engine's expr, checks and scoring, and this package's ``_evaluate``
(``STATUSES``) / stdlib.

Levels, statuses, booleans and choice answers are enumerated; everything else is
left unknown, and when the combinations would pass ``MAX_COMBINATIONS`` the widest
domain collapses to unknown. Evaluation is three-valued and sound, so "false in
every combination" really means "can never fire", and "true for both" really is an
overlap (``rules_checks``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

from ..engine import expr
from ..engine.checks import score_range
from ..engine.expr import UNKNOWN, Expression, Interval
from ..engine.scoring import CompiledInstrument
from ._evaluate import STATUSES

__all__ = ["MAX_COMBINATIONS", "outcomes", "pairs"]

MAX_COMBINATIONS = 20_000


def _domain(name: str, ci: CompiledInstrument | None, rs: object, symbols: Mapping[str, expr.Type]) -> Sequence[object]:
    typ = symbols.get(name)
    facts = getattr(rs, "facts", {})
    if name == "level" and ci is not None:
        return list(range(len(ci.levels)))
    if name == "status":
        return list(STATUSES)
    if typ is not None and typ.kind == "bool":
        return [True, False, UNKNOWN] if name in facts else [True, False]
    if isinstance(typ, expr.AnswerType):
        return [*typ.values, UNKNOWN] + ([None] if ci is not None and name in ci.items else [])
    if name in facts and facts[name].type == "int":
        return [Interval(facts[name].min, facts[name].max)]
    if ci is not None and name in ci.items and ci.items[name].type == "number":
        item = ci.items[name]
        return [Interval(item.min or 0, item.max or 0)]
    if ci is not None and any(s.id == name for s in ci.instrument.scores):
        lo, hi = score_range(ci.instrument, name)
        return [Interval.of(lo, hi)]
    return [UNKNOWN]


def _envs(
    names: set[str],
    ci: CompiledInstrument | None,
    rs: object,
    symbols: Mapping[str, expr.Type],
    fixed: Mapping[str, object],
) -> Iterator[dict[str, object]]:
    free = sorted(n for n in names if n not in fixed)
    domains = [_domain(n, ci, rs, symbols) for n in free]
    while domains and _size(domains) > MAX_COMBINATIONS:  # collapse the widest to unknown: still sound
        widest = max(range(len(domains)), key=lambda i: len(domains[i]))
        domains[widest] = [UNKNOWN]
    critical = {c.id: UNKNOWN for c in ci.instrument.critical} if ci is not None else {}
    for combo in itertools.product(*domains):
        env: dict[str, object] = dict(zip(free, combo, strict=True))
        env.update(fixed)
        env["@critical"] = critical
        yield env


def _size(domains: list[Sequence[object]]) -> int:
    total = 1
    for d in domains:
        total *= len(d)
    return total


def outcomes(
    conds: list[Expression],
    ci: CompiledInstrument | None,
    rs: object,
    symbols: Mapping[str, expr.Type],
    fixed: Mapping[str, object] | None = None,
) -> Iterator[object]:
    names: set[str] = set().union(*(c.names for c in conds))
    for env in _envs(names, ci, rs, symbols, fixed or {}):
        for c in conds:
            yield c.fn(env)


def pairs(
    a: Expression, b: Expression, ci: CompiledInstrument | None, rs: object, symbols: Mapping[str, expr.Type]
) -> Iterator[tuple[object, object]]:
    for env in _envs(set(a.names | b.names), ci, rs, symbols, {}):
        yield a.fn(env), b.fn(env)
