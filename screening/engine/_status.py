"""The level range and the status without a judgement: one copy, for ``decide`` and both fast paths.

May import: result (types only) / stdlib.

When too many unknown answers forbid concluding a *low* level is a safety rule;
``decide``, the fast path (``_fast``) and the skip-logic fast path (``_plans``)
all need it, and two copies of a safety rule can drift. The fast paths call
it per answer set, once (one call for range and status together).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import Status

__all__ = ["settle"]


def settle(
    clo: int, chi: int, floor: int | None, possible: int | None, no_level: bool, needs_judgement: bool, complete: bool
) -> tuple[int | None, int | None, Status, int | None]:
    """The level range, status and level without a judgement: the one place that says when a level may be concluded.

    ``clo``–``chi``: the bands' levels (``clo < 0``: no level at all; ``0, 0`` when a
    critical rule alone gives one). The range is raised by a fired critical rule
    (``floor``) and widened by one an unknown answer could fire (``possible``). With
    too many unknowns a *low* level is never concluded; a level the unknowns cannot
    move, above the lowest, still stands (``complete`` false). Returns
    ``(lo, hi, status, final)``; one call, since the fast paths make it per answer set.
    """
    if clo < 0:
        lo = hi = None
    else:
        lo = clo if floor is None or floor < clo else floor
        hi = max(lo, chi)
        if possible is not None and possible > hi:
            hi = possible
    if no_level:
        return lo, hi, "no_level", None
    if needs_judgement or lo is None:
        return lo, hi, "judgement_required", None
    if not complete and not (lo == hi and lo > 0):
        return lo, hi, "incomplete", None
    if lo == hi:
        return lo, hi, "concluded", lo
    return lo, hi, "indeterminate", None
