"""The fast path for scoring answer sets: what batch re-scoring runs a million times.

May import: errors, expr, scoring / stdlib.

Most stored assessments have no skip logic in play and need only the level, not the
trace. For those, scores are summed by C-level ``map`` over point tables, and the
critical rules are memoised on the tuple of the answers they read (a pure function of
few inputs has few distinct keys).

Unknown answers are the normal case, so they stay on the fast path (``quick``): each
item's table gives a *packed* integer holding three fields — the points above the
item's least (its lower bound), the points its most could add (its upper bound), and
1 if the answer is unknown — so one ``sum`` yields the score's interval and the count
of unknowns at once. The critical rules are memoised on the raw answers they read,
three-valued (fired, possibly fired), and the decision repeats ``decide``'s rules
inline. Skip logic and critical rules that read a repeating group, a date or text
take ``_plans``' closure (memoised plans of shown, hidden and maybe items). Anything
else — a value outside the tables, an answer not read that does not fit, a blocking
requirement — returns ``None`` and the caller takes ``evaluate`` + ``decide``, so the
two paths always agree; ``tests/test_fast.py`` and ``test_fast_bundled.py`` check it.

``summarize`` is the older complete-only entry the batch scorer builds on (it returns
``None`` for any unknown); ``summary`` and ``quick`` take unknowns as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from ..errors import AnswerError
from ._plans import Detail, build_gated
from ._status import settle
from .expr import UNKNOWN

if TYPE_CHECKING:
    from .scoring import CompiledInstrument

__all__ = ["FastPath", "Quick", "Summary"]

MEMO_LIMIT = 65_536
_MISSING = object()
_ABSENT = object()  # the default of the packed look-up: an item not in the answers at all
WIDTH = 24  # bits per packed field: sums of up to 16 million points or unknowns
_MASK = (1 << WIDTH) - 1

# (final level index or None, status, score totals in instrument order (-1: a range), critical floor or None)
Summary = tuple[int | None, str, tuple[int, ...], int | None]
# The summary, then: complete, the top of the level range (or None), (min, max) per score.
Quick = tuple[Summary, bool, int | None, tuple[tuple[int, int], ...]]


def _getter(keys: tuple[str, ...]) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    if len(keys) == 1:
        key = keys[0]
        return lambda a: (a[key],)
    return itemgetter(*keys)


class FastPath:
    """Precomputed tables for one instrument; ``usable`` is False when it cannot apply."""

    def __init__(self, ci: CompiledInstrument) -> None:
        self.ci = ci
        inst = ci.instrument
        names = {name for _, cond, _ in ci.critical for name in cond.names}
        gates = {name for cond in ci.show_if.values() for name in cond.names}
        # A blocking requirement reads answers (group rows) the fast path never looks at.
        self.usable = all(n in ci.items for n in names | gates) and not any(req.blocking for req in inst.requirements)
        # Plain: no skip logic, critical rules read only choices and numbers; the
        # complete-only entries (``summarize``, ``complete``) and batch scoring need it.
        self.plain = (
            self.usable and not ci.show_if and all(ci.items[n].type in ("choice", "number") for n in names)
        )
        self.scores = tuple(
            (_getter(tuple(k for k, *_ in rows)), tuple(table for _, table, *_ in rows)) for _, rows in ci.scores
        )
        self.single = self.scores[0] if len(self.scores) == 1 else None
        self.crit_names = tuple(sorted(names))
        self.crit_getter = _getter(self.crit_names) if names else (lambda a: ())
        self.memo: dict[tuple[object, ...], int | None] = {}
        self.band_score = next((n for n, s in enumerate(inst.scores) if inst.bands and s.id == inst.bands.score), None)
        self.band_level: dict[int, int] = {}
        for low, high, level in ci.bands:
            for value in range(low, high + 1):
                self.band_level.setdefault(value, level)  # the first band that holds it, as _band
        policy = inst.judgement.policy
        self.policy_status = (
            "no_level"
            if policy == "none"
            else "judgement_required"
            if policy == "required" or inst.bands is None
            else "concluded"
        )
        # What the unknown-aware closures (here and in _plans) decide with, for their locals: the
        # band score's index, its level by total (else the top band's), the top band's level, no
        # level at all, a judgement always needed, the most unknowns a complete set may have.
        self.undecided: tuple[int | None, Callable[[int, int], int], int, bool, bool, int] = (
            self.band_score, self.band_level.get, ci.bands[-1][2] if ci.bands else 0,
            policy == "none", policy == "required" or inst.bands is None, inst.missing.max_unknown,
        )
        # Number items a critical rule reads: their values are checked on every call (a
        # memo key (1,) must not answer for (True,), which hashes the same).
        self.numbers = tuple(
            (n, ci.items[n].min or 0, ci.items[n].max or 0)
            for n in self.crit_names
            if n in ci.items and ci.items[n].type == "number"
        )
        self.summarize = self._specialised() or self._general
        # The same for callers that get no other check of the answers: ``None`` also
        # when the answers hold anything the tables do not read (``summary`` checks it).
        self.complete = self._specialised(strict=True) or self._no_quick
        self.crit_memo: dict[tuple[object, ...], tuple[int | None, int | None]] = {}
        self.quick: Callable[[Mapping[str, object]], Quick | None] = self._no_quick
        self.summary: Callable[[Mapping[str, object]], Summary | None] = self._no_quick
        self.read: frozenset[str] = frozenset()
        self.detail: Callable[[Mapping[str, object]], Detail | None] = self._no_quick  # see _plans
        if self.plain:
            self._build_interval()
            gated = build_gated(self, keep_read=True)  # only ``detail``: batch scoring's unknown answers
            if gated is not None:
                self.detail = gated[2]
        elif self.usable:
            built = build_gated(self)
            if built is None:
                self.usable = False
            else:
                self.quick, self.summary, self.detail = built

    # ------------------------------------------------------------- complete answers only

    def _specialised(self, strict: bool = False) -> Callable[[Mapping[str, object]], Summary | None] | None:
        """One closure for the common case (one banded score, no judgement needed).

        Everything it needs is a local of the closure, so the hot loop does no
        attribute lookups; this is what keeps batch scoring near a hand-written
        function (see bench/bench_scoring.py). ``strict``: also ``None`` unless the
        answers hold exactly the items read (the batch scorer checks the rest itself).
        """
        if (
            not self.plain
            or self.single is None
            or self.policy_status != "concluded"
            or self.band_score != 0
            or self.numbers
        ):
            return None
        get, tables = self.single
        crit_get, memo, band_level, miss = self.crit_getter, self.memo, self.band_level, self._miss
        getitem = dict.__getitem__
        n_read = len({key for _, rows in self.ci.scores for key, *_ in rows} | set(self.crit_names))

        def summarize(answers: Mapping[str, object]) -> Summary | None:
            if strict and len(answers) != n_read:
                return None
            try:
                total = sum(map(getitem, tables, get(answers)))  # type: ignore[arg-type]
                key = crit_get(answers)
            except (KeyError, TypeError):
                return None
            floor = memo.get(key, _MISSING)
            if floor is _MISSING:
                floor = miss(key)
                if floor is _MISSING:
                    return None
            level = band_level[total]
            if floor is not None and floor > level:  # type: ignore[operator]
                level = floor  # type: ignore[assignment]
            return level, "concluded", (total,), floor  # type: ignore[return-value]

        return summarize

    def _miss(self, key: tuple[object, ...]) -> object:
        """Memoise the critical floor for a new key; ``_MISSING`` if the values are not valid."""
        return self._critical(key) if self._valid(key) else _MISSING

    def _general(self, answers: Mapping[str, object]) -> Summary | None:
        """The summary of a complete answer set, or ``None`` when the slow path must decide."""
        if not self.plain:
            return None
        # An unknown answer needs no separate check: its value is in no point table
        # (KeyError) and is refused by _valid before a critical key is memoised.
        try:
            if self.single is not None:
                get, tables = self.single
                totals: tuple[int, ...] = (sum(map(dict.__getitem__, tables, get(answers))),)  # type: ignore[arg-type]
            else:
                totals = tuple(sum(map(dict.__getitem__, tables, get(answers))) for get, tables in self.scores)  # type: ignore[arg-type]
            key = self.crit_getter(answers)
        except (KeyError, TypeError):
            return None
        if self.numbers and not self._valid(key):  # a memo key (1,) must not answer for (True,)
            return None
        floor = self.memo.get(key, UNKNOWN)
        if floor is UNKNOWN:
            if not self._valid(key):
                return None
            floor = self._critical(key)
        if self.policy_status != "concluded":
            return None, self.policy_status, totals, floor  # type: ignore[return-value]
        assert self.band_score is not None
        level = self.band_level[totals[self.band_score]]
        if floor is not None and floor > level:  # type: ignore[operator]
            level = floor  # type: ignore[assignment]
        return level, "concluded", totals, floor  # type: ignore[return-value]

    def _valid(self, key: tuple[object, ...]) -> bool:
        """Values only the critical rules read are checked once, when first memoised."""
        for name, value in zip(self.crit_names, key, strict=True):
            item = self.ci.items[name]
            if item.type == "choice" and (not isinstance(value, str) or value not in self.ci.known[name]):
                return False
            if item.type == "number" and not (type(value) is int and (item.min or 0) <= value <= (item.max or 0)):
                return False
        return True

    def _critical(self, key: tuple[object, ...]) -> int | None:
        env = dict(zip(self.crit_names, key, strict=True))
        fired = [level for _, cond, level in self.ci.critical if cond.fn(env) is True]
        floor = max(fired) if fired else None
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = floor
        return floor

    # ------------------------------------------------------------- unknowns too

    @staticmethod
    def _no_quick(answers: Mapping[str, object]) -> None:
        return None

    def _build_interval(self) -> None:
        """Packed tables per score, and the closures ``quick`` and ``summary``.

        Each item read (scored, or read by a critical rule) gets a table from every
        value it may take — its known values, its unknown options and ``None`` (not
        given) — to ``low | high << WIDTH | unknown << 2*WIDTH``, where ``low`` and
        ``high`` are the points above the item's least. A value outside the table is
        a ``KeyError``: the slow path then says what is wrong.
        """
        ci = self.ci
        counted: set[str] = set()
        groups: list[tuple[tuple[str, ...], tuple[dict[object, int], ...], int]] = []
        spread = 0
        for _, rows in ci.scores:
            keys, tables, base = [], [], 0
            for key, table, least, most in rows:
                unknown = 0 if key in counted else 1 << 2 * WIDTH
                counted.add(key)
                packed: dict[object, int] = {v: (p - least) | (p - least) << WIDTH for v, p in table.items()}
                for v in (*ci.unknown_options[key], None):
                    packed[v] = (most - least) << WIDTH | unknown
                packed[_ABSENT] = packed[None] | 1 << 3 * WIDTH  # not in the answers at all: counted apart
                keys.append(key)
                tables.append(packed)
                base += least
                spread += most - least
            groups.append((tuple(keys), tuple(tables), base))
        # Choice items only a critical rule reads: checked and counted, no points.
        extra = [n for n in self.crit_names if ci.items[n].type == "choice" and n not in counted]
        extra_tables = tuple(
            {**{v: 0 for v in ci.known[n]}, **{v: 1 << 2 * WIDTH for v in (*ci.unknown_options[n], None)}}
            for n in extra
        )
        counted |= set(extra) | {n for n, _, _ in self.numbers}
        if counted != ci.counted or spread > _MASK or len(counted) > _MASK:
            return  # not what evaluate counts (cannot happen), or too wide to pack: the slow path decides
        self.read = frozenset(counted)
        self.interval_groups = tuple(groups)
        self._build_closures(tuple(extra), extra_tables)

    def _build_closures(  # noqa: C901 - the closures' locals, set up once
        self, extra: tuple[str, ...], extra_tables: tuple[dict[object, int], ...]
    ) -> None:
        groups = self.interval_groups
        read, n_read = self.read, len(self.read)
        crit_names, crit_memo, crit_miss = self.crit_names, self.crit_memo, self._crit_miss
        numbers, extras_ok = self.numbers, self._extras_ok
        band_index, band_get, top, no_level, needs_judgement, max_unknown = self.undecided
        getitem = dict.__getitem__
        single = len(groups) == 1 and not extra and not numbers
        keys0, tables0, base0 = groups[0] if groups else ((), (), 0)
        shift2, shift3 = 2 * WIDTH, 3 * WIDTH
        absent = repeat(_ABSENT)  # shared: map() never exhausts it

        def several(get: Callable[[str], object]) -> tuple[int, tuple[tuple[int, int], ...]] | None:
            """Unknowns and score ranges over several scores, crit-only items and numbers."""
            unknown = 0
            out = []
            for keys, tables, base in groups:
                packed = sum(map(getitem, tables, map(get, keys)))
                unknown += packed >> shift2
                out.append(((packed & _MASK) + base, ((packed >> WIDTH) & _MASK) + base))
            if extra:
                unknown += sum(map(getitem, extra_tables, map(get, extra))) >> shift2
            for name, low, high in numbers:
                v = get(name)
                if v is None:
                    unknown += 1
                elif type(v) is not int or not low <= v <= high:
                    return None
            return unknown, tuple(out)

        def make(full: bool) -> Callable[[Mapping[str, object]], Quick | Summary | None]:
            """``quick`` (``full``: with completeness, range top and score ranges) or ``summary``."""

            # One function, inlined, because it runs once per answer set in batch runs.
            def quick(answers: Mapping[str, object]) -> Quick | Summary | None:
                get = answers.get
                ranges: tuple[tuple[int, int], ...]
                try:
                    if single:
                        packed = sum(map(getitem, tables0, map(get, keys0, absent)))
                        unknown = (packed >> shift2) & _MASK
                        slo, shi = (packed & _MASK) + base0, ((packed >> WIDTH) & _MASK) + base0
                        ranges = ((slo, shi),)
                    else:
                        got = several(get)
                        if got is None:
                            return None
                        unknown, ranges = got
                    key = tuple(map(get, crit_names))
                except (KeyError, TypeError):
                    return None
                # Every item read was found valid; anything else in the answers must fit too.
                if single:
                    # The answers hold n_read items less those absent, unless they hold others.
                    if len(answers) != n_read - (packed >> shift3) and not extras_ok(answers):
                        return None
                elif unknown:
                    if not answers.keys() <= read and not extras_ok(answers):
                        return None
                elif len(answers) != n_read and not extras_ok(answers):
                    return None
                crit = crit_memo.get(key)
                if crit is None:
                    crit = crit_miss(key)
                floor, possible = crit
                if band_index is not None:
                    if not single:
                        slo, shi = ranges[band_index]
                    clo, chi = band_get(slo, top), band_get(shi, top)
                elif floor is None and possible is None:
                    clo = chi = -1
                else:
                    clo = chi = 0
                complete = unknown <= max_unknown
                _, hi, status, final = settle(clo, chi, floor, possible, no_level, needs_judgement, complete)
                if single:
                    totals: tuple[int, ...] = (slo if slo == shi else -1,)
                else:
                    totals = tuple([a if a == b else -1 for a, b in ranges])
                if full:
                    return (final, status, totals, floor), complete, hi, ranges
                return final, status, totals, floor

            return quick

        self.quick = make(True)  # type: ignore[assignment]
        self.summary = make(False)  # type: ignore[assignment]

    def _crit_miss(self, key: tuple[object, ...]) -> tuple[int | None, int | None]:
        """Critical floor and the highest possibly-met rule, for answers already checked."""
        ci = self.ci
        env: dict[str, object] = {}
        for name, value in zip(self.crit_names, key, strict=True):
            unknown = value is None or (value.__class__ is str and value in ci.unknown_options.get(name, ()))
            env[name] = UNKNOWN if unknown else value
        fired: list[int] = []
        possible: list[int] = []
        for _, cond, level in ci.critical:
            state = cond.fn(env)
            if state is True:
                fired.append(level)
            elif state is UNKNOWN:
                possible.append(level)
        crit = (max(fired) if fired else None, max(possible) if possible else None)
        if len(self.crit_memo) >= MEMO_LIMIT:
            self.crit_memo.clear()
        self.crit_memo[key] = crit
        return crit

    def _extras_ok(self, answers: Mapping[str, object]) -> bool:
        """Whether the answers the fast path does not read fit (else the slow path says why)."""
        items = self.ci.items
        for key in answers.keys() - self.read:
            item = items.get(key) if key.__class__ is str else None
            if item is None:
                return False
            value = answers[key]
            if value is None:
                continue
            try:
                self.ci.check_answers({key: value})
            except AnswerError:
                return False
        return True
