"""FHIR R4 for other systems: an instrument as a ``Questionnaire``, answers as a ``QuestionnaireResponse``.

May import: ``screening.engine``, ``screening.referral``, ``screening.errors`` / stdlib.
Must not import: store, cli, server, interview, report (no I/O, no clock: plain JSON
dicts in and out); nothing below the façades imports it.

Modules: ``_names`` (URIs, limits, the checks every response passes), ``_questionnaire``
(the ``Questionnaire`` and ``show_if`` → ``enableWhen``), ``_response`` (answers ↔
``QuestionnaireResponse``), ``_facts`` (the case-facts group).

Case systems and SDC form fillers speak FHIR, so the server offers every instrument as
a ``Questionnaire`` and takes a ``QuestionnaireResponse`` as an answer set; the
conversion lives here so the server only parses and renders.

* **Identity.** ``url`` is ``urn:screening:instrument:<id>``, ``version`` the
  instrument's; a response must name ``<url>|<version>`` in ``questionnaire``, so
  answers are never scored against another version. The file's SHA-256 is an
  ``identifier`` (system ``urn:screening:instrument-sha256``).
* **Items.** Sections are ``group`` items (linkId ``section:<id>``); questions keep
  their item id as linkId; a repeating group (``repeats: true``) has fields
  ``<group>.<field>``; help texts are ``display`` children (``<id>:help``). Texts are
  the instrument's wording in the chosen language (licensed wording when overlaid).
  With a rule set, the case facts the interview asks come first in a group
  ``case-facts`` (``fact:<name>``).
* **Answers.** A choice is a ``Coding`` (system ``urn:screening:instrument:<id>:answer``,
  code = the answer value, display = its label); an option of an item in a sum score
  carries its points as ``ordinalValue``.
* **Unknown is an answer, never "no".** The scale's unknown options ("Vet inte", "Vill
  inte svara") are answer options like the others, marked with the extension
  ``urn:screening:fhir:unknown-answer`` (``valueBoolean: true``). A number, date, text
  or case fact that is not known is a response item without ``answer`` carrying the
  standard ``data-absent-reason`` ``asked-unknown``; it reads back as ``None``, which
  the engine counts as unknown. A repeating group answered with *no rows* is one group
  item with the extension ``urn:screening:fhir:no-rows``.
* **Conditions.** A ``show_if`` becomes ``enableWhen`` only where FHIR's flat any/all
  says it exactly (see ``_questionnaire``); any other is kept whole as the SDC
  extension ``sdc-questionnaire-enableWhenExpression`` with ``language:
  text/x-screening-expr``, the instrument's own condition language. Never dropped.
"""

import typing

from .._lazy import exports as _exports

if typing.TYPE_CHECKING:
    from ._facts import facts_from_response
    from ._names import (
        ENABLE_WHEN_EXPRESSION,
        EXPRESSION_LANGUAGE,
        NO_ROWS,
        UNKNOWN_ANSWER,
        canonical,
        instrument_ref,
    )
    from ._questionnaire import questionnaire
    from ._response import answers_from_response, questionnaire_response

__all__ = [
    "ENABLE_WHEN_EXPRESSION",
    "EXPRESSION_LANGUAGE",
    "NO_ROWS",
    "UNKNOWN_ANSWER",
    "answers_from_response",
    "canonical",
    "facts_from_response",
    "instrument_ref",
    "questionnaire",
    "questionnaire_response",
]

__getattr__, __dir__ = _exports(
    __name__,
    {
        "ENABLE_WHEN_EXPRESSION": ("._names", "ENABLE_WHEN_EXPRESSION"),
        "EXPRESSION_LANGUAGE": ("._names", "EXPRESSION_LANGUAGE"),
        "NO_ROWS": ("._names", "NO_ROWS"),
        "UNKNOWN_ANSWER": ("._names", "UNKNOWN_ANSWER"),
        "canonical": ("._names", "canonical"),
        "instrument_ref": ("._names", "instrument_ref"),
        "answers_from_response": ("._response", "answers_from_response"),
        "questionnaire_response": ("._response", "questionnaire_response"),
        "facts_from_response": ("._facts", "facts_from_response"),
        "questionnaire": ("._questionnaire", "questionnaire"),
    },
)
