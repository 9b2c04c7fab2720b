"""The memo key of the referral fast path: everything a rule set's outcome reads.

May import: nothing of screening at run time (``Summary`` for types only) / stdlib.
Used by ``CompiledRuleSet.memo_for`` and ``fast_for`` in batch re-scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine._fast import Summary

__all__ = ["KeyMaker", "key_maker", "no_hit"]

KeyMaker = Callable[["Summary", Mapping[str, object], Mapping[str, object]], tuple[object, ...]]


def no_hit(answers: Mapping[str, object], facts: Mapping[str, object]) -> None:
    return None


def key_maker(names: tuple[str, ...], scores: tuple[int, ...], facts: tuple[str, ...]) -> KeyMaker:
    """The memo key of a complete answer set: everything the referral outcome reads.

    For a complete answer set the status follows from the instrument's policy, and
    the level the rules see from the final level and the critical floor; add the
    score totals, answers and case facts the rules read. Specialised for the
    common shapes because this runs once per assessment in batch re-scoring.
    """
    if not names and len(scores) <= 1 and len(facts) <= 1:
        score = scores[0] if scores else None
        fact = facts[0] if facts else None
        return lambda summary, answers, given: (
            summary[0],
            summary[3],
            None if score is None else summary[2][score],
            None if fact is None else given.get(fact),
        )

    def make_key(summary: Summary, answers: Mapping[str, object], given: Mapping[str, object]) -> tuple[object, ...]:
        totals = summary[2]
        # Concatenating tuples built by map is faster here than star-unpacking.
        return (
            (summary[0], summary[3])  # noqa: RUF005
            + tuple(map(totals.__getitem__, scores))
            + tuple(map(answers.get, names))
            + tuple(map(given.get, facts))
        )

    return make_key
