"""Repeating groups in the interview: rows added, reviewed, changed and deleted, each change committed.

May import: instrument, _signals, _texts / stdlib (``_run`` for types only).

A group (incidents in a calendar, perpetrators, …) is committed after every
complete row and every change to a row, and marked *partial* until the
caseworker ends it, so a crash loses at most the row being typed and a resume
continues adding rows. Inside a row ``<`` goes back one field; at the first
field of a row with something typed it asks before the row is dropped, never
silently ("save and quit" asks too; the hide key never asks: hiding is
immediate). ``#N`` where a new row starts opens row N to change or delete it;
the group question (reached from the summary by its number) lists every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.instrument import Item
from ._signals import KEEP as _KEEP
from ._signals import MOVED as _MOVED
from ._signals import NONE as _NONE
from ._texts import BACK, COMMANDS, ENTER, HIDE, QUIT

if TYPE_CHECKING:
    from ._run import _Flow

__all__ = ["ROW_KEY", "ask_group", "change_row", "describe_row"]

ROW_KEY = "#"
"""``#2`` where a new row starts opens row 2; not a letter or digit, so never a field's answer key."""


def ask_group(flow: _Flow, item: Item) -> None:
    """Show the rows so far, add, change or delete rows, and finish the group; commands work at every field."""

    s = flow.s
    stored = s.answers.get(item.id)
    rows: list[dict[str, object]] = list(stored) if isinstance(stored, list) else []
    answered = item.id in s.answers and item.id not in s.partial
    _show_rows(flow, item, rows)
    if answered:
        flow.p.show(flow.say("current", answer=flow.describe(item, stored)))
    changed = False
    while True:
        if len(rows) >= item.max_rows:
            flow.p.show(flow.say("group_full"))
            got = _read_when_full(flow, item, rows)
        else:
            flow.p.show(flow.say("new_row", n=len(rows) + 1) if rows else flow.say("first_row"))
            got = _read_row(flow, item, rows, allow_group_skip=not rows)
        if got is _MOVED:
            return
        if isinstance(got, _Pick):
            result = _open_row(flow, item, rows, got.n)
            if result is _MOVED:
                return
            if isinstance(result, list):
                rows, changed = result, True
                _show_rows(flow, item, rows)
            continue
        if got is _DROPPED:
            continue
        if got is _NONE:  # an empty first field: no more rows
            if answered and not changed:  # came back and changed nothing: keep it (an unknown stays unknown)
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
        changed = True
        flow.p.show(flow.say("row_saved", n=len(rows)))
    while not flow.commit(item, rows):
        if _retry_or_command(flow, item):
            return
    flow.p.show(flow.say("saved", answer=flow.describe(item, rows)))
    s.advance()


def change_row(flow: _Flow, item: Item, number: str) -> bool:
    """From the summary: change or delete row ``number`` of a finished group, which stays finished.

    ``True`` when something was shown or changed (the summary is shown again).
    """
    stored = flow.s.answers.get(item.id)
    rows: list[dict[str, object]] = list(stored) if isinstance(stored, list) else []
    n = int(number) if number.isascii() and number.isdigit() else 0
    if not 1 <= n <= len(rows):
        flow.p.show(flow.say("no_such_row", n=len(rows)) if rows else flow.say("no_such_number"))
        return False
    _open_row(flow, item, rows, n, partial=item.id in flow.s.partial)
    return True


def describe_row(flow: _Flow, item: Item, row: dict[str, object]) -> str:
    parts = []
    for field in item.fields or ():
        if field.id in row:
            parts.append(f"{flow.text(field.text.get(flow.lang))}: {flow.describe(field, row[field.id])}")
    return "; ".join(parts)


def _show_rows(flow: _Flow, item: Item, rows: list[dict[str, object]]) -> None:
    for n, done in enumerate(rows, 1):
        flow.p.show(flow.say("row", n=n, fields=describe_row(flow, item, done)))
    if rows:
        flow.p.show(flow.say("rows_hint"))


def _read_row(flow: _Flow, group: Item, rows: list[dict[str, object]], *, allow_group_skip: bool) -> object:
    """One new row as a dict; ``_NONE`` when the first field was left empty; ``None`` to skip the group.

    Also ``_Pick`` (``#N`` typed where the row starts), ``_DROPPED`` (the row was
    dropped after asking) or ``_MOVED`` (a command moved the cursor).
    """

    fields = group.fields or []
    row: dict[str, object] = {}
    n = 0
    while n < len(fields):
        field = fields[n]
        flow.p.show(flow.text(field.text.get(flow.lang)))
        first = n == 0

        def intercept(entry: str, first: bool = first) -> object:
            if entry == QUIT and row and not _confirm(flow, "quit_row"):
                return _STAY  # "save and quit" would lose the typed fields: asked first
            if entry == BACK:
                if not first:
                    return _BACK_FIELD
                return _LEAVE if row else _NONE  # nothing typed in this row: the previous question
            if first and rows and not row and entry.startswith(ROW_KEY):
                return _pick(flow, entry, rows)
            return _NONE

        value = flow.read_value(
            field,
            row.get(field.id, _NONE),
            on_empty=_END if first and not row else _NONE,
            on_skip=_SKIP_GROUP if first and allow_group_skip and not row else _NONE,
            intercept=intercept,
        )
        if value is _MOVED or isinstance(value, _Pick):
            return value
        if value is _END:
            return _NONE
        if value is _SKIP_GROUP:
            return None
        if value is _STAY:
            continue
        if value is _BACK_FIELD:
            n -= 1
            continue
        if value is _LEAVE:
            if not _confirm(flow, "drop_row"):
                continue
            if flow.command(BACK, group):
                return _MOVED
            flow.p.show(flow.say("row_dropped"))  # at the first question: the row goes, the group stays
            return _DROPPED
        if value is not _KEEP:
            row[field.id] = value
        n += 1
    return row


