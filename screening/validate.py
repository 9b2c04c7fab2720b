"""``screening validate``: load every instrument and rule file, report all problems.

May import: errors, loader, rules_loader, migration, vectors / stdlib.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .content.loader import content_root, load_instrument_file
from .errors import SpecError
from .vectors import run_vectors

__all__ = ["validate_paths"]


def _files(paths: Iterable[Path], home: str | os.PathLike[str] | None) -> list[Path]:
    roots = list(paths) or [content_root(home) / "instruments", content_root(home) / "rules"]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(sorted(p for p in root.rglob("*.yaml")))
        else:
            files.append(root)
    return files


def validate_paths(paths: Iterable[Path], home: str | os.PathLike[str] | None, echo: Callable[[str], None]) -> int:
    """Validate files (default: all bundled content); return the number that failed."""
    failed = 0
    for path in _files(paths, home):
        kind = _kind(path)
        try:
            if kind == "instrument":
                ci = load_instrument_file(path)
                failures = run_vectors(ci)
                for failure in failures:
                    echo(f"{path}: {failure}")
                if failures:
                    failed += 1
                    continue
                from .content.migration_checks import migration_issues

                problems = migration_issues(path, ci.instrument)
                for problem in problems:
                    echo(str(problem))
                if problems:
                    failed += 1
                    continue
                echo(f"ok  {path} ({len(ci.instrument.tests)} golden vectors)")
            elif path.name == "legal.yaml" and path.parent.name == "rules":
                from .content.rules_loader import load_legal_table

                table = load_legal_table(path)
                echo(f"ok  {path} ({len(table.legal_bases)} legal grounds)")
            else:
                from .content.rules_loader import load_rules_file

                load_rules_file(path, home)
                echo(f"ok  {path}")
        except SpecError as exc:
            failed += 1
            echo(str(exc))
    return failed


def _kind(path: Path) -> str:
    parts = path.resolve().parts
    return "rules" if "rules" in parts[-3:] else "instrument"
