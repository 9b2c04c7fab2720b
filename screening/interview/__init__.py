"""The interview: a session over an instrument, the terminal prompter, repeating groups,
case facts, dates, the end of an interview (scoring, saving) and its texts.

May import: ``screening.engine``, ``screening.referral``, ``screening.content``,
``screening.report`` (plain-text presentation), ``screening.store``, ``screening.assessment``
/ the stdlib.
Must not import: batch, cli, typer.

Modules: ``_dates``, ``_end``, ``_facts``, ``_group``, ``_run``, ``_session``, ``_signals``,
``_terminal``, ``_texts``.

The names below are those the old ``screening.interview`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

from .._lazy import exports as _exports
from .._lazy import from_module as _from_module

if typing.TYPE_CHECKING:
    from ._run import (
        Outcome,
        Prompter,
        run_interview,
    )
    from ._session import Session, load_pinned

__all__ = [
    "Outcome",
    "Prompter",
    "Session",
    "load_pinned",
    "run_interview",
]

__getattr__, __dir__ = _exports(__name__, {
    **_from_module("._run", ["Outcome", "Prompter", "run_interview"]),
    **_from_module("._session", ["Session", "load_pinned"]),
})
