"""Imports point down the layers, and the pure core imports no I/O library and reads no clock.

The layers are written down once, as import-linter contracts in ``pyproject.toml``
(``[tool.importlinter]``): a ``layers`` contract over the packages of ``screening``
(cli → api, validate, settings, privacy → batch, interview → report, store →
vectors → assessment → content → referral → engine → files → errors, _version), an
``acyclic_siblings`` contract (no import circle between the modules of any package)
and a ``forbidden`` contract (engine and referral import no I/O library).
``test_the_import_contracts_are_kept`` runs ``lint-imports``; a new top-level
module or package fails ``test_every_part_has_a_layer`` until the author puts it in
a layer. TYPE_CHECKING-only imports do not run, so they do not count.

What import-linter cannot say stays here, read with ``ast`` (nothing is imported):
the engine and referral packages read no clock (``datetime.now``, ``time.time``, …)
and import no yaml, jinja2, typer, click or sqlite3, not even inside a function.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "screening"
PURE = ("engine", "referral")  # packages that must stay pure and deterministic
BANNED_IN_PURE = {"yaml", "jinja2", "typer", "click", "sqlite3"}
CLOCK_ATTRS = {"now", "utcnow", "today"}
CLOCK_TIME_FUNCS = {"time", "time_ns"}


@dataclass(frozen=True)
class Import:
    source: str  # dotted module doing the import
    target: str  # dotted module imported
    line: int


def module_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def is_module(dotted_name: str, root: Path = REPO) -> bool:
    rel = Path(*dotted_name.split("."))
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports_of(path: Path, root: Path = REPO) -> tuple[list[Import], list[tuple[str, int]]]:
    """Internal imports (resolved to modules) and top-level names of external ones."""
    module = dotted(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = parse(path)
    skipped = _type_checking_nodes(tree)
    internal: list[Import] = []
    external: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "screening":
                    internal.append(Import(module, alias.name, node.lineno))
                else:
                    external.append((alias.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "screening":
                external.append((target.split(".")[0], node.lineno))
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                internal.append(Import(module, sub if is_module(sub, root) else target, node.lineno))
    return internal, external


def clock_reads(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if func.attr in CLOCK_ATTRS:
                found.append((f".{func.attr}()", node.lineno))
            elif func.attr in CLOCK_TIME_FUNCS and isinstance(func.value, ast.Name) and func.value.id == "time":
                found.append((f"time.{func.attr}()", node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [(f"from time import {a.name}", node.lineno) for a in node.names if a.name in CLOCK_TIME_FUNCS]
    return found


def rel(path: Path, root: Path = REPO) -> str:
    return str(path.relative_to(root))


def is_pure(path: Path, root: Path = REPO) -> bool:
    return dotted(path, root).split(".")[1:2] in ([p] for p in PURE)


def impurities(path: Path, root: Path = REPO) -> list[str]:
    """Banned libraries and clock reads, for modules of the pure packages."""
    if not is_pure(path, root):
        return []
    _, external = imports_of(path, root)
    banned = [f"{rel(path, root)}:{line}: imports {name}" for name, line in external if name in BANNED_IN_PURE]
    return banned + [f"{rel(path, root)}:{line}: reads the clock ({what})" for what, line in clock_reads(path)]


@pytest.mark.parametrize("path", module_files(), ids=rel)
def test_the_pure_core_imports_no_io_library_and_reads_no_clock(path: Path) -> None:
    problems = impurities(path)
    assert not problems, "\n".join(problems)


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def test_the_import_contracts_are_kept() -> None:
    """``lint-imports`` (import-linter) with the contracts in pyproject.toml: layers, no circles, a pure core."""
    code = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_every_part_has_a_layer() -> None:
    """Each top-level module and package of ``screening`` is named in the layers contract."""
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    named = {part.strip() for layer in layers["layers"] for part in str(layer).replace(":", "|").split("|")}  # type: ignore[attr-defined]
    parts = {p.stem for p in PACKAGE.glob("*.py")} | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    missing = sorted(parts - named - {"__init__", "__main__"})
    assert not missing, f"not in the layers contract in pyproject.toml (put each in a layer): {', '.join(missing)}"


def test_every_package_says_what_it_holds_and_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(parse(init)) or ""
        assert "May import" in doc, f"{rel(init)}: the docstring says what the package may import"
        assert "ust not" in doc, f"{rel(init)}: the docstring says what the package must not import (or be imported by)"
        modules = sorted(p.stem for p in init.parent.glob("*.py") if p.stem != "__init__")
        missing = [m for m in modules if f"``{m}``" not in doc]
        assert not missing, f"{rel(init)}: the docstring's module list lacks {', '.join(missing)}"


def test_the_pure_packages_are_the_ones_the_contract_forbids_io_to() -> None:
    (forbidden,) = [c for c in _contracts() if c["type"] == "forbidden"]
    assert set(forbidden["source_modules"]) == {f"screening.{p}" for p in PURE}  # type: ignore[arg-type]


# --- the checker checks -------------------------------------------------------------------


def test_relative_imports_resolve_to_modules() -> None:
    internal, _ = imports_of(PACKAGE / "engine" / "checks.py")
    targets = {imp.target for imp in internal}
    assert {"screening.engine.expr", "screening.errors", "screening.engine.instrument"} <= targets
    cli_internal, cli_external = imports_of(PACKAGE / "cli" / "_core.py")
    assert "screening.cli" in {imp.target for imp in cli_internal}
    assert "typer" in {name for name, _ in cli_external}


def test_the_checker_finds_a_banned_library_and_a_clock(tmp_path: Path) -> None:
    fake = tmp_path / "screening" / "engine"
    fake.mkdir(parents=True)
    (fake / "scoring.py").write_text(
        "import datetime\nimport time\nfrom typing import TYPE_CHECKING\nimport sqlite3 as db\nimport yaml\n"
        "if TYPE_CHECKING:\n    import jinja2\n"
        "now = datetime.datetime.now()\nthen = time.time()\nday = datetime.date.today()\n",
        encoding="utf-8",
    )
    path = fake / "scoring.py"
    assert impurities(path, tmp_path) == [
        "screening/engine/scoring.py:4: imports sqlite3",
        "screening/engine/scoring.py:5: imports yaml",
        "screening/engine/scoring.py:8: reads the clock (.now())",
        "screening/engine/scoring.py:9: reads the clock (time.time())",
        "screening/engine/scoring.py:10: reads the clock (.today())",
    ]
    (tmp_path / "screening" / "store").mkdir()
    adapter = tmp_path / "screening" / "store" / "lock.py"
    adapter.write_text("import sqlite3\n", encoding="utf-8")
    assert impurities(adapter, tmp_path) == []  # adapters may do I/O
