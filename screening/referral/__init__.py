"""Referral rule sets: their models, their compilation and evaluation into recommended
services, the fixed safety rules, and the static checks of a rule set against an instrument;
also the diff of two instruments or rule sets.

May import: ``screening.engine``, ``screening.errors`` / pydantic and the stdlib.
Must not import: content, store, report, interview, batch, cli; no I/O library, no clock.

Modules: ``_combinations``, ``_evaluate``, ``_memo``, ``_safety``, ``_words``, ``diffspec``,
``rules``, ``rules_checks``.

The names below are those the old ``screening.referral`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

from .._lazy import exports as _exports
from .._lazy import from_module as _from_module

if typing.TYPE_CHECKING:
    from ._evaluate import (
        CompiledRuleSet,
        Recommendation,
        rule_symbols,
    )

__all__ = [
    "CompiledRuleSet",
    "Recommendation",
    "rule_symbols",
]

__getattr__, __dir__ = _exports(__name__, _from_module("._evaluate", __all__))
