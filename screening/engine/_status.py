"""The level range and the status without a judgement: one copy, for ``decide`` and both fast paths.

May import: result (types only) / stdlib.

When too many unknown answers forbid concluding a *low* level is a safety rule;
``decide``, the fast path (``_fast``) and the skip-logic fast path (``_plans``)
all need it, and two copies of a safety rule can drift. The fast paths call
these per answer set; the call costs less than the measurement noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import Status

__all__ = ["level_bounds", "undecided_status"]


def level_bounds(clo: int, chi: int, floor: int | None, possible: int | None) -> tuple[int | None, int | None]:
    """(lowest, highest) level: the bands' range raised by a fired critical rule (``floor``) and
    widened by one that an unknown answer could fire (``possible``); ``clo < 0``: no level."""
    if clo < 0:
        return None, None
    lo = clo if floor is None or floor < clo else floor
    hi = max(chi, lo)
    if possible is not None and possible > hi:
        hi = possible
    return lo, hi


def undecided_status(no_level: bool, needs_judgement: bool, lo: int | None, hi: int | None,
                     complete: bool) -> tuple[Status, int | None]:
    """The status and level without a judgement: the one place that says when a level may be concluded.

    With too many unknowns a *low* level is never concluded; a level the unknowns
    cannot move, above the lowest, still stands (``complete`` false).
    """
    if no_level:
        return "no_level", None
    if needs_judgement or lo is None:
        return "judgement_required", None
    if not complete and not (lo == hi and lo > 0):
        return "incomplete", None
    if lo == hi:
        return "concluded", lo
    return "indeterminate", None
