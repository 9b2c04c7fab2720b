"""An instrument as a FHIR R4 ``Questionnaire``; ``show_if`` as ``enableWhen`` where FHIR can say it exactly.

May import: engine, referral (types), errors, the package's ``_names`` and ``_facts`` / stdlib.

Why exact or nothing: the engine asks a question whose condition is *unknown* (an
unknown answer never counts as "no"), while FHIR's ``enableWhen`` on a missing answer
is false for every operator but ``!=`` and ``exists``. So ``age <= 6`` becomes "age <= 6
or age has no answer" (``enableBehavior: any``), and "answered with an unknown option"
is one more ``=`` atom. What a flat any/all cannot say (``a and b`` where each side
needs two atoms, ``not``, arithmetic, counts, a condition on an item that is itself
conditional) is carried whole, never dropped: the SDC extension
``sdc-questionnaire-enableWhenExpression`` with ``language: text/x-screening-expr``. A
filler that does not know the language shows the question, which is the safe side.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..engine import expr
from ..engine.instrument import Item, Option
from ..errors import ScreeningError
from ._facts import facts_group
from ._names import (
    ENABLE_WHEN_EXPRESSION,
    EXPRESSION_LANGUAGE,
    ITEM_CONTROL,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL,
    SECTION_PREFIX,
    SHA_SYSTEM,
    UNKNOWN_ANSWER,
    answer_system,
    coding,
    url,
)

if TYPE_CHECKING:
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet

__all__ = ["FHIR_TYPE", "questionnaire"]

FHIR_TYPE = {"choice": "choice", "number": "integer", "date": "date", "text": "text", "group": "group"}


def questionnaire(
    ci: CompiledInstrument, *, lang: str = "sv", rules: CompiledRuleSet | None = None
) -> dict[str, object]:
    """The instrument as a FHIR R4 ``Questionnaire`` (a JSON-ready dict) in ``lang`` ("sv" or "en").

    Args:
        ci: a compiled instrument (see ``load_instrument``); overlaid wording is used as is.
        lang: the language of every text, as the interview shows it.
        rules: a rule set whose case facts the interview asks first: they become a
            first group ``case-facts`` (linkIds ``fact:<name>``), as the interview asks them.

    Returns:
        The resource; ``json.dumps`` takes it unchanged.
    """
    inst = ci.instrument
    identifiers: list[object] = [{"system": "urn:screening:instrument", "value": inst.id}]
    if ci.sha256:
        identifiers.append({"system": SHA_SYSTEM, "value": ci.sha256})
    return {
        "resourceType": "Questionnaire",
        "id": f"{inst.id}-{inst.version.replace('.', '-')}",
        "language": "en" if lang == "en" else "sv",
        "url": url(ci),
        "identifier": identifiers,
        "version": inst.version,
        "name": re.sub(r"[^A-Za-z0-9]", "_", inst.id),
        "title": inst.title.get(lang),
        "status": "active",
        "description": inst.description.get(lang),
        "item": facts_group(ci, rules, lang) + [
            {
                "linkId": f"{SECTION_PREFIX}{section.id}",
                "type": "group",
                "text": section.title.get(lang),
                "item": [_question(ci, item, lang) for item in section.items],
            }
            for section in inst.sections
        ],
    }


def _question(ci: CompiledInstrument, item: Item, lang: str, group: str | None = None) -> dict[str, object]:
    link = f"{group}.{item.id}" if group else item.id
    out: dict[str, object] = {"linkId": link, "text": item.text.get(lang), "type": FHIR_TYPE[item.type]}
    children: list[object] = []
    if item.help is not None:
        children.append({
            "linkId": f"{link}:help", "type": "display", "text": item.help.get(lang),
            "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                {"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]}}],
        })
    if item.type == "choice":
        options = ci.instrument.scales[item.scale or ""].options
        weighted = group is None and _weighted(ci, item.id)
        out["answerOption"] = [_option(ci, o, lang, weighted) for o in options]
        # Required only where the instrument needs the answer and "unknown" is an option to give.
        out["required"] = group is None and item.id in ci.counted and any(o.unknown for o in options)
    elif item.type == "number":
        out["extension"] = [
            {"url": MIN_VALUE, "valueInteger": item.min},
            {"url": MAX_VALUE, "valueInteger": item.max},
        ]
    elif item.type == "group":
        out["repeats"] = True
        children.extend(_question(ci, f, lang, item.id) for f in item.fields or ())
    if item.show_if:
        out.update(_condition(ci, item.show_if))
    if children:
        out["item"] = children
    return out


def _weighted(ci: CompiledInstrument, item_id: str) -> bool:
    sums = {s.id for s in ci.instrument.scores if s.kind == "sum"}
    return any(sid in sums and any(row[0] == item_id for row in rows) for sid, rows in ci.scores)


def _option(ci: CompiledInstrument, opt: Option, lang: str, weighted: bool) -> dict[str, object]:
    out: dict[str, object] = {"valueCoding": coding(ci, opt, lang)}
    if opt.unknown:
        out["extension"] = [{"url": UNKNOWN_ANSWER, "valueBoolean": True}]
    elif weighted:
        out["extension"] = [{"url": ORDINAL, "valueDecimal": opt.points}]
    return out


# ------------------------------------------------------------------ show_if → enableWhen

_Atoms = tuple[str, list[dict[str, object]]]  # ("any" | "all" | "one", enableWhen entries)


def _condition(ci: CompiledInstrument, text: str) -> dict[str, object]:
    """``enableWhen`` when exact, else the condition carried whole as an expression extension."""
    try:
        found = _translate(ci, expr.parse(text))
    except ScreeningError:  # cannot happen for a loaded instrument; kept whole below all the same
        found = None
    if found is None:
        return {"extension": [{"url": ENABLE_WHEN_EXPRESSION, "valueExpression": {
            "language": EXPRESSION_LANGUAGE, "expression": text,
            "description": "screening show_if; the item is shown unless the condition is false"}}]}
    behaviour, atoms = found
    out: dict[str, object] = {"enableWhen": atoms}
    if len(atoms) > 1:
        out["enableBehavior"] = behaviour
    return out


def _translate(ci: CompiledInstrument, node: expr.Node) -> _Atoms | None:
    """Atoms whose any/all is true exactly when the engine's three-valued ``node`` is not false."""
    if isinstance(node, expr.BoolOp):
        parts = [_translate(ci, v) for v in node.values]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        if node.op == "or" and all(b in ("any", "one") for b, _ in found):
            return "any", [a for _, atoms in found for a in atoms]
        if node.op == "and" and all(b == "one" for b, _ in found):
            return "all", [a for _, atoms in found for a in atoms]
        return None
    if isinstance(node, expr.Call) and node.func == "any_of" and len(node.args) >= 2:
        values = _consts(node.args[0])
        atoms: list[dict[str, object]] = []
        for arg in node.args[1:]:
            item = _plain(ci, arg, "choice")
            if item is None or values is None or not _known(ci, item, values):
                return None
            atoms += [_atom(ci, item, "=", v) for v in values] + _unknown_atoms(ci, item)
        return _shape(atoms)
    if isinstance(node, expr.Compare):
        return _compare(ci, node)
    return None


