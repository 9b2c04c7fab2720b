"""The pure core: the expression language, the instrument and result models, their checks,
scoring and its fast path, the decision and its explanation.

May import: ``screening.errors``, ``screening._version`` / pydantic and the stdlib.
Must not import: any other package of ``screening`` (referral, content, store, report,
interview, batch, cli), nor yaml, jinja2, sqlite3, typer or click, nor read the clock:
the same answers always give the same result.

Modules: ``_compile``, ``_decide``, ``_explain``, ``_fast``, ``_functions``, ``_pnr``, ``_texts``, ``checks``, ``expr``, ``instrument``, ``migration_spec``, ``result``, ``scoring``.

The names below are those the old ``screening.engine`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

if typing.TYPE_CHECKING:
    from ._decide import (
        Decision,
        allowed_levels,
        assess,
        decide,
        near_misses,
        rule_level,
        summarize,
        summarize_referrals,
    )

__all__ = [
    "Decision",
    "allowed_levels",
    "assess",
    "decide",
    "near_misses",
    "rule_level",
    "summarize",
    "summarize_referrals",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("._decide", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
