"""The case store: the SQLite schema and its DDL, stored values, sealing and keys, the
writer lock, deletion, damage reports, the audit trail and the crypto around them.

May import: ``screening.engine``, ``screening.files``, ``screening.errors`` / sqlite3,
cryptography and the stdlib.
Must not import: content, report, interview, batch, cli. A second backend (PostgreSQL)
goes here, beside ``_store``, behind the same ``Store`` methods.

Modules: ``_base``, ``_crypto``, ``_damage``, ``_ddl``, ``_delete``, ``_keys``, ``_lock``,
``_reads``, ``_schema``, ``_store``, ``_trail``, ``audit``, ``crypto``, ``values``.

The names below are those the old ``screening.store`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

if typing.TYPE_CHECKING:
    from ._store import (
        AssessmentInfo,
        SavedResult,
        Status,
        Store,
        check_case_ref,
        default_store_path,
        new_case_ref,
    )

__all__ = [
    "AssessmentInfo",
    "SavedResult",
    "Status",
    "Store",
    "check_case_ref",
    "default_store_path",
    "new_case_ref",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("._store", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
