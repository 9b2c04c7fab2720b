"""Imports point down the layers, and the pure core imports no I/O library and reads no clock.

Every module under ``screening/`` is parsed with ``ast`` (nothing is imported) and
mapped to a layer below. A module may import modules of its own layer or lower:

* L0 core: errors, the expression language, texts, version
* L1 spec and record models: instrument, result, checks, rules
* L2 pure engine: scoring, engine, explanation, referral, golden vectors
* L3 adapters: YAML, loading, reports, store, files, terminal presentation
* L4 workflows: api, validate, interview, batch, rescore, migration
* L5 the command line (``screening.cli``, ``__main__``) and the package façade

L0–L2 must not import yaml, jinja2, typer, click or sqlite3, nor read the clock,
so scoring stays pure and deterministic. A new module fails ``test_every_module_
has_a_layer`` until it is added here: the author decides where it belongs.
Imports under ``if TYPE_CHECKING:`` are skipped: they do not run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "screening"

LAYERS: dict[str, int] = {
    # L0 core
    "errors": 0, "_pnr": 0, "expr": 0, "_compile": 0, "_functions": 0, "_version": 0, "_texts": 1,
    # L1 spec and record models (pydantic), and their cross-reference checks
    "instrument": 1, "result": 1, "checks": 1, "rules": 1, "migration_spec": 1,
    # L2 pure engine
    "scoring": 2, "engine": 2, "_explain": 2, "vectors": 2, "_fast": 2, "referral": 2, "_safety": 2,
    "rules_checks": 2, "diffspec": 2,
    # L3 adapters: yaml, jinja2, sqlite3, files, the terminal
    "yamlsafe": 3, "loader": 3, "report": 3, "store": 3, "_store_ddl": 3, "files": 3, "present": 3, "texts": 3,
    "rules_loader": 3, "migration": 3, "_yaml_compose": 3,
    "_report_answers": 3, "_report_context": 3, "_report_escape": 3,
    "settings": 3,
    "_store_lock": 3, "_store_damage": 3, "_store_schema": 3, "_store_values": 3, "_store_keys": 3, "crypto": 3,
    "_crypto": 3, "_store_base": 3, "_store_delete": 3, "audit": 3, "privacy": 3,
    # L4 workflows
    "api": 4, "validate": 4, "interview": 4, "batch": 4, "rescore": 4,
    "_interview_end": 4, "_interview_facts": 4, "_interview_group": 4, "_interview_session": 4,
    "_interview_terminal": 4,
    "_interview_texts": 4, "_interview_dates": 4,
    "_batch_diff": 4, "_batch_jsonl": 4, "_batch_reasons": 4, "_batch_report": 4, "_batch_run": 4,
    "_batch_records": 4, "_batch_pool": 4,
    "_batch_score": 4, "_batch_store": 4, "_batch_texts": 4, "_batch_worker": 4,
    # L5 entry points and the façade that re-exports everything
    "cli": 5, "__main__": 5, "__init__": 5,
}
PURE_MAX = 2
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


def layer_key(module: str) -> str:
    """``screening.cli._core`` → ``cli``; ``screening`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


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


def upward_imports(path: Path, root: Path = REPO) -> list[str]:
    own_key = layer_key(dotted(path, root))
    own = LAYERS[own_key]
    internal, _ = imports_of(path, root)
    return [
        f"{rel(path, root)}:{imp.line}: L{own} {own_key} imports L{LAYERS[layer_key(imp.target)]} {imp.target}"
        for imp in internal
        if layer_key(imp.target) in LAYERS and LAYERS[layer_key(imp.target)] > own
    ]


def impurities(path: Path, root: Path = REPO) -> list[str]:
    """Banned libraries and clock reads, for modules of the pure layers."""
    if LAYERS.get(layer_key(dotted(path, root)), 99) > PURE_MAX:
        return []
    _, external = imports_of(path, root)
    banned = [f"{rel(path, root)}:{line}: imports {name}" for name, line in external if name in BANNED_IN_PURE]
    return banned + [f"{rel(path, root)}:{line}: reads the clock ({what})" for what, line in clock_reads(path)]


def test_every_module_has_a_layer() -> None:
    unknown = [rel(p) for p in module_files() if layer_key(dotted(p)) not in LAYERS]
    assert not unknown, (
        f"modules without a layer: {', '.join(unknown)} — add each to LAYERS in tests/test_layers.py "
        "(L0 core, L1 models, L2 pure engine, L3 adapters, L4 workflows, L5 cli) so its imports are checked"
    )


@pytest.mark.parametrize("path", module_files(), ids=rel)
def test_imports_point_down_the_layers(path: Path) -> None:
    if layer_key(dotted(path)) not in LAYERS:
        pytest.skip("unclassified; see test_every_module_has_a_layer")
    problems = upward_imports(path)
    assert not problems, "upward imports:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", module_files(), ids=rel)
def test_the_pure_core_imports_no_io_library_and_reads_no_clock(path: Path) -> None:
    problems = impurities(path)
    assert not problems, "\n".join(problems)


# --- the checker checks -------------------------------------------------------------------


def test_relative_imports_resolve_to_modules() -> None:
    internal, _ = imports_of(PACKAGE / "checks.py")
    targets = {imp.target for imp in internal}
    assert {"screening.engine.expr", "screening.errors", "screening.engine.instrument", "screening.engine._compile"} <= targets
    cli_internal, cli_external = imports_of(PACKAGE / "cli" / "_core.py")
    assert "screening.cli" in {imp.target for imp in cli_internal}
    assert "typer" in {name for name, _ in cli_external}


def test_the_checker_finds_an_upward_import_a_banned_library_and_a_clock(tmp_path: Path) -> None:
    fake = tmp_path / "screening"
    fake.mkdir()
    (fake / "loader.py").write_text("x = 1\n", encoding="utf-8")
    (fake / "scoring.py").write_text(
        "import datetime\nimport time\nfrom typing import TYPE_CHECKING\nfrom .loader import x\nimport yaml\n"
        "if TYPE_CHECKING:\n    from .cli import app\n"
        "now = datetime.datetime.now()\nthen = time.time()\nday = datetime.date.today()\n",
        encoding="utf-8",
    )
    path = fake / "scoring.py"
    assert upward_imports(path, tmp_path) == ["screening/engine/scoring.py:4: L2 scoring imports L3 screening.content.loader"]
    assert impurities(path, tmp_path) == [
        "screening/engine/scoring.py:5: imports yaml",
        "screening/engine/scoring.py:8: reads the clock (.now())",
        "screening/engine/scoring.py:9: reads the clock (time.time())",
        "screening/engine/scoring.py:10: reads the clock (.today())",
    ]
