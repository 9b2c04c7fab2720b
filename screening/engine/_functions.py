"""The fixed table of functions the expression language offers.

May import: errors, _syntax / stdlib (``_compile`` for types only: it calls this module).

Each entry checks its arguments at load time and returns a closure. Functions are
the only way to reach over several items or over a repeating group, so the
language needs no loops, attributes or subscripts. Every function is total over
``UNKNOWN``: a count over unknown answers is an ``Interval``, never a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._syntax import BOOL, CRITICAL_SYMBOL, INT, UNKNOWN, Call, Const, Env, Fn, GroupType, Interval, Type

__all__ = ["FUNCTIONS", "FUNCTION_DOCS", "date_interval"]

if TYPE_CHECKING:
    from ._compile import Compiler

Spec = Callable[["Compiler", Call], tuple[Type, Fn]]


def _arity(c: Compiler, node: Call, least: int, most: int | None = None) -> None:
    n = len(node.args)
    if n < least or (most is not None and n > most):
        want = f"{least}" if most == least else f"{least} or more" if most is None else f"{least}–{most}"
        raise c.fail(f"{node.func}() takes {want} arguments, got {n}", node)


def _choice_items(c: Compiler, node: Call) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Shared argument check of count/any_of/all_of: values first, then choice items."""
    _arity(c, node, 2)
    values = c.values_arg(node.args[0])
    keys: list[str] = []
    for arg in node.args[1:]:
        key, typ = c.name_arg(arg, ("answer",), "a choice item")
        c.check_values(values, typ, arg)
        keys.append(key)
    return values, tuple(keys)


def _tally(env: Env, values: frozenset[str], keys: tuple[str, ...]) -> tuple[int, int]:
    hits = unknown = 0
    for key in keys:
        v = env.get(key, UNKNOWN)
        if v is UNKNOWN:
            unknown += 1
        elif v in values:
            hits += 1
    return hits, unknown


def _count(c: Compiler, node: Call) -> tuple[Type, Fn]:
    values, keys = _choice_items(c, node)
    vs = frozenset(values)

    def count(env: Env) -> object:
        hits, unknown = _tally(env, vs, keys)
        return Interval.of(hits, hits + unknown)

    return INT, count


def _any_of(c: Compiler, node: Call) -> tuple[Type, Fn]:
    values, keys = _choice_items(c, node)
    vs = frozenset(values)

    def any_of(env: Env) -> object:
        hits, unknown = _tally(env, vs, keys)
        return True if hits else UNKNOWN if unknown else False

    return BOOL, any_of


def _all_of(c: Compiler, node: Call) -> tuple[Type, Fn]:
    values, keys = _choice_items(c, node)
    vs = frozenset(values)
    n = len(keys)

    def all_of(env: Env) -> object:
        hits, unknown = _tally(env, vs, keys)
        return True if hits == n else UNKNOWN if hits + unknown == n else False

    return BOOL, all_of


def _known(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 1, 1)
    key, _ = c.name_arg(node.args[0], ("answer", "int", "text", "date", "group"), "an item")
    return BOOL, lambda env: env.get(key, UNKNOWN) not in (UNKNOWN, None)


def _unknown(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 1, 1)
    key, _ = c.name_arg(node.args[0], ("answer", "int", "text", "date", "group"), "an item")
    return BOOL, lambda env: env.get(key, UNKNOWN) is UNKNOWN


def _group(c: Compiler, node: Call) -> tuple[str, GroupType]:
    key, typ = c.name_arg(node.args[0], ("group",), "a repeating group")
    assert isinstance(typ, GroupType)
    return key, typ


def _rows(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 1, 1)
    key, _ = _group(c, node)

    def rows(env: Env) -> object:
        v = env.get(key, UNKNOWN)
        return v if v is UNKNOWN or v is None else len(v)  # type: ignore[arg-type]

    return INT, rows


def _rows_where(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 3, 3)
    key, group = _group(c, node)
    name, ftype = c.group_field(group, node.args[1], ("answer",))
    values = c.values_arg(node.args[2])
    c.check_values(values, ftype, node.args[2])
    vs = frozenset(values)

    def rows_where(env: Env) -> object:
        rows = env.get(key, UNKNOWN)
        if rows is UNKNOWN or rows is None:
            return rows
        hits = unknown = 0
        for row in rows:  # type: ignore[attr-defined]
            v = row.get(name, UNKNOWN)
            if v is UNKNOWN:
                unknown += 1
            elif v in vs:
                hits += 1
        return Interval.of(hits, hits + unknown)

    return INT, rows_where


def _max_of(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 2, 2)
    key, group = _group(c, node)
    name, _ = c.group_field(group, node.args[1], ("int",))

    def max_of(env: Env) -> object:
        rows = env.get(key, UNKNOWN)
        if rows is UNKNOWN or rows is None:
            return rows
        known = [r[name] for r in rows if isinstance(r.get(name), int)]  # type: ignore[attr-defined]
        if len(known) < len(rows):  # type: ignore[arg-type]
            return UNKNOWN
        return max(known, default=0)

    return INT, max_of


def _escalating(c: Compiler, node: Call) -> tuple[Type, Fn]:
    """Calendar trend: violence that starts, or grows more frequent or more severe, in the latest half year.

    The window is anchored at the latest incident, not at the clock, so the same
    answers always give the same result (the engine reads no clock). An
    approximate date (``YYYY-MM``, ``YYYY``) is the interval of days it may be;
    a missing date or severity may be anything. The answer is ``True`` or
    ``False`` only when every reading of those intervals agrees, else ``UNKNOWN``.
    """
    _arity(c, node, 3, 3)
    key, group = _group(c, node)
    date_field, _ = c.group_field(group, node.args[1], ("date",))
    severity_field, _ = c.group_field(group, node.args[2], ("int",))

    def escalating(env: Env) -> object:
        rows = env.get(key, UNKNOWN)
        if rows is UNKNOWN or rows is None:
            return rows
        points = [(r.get(date_field), r.get(severity_field)) for r in rows]  # type: ignore[attr-defined]
        return _trend(
            [(date_interval(d) if isinstance(d, str) else None, s if isinstance(s, int) else None) for d, s in points]
        )

    return BOOL, escalating


