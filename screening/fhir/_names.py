"""What the FHIR resources share: URIs, extension URLs, limits and the checks every response passes first.

May import: engine (types), errors / stdlib.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ..errors import AnswerError

if TYPE_CHECKING:
    from ..engine.instrument import Option
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet

__all__ = [
    "ABSENT",
    "ENABLE_WHEN_EXPRESSION",
    "EXPRESSION_LANGUAGE",
    "FACTS_GROUP",
    "FACT_PREFIX",
    "ITEM_CONTROL",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_VALUE",
    "MIN_VALUE",
    "NO_ROWS",
    "ORDINAL",
    "SECTION_PREFIX",
    "SHA_SYSTEM",
    "UNKNOWN_ANSWER",
    "absent",
    "answer_system",
    "canonical",
    "check_response",
    "code_of",
    "coding",
    "fact_system",
    "has_extension",
    "instrument_ref",
    "items_of",
    "link_of",
    "one_answer",
    "plausible",
    "shown",
    "url",
]

ORDINAL: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ENABLE_WHEN_EXPRESSION: Final = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
EXPRESSION_LANGUAGE: Final = "text/x-screening-expr"
ABSENT: Final = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
ITEM_CONTROL: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
MIN_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNKNOWN_ANSWER: Final = "urn:screening:fhir:unknown-answer"
NO_ROWS: Final = "urn:screening:fhir:no-rows"
SHA_SYSTEM: Final = "urn:screening:instrument-sha256"
# Item ids are [a-z][a-z0-9_]*, so these linkIds can never be an item's.
FACTS_GROUP: Final = "case-facts"
FACT_PREFIX: Final = "fact:"
SECTION_PREFIX: Final = "section:"

MAX_DEPTH: Final = 8  # section → group row → field is 3; anything far deeper is hostile
MAX_NODES: Final = 50_000  # items and answers in one response, counted before anything is read

_LINK_ID: Final = re.compile(r"[a-z0-9_.:-]{1,140}")


def url(ci: CompiledInstrument) -> str:
    return f"urn:screening:instrument:{ci.instrument.id}"


def canonical(ci: CompiledInstrument) -> str:
    """The ``Questionnaire`` canonical with its version, as a response must name it."""
    return f"{url(ci)}|{ci.instrument.version}"


def answer_system(ci: CompiledInstrument) -> str:
    """The code system of the instrument's answer values (the codes are the values)."""
    return f"{url(ci)}:answer"


def fact_system(rules: CompiledRuleSet) -> str:
    return f"urn:screening:rules:{rules.ruleset.id}:fact"


def absent(link: str) -> dict[str, object]:
    """A response item asked and not known: no answer, and the standard reason why."""
    return {"linkId": link, "extension": [{"url": ABSENT, "valueCode": "asked-unknown"}]}


def has_extension(node: Mapping[str, object], ext_url: str) -> bool:
    ext = node.get("extension")
    return isinstance(ext, list) and any(isinstance(e, Mapping) and e.get("url") == ext_url for e in ext)


def shown(link: str) -> str:
    """A linkId fit for a message: free text (a name, a number) must never reach one."""
    return link if _LINK_ID.fullmatch(link) else "(a linkId that is not an item id)"


def plausible(link: str) -> bool:
    return _LINK_ID.fullmatch(link) is not None


def coding(ci: CompiledInstrument, opt: Option, lang: str) -> dict[str, object]:
    return {"system": answer_system(ci), "code": opt.value, "display": opt.label.get(lang)}


_CANONICAL: Final = re.compile(
    r"urn:screening:instrument:([a-z][a-z0-9-]{0,63})\|((?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*))"
)


def instrument_ref(response: object) -> tuple[str, str]:
    """``(instrument id, version)`` a ``QuestionnaireResponse`` names, so a caller can load that instrument.

    Raises:
        AnswerError: not a ``QuestionnaireResponse``, or its ``questionnaire`` is not one of ours
            with a version (the message shows the form, never what was given).
    """
    if not isinstance(response, Mapping) or response.get("resourceType") != "QuestionnaireResponse":
        raise AnswerError("resourceType", "must be a QuestionnaireResponse", ("QuestionnaireResponse",))
    ref = response.get("questionnaire")
    found = _CANONICAL.fullmatch(ref) if isinstance(ref, str) else None
    if found is None:
        form = "urn:screening:instrument:<id>|<version>"
        raise AnswerError("questionnaire", "must name one of our instruments and its version", (form,))
    return found.group(1), found.group(2)


def check_response(ci: CompiledInstrument, response: object) -> Mapping[str, object]:
    """``response`` if it is a ``QuestionnaireResponse`` to this instrument version, not too deep or big.

    The size is counted before anything is read, without recursing past ``MAX_DEPTH``,
    so hostile input is refused with a located error and never a ``RecursionError``.
    """
    if not isinstance(response, Mapping) or response.get("resourceType") != "QuestionnaireResponse":
        raise AnswerError("resourceType", "must be a QuestionnaireResponse", ("QuestionnaireResponse",))
    if response.get("questionnaire") != canonical(ci):
        raise AnswerError("questionnaire", "the response is not for this instrument version", (canonical(ci),))
    _count(response.get("item"), 1, [0])
    return response


def _count(items: object, depth: int, seen: list[int]) -> None:
    if not isinstance(items, list):
        return
    if depth > MAX_DEPTH:
        raise AnswerError("item", f"nested more than {MAX_DEPTH} levels deep")
    seen[0] += len(items)
    if seen[0] > MAX_NODES:
        raise AnswerError("item", f"more than {MAX_NODES} items and answers")
    for node in items:
        if isinstance(node, Mapping):
            _count(node.get("item"), depth + 1, seen)
            answers = node.get("answer")
            if isinstance(answers, list):
                seen[0] += len(answers)
                for a in answers:
                    if isinstance(a, Mapping):
                        _count(a.get("item"), depth + 1, seen)


def items_of(value: object, where: str) -> list[Mapping[str, object]]:
    """A node's ``item`` list, every entry an object."""
    if not isinstance(value, list):
        raise AnswerError(where, "'item' must be a list of items")
    found = [v for v in value if isinstance(v, Mapping)]
    if len(found) != len(value):
        raise AnswerError(where, "'item' must be a list of items")
    return found


def link_of(node: Mapping[str, object]) -> str:
    link = node.get("linkId")
    if not isinstance(link, str):
        raise AnswerError("item", "every item needs a linkId")
    return link


def one_answer(node: Mapping[str, object], key: str, where: str, allowed: tuple[str, ...]) -> object:
    """The single ``answer[0][key]`` of a question, or ``None`` when it has no answer (unknown)."""
    if "item" in node:
        raise AnswerError(where, "a question holds answers, not items")
    given = node.get("answer", [])
    if not isinstance(given, list) or len(given) > 1:
        raise AnswerError(where, "at most one answer (the item does not repeat)", allowed)
    if not given:
        return None
    answer = given[0]
    if not isinstance(answer, Mapping) or set(answer) - {key, "extension", "id"} or key not in answer:
        raise AnswerError(where, f"the answer must be a {key}", allowed)
    return answer[key]


def code_of(value: object, system: str, where: str, allowed: tuple[str, ...]) -> str:
    """The code of a ``Coding`` in ``system`` (a Coding without a system is taken as ours)."""
    code = value.get("code") if isinstance(value, Mapping) else None
    if not isinstance(value, Mapping) or value.get("system", system) != system or not isinstance(code, str):
        raise AnswerError(where, f"the answer must be a code of {system}", allowed)
    return code
