"""The ``report`` command: render a saved result as HTML, Markdown or text.

May import: the library / typer.

Reports hold personal data, so ``-o`` writes atomically and owner-only (0600).
Without ``-o`` the report goes to standard output, for piping.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import app
from ._shared import SUFFIX_FORMATS, HomeOption, Lang, StoreOption, report_format

if TYPE_CHECKING:
    from ..engine.result import Result

__all__ = ["load_result", "report_cmd"]





class ReportFormat(StrEnum):
    html = "html"
    md = "md"
    txt = "txt"


class ReportProfile(StrEnum):
    case_file = "case-file"
    referral = "referral"


@app.command("report")
def report_cmd(
    result_file: Annotated[
        Path | None,
        typer.Argument(help="A result saved with `screening score --format json`; or give --case REF alone."),
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option("--format", help="html (prints on A4), md or txt; default: -o's extension, else the settings."),
    ] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv or en; default: the settings.")] = None,
    profile: Annotated[
        ReportProfile | None,
        typer.Option("--profile", help="case-file: everything; referral: what a partner needs, no free text."),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="Case pseudonym (never a personal identity number); without RESULT_FILE, "
                     "the report of the case's completed assessment in the store."),
    ] = None,
    revision: Annotated[
        int | None,
        typer.Option("--revision", min=1, help="With --case: this revision (default: the latest completed)."),
    ] = None,
    store: StoreOption = None,
    assessor: Annotated[str | None, typer.Option("--assessor", help="Who assessed (needs --case).")] = None,
    assessed_at: Annotated[
        str | None, typer.Option("--assessed-at", help="ISO date-time of the assessment (needs --case).")
    ] = None,
    protected: Annotated[
        bool, typer.Option("--protected", help="The person has protected personal data (needs --case).")
    ] = False,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Directory of replacement templates (run sandboxed).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to FILE (owner-only) instead of stdout.")
    ] = None,
    instrument: Annotated[
        str | None,
        typer.Option("--instrument", help="Instrument id@version or YAML path; default: the result's. With --case "
                     "alone: the instrument id, when the case has several assessments."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Render a result as a report for the case file or a referral partner.

    From a saved result file, or with --case REF alone from the case store: the
    stored result of the case's completed assessment, with the instrument version
    it was made with. Settings (`screening config`) give the defaults.
    """
    from ..content.loader import load_instrument
    from ..report import CaseInfo, render_report
    from ..settings import setting

    if fmt is None and output is not None and output.suffix and output.suffix.lower() not in SUFFIX_FORMATS:
        raise typer.BadParameter(f"{output.suffix!r}: a report is .html, .md or .txt (or say --format)",
                                 param_hint="-o")
    chosen_fmt = report_format(output, fmt.value if fmt else None, setting("report.format") or "html")
    chosen_lang = lang.value if lang is not None else setting("lang") or "sv"
    chosen_profile = profile.value if profile is not None else setting("report.profile") or "case-file"
    if chosen_fmt not in SUFFIX_FORMATS.values():
        raise typer.BadParameter(f"{chosen_fmt!r}: choose html, md or txt", param_hint="--format")
    if result_file is None:
        if case is None:
            raise typer.BadParameter("give a result file, or --case REF for a case in the store",
                                     param_hint="RESULT_FILE")
        if assessor is not None or assessed_at is not None:
            raise typer.BadParameter("a stored assessment names its own assessor and time; drop these options",
                                     param_hint="--assessor/--assessed-at")
        from ._cases import stored_report

        text = stored_report(
            case, revision=revision, instrument=instrument, store=store, home=home, fmt=chosen_fmt,
            lang=chosen_lang, profile=chosen_profile, protected=protected, templates=templates,
            timezone=setting("timezone"),
        )
    else:
        if revision is not None or store is not None:
            raise typer.BadParameter("--revision and --store read a case from the store: give --case without a file",
                                     param_hint="--revision/--store")
        if case is None and (assessor is not None or assessed_at is not None or protected):
            raise typer.BadParameter("--assessor, --assessed-at and --protected describe a case: give --case too",
                                     param_hint="--case")
        info = None if case is None else CaseInfo(case, assessor, assessed_at, protected)
        result = load_result(result_file)
        ci = load_instrument(instrument or f"{result.instrument.id}@{result.instrument.version}", home)
        text = render_report(
            result, instrument=ci, fmt=chosen_fmt, lang=chosen_lang, profile=chosen_profile, case=info,
            templates=templates, timezone=setting("timezone"),
        )
    if output is None:
        typer.echo(text, nl=False)
        return
    from ..files import write_private

    write_private(output, text)
    typer.echo(f"{output}", err=True)


def load_result(path: Path) -> Result:
    """Read a result saved as JSON; every problem becomes a ``ReportError`` naming the file.

    Pydantic is told to hide input values, so no answer ends up in the message.
    """
    from pydantic import ValidationError

    from ..engine.result import SCHEMA_VERSION, Result
    from ..report import ReportError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read file ({exc.strerror or type(exc).__name__})") from None
    try:
        result = Result.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(
            f"{path}: not a saved result (from `screening score --format json`): {where}: {first['msg']}{more}"
        ) from None
    if result.schema_version != SCHEMA_VERSION:
        raise ReportError(f"{path}: result schema version {result.schema_version}; this version reads {SCHEMA_VERSION}")
    return result


