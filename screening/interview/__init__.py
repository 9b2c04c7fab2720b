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

if typing.TYPE_CHECKING:
    from ._run import (
        Outcome,
        Prompter,
        run_interview,
    )

__all__ = [
    "Outcome",
    "Prompter",
    "run_interview",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("._run", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
