"""The case file's answers, grouped by section: what each answer shows, or why it does not.

May import: instrument, scoring, result, _context (types) / stdlib.

Unknown answers say "unknown, not counted as no"; skipped items say they did not
apply; protected items (addresses, contact details) are masked when the person
has protected personal data, in group rows too. Split from ``_context``
to keep each module small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.instrument import Item, Option
from ..engine.result import AnswerValue, Result
from ..engine.scoring import CompiledInstrument

if TYPE_CHECKING:
    from ._context import Words

__all__ = ["option_label", "protected_ids", "sections"]


def protected_ids(ci: CompiledInstrument) -> frozenset[str]:
    ids = {key for key, item in ci.items.items() if item.protected}
    ids |= {f"{key}.{f.id}" for key, item in ci.items.items() for f in item.fields or () if f.protected}
    return frozenset(ids)


def sections(r: Result, ci: CompiledInstrument, w: Words, hidden: frozenset[str]) -> list[dict[str, Any]]:
    skipped = set(r.completeness.skipped_items)
    number = 0
    sections = []
    for section in ci.instrument.sections:
        items = []
        for item in section.items:
            number += 1
            items.append(_answer_row(item, number, r.answers.get(item.id), item.id in skipped, ci, w, hidden))
        sections.append({"id": section.id, "title": w.text(section.title), "questions": items})
    stray = sorted(set(r.answers) - set(ci.items))
    if stray:  # only after the instrument changed under a saved result (see notices)
        sections.append({
            "id": "other", "title": w("other_answers"),
            "questions": [_stray_row(key, r.answers[key], w) for key in stray],
        })
    return sections


def _answer_row(
    item: Item, number: int, value: AnswerValue, skipped: bool, ci: CompiledInstrument, w: Words,
    hidden: frozenset[str],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": item.id, "number": number, "text": w.text(item.text), "type": item.type,
        "state": "answered", "answer": "", "columns": [], "rows": [],
    }
    if item.id in hidden:
        row.update(state="protected", answer=w("state_protected"))
    elif skipped:
        row.update(state="skipped", answer=w("state_skipped"))
    elif value is None:
        # Only choice and number answers count; "not counted as no" would confuse elsewhere.
        counted = item.type in ("choice", "number")
        row.update(state="unknown", answer=w("state_unanswered" if counted else "state_empty"))
    elif item.type == "group" and isinstance(value, list):
        fields = item.fields or []
        row["columns"] = [w.text(f.text) for f in fields]
        row["rows"] = [
            [
                w("state_protected") if f"{item.id}.{f.id}" in hidden
                else w("not_given") if rec.get(f.id) is None
                else _value(f, rec.get(f.id), ci, w)
                for f in fields
            ]
            for rec in value
        ]
        row["answer"] = "" if value else w("state_no_rows")
    elif item.type == "choice" and isinstance(value, str) and value in ci.unknown_options.get(item.id, ()):
        row.update(state="unknown", answer=w("state_unknown", label=option_label(ci, item.id, value, w)))
    else:
        row["answer"] = _value(item, value, ci, w)
    return row


def _stray_row(key: str, value: AnswerValue, w: Words) -> dict[str, Any]:
    shown = value if isinstance(value, str | int) else ""
    return {"id": key, "number": 0, "text": key, "type": "text", "state": "answered", "answer": str(shown),
            "columns": [], "rows": []}


def _value(item: Item, value: object, ci: CompiledInstrument, w: Words) -> str:
    if value is None:
        return w("state_unanswered")
    if item.type == "choice" and isinstance(value, str):
        for opt in _options(ci, item.scale):
            if opt.value == value:
                label = w.text(opt.label)
                return w("state_unknown", label=label) if opt.unknown else label
        return value
    return str(value)


def _options(ci: CompiledInstrument, scale: str | None) -> list[Option]:
    found = ci.instrument.scales.get(scale or "")
    return found.options if found is not None else []


def option_label(ci: CompiledInstrument, item_id: str, value: str, w: Words) -> str:
    item = ci.items.get(item_id)
    for opt in _options(ci, item.scale if item is not None else None):
        if opt.value == value:
            return w.text(opt.label)
    return value
