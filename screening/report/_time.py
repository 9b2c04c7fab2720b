"""Times in reports: shown in the reader's zone, and when a report is made.

May import: nothing but the stdlib. The engine and the store keep UTC; only what a
person reads converts.
"""

from __future__ import annotations

import datetime as dt
import os

__all__ = ["date_of", "display_time", "print_time"]


def display_time(text: str, zone: dt.tzinfo | None = None) -> str:
    """An ISO time in the reader's local time with its zone: ``2026-12-06T08:41:00+00:00`` → ``2026-12-06 09:41 CET``.

    The engine and the store keep UTC; only the report converts. ``zone`` is the
    settings' time zone, else the system's (which knows summer time: CEST in July).
    A date stays a date; a time without offset is shown as given; anything else unchanged.
    """
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 10:
        return moment.date().isoformat()
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    name = local.tzname() or ""
    if not name or name[0] in "+-" or (name.startswith("UTC") and name != "UTC"):
        offset = local.strftime("%z")
        name = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{local.strftime('%Y-%m-%d %H:%M')} {name}".rstrip()


def date_of(text: str | None, zone: dt.tzinfo | None = None) -> dt.date | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None and len(text) > 10:
        moment = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return moment.date()


def print_time() -> dt.datetime:
    """When the report is made (UTC): now, or ``$SOURCE_DATE_EPOCH`` for reproducible reports and tests."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC)
