"""Shared test helpers: inline instruments, file trees, and error capture.

Tests build the instrument they need next to the assertion (copier's
``build_file_tree`` habit), so a reader sees the whole case in one place:
``build_instrument(**overrides)`` starts from a small valid instrument and
replaces top-level keys; ``write_tree`` writes dedented files under a directory.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from screening import CompiledInstrument, Instrument, Issue, SpecError, parse_instrument
from screening.engine.checks import check_instrument

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
DEMO = FIXTURES / "demo.yaml"
# freda-farlighet 1.1.0: a revision written to show migrations, not a faithful instrument.
# It lives with the tests; ``fixture_home`` puts it beside the bundled content.
FREDA_DEMO = FIXTURES / "instruments" / "freda-farlighet" / "1.1.0.yaml"

__all__ = [
    "DEMO",
    "FIXTURES",
    "FREDA_DEMO",
    "REPO",
    "TESTS",
    "build_instrument",
    "compile_data",
    "compile_instrument",
    "fixture_home",
    "instrument_yaml",
    "issues_of",
    "item",
    "python_env",
    "run_python",
    "text",
    "to_yaml",
    "write_tree",
    "yes_no_scale",
]


def text(words: str) -> dict[str, str]:
    """A bilingual text; tests do not care about the translation."""
    return {"sv": words, "en": words}


def yes_no_scale(yes: int = 1, no: int = 0) -> dict[str, Any]:
    """The usual yes/no/unknown scale with the given points."""
    return {
        "options": [
            {"value": "yes", "label": text("Ja"), "points": yes},
            {"value": "no", "label": text("Nej"), "points": no},
            {"value": "unknown", "label": text("Vet ej"), "unknown": True},
        ]
    }


def item(ident: str, scale: str = "yn", **extra: Any) -> dict[str, Any]:
    """A choice item with a placeholder question."""
    return {"id": ident, "text": text(f"Fråga {ident}"), "scale": scale, **extra}


_BASE: dict[str, Any] = {
    "id": "t",
    "version": "1.0.0",
    "title": text("Testinstrument"),
    "description": text("Ett instrument för tester."),
    "intro": text("Några frågor."),
    "model": "count",
    "source": {
        "manual": "Test manual",
        "edition": "1",
        "publisher": "screening tests",
        "paraphrased": True,
        "note": text("Egna formuleringar."),
    },
    "scales": {"yn": yes_no_scale()},
    "sections": [{"id": "main", "title": text("Frågor"), "items": [item("a"), item("b"), item("c")]}],
    "scores": [{"id": "total", "label": text("Antal ja"), "kind": "count", "values": ["yes"]}],
    "levels": [
        {"id": "low", "label": text("Låg")},
        {"id": "medium", "label": text("Medel")},
        {"id": "high", "label": text("Hög")},
    ],
    "bands": {
        "score": "total",
        "ranges": [
            {"level": "low", "min": 0, "max": 0},
            {"level": "medium", "min": 1, "max": 1},
            {"level": "high", "min": 2, "max": 3},
        ],
    },
    "critical": [],
    "missing": {"max_unknown": 0},
    "judgement": {"policy": "raise_only"},
}


def build_instrument(**overrides: Any) -> dict[str, Any]:
    """A valid three-item count instrument as data, with top-level keys replaced.

    An override of ``None`` removes the key, so a test can drop ``bands`` or
    ``critical`` without spelling out the rest.
    """
    data = copy.deepcopy(_BASE)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = copy.deepcopy(value)
    return data


def to_yaml(data: Mapping[str, Any]) -> str:
    """YAML text for ``data`` (``yaml.safe_dump`` quotes ``'yes'`` for us)."""
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=1000)


def instrument_yaml(**overrides: Any) -> str:
    return to_yaml(build_instrument(**overrides))


def compile_instrument(source: str = "<test>", **overrides: Any) -> CompiledInstrument:
    """``build_instrument`` parsed by the real loader (so it is checked like any file)."""
    return parse_instrument(instrument_yaml(**overrides), source)


def compile_data(data: Mapping[str, Any]) -> CompiledInstrument:
    """Validate, check and compile instrument *data*, skipping only the YAML text.

    Twenty times faster than ``parse_instrument`` (the YAML reader is pure Python),
    which is what lets the Hypothesis properties try thousands of instruments. The
    model and the cross-reference checks are the loader's own.
    """
    try:
        instrument = Instrument.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(
            Issue("<data>", 0, 0, ".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors(include_input=False)
        ) from None
    problems = [Issue("<data>", 0, 0, ".".join(map(str, p.loc)), p.message) for p in check_instrument(instrument)]
    if problems:
        raise SpecError(problems)
    return CompiledInstrument(instrument)


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> dict[str, Path]:
    """Write ``{relative path: content}`` under ``root``; text is dedented.

    Returns:
        relative path → absolute path of each file written.
    """
    written: dict[str, Path] = {}
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        written[rel] = path
    return written


def issues_of(data: str | bytes, source: str = "bad.yaml") -> tuple[Issue, ...]:
    """Parse an instrument that must fail; return its issues."""
    with pytest.raises(SpecError) as info:
        parse_instrument(data, source)
    assert info.value.issues, "a SpecError must carry at least one issue"
    return info.value.issues


def python_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python that imports this checkout's ``screening``."""
    env = dict(os.environ)
    path = [str(REPO), str(TESTS)]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


def run_python(
    code: str, *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` in a child process and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(env) if env is not None else python_env(),
        timeout=timeout,
        check=False,
    )


def fixture_home(root: Path) -> Path:
    """A content root under ``root``: the bundled content plus the fixture instruments.

    Rules and report templates are linked, each instrument version file is linked, and
    ``tests/fixtures/instruments/<id>/<version>.yaml`` is added beside them, so
    ``load_instrument("freda-farlighet@1.1.0", home)`` and ``--home`` find the
    migration demonstration while the bundled newest version stays the faithful one.
    """
    home = root / "demo-home"
    if home.is_dir():
        return home
    for name in ("rules", "reports"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).symlink_to(REPO / name, target_is_directory=True)
    for base in (REPO / "instruments", FIXTURES / "instruments"):
        for file in sorted(base.glob("*/*.yaml")):
            target = home / "instruments" / file.parent.name / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(file)
    return home
