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


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("._evaluate", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
