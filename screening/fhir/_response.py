"""Answers as a FHIR R4 ``QuestionnaireResponse``, and a response read back into the answers ``assess`` takes.

May import: engine, referral (types), errors, the package's ``_names`` and ``_facts`` / stdlib.

Reading is strict in what it accepts and silent about what was given: a response
for another instrument or version, an unknown linkId, a value of the wrong type, two
answers to one question, or input nested or sized far beyond any real response is an
``AnswerError`` naming the item and what it takes, never the answer (it may be a name
or an identity number). Section groups may be kept or left out by the sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ..engine import expr
from ..errors import AnswerError
from ._facts import facts_items
from ._names import (
    ABSENT,
    FACTS_GROUP,
    NO_ROWS,
    SECTION_PREFIX,
    absent,
    answer_system,
    canonical,
    check_response,
    code_of,
    coding,
    has_extension,
    items_of,
    link_of,
    one_answer,
    plausible,
    shown,
)

if TYPE_CHECKING:
    from ..engine.instrument import Item
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet

__all__ = ["answers_from_response", "questionnaire_response"]

_VALUE_KEY: Final = {"choice": "valueCoding", "number": "valueInteger", "date": "valueDate", "text": "valueString"}


def questionnaire_response(
    ci: CompiledInstrument,
    answers: Mapping[str, object],
    *,
    lang: str = "sv",
    rules: CompiledRuleSet | None = None,
    facts: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Answers (and case facts) as a FHIR R4 ``QuestionnaireResponse`` that reads back unchanged.

    An item present with ``None`` (asked, not known) is kept as an item without an
    answer and ``data-absent-reason: asked-unknown``; items not in ``answers`` are left
    out. Case facts need the rule set that declares them.

    Raises:
        AnswerError: an answer or a fact does not fit (as ``assess`` would say).
    """
    clean = ci.check_answers(answers)
    sections: list[object] = []
    if facts:
        if rules is None:
            raise AnswerError("facts", "case facts need the rule set that declares them")
        sections.append({"linkId": FACTS_GROUP, "item": facts_items(rules, facts, lang)})
    for section in ci.instrument.sections:
        items: list[object] = []
        for item in section.items:
            if item.id in clean:
                items.extend(_answered(ci, item, clean[item.id], lang, item.id))
            elif item.id in answers:
                items.append(absent(item.id))
        if items:
            sections.append({"linkId": f"{SECTION_PREFIX}{section.id}", "text": section.title.get(lang), "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "language": "en" if lang == "en" else "sv",
        "questionnaire": canonical(ci),
        "status": "completed",
        "item": sections,
    }


def _answered(ci: CompiledInstrument, item: Item, value: object, lang: str, link: str) -> list[object]:
    if isinstance(value, list):
        if not value:
            return [{"linkId": link, "extension": [{"url": NO_ROWS, "valueBoolean": True}]}]
        rows: list[object] = []
        for row in value:
            fields = [
                a for f in item.fields or () if f.id in row for a in _answered(ci, f, row[f.id], lang, f"{link}.{f.id}")
            ]
            rows.append({"linkId": link, "item": fields} if fields else {"linkId": link})
        return rows
    out: dict[str, object] = {"linkId": link, "text": item.text.get(lang)}
    if item.type == "choice":
        opt = next(o for o in ci.instrument.scales[item.scale or ""].options if o.value == value)
        out["answer"] = [{"valueCoding": coding(ci, opt, lang)}]
    else:
        out["answer"] = [{_VALUE_KEY[item.type]: value}]
    return [out]


def answers_from_response(ci: CompiledInstrument, response: Mapping[str, object]) -> dict[str, object]:
    """The answer set ``assess`` takes, read from a ``QuestionnaireResponse`` to this instrument version.

    An item without an answer is ``None`` (unknown, never "no"); a choice is its code,
    a number an int, a date its ``YYYY[-MM[-DD]]`` text, a repeating group a list of
    rows (an empty list when marked ``no-rows``). The ``case-facts`` group is read by
    ``facts_from_response``, not here.

    Raises:
        AnswerError: the resource is not a response to this questionnaire, or an item is
            unknown, answered twice, of the wrong type or not allowed. The message names
            the item and what it takes, never the answer given.
    """
    check_response(ci, response)
    answers: dict[str, object] = {}
    sections = {f"{SECTION_PREFIX}{s.id}" for s in ci.instrument.sections}
    for node in items_of(response.get("item", []), "item"):
        link = link_of(node)
        if link == FACTS_GROUP:
            continue
        if link.startswith(SECTION_PREFIX):
            if link not in sections:
                raise AnswerError(shown(link), "no such section", sorted(sections))
            for inner in items_of(node.get("item", []), link):
                _take(ci, inner, answers)
        else:
            _take(ci, node, answers)
    answers = {key: [] if isinstance(value, tuple) else value for key, value in answers.items()}
    checked = ci.check_answers(answers)
    return {key: checked.get(key) for key in answers}


def _take(ci: CompiledInstrument, node: Mapping[str, object], answers: dict[str, object]) -> None:
    link = link_of(node)
    item = ci.items.get(link)
    if item is None:
        hint = expr.suggest(link, ci.order) if plausible(link) else None
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise AnswerError(shown(link), f"no such item in {ci.instrument.id}{tip}")
    if item.type != "group":
        if link in answers:
            raise AnswerError(link, "answered twice (the item does not repeat)")
        answers[link] = _value(ci, item, node, link)
        return
    if has_extension(node, ABSENT):  # asked, not known: no rows and no "no rows" either
        if link in answers or "item" in node:
            raise AnswerError(link, "a group marked as not known has rows")
        answers[link] = None
        return
    rows = answers.setdefault(link, [])
    if not isinstance(rows, list):  # only lists are ever stored under a group's id
        raise AnswerError(link, "answered twice")
    if has_extension(node, NO_ROWS):
        if rows or "item" in node:
            raise AnswerError(link, "a group marked as having no rows has rows")
        answers[link] = ()  # a marker: a later row of this group is refused
        return
    if "answer" in node:
        raise AnswerError(f"{link}[{len(rows)}]", "a group row holds items, not answers")
    rows.append(_row(ci, item, node, len(rows)))


def _row(ci: CompiledInstrument, group: Item, node: Mapping[str, object], n: int) -> dict[str, object]:
    fields = {f"{group.id}.{f.id}": f for f in group.fields or ()}
    row: dict[str, object] = {}
    for child in items_of(node.get("item", []), f"{group.id}[{n}]"):
        link = link_of(child)
        field = fields.get(link)
        where = f"{group.id}[{n}].{shown(link.removeprefix(group.id + '.'))}"
        if field is None:
            raise AnswerError(where, "no such field", sorted(fields))
        if field.id in row:
            raise AnswerError(where, "answered twice in one row")
        value = _value(ci, field, child, where)
        if value is not None:
            row[field.id] = value
    return row


def _value(ci: CompiledInstrument, item: Item, node: Mapping[str, object], where: str) -> object:
    """One answer's value in our terms: its FHIR type checked here, range and codes by ``check_answers``."""
    key = _VALUE_KEY[item.type]
    value = one_answer(node, key, where, ci.allowed(item))
    if value is None:
        return None
    if item.type == "choice":
        return code_of(value, answer_system(ci), where, ci.allowed(item))
    if (type(value) is int) if item.type == "number" else isinstance(value, str):
        return value
    raise AnswerError(where, f"the answer must be a {key}", ci.allowed(item))
