"""Case facts in FHIR: the ``case-facts`` group the interview asks first, and reading it back.

May import: referral (types), errors, the package's ``_names`` / stdlib.

The referral rules read case facts (children in the household, immediate danger, …)
that no instrument item asks. With a rule set, the ``Questionnaire`` gets them as a
first group, exactly the facts the interview asks (declared, not an item, not derived
from an answer; immediate danger first). Not known is no answer at all (with
``data-absent-reason: asked-unknown``), never ``false``: the safety rules then say the
fact is unknown instead of assuming "no".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ..errors import AnswerError
from ._names import (
    FACT_PREFIX,
    FACTS_GROUP,
    MAX_VALUE,
    MIN_VALUE,
    absent,
    check_response,
    code_of,
    fact_system,
    items_of,
    link_of,
    one_answer,
    shown,
)

if TYPE_CHECKING:
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet
    from ..referral.rules import FactSpec

__all__ = ["facts_from_response", "facts_group", "facts_items", "facts_to_ask"]

DANGER_FACT: Final = "immediate_danger"  # asked first, as the interview does
_KEY: Final = {"bool": "valueBoolean", "int": "valueInteger", "choice": "valueCoding"}
_TYPE: Final = {"bool": "boolean", "int": "integer", "choice": "choice"}


def facts_to_ask(ci: CompiledInstrument, rules: CompiledRuleSet) -> list[str]:
    """The declared facts that are neither an item of ``ci`` nor derived from one; danger first."""
    derived = {name for table in rules.tables_for(ci) for name, _ in table.derive}
    names = [n for n in rules.ruleset.facts if n not in ci.items and n not in derived]
    return sorted(names, key=lambda n: n != DANGER_FACT)


def facts_group(ci: CompiledInstrument, rules: CompiledRuleSet | None, lang: str) -> list[object]:
    """The ``case-facts`` group of the ``Questionnaire`` (none without a rule set or facts to ask)."""
    names = facts_to_ask(ci, rules) if rules is not None else []
    if rules is None or not names:
        return []
    title = {"sv": "Uppgifter om ärendet", "en": "About the case"}
    items = [_question(rules, name, rules.ruleset.facts[name], lang) for name in names]
    return [{"linkId": FACTS_GROUP, "type": "group", "text": title.get(lang, title["sv"]), "item": items}]


def _question(rules: CompiledRuleSet, name: str, spec: FactSpec, lang: str) -> dict[str, object]:
    link = f"{FACT_PREFIX}{name}"
    out: dict[str, object] = {"linkId": link, "text": spec.question.get(lang), "type": _TYPE[spec.type]}
    if spec.type == "int":
        out["extension"] = [{"url": MIN_VALUE, "valueInteger": spec.min}, {"url": MAX_VALUE, "valueInteger": spec.max}]
    elif spec.type == "choice":
        labels = spec.value_labels or {}
        out["answerOption"] = [{"valueCoding": _coding(rules, v, spec, lang)} for v in spec.values or () if v in labels]
    if spec.help is not None:
        out["item"] = [{"linkId": f"{link}:help", "type": "display", "text": spec.help.get(lang)}]
    return out


def _coding(rules: CompiledRuleSet, value: str, spec: FactSpec, lang: str) -> dict[str, object]:
    return {"system": fact_system(rules), "code": value, "display": (spec.value_labels or {})[value].get(lang)}


def facts_items(rules: CompiledRuleSet, facts: Mapping[str, object], lang: str) -> list[object]:
    """The response items of the ``case-facts`` group; ``None`` is "asked, not known"."""
    clean = rules.check_facts(facts)
    out: list[object] = []
    for name in facts:
        link = f"{FACT_PREFIX}{name}"
        spec = rules.ruleset.facts[name]
        if name not in clean:
            out.append(absent(link))
            continue
        value = clean[name]
        answer = _coding(rules, str(value), spec, lang) if spec.type == "choice" else value
        out.append({"linkId": link, "text": spec.question.get(lang), "answer": [{_KEY[spec.type]: answer}]})
    return out


def facts_from_response(
    ci: CompiledInstrument, rules: CompiledRuleSet, response: Mapping[str, object]
) -> dict[str, object]:
    """The case facts ``assess(…, rules=rules, facts=…)`` takes, from the response's ``case-facts`` group.

    A fact without an answer is ``None`` (not known); facts not in the response are left out.

    Raises:
        AnswerError: not a response to this questionnaire, an undeclared fact, a value
            of the wrong type or out of range (the message never quotes the value).
    """
    check_response(ci, response)
    facts: dict[str, object] = {}
    for node in items_of(response.get("item", []), "item"):
        if link_of(node) != FACTS_GROUP:
            continue
        for child in items_of(node.get("item", []), FACTS_GROUP):
            link = link_of(child)
            name = link.removeprefix(FACT_PREFIX)
            spec = rules.ruleset.facts.get(name) if link.startswith(FACT_PREFIX) else None
            if spec is None:
                raise AnswerError(shown(link), "no such case fact", [f"{FACT_PREFIX}{n}" for n in rules.ruleset.facts])
            if name in facts:
                raise AnswerError(link, "answered twice")
            facts[name] = _value(rules, spec, child, link)
    checked = rules.check_facts(facts)
    return {name: checked.get(name) for name in facts}


def _value(rules: CompiledRuleSet, spec: FactSpec, node: Mapping[str, object], link: str) -> object:
    allowed = ("true", "false") if spec.type == "bool" else tuple(spec.values or (f"{spec.min}–{spec.max}",))
    value = one_answer(node, _KEY[spec.type], link, allowed)
    if value is None:
        return None
    if spec.type == "choice":
        return code_of(value, fact_system(rules), link, allowed)
    if (type(value) is int) if spec.type == "int" else isinstance(value, bool):
        return value
    raise AnswerError(link, f"the answer must be a {_KEY[spec.type]}", allowed)
