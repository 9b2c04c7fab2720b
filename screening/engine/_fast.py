"""The fast path for scoring complete answer sets: what batch re-scoring runs a million times.

May import: expr, scoring / stdlib.

Most stored assessments are complete, have no skip logic in play and need only
the level, not the trace. For those, scores are summed by C-level ``map`` over
point tables, and the critical rules are memoised on the tuple of the answers
they read (a pure function of few inputs has few distinct keys). Anything else —
an unknown answer, a missing key, a value outside the tables, skip logic — falls
back to ``CompiledInstrument.evaluate`` + ``decide``, so the two paths always
agree; ``tests/test_fast.py`` checks that they do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING

from .expr import UNKNOWN

if TYPE_CHECKING:
    from .scoring import CompiledInstrument

__all__ = ["FastPath", "Summary"]

MEMO_LIMIT = 65_536
_MISSING = object()

# (final level index or None, status, score totals in instrument order, critical floor or None)
Summary = tuple[int | None, str, tuple[int, ...], int | None]


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
        # A blocking requirement reads answers (group rows) the fast path never looks at.
        self.usable = (
            not ci.show_if
            and all(n in ci.items and ci.items[n].type in ("choice", "number") for n in names)
            and not any(req.blocking for req in inst.requirements)
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
                self.band_level[value] = level
        policy = inst.judgement.policy
        self.policy_status = (
            "no_level"
            if policy == "none"
            else "judgement_required"
            if policy == "required" or inst.bands is None
            else "concluded"
        )

        self.summarize = self._specialised() or self._general

    def _specialised(self) -> Callable[[Mapping[str, object]], Summary | None] | None:
        """One closure for the common case (one banded score, no judgement needed).

        Everything it needs is a local of the closure, so the hot loop does no
        attribute lookups; this is what keeps batch scoring near a hand-written
        function (see bench/bench_scoring.py).
        """
        if not self.usable or self.single is None or self.policy_status != "concluded" or self.band_score != 0:
            return None
        get, tables = self.single
        crit_get, memo, band_level, miss = self.crit_getter, self.memo, self.band_level, self._miss
        getitem = dict.__getitem__

        def summarize(answers: Mapping[str, object]) -> Summary | None:
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
        if not self.usable:
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
