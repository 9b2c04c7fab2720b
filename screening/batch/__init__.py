"""Batch re-scoring of stored assessments: versions and migrations, runs, the worker pool and
its workers, chunks, the diff of outcomes, JSON Lines output, records and reasons.

May import: ``screening.engine``, ``screening.referral``, ``screening.content``,
``screening.report``, ``screening.store``, ``screening.assessment``, ``screening.files`` / the stdlib.
Must not import: interview, cli, typer.

Modules: ``_diff``, ``_jsonl``, ``_pool``, ``_reasons``, ``_records``, ``_report``,
``_rescorer``, ``_run``, ``_score``, ``_store``, ``_texts``, ``_worker``, ``_write``.

The names below are those the old ``screening.batch`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

if typing.TYPE_CHECKING:
    from ._rescorer import (
        CHANGES,
        Failed,
        Outcome,
        Rescored,
        Rescorer,
        StoredAssessment,
        Unchanged,
        rescore,
    )

__all__ = [
    "CHANGES",
    "Failed",
    "Outcome",
    "Rescored",
    "Rescorer",
    "StoredAssessment",
    "Unchanged",
    "rescore",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("._rescorer", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