def _read_when_full(flow: _Flow, item: Item, rows: list[dict[str, object]]) -> object:
    """At the most rows: Enter ends the group, ``#N`` opens a row, a command is obeyed."""

    while True:
        entry = flow.p.read_line(flow.say("full_prompt")).strip()
        if entry in ("", ENTER, "\n"):
            return _NONE
        if entry.startswith(ROW_KEY):
            return _pick(flow, entry, rows)
        if entry == HIDE or entry in COMMANDS:
            if flow.command(entry, item):
                return _MOVED
            continue
        flow.p.show(flow.say("no_such_row", n=len(rows)))


def _pick(flow: _Flow, entry: str, rows: list[dict[str, object]]) -> _Pick:
    """``#N`` (or ``#`` then N) as a row number; ``_Pick(0)`` after saying which rows there are."""
    number = entry[len(ROW_KEY) :].strip()
    if not number:  # a key press on a choice field: ask for the number
        number = flow.p.read_line(flow.say("which_row")).strip()
    if number.isascii() and number.isdigit() and 1 <= int(number) <= len(rows):
        return _Pick(int(number))
    flow.p.show(flow.say("no_such_row", n=len(rows)))
    return _Pick(0)


def _open_row(flow: _Flow, item: Item, rows: list[dict[str, object]], n: int, *, partial: bool = True) -> object:
    """Change or delete row ``n``; the new rows once committed, ``None`` if nothing changed, or ``_MOVED``.

    ``partial``: commit the group as still being answered (from the group question) or not (from the summary).
    """

    if not 1 <= n <= len(rows):
        return None
    flow.p.show(flow.say("row", n=n, fields=describe_row(flow, item, rows[n - 1])))
    flow.p.show(flow.say("row_actions"))
    while True:
        key = flow.p.read_key("> ")
        if key in (ENTER, "\n", BACK):
            return None
        if key == "1":
            edited = _edit_row(flow, item, rows[n - 1])
            if edited is _MOVED or edited is None:
                return edited
            assert isinstance(edited, dict)
            new, done = [*rows[: n - 1], edited, *rows[n:]], "row_changed"
        elif key == "2":
            if not _confirm(flow, "delete_row", n=n):
                return None
            new, done = [*rows[: n - 1], *rows[n:]], "row_deleted"
        elif key == HIDE or key in COMMANDS:
            if flow.command(key, item):
                return _MOVED
            continue
        else:
            flow.p.show(flow.say("press_key"))
            continue
        if not _commit_row(flow, item, new, partial=partial):
            return _MOVED
        flow.p.show(flow.say(done, n=n))
        return new


def _edit_row(flow: _Flow, item: Item, row: dict[str, object]) -> object:
    """Every field again with its value (Enter keeps it, ``-`` makes it unknown, ``<`` goes back a field).

    Returns the changed row, ``None`` when the change was abandoned, or ``_MOVED``.
    """

    fields = item.fields or []
    values = dict(row)
    n = 0
    while n < len(fields):
        field = fields[n]
        flow.p.show(flow.text(field.text.get(flow.lang)))
        value = flow.read_value(
            field,
            values.get(field.id, _NONE),
            on_empty=_KEEP,  # an unknown field stays unknown
            on_skip=_CLEAR,
            intercept=lambda entry: _edit_intercept(flow, entry, changed=values != row),
        )
        if value is _MOVED:
            return _MOVED
        if value is _STAY:
            continue
        if value is _BACK_FIELD:
            if n == 0:
                if values == row or _confirm(flow, "drop_changes"):
                    return None
                continue
            n -= 1
            continue
        if value is _CLEAR:
            values.pop(field.id, None)
        elif value is not _KEEP:
            values[field.id] = value
        n += 1
    return values


def _edit_intercept(flow: _Flow, entry: str, *, changed: bool) -> object:
    """While a row is changed: ``<`` goes back a field; "save and quit" asks first if changes would be lost."""

    if entry == BACK:
        return _BACK_FIELD
    if entry == QUIT and changed and not _confirm(flow, "quit_changes"):
        return _STAY
    return _NONE


def _confirm(flow: _Flow, key: str, **params: object) -> bool:
    """A yes/no question in the session's language; commands (hide, quit) are obeyed."""
    yes, no = flow.say("yes_key"), flow.say("no_key")
    flow.p.show(flow.say(key, **params) + flow.say("yes_no"))
    while True:
        answer = flow.p.read_key("> ").lower()
        if answer == yes:
            return True
        if answer in (no, BACK):
            return False
        if answer == HIDE or answer in COMMANDS:
            flow.command(answer, None)
            continue
        flow.p.show(flow.say("press_key"))


def _commit_row(flow: _Flow, item: Item, rows: list[dict[str, object]], *, partial: bool = True) -> bool:
    """Commit the rows (by default as a partial answer); retry on failure. ``False`` if a command moved on."""
    while not flow.commit(item, rows, partial=partial):
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


class _Pick:
    """Row ``n`` chosen with ``#n`` (0: no such row, already said)."""

    def __init__(self, n: int) -> None:
        self.n = n


_END = _Marker("END")
_SKIP_GROUP = _Marker("SKIP_GROUP")
_BACK_FIELD = _Marker("BACK_FIELD")
_LEAVE = _Marker("LEAVE")
_DROPPED = _Marker("DROPPED")
_CLEAR = _Marker("CLEAR")
_STAY = _Marker("STAY")