def _compare(ci: CompiledInstrument, node: expr.Compare) -> _Atoms | None:
    item = _plain(ci, node.left, None)
    values = _consts(node.right)
    if item is None or values is None:
        return None
    op = node.op
    if item.type == "choice" and _known(ci, item, values):
        if op in ("!=", "not in") and len(values) == 1:
            return _shape([_atom(ci, item, "!=", values[0])])  # FHIR's != is true without an answer too
        if op in ("==", "in"):
            return _shape([_atom(ci, item, "=", v) for v in values] + _unknown_atoms(ci, item))
    if item.type == "number" and op in ("==", "!=", "<", "<=", ">", ">=") and type(values[0]) is int:
        fhir_op = "=" if op == "==" else op
        atoms = [_atom(ci, item, fhir_op, values[0])]
        return _shape(atoms if op == "!=" else [*atoms, *_unknown_atoms(ci, item)])
    return None


def _shape(atoms: list[dict[str, object]]) -> _Atoms:
    return ("one" if len(atoms) == 1 else "any"), atoms


def _plain(ci: CompiledInstrument, node: expr.Node, kind: str | None) -> Item | None:
    """A top-level item that is always asked: its answer is exactly what ``enableWhen`` sees."""
    if not isinstance(node, expr.Name):
        return None
    item = ci.items.get(node.id)
    if item is None or item.show_if or item.type not in ("choice", "number") or kind not in (None, item.type):
        return None
    return item


def _consts(node: expr.Node) -> list[object] | None:
    if isinstance(node, expr.Const):
        return [node.value]
    if isinstance(node, expr.ListLit) and node.items:
        return [c.value for c in node.items]
    return None


def _known(ci: CompiledInstrument, item: Item, values: list[object]) -> bool:
    return all(isinstance(v, str) and v in ci.known.get(item.id, {}) for v in values)


def _unknown_atoms(ci: CompiledInstrument, item: Item) -> list[dict[str, object]]:
    unknown = sorted(ci.unknown_options.get(item.id, ()))
    return [{"question": item.id, "operator": "exists", "answerBoolean": False},
            *(_atom(ci, item, "=", v) for v in unknown)]


def _atom(ci: CompiledInstrument, item: Item, op: str, value: object) -> dict[str, object]:
    if item.type == "choice":
        return {"question": item.id, "operator": op, "answerCoding": {"system": answer_system(ci), "code": value}}
    return {"question": item.id, "operator": op, "answerInteger": value}