HALF_YEAR = 183  # days: "the latest half year" before the latest incident
YEAR = 366  # days: the half year before that ends here
_ANY_DAY = (dt.date.min, dt.date.max)
_ANY_SEVERITY = (-(10**6), 10**6)  # a missing severity may be lower or higher than any other
_MAX_STATES = 20_000  # beyond this many readings the answer is left unknown (never guessed)
_DATE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")


def date_interval(text: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day a date may be: a day, a month (``YYYY-MM``) or a year (``YYYY``).

    ``None`` when the text is none of those (``2026-13``, ``2026-02-30``, ``26-03``).
    """
    if not text.isascii() or not _DATE.fullmatch(text):
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return day, day
        year = int(text[:4])
        if len(text) == 4:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        month = int(text[5:])
        first = dt.date(year, month, 1)
        following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        return first, following - dt.timedelta(days=1)
    except ValueError:
        return None


def _trend(points: list[tuple[tuple[dt.date, dt.date] | None, int | None]]) -> object:
    """Escalation over every reading of the rows' date intervals and unknown severities.

    Each row lands in the latest half year, the half year before, or earlier; a
    reading is summarised as (rows recent, rows before, worst recent, worst
    before). The latest incident's date is bounded by the intervals, so a row's
    distance from it is bounded too; every place that distance allows is tried.
    """
    if len(points) < 2:
        return False  # one incident is not a trend
    spans = [span or _ANY_DAY for span, _ in points]
    latest_lo = max(lo for lo, _ in spans)
    latest_hi = max(hi for _, hi in spans)
    states = {(0, 0, 0, 0)}
    for (lo, hi), severity in zip(spans, (s for _, s in points), strict=True):
        least = max(0, (latest_lo - hi).days)
        most = (latest_hi - lo).days
        places = [
            p
            for p, fits in ((0, least < HALF_YEAR), (1, least < YEAR and most >= HALF_YEAR), (2, most >= YEAR))
            if fits
        ]
        grades = (severity,) if severity is not None else _ANY_SEVERITY
        states = {_place(state, p, g) for state in states for p in places for g in grades}
        if len(states) > _MAX_STATES:
            return UNKNOWN
    outcomes = {_escalation(*state) for state in states}
    return outcomes.pop() if len(outcomes) == 1 else UNKNOWN


def _place(state: tuple[int, int, int, int], place: int, severity: int) -> tuple[int, int, int, int]:
    recent, before, worst_recent, worst_before = state
    if place == 0:
        return recent + 1, before, max(worst_recent, severity) if recent else severity, worst_before
    if place == 1:
        return recent, before + 1, worst_recent, max(worst_before, severity) if before else severity
    return state


def _escalation(recent: int, before: int, worst_recent: int, worst_before: int) -> bool:
    """A start (two or more incidents in the latest half year, none in the half year before) or a rise."""
    if not before:
        return recent >= 2
    return recent > before or (recent > 0 and worst_recent > worst_before)


def _fired(c: Compiler, node: Call) -> tuple[Type, Fn]:
    _arity(c, node, 1, 1)
    arg = node.args[0]
    if CRITICAL_SYMBOL not in c.symbols:
        raise c.fail("fired() is for referral rules and requirements; critical rules cannot depend on each other", node)
    typ = c.symbols.get(CRITICAL_SYMBOL)
    ids: tuple[str, ...] = getattr(typ, "values", ())
    if not isinstance(arg, Const) or not isinstance(arg.value, str):
        raise c.fail("fired() takes a critical rule id in quotes", arg)
    if arg.value not in ids:
        from ._syntax import suggest

        raise c.fail(f"no critical rule {arg.value!r}", arg, suggest(arg.value, ids))
    rule = arg.value

    def fired(env: Env) -> object:
        states = env.get(CRITICAL_SYMBOL, {})
        return states.get(rule, False)  # type: ignore[attr-defined]

    return BOOL, fired


FUNCTIONS: dict[str, Spec] = {
    "all_of": _all_of,
    "any_of": _any_of,
    "count": _count,
    "escalating": _escalating,
    "fired": _fired,
    "known": _known,
    "max_of": _max_of,
    "rows": _rows,
    "rows_where": _rows_where,
    "unknown": _unknown,
}

FUNCTION_DOCS: dict[str, str] = {
    "all_of": "all_of(value|[values], item, …): every item has one of the values",
    "any_of": "any_of(value|[values], item, …): at least one item has one of the values",
    "count": "count(value|[values], item, …): how many items have one of the values",
    "escalating": "escalating(group, 'date', 'severity'): violence that starts (two or more incidents, none "
    "in the half year before), or more or more severe incidents, in the latest half year than in the half "
    "year before (window anchored at the latest incident; an approximate date YYYY-MM or YYYY is an interval, "
    "unknown when the answer depends on where in it the incident was)",
    "fired": "fired('rule'): the critical rule fired (unknown if it might have)",
    "known": "known(item): the item has an answer that is not unknown",
    "max_of": "max_of(group, 'field'): largest number in a field of a repeating group",
    "rows": "rows(group): number of rows in a repeating group",
    "rows_where": "rows_where(group, 'field', value|[values]): rows whose field has a value",
    "unknown": "unknown(item): the answer is unknown (or was never given)",
}
