"""The case store: the SQLite schema and its DDL, stored values, sealing and keys, the
writer lock, deletion, damage reports, the audit trail and the crypto around them; and
the PostgreSQL backend behind the same ``Store`` methods (``_pg``, ``_pgschema``, the
migrations in ``pg/``; docs/postgresql.md).

May import: ``screening.engine``, ``screening.files``, ``screening.errors`` / sqlite3,
cryptography and the stdlib; psycopg only in ``_pg`` and ``_pgschema``, lazily (importing
``screening`` never loads it).
Must not import: content, report, interview, batch, cli.

Modules: ``_accounts``, ``_base``, ``_copy``, ``_crypto``, ``_damage``, ``_ddl``, ``_delete``, ``_dialect``,
``_keys``, ``_lock``, ``_pg``, ``_pgschema``, ``_reads``, ``_schema``, ``_store``, ``_trail``, ``audit``,
``crypto``, ``values``.

The names below are those the old ``screening.store`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

from .._lazy import exports as _exports
from .._lazy import from_module as _from_module

if typing.TYPE_CHECKING:
    from ._accounts import ROLES, Account, Token
    from ._store import (
        AssessmentInfo,
        SavedResult,
        Status,
        Store,
        check_case_ref,
        default_store_path,
        new_case_ref,
        store_location,
    )

__all__ = [
    "ROLES",
    "Account",
    "AssessmentInfo",
    "SavedResult",
    "Status",
    "Store",
    "Token",
    "check_case_ref",
    "default_store_path",
    "new_case_ref",
    "store_location",
]

_ACCOUNTS = ["ROLES", "Account", "Token"]
__getattr__, __dir__ = _exports(
    __name__,
    {**_from_module("._store", [n for n in __all__ if n not in _ACCOUNTS]), **_from_module("._accounts", _ACCOUNTS)},
)
