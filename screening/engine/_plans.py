"""Skip logic and non-scalar critical reads on the fast path: plans, strict keys, the gated closure.

May import: errors, expr, scoring (types) / stdlib.

Skip logic (``show_if``) decides per answer set which items count: shown, hidden
(skipped: scores nothing, counts no unknown, a critical rule sees ``None``) or
*maybe* (the condition is unknown: the answer or nothing, so it scores between
``min(points, 0)`` and ``max(points, 0)`` and a critical rule sees it as unknown).
Which of the three each gated item is depends only on the answers the conditions
read, so the fast path memoises it on those answers — a *plan* — and the plan
names a set of packed point tables built once for it (``tables``). The plan
itself is found by ``CompiledInstrument._walk``, the general evaluator's own walk,
run once per distinct key on just the answers the conditions read; so both
paths agree by construction, and ``tests/test_fast.py`` checks that they do.

A critical rule that reads a repeating group, a date or free text (FREDA-farlighet's
incident calendar) is memoised on a *strict* key of that answer (``freeze``):
``True`` hashes like ``1`` and ``1.0``, so the key keeps each value's class, and
the answer is checked by the instrument the first time the key is seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import AnswerError
from ._status import settle
from .expr import UNKNOWN

if TYPE_CHECKING:
    from ._fast import FastPath, Quick, Summary
    from .scoring import CompiledInstrument

__all__ = ["HIDDEN", "MAYBE", "SHOWN", "Detail", "Plan", "build_gated", "freeze", "plan_states", "tables"]

SHOWN, HIDDEN, MAYBE = 0, 1, 2
MEMO_LIMIT = 65_536
WIDTH = 24  # as in _fast: bits per packed field
_MASK = (1 << WIDTH) - 1

Group = tuple[tuple[str, ...], tuple[dict[object, int], ...], int]
# Per score (keys, packed tables, base); crit-only choice tables; (number, low, high, counts); crit states;
# every gated item's state (SHOWN, HIDDEN, MAYBE).
# quick, the count of unknowns, each gated item's state, the critical rules' key: what the batch scorer memoises on.
Detail = tuple["Quick", int, tuple[object, ...], tuple[object, ...]]
QuickFn = Callable[[Mapping[str, object]], "Quick | None"]
SummaryFn = Callable[[Mapping[str, object]], "Summary | None"]
DetailFn = Callable[[Mapping[str, object]], "Detail | None"]
Plan = tuple[
    tuple[Group, ...],
    tuple[dict[object, int], ...],
    tuple[tuple[str, int, int, bool], ...],
    tuple[int, ...],
    tuple[int, ...],
]


def freeze(value: object) -> object:
    """A hashable key of an answer that tells ``True`` from ``1`` and ``1.0`` (raises ``TypeError`` if it cannot)."""
    cls = value.__class__
    if cls is str or cls is int or value is None:
        return value
    if cls is list or cls is tuple:
        return (list, tuple(map(freeze, value)))  # type: ignore[call-overload]
    if cls is dict:
        return (dict, tuple(sorted((k, freeze(v)) for k, v in value.items())))  # type: ignore[attr-defined]
    hash(value)
    return (cls, value)


def plan_states(ci: CompiledInstrument, names: tuple[str, ...], answers: Mapping[str, object]) -> dict[str, int] | None:
    """Each gated item's state for these answers (only ``names``, what the conditions read, matter).

    ``None`` when one of those answers does not fit: the slow path says why.
    """
    given = {n: answers[n] for n in names if answers.get(n) is not None}
    try:
        clean = ci.check_answers(given)
    except AnswerError:
        return None
    _, _, skipped, maybe, _ = ci._walk(clean)
    hidden = set(skipped)
    return {k: HIDDEN if k in hidden else MAYBE if k in maybe else SHOWN for k in ci.show_if}


def tables(
    ci: CompiledInstrument, states: Mapping[str, int], extra: tuple[str, ...], crit_names: tuple[str, ...]
) -> Plan | None:
    """The packed point tables for one plan, or ``None`` if too wide to pack.

    A table maps every value an item may take — its known values, its unknown
    options and ``None`` (not given) — to ``low | high << WIDTH | unknown << 2*WIDTH``,
    ``low`` and ``high`` above the item's base (its least points when shown,
    ``min(least, 0)`` when maybe, 0 when hidden). A value outside the table is a
    ``KeyError``: the slow path then says what is wrong.
    """
    counted: set[str] = set()
    groups: list[Group] = []
    spread = 0
    flag = 1 << 2 * WIDTH
    for _, rows in ci.scores:
        keys: list[str] = []
        packed_tables: list[dict[object, int]] = []
        base = 0
        for key, table, least, most in rows:
            state = states.get(key, SHOWN)
            unknown = 0 if key in counted or state == HIDDEN else flag
            counted.add(key)
            unknown_values = (*ci.unknown_options[key], None)
            if state == HIDDEN:
                packed: dict[object, int] = {v: 0 for v in (*table, *unknown_values)}
                b = 0
            elif state == MAYBE:
                b = min(least, 0)
                packed = {v: (min(p, 0) - b) | (max(p, 0) - b) << WIDTH for v, p in table.items()}
                high = max(most, 0) - b
                for v in unknown_values:
                    packed[v] = (min(least, 0) - b) | high << WIDTH | unknown
            else:
                b = least
                packed = {v: (p - least) | (p - least) << WIDTH for v, p in table.items()}
                high = most - least
                for v in unknown_values:
                    packed[v] = high << WIDTH | unknown
            spread += max(v >> WIDTH & _MASK for v in packed.values())
            keys.append(key)
            packed_tables.append(packed)
            base += b
        groups.append((tuple(keys), tuple(packed_tables), base))
    extra_tables = tuple(
        {
            **{v: 0 for v in ci.known[n]},
            **{v: 0 if states.get(n) == HIDDEN else flag for v in (*ci.unknown_options[n], None)},
        }
        for n in extra
    )
    numbers = tuple(
        (n, ci.items[n].min or 0, ci.items[n].max or 0, states.get(n) != HIDDEN)
        for n in crit_names
        if ci.items[n].type == "number"
    )
    if spread > _MASK:
        return None
    crit_states = tuple(states.get(n, SHOWN) for n in crit_names)
    return tuple(groups), extra_tables, numbers, crit_states, tuple(states.get(k, SHOWN) for k in ci.show_if)


def crit_env(
    ci: CompiledInstrument, names: tuple[str, ...], states: tuple[int, ...], answers: Mapping[str, object]
) -> dict[str, object] | None:
    """What the critical rules see of these answers under a plan; ``None`` if a non-scalar answer does not fit.

    As ``_walk``: not given or an unknown option is ``UNKNOWN``; hidden is ``None``;
    behind an unknown condition it is ``UNKNOWN`` (the answer or nothing).
    """
    env: dict[str, object] = {}
    for name, state in zip(names, states, strict=True):
        value = answers.get(name)
        item = ci.items[name]
        if item.type not in ("choice", "number") and value is not None:
            try:  # checked even when hidden or behind an unknown condition, as assess does
                clean = ci.check_answers({name: value})
            except AnswerError:
                return None
            value = clean.get(name)
            if value.__class__ is list:
                value = ci._group_env(name, value)
        if state == HIDDEN:
            value = None
        elif state == MAYBE or value is None or (item.type == "choice" and value in ci.unknown_options[name]):
            value = UNKNOWN
        env[name] = value
    return env


def key_getter(
    ci: CompiledInstrument, names: tuple[str, ...]
) -> Callable[[Callable[[str], object]], tuple[object, ...]]:
    """Raw values of scalar items, strict keys of the rest (``freeze``)."""
    strict = tuple(ci.items[n].type not in ("choice",) for n in names)
    if not any(strict):
        return lambda get: tuple(map(get, names))
    pairs = tuple(zip(names, strict, strict=True))
    return lambda get: tuple(freeze(get(n)) if s else get(n) for n, s in pairs)


def build_gated(fp: FastPath, keep_read: bool = False) -> tuple[QuickFn, SummaryFn, DetailFn] | None:  # noqa: C901
    """``quick``, ``summary`` and ``detail`` for an instrument with skip logic or non-scalar critical reads.

    Also built for a plain instrument, for ``detail`` only (``keep_read``: its ``read`` stays).

    ``None`` when the tables cannot capture what ``evaluate`` counts (the slow path decides).
    """
    ci = fp.ci
    crit_names = fp.crit_names
    scored = {key for _, rows in ci.scores for key, *_ in rows}
    extra = tuple(n for n in crit_names if ci.items[n].type == "choice" and n not in scored)
    numbers_read = {n for n in crit_names if ci.items[n].type == "number"}
    if scored | set(extra) | numbers_read != ci.counted:
        return None
    gate_names = tuple(sorted({n for cond in ci.show_if.values() for n in cond.names}))
    read = frozenset(ci.counted | set(gate_names) | set(crit_names))
    if not keep_read:
        fp.read = read
    plan0 = tables(ci, {}, extra, crit_names)
    if plan0 is None:
        return None
    by_states: dict[tuple[int, ...], Plan | None] = {}
    gate_memo: dict[tuple[object, ...], Plan | None] = {}
    gate_key = key_getter(ci, gate_names)
    crit_key = key_getter(ci, crit_names)
    crit_memo: dict[tuple[object, ...], tuple[int | None, int | None]] = {}
    gated = tuple(ci.show_if)

    def plan_miss(key: tuple[object, ...], answers: Mapping[str, object]) -> Plan | None:
        states = plan_states(ci, gate_names, answers)
        plan = None
        if states is not None:
            st = tuple(states[k] for k in gated)
            if st not in by_states:
                by_states[st] = tables(ci, states, extra, crit_names)
            plan = by_states[st]
        if len(gate_memo) >= MEMO_LIMIT:
            gate_memo.clear()
        gate_memo[key] = plan
        return plan

    def crit_miss(key: tuple[object, ...], answers: Mapping[str, object]) -> tuple[int | None, int | None] | None:
        env = crit_env(ci, crit_names, key[0], answers)  # type: ignore[arg-type]
        if env is None:
            return None  # not memoised: the slow path says what is wrong
        states = [(cond.fn(env), level) for _, cond, level in ci.critical]
        fired = [level for state, level in states if state is True]
        possible = [level for state, level in states if state is UNKNOWN]
        crit = (max(fired) if fired else None, max(possible) if possible else None)
        if len(crit_memo) >= MEMO_LIMIT:
            crit_memo.clear()
        crit_memo[key] = crit
        return crit

    band_index, band_get, top, no_level, needs_judgement, max_unknown = fp.undecided
    getitem = dict.__getitem__
    shift2 = 2 * WIDTH
    extras_ok = fp._extras_ok

    def make(full: int) -> Callable[[Mapping[str, object]], object]:
        """0: ``summary``; 1: ``quick``; 2: ``detail`` (``quick``, unknowns, the plan's and the critical key)."""

        def quick(answers: Mapping[str, object]) -> object:
            get = answers.get
            try:
                gk = gate_key(get)
                plan = gate_memo[gk] if gk in gate_memo else plan_miss(gk, answers)
                if plan is None:
                    return None
                groups, extra_tables, numbers, cstates, shown = plan
                unknown = 0
                ranges = []
                for keys, tbls, base in groups:
                    packed = sum(map(getitem, tbls, map(get, keys)))
                    unknown += packed >> shift2
                    ranges.append(((packed & _MASK) + base, ((packed >> WIDTH) & _MASK) + base))
                if extra_tables:
                    unknown += sum(map(getitem, extra_tables, map(get, extra))) >> shift2
                for name, low, high, counts in numbers:
                    v = get(name)
                    if v is None:
                        unknown += counts
                    elif type(v) is not int or not low <= v <= high:
                        return None
                key = (cstates, *crit_key(get))
                crit = crit_memo.get(key)
            except (KeyError, TypeError):
                return None
            if not answers.keys() <= read and not extras_ok(answers):
                return None
            if crit is None:
                crit = crit_miss(key, answers)
                if crit is None:
                    return None
            floor, possible = crit
            if band_index is not None:
                slo, shi = ranges[band_index]
                clo, chi = band_get(slo, top), band_get(shi, top)
            elif floor is None and possible is None:
                clo = chi = -1
            else:
                clo = chi = 0
            complete = unknown <= max_unknown
            _, hi, status, final = settle(clo, chi, floor, possible, no_level, needs_judgement, complete)
            totals = tuple([a if a == b else -1 for a, b in ranges])
            rng = tuple(ranges)
            if full == 2:
                return ((final, status, totals, floor), complete, hi, rng), unknown, shown, key
            if full:
                return (final, status, totals, floor), complete, hi, rng
            return final, status, totals, floor

        return quick

    return make(1), make(0), make(2)  # type: ignore[return-value]
