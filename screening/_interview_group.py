"""Repeating groups in the interview: add rows until an empty answer, each row committed.

May import: instrument, interview, _interview_texts / stdlib.

A group (incidents in a calendar, perpetrators, …) is committed after every
complete row and marked *partial* until the caseworker ends it, so a crash
loses at most the row being typed and a resume continues adding rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._interview_texts import COMMANDS, HIDE
from .instrument import Item

if TYPE_CHECKING:
    from .interview import _Flow

__all__ = ["ask_group"]


def ask_group(flow: _Flow, item: Item) -> None:
    """Show the rows so far, add rows, and finish the group; commands work at every field."""
    from .interview import _MOVED, _NONE

    s = flow.s
    stored = s.answers.get(item.id)
    rows: list[dict[str, object]] = list(stored) if isinstance(stored, list) else []
    answered = item.id in s.answers and item.id not in s.partial
    for n, done in enumerate(rows, 1):
        flow.p.show(flow.say("row", n=n, fields=describe_row(flow, item, done)))
    if answered:
        flow.p.show(flow.say("current", answer=flow.describe(item, stored)))
    added = False
    while len(rows) < item.max_rows:
        flow.p.show(flow.say("new_row", n=len(rows) + 1) if rows else flow.say("first_row"))
        got = _read_row(flow, item, allow_group_skip=not rows)
        if got is _MOVED:
            return
        if got is _NONE:  # an empty first field: no more rows
            if answered and not added:  # came back and changed nothing: keep it (an unknown stays unknown)
                s.advance()
                return
            break
        if got is None:  # skipped before any row: the whole group is unknown
            if flow.commit(item, None):
                flow.p.show(flow.say("saved", answer=flow.describe(item, None)))
                s.advance()
            return
        assert isinstance(got, dict)
        if not _commit_row(flow, item, [*rows, got]):
            return
        rows.append(got)
        added = True
        flow.p.show(flow.say("row_saved", n=len(rows)))
    else:
        flow.p.show(flow.say("group_full"))
    while not flow.commit(item, rows):
        if _retry_or_command(flow, item):
            return
    flow.p.show(flow.say("saved", answer=flow.describe(item, rows)))
    s.advance()


def describe_row(flow: _Flow, item: Item, row: dict[str, object]) -> str:
    parts = []
    for field in item.fields or ():
        if field.id in row:
            parts.append(f"{flow.text(field.text.get(flow.lang))}: {flow.describe(field, row[field.id])}")
    return "; ".join(parts)


def _read_row(flow: _Flow, group: Item, *, allow_group_skip: bool) -> object:
    """One row as a dict; ``_NONE`` when the first field was left empty; ``None`` to skip the group."""
    from .interview import _MOVED, _NONE

    row: dict[str, object] = {}
    for n, field in enumerate(group.fields or ()):
        flow.p.show(flow.text(field.text.get(flow.lang)))
        first = n == 0
        value = flow.read_value(
            field,
            _NONE,
            on_empty=_END if first else _NONE,
            on_skip=_SKIP_GROUP if first and allow_group_skip else _NONE,
        )
        if value is _MOVED:
            return _MOVED
        if value is _END:
            return _NONE
        if value is _SKIP_GROUP:
            return None
        row[field.id] = value
    return row


def _commit_row(flow: _Flow, item: Item, rows: list[dict[str, object]]) -> bool:
    """Commit the rows so far as a partial answer; retry on failure. ``False`` if a command moved on."""
    while not flow.commit(item, rows, partial=True):
        if _retry_or_command(flow, item):
            return False
    return True


def _retry_or_command(flow: _Flow, item: Item) -> bool:
    """After a failed save: Enter (or any key) retries; a command is obeyed. ``True`` if it moved."""
    while True:
        key = flow.p.read_key("> ")
        if key == HIDE or key in COMMANDS:
            if flow.command(key, item):
                return True
            continue
        return False


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_END = _Marker("END")
_SKIP_GROUP = _Marker("SKIP_GROUP")
