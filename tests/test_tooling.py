"""Tooling gates: ruff and mypy (config from pyproject.toml) pass, and no unsafe call creeps in.

ruff and mypy run as child processes when they are installed (skipped otherwise);
their output is printed on failure. The grep gate scans ``screening/`` and
``reports/`` for calls that must never appear: unsafe YAML loading, eval/exec,
pickle, unescaped templates and tracebacks that show local variables (which can
hold answers). In Python files only code is scanned — comments and strings are
blanked first — so a docstring may say "no pickle"; templates are scanned whole.
"""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from helpers import REPO

FORBIDDEN = {
    "yaml.load(": re.compile(r"\byaml\.load\("),
    "full_load": re.compile(r"full_load"),
    "unsafe_load": re.compile(r"unsafe_load"),
    "UnsafeLoader": re.compile(r"UnsafeLoader"),
    "FullLoader": re.compile(r"FullLoader"),
    "eval(": re.compile(r"(?<![\w.])eval\("),
    "exec(": re.compile(r"(?<![\w.])exec\("),
    "pickle": re.compile(r"\bc?[pP]ickle\b"),
    "|safe": re.compile(r"\|\s*safe\b"),
    "autoescape=False": re.compile(r"autoescape\s*=\s*False"),
    "show_locals=True": re.compile(r"show_locals\s*=\s*True"),
}
SCANNED = ("screening", "reports")


def _tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_check_is_clean() -> None:
    proc = _tool("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    proc = _tool("mypy")  # files and strictness come from [tool.mypy] in pyproject.toml
    assert proc.returncode == 0, proc.stdout + proc.stderr


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for top in SCANNED:
        root = REPO / top
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def code_only(source: str) -> str:
    """Python source with comments and string literals blanked, line numbers kept."""
    lines = source.splitlines()
    blank: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.STRING) or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            blank.append((tok.start, tok.end))
    for (srow, scol), (erow, ecol) in reversed(blank):
        for row in range(srow, erow + 1):
            line = lines[row - 1]
            start = scol if row == srow else 0
            end = ecol if row == erow else len(line)
            lines[row - 1] = line[:start] + " " * (end - start) + line[end:]
    return "\n".join(lines)


def find_forbidden(text: str, python: bool = False) -> list[tuple[int, str]]:
    if python:
        text = code_only(text)
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        hits += [(number, name) for name, pattern in FORBIDDEN.items() if pattern.search(line)]
    return hits


def test_no_forbidden_calls_in_the_package_or_the_templates() -> None:
    files = scanned_files()
    assert any(p.suffix == ".py" for p in files)
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and other binary files
        hits = find_forbidden(text, python=path.suffix == ".py")
        found += [f"{path.relative_to(REPO)}:{line}: {name}" for line, name in hits]
    assert not found, "forbidden in screening/ or reports/:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("data = yaml.load(text, Loader=yaml.Loader)", "yaml.load("),
        ("yaml.full_load(text)", "full_load"),
        ("yaml.unsafe_load(text)", "unsafe_load"),
        ("Loader=yaml.UnsafeLoader", "UnsafeLoader"),
        ("Loader=yaml.FullLoader", "FullLoader"),
        ("value = eval(text)", "eval("),
        ("exec(code)", "exec("),
        ("import pickle", "pickle"),
        ("{{ answer|safe }}", "|safe"),
        ("{{ answer | safe }}", "|safe"),
        ("Environment(autoescape=False)", "autoescape=False"),
        ("typer.Typer(pretty_exceptions_show_locals=True)", "show_locals=True"),
    ],
)
def test_the_gate_catches_each_pattern(line: str, name: str) -> None:
    assert (1, name) in find_forbidden(line)
    if not line.startswith("{{"):
        assert (1, name) in find_forbidden(line, python=True)


@pytest.mark.parametrize(
    "line",
    [
        "tree = ast.parse(text, mode='eval')",
        "ev = ci.evaluate(answers)",
        "value = ast.literal_eval(text)",
        "doc = load_yaml(raw, source)",
        "pretty_exceptions_show_locals=False",
        "{{ answer|e }}",
    ],
)
def test_the_gate_lets_harmless_lines_pass(line: str) -> None:
    assert find_forbidden(line) == []


def test_prose_about_forbidden_things_is_not_code() -> None:
    source = '"""Workers talk JSON over pipes (no pickle)."""\nx = 1  # never yaml.load( or eval(\n'
    assert find_forbidden(source, python=True) == []
    assert find_forbidden(source + "import pickle\n", python=True) == [(3, "pickle")]
