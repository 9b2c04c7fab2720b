"""Dates as they are typed in the interview: exact or approximate, never in the future, inside the item's window.

May import: instrument, _functions, _texts / stdlib.

The engine reads no clock, so a stored date is re-scored the same on any day; the
window ("the past year") and "not in the future" are relative to the day of the
interview, so they are checked here, where the date is typed, and said in the
session's language with the dates that fit.
"""

from __future__ import annotations

import datetime as dt

from ..engine._functions import date_interval
from ..engine.instrument import Item
from ._texts import say

__all__ = ["check_date", "date_hint", "today"]


def today() -> dt.date:
    """The interview's day, in local time (the caseworker's calendar, not UTC)."""
    return dt.date.today()


def window(item: Item, day: dt.date) -> tuple[dt.date | None, dt.date]:
    """The first (``None``: any) and last day a date answer to ``item`` may fall on."""
    first = day - dt.timedelta(days=item.window_days) if item.window_days is not None else None
    return first, day


def date_hint(item: Item, lang: str, day: dt.date | None = None) -> str:
    """What a date answer looks like, with the window when the item has one."""
    first, last = window(item, day or today())
    if first is None:
        return say("date_hint", lang)
    return say("date_hint_window", lang, first=first.isoformat(), last=last.isoformat())


def check_date(item: Item, entry: str, lang: str, day: dt.date | None = None) -> tuple[str | None, str]:
    """``(value, "")`` for a date that fits, else ``(None, why)`` in ``lang``.

    An approximate date (``YYYY-MM``, ``YYYY``) fits when part of it lies in the
    window: the calendar functions read it as the interval it is.
    """
    span = date_interval(entry)
    if span is None:
        return None, say("bad_answer", lang, hint=date_hint(item, lang, day))
    first, last = window(item, day or today())
    start, end = span
    if start > last:
        return None, say("date_future", lang, last=last.isoformat())
    if first is not None and end < first:
        return None, say("date_before_window", lang, first=first.isoformat(), last=last.isoformat())
    return entry, ""
