"""Batch re-scoring of stored assessments: versions and migrations, runs, the worker pool and
its workers, chunks, the diff of outcomes, JSON Lines output, records and reasons.

May import: ``screening.engine``, ``screening.referral``, ``screening.content``,
``screening.report``, ``screening.store``, ``screening.assessment``, ``screening.files`` / the stdlib.
Must not import: interview, cli, typer.

Modules: ``_diff``, ``_jsonl``, ``_lean``, ``_pool``, ``_reasons``, ``_records``, ``_report``,
``_rescorer``, ``_run``, ``_score``, ``_store``, ``_texts``, ``_worker``, ``_write``.

The names below are those the old ``screening.batch`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

from .._lazy import exports as _exports
from .._lazy import from_module as _from_module

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

__getattr__, __dir__ = _exports(__name__, _from_module("._rescorer", __all__))
