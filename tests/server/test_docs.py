"""docs/server.md keeps up with the server: every endpoint, every problem type, every role and permission.

A case system's developers read the document, not the code; a new endpoint, error
kind or permission fails here until the document names it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import Site

DOC = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text(encoding="utf-8")


def _table_rows(first_cell: str) -> list[str]:
    return [line for line in DOC.splitlines() if line.startswith("| ") and first_cell in line.split("|")[1]]


def test_every_endpoint_of_the_api_is_in_the_table(site: Site) -> None:
    paths = site.app.openapi()["paths"]  # type: ignore[attr-defined]
    table = "\n".join(line for line in DOC.splitlines() if line.startswith("| `"))
    for path, operations in paths.items():
        for method in operations:
            shown = re.sub(r"\{[a-z_]+\}", "{id}", path).replace("{id}/answers/{id}", "{id}/answers/{item}")
            shown = shown.replace("facts/{id}", "facts/{name}")
            assert re.search(rf"`[A-Z/]*{method.upper()}[A-Z/]* {re.escape(shown)}[`?]", table), (method, path)


def test_every_problem_type_is_listed_with_its_status() -> None:
    from screening.server._problems import KINDS

    for kind, (status, _, _) in KINDS.items():
        rows = [r for r in _table_rows(f"`{kind}`") if r.split("|")[1].strip() == f"`{kind}`"]
        assert len(rows) == 1, kind
        assert rows[0].split("|")[2].strip() == str(status), kind


def test_every_role_and_permission_is_described() -> None:
    from screening.accounts import PERMISSIONS

    for role, permissions in PERMISSIONS.items():
        (row,) = [r for r in _table_rows(f"`{role}`") if r.split("|")[1].strip() == f"`{role}`"]
        if role in ("caseworker", "admin"):  # listed in full; the others say how they relate to these
            assert set(re.findall(r"`([a-z:]+)`", row.split("|")[2])) == set(permissions), role
        for permission in permissions:
            assert f"`{permission}`" in DOC, permission
