"""YAML files → validated, checked, compiled instruments; finding the bundled content.

May import: errors, instrument, checks, scoring, yamlsafe / pydantic, stdlib.

Every problem in a file becomes a ``path:line:col`` issue and all of them are
raised together. Content is found explicitly: a path, ``SCREENING_HOME``, or the
content bundled with the package (read through ``importlib.resources``), never
the current directory by accident.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..engine.checks import check_instrument
from ..engine.instrument import Instrument
from ..engine.scoring import CompiledInstrument
from ..errors import Issue, SpecError
from .yamlsafe import Document, issues_from_validation, load_yaml

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "InstrumentFile",
    "content_root",
    "find_instrument",
    "list_instruments",
    "load_instrument",
    "load_instrument_file",
    "parse_instrument",
    "validate_model",
]


def content_root(home: str | os.PathLike[str] | None = None) -> Path:
    """The directory holding ``instruments/``, ``rules/`` and ``reports/``.

    Order: the ``home`` argument, ``$SCREENING_HOME``, the copy bundled in the
    wheel, and, in a source checkout, the repository root.
    """
    if home is not None:
        return Path(home)
    env = os.environ.get("SCREENING_HOME")
    if env:
        return Path(env)
    bundled = resources.files("screening") / "_content"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class InstrumentFile:
    id: str
    version: str
    path: Path


def _semver(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (-1,)


def list_instruments(home: str | os.PathLike[str] | None = None) -> list[InstrumentFile]:
    """Every ``instruments/<id>/<version>.yaml`` under the content root, sorted."""
    base = content_root(home) / "instruments"
    found: list[InstrumentFile] = []
    if base.is_dir():
        for directory in sorted(p for p in base.iterdir() if p.is_dir()):
            for file in directory.glob("*.yaml"):
                found.append(InstrumentFile(directory.name, file.stem, file))
    return sorted(found, key=lambda f: (f.id, _semver(f.version)))


def find_instrument(ref: str, home: str | os.PathLike[str] | None = None) -> Path:
    """Resolve ``id``, ``id@version`` or a file path to an instrument file."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or os.sep in ref:
        if not candidate.is_file():
            raise SpecError([Issue(ref, 0, 0, "", "no such file")])
        return candidate
    ident, _, version = ref.partition("@")
    files = [f for f in list_instruments(home) if f.id == ident]
    if version:
        files = [f for f in files if f.version == version]
    if not files:
        from ..engine.expr import suggest

        known = sorted({f.id for f in list_instruments(home)})
        hint = suggest(ident, known)
        raise SpecError([Issue(ref, 0, 0, "", f"no bundled instrument {ref!r} (known: {', '.join(known)})", hint)])
    return files[-1].path


def load_instrument(ref: str, home: str | os.PathLike[str] | None = None) -> CompiledInstrument:
    """Load an instrument by id (latest version), ``id@version`` or path, ready to score.

    Raises:
        SpecError: every problem in the file, located.
    """
    return load_instrument_file(find_instrument(ref, home))


def load_instrument_file(path: str | os.PathLike[str]) -> CompiledInstrument:
    """Load one instrument file; the file's SHA-256 is stamped into every result."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SpecError([Issue(source, 0, 0, "", f"cannot read file ({exc.strerror})")]) from None
    return parse_instrument(data, source)


def parse_instrument(data: str | bytes, source: str = "<string>") -> CompiledInstrument:
    """Validate and compile instrument YAML given as text or bytes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    doc = load_yaml(raw, source, lenient=True)
    try:
        instrument = validate_model(Instrument, doc)
    except SpecError as exc:  # report strictness problems and model errors together
        raise SpecError([*doc.problems, *exc.issues]) from None
    issues = [*doc.problems, *_located(doc, check_instrument(instrument))]
    if instrument.id and Path(source).parent.name not in ("", ".") and source.endswith(".yaml"):
        issues.extend(_layout_issues(instrument, doc, Path(source)))
    if issues:
        raise SpecError(issues)
    return CompiledInstrument(instrument, hashlib.sha256(raw).hexdigest())


def validate_model(model: type[M], doc: Document) -> M:
    """Validate ``doc`` against ``model``, turning pydantic errors into located issues."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(issues_from_validation(exc, doc)) from None


def _located(doc: Document, problems: Iterator[object]) -> Iterator[Issue]:
    for problem in problems:
        loc = problem.loc  # type: ignore[attr-defined]
        mark = doc.mark_for(loc, prefer_key=getattr(problem, "at_key", False))
        column = mark.column
        offset = problem.column_offset  # type: ignore[attr-defined]
        if offset:  # a column inside an expression: skip the opening quote if there is one
            column += offset if tuple(loc) in doc.quoted else offset - 1
        yield Issue(
            doc.source,
            mark.line,
            column,
            ".".join(str(p) for p in loc),
            problem.message,  # type: ignore[attr-defined]
            problem.suggestion,  # type: ignore[attr-defined]
        )


def _layout_issues(instrument: Instrument, doc: Document, path: Path) -> Iterator[Issue]:
    """Bundled layout is ``instruments/<id>/<version>.yaml``; the file must agree."""
    if path.parent.parent.name != "instruments":
        return
    if path.parent.name != instrument.id:
        mark = doc.mark_for(("id",))
        yield Issue(
            doc.source,
            mark.line,
            mark.column,
            "id",
            f"id {instrument.id!r} does not match the directory {path.parent.name!r}",
        )
    if path.stem != instrument.version:
        mark = doc.mark_for(("version",))
        yield Issue(
            doc.source,
            mark.line,
            mark.column,
            "version",
            f"version {instrument.version!r} does not match the file name {path.name!r}",
        )
