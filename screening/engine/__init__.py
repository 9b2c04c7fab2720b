"""The pure core: the expression language, the instrument and result models, their checks,
scoring and its fast path, the decision and its explanation.

May import: ``screening.errors``, ``screening._version`` / pydantic and the stdlib.
Must not import: any other package of ``screening`` (referral, content, store, report,
interview, batch, cli), nor yaml, jinja2, sqlite3, typer or click, nor read the clock:
the same answers always give the same result.

Modules: ``_compile``, ``_decide``, ``_explain``, ``_fast``, ``_functions``, ``_outcome``,
``_plans``, ``_status``, ``_syntax``, ``checks``, ``expr``, ``instrument``, ``migration_spec``, ``phrases``, ``pnr``,
``result``, ``scoring``.

The names below are the engine's face to the layers above (the old ``screening.engine``
module's names, but ``assess``, ``summarize_referrals`` and ``near_misses``, which need a
rule set and moved to ``screening.assessment``); they are loaded on first use (PEP 562)
so importing one module of the package does not load the rest.
"""

import typing

from .._lazy import exports as _exports

if typing.TYPE_CHECKING:
    from ._decide import Decision, allowed_levels, decide, rule_level, summarize
    from ._outcome import Recommendation, Scored, build_result, score

_WHERE = {
    "Decision": "_decide",
    "allowed_levels": "_decide",
    "decide": "_decide",
    "rule_level": "_decide",
    "summarize": "_decide",
    "Recommendation": "_outcome",
    "Scored": "_outcome",
    "build_result": "_outcome",
    "score": "_outcome",
}

__all__ = [
    "Decision",
    "Recommendation",
    "Scored",
    "allowed_levels",
    "build_result",
    "decide",
    "rule_level",
    "score",
    "summarize",
]

__getattr__, __dir__ = _exports(__name__, {name: (f".{module}", name) for name, module in _WHERE.items()})
