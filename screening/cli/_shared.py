"""What several command modules share: option types, the store and time zone from the
settings, and the report formats and report writing.

May import: the library (lazily, inside functions, so ``--help`` stays light) / typer.
The command modules (``_core``, ``_interview``, ``_cases``, ``_report``) import this
one and not each other's helpers, so the CLI has no import circle.
"""

from __future__ import annotations

from datetime import tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..engine.result import Result

__all__ = [
    "SUFFIX_FORMATS",
    "HomeOption",
    "Lang",
    "StoreOption",
    "report_format",
    "store_setting",
    "view_zone",
    "write_report_file",
]

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Content directory (instruments/, rules/, reports/); default $SCREENING_HOME or bundled."
    ),
]


# Text, not a Path: a PostgreSQL store is a postgresql:// URL, which Path would mangle.
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store", help="Case store: an SQLite file or a postgresql:// URL; default $SCREENING_STORE or "
                        "~/.local/share/screening/screening.db."
    ),
]


class Lang(StrEnum):
    sv = "sv"
    en = "en"


def store_setting() -> Path | str | None:
    """The settings file's ``store``: a path, or a ``postgresql://`` URL kept as text."""
    import os

    from ..settings import load_settings

    if os.environ.get("SCREENING_STORE"):
        return None  # the environment wins over the file; Store.open reads it
    value = load_settings().get("store")
    if isinstance(value, str) and value.startswith(("postgresql://", "postgres://")):
        return value
    return Path(value).expanduser() if value else None


def view_zone() -> tzinfo | None:
    """The zone times are shown in: the settings' ``timezone``, else the system's (None)."""
    from ..report import local_zone
    from ..settings import setting

    return local_zone(setting("timezone"))


SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".txt": "txt"}


def report_format(path: Path | None, fmt: str | None, default: str = "txt") -> str:
    """The format to write ``path`` in: the one asked for, else the file's extension, else ``default``.

    Shared by ``interview --report`` and ``score --report`` so ``X.html`` is HTML
    whichever command wrote it. ``fmt`` may be a ``StrEnum`` member.
    """
    if fmt is not None:
        return str(fmt)
    if path is None:
        return default
    return SUFFIX_FORMATS.get(path.suffix.lower(), default)


def write_report_file(
    result: Result,
    path: Path,
    *,
    instrument: str | None = None,
    home: Path | None = None,
    lang: str = "sv",
    profile: str = "case-file",
    case: str | None = None,
) -> Path:
    """Render ``result`` to ``path`` (format from the suffix), atomically and owner-only.

    Used by ``screening score --report FILE``. ``instrument`` is the reference the
    result was scored from (id, id@version or path), so the report uses the same file.
    """
    from ..content.loader import load_instrument
    from ..files import write_private
    from ..report import CaseInfo, ReportError, render_report

    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReportError(f"{path}: the report file must end in .html, .md or .txt", "--report")
    ref = instrument or f"{result.instrument.id}@{result.instrument.version}"
    ci = load_instrument(ref, home)
    info = None if case is None else CaseInfo(case)
    from ..settings import setting

    text = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, case=info,
                         timezone=setting("timezone"))
    return write_private(path, text)
