"""Interview commands: ``interview`` (start or resume) and ``cases`` (list assessments; ``cases delete``).

May import: the library / typer.

The command opens the store, claims the draft (``AssessmentLocked`` if another
process has it), finds the pinned instrument version, and runs the interview
in the terminal. Ctrl-C exits 130 with a calm message; a quick-hide exits 0
with a neutral one. Everything acknowledged on screen is already committed.
The assessor (``--assessor``, else the OS user) is the actor the audit trail
names; a completed interview prints the audit checkpoint to keep.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import app
from ._shared import StoreOption

if TYPE_CHECKING:
    from ..engine.result import Result
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet
    from ..store import AssessmentInfo, Store

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Content directory (instruments/, rules/, reports/); default bundled."),
]
TargetArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="INSTRUMENT|REF",
        help="Instrument id, id@version or YAML path; with --resume, the case reference.",
    ),
]
CaseOption = Annotated[
    str | None, typer.Option("--case", help="Case reference: a pseudonym, never a personnummer; default random.")
]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue a draft at its first unanswered question.")]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="When completed, write the report to this file (0600).")
]
RulesOption = Annotated[
    str | None,
    typer.Option("--rules", help="Referral rule set (id or path); 'none' for no recommendations; "
                 "default: the settings (`screening config`), else the bundled default."),
]
TextsOption = Annotated[
    Path | None,
    typer.Option("--texts", help="Licensed official wording keyed by item id (overlays the paraphrased texts)."),
]


class Lang(StrEnum):
    sv = "sv"
    en = "en"


class ReportFormat(StrEnum):
    html = "html"
    md = "md"
    txt = "txt"


class StatusFilter(StrEnum):
    draft = "draft"
    completed = "completed"


@app.command("interview")
def interview_cmd(
    target: TargetArgument = None,
    case: CaseOption = None,
    resume: ResumeOption = False,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv (default) or en.")] = None,
    store: StoreOption = None,
    assessor: Annotated[str | None, typer.Option("--assessor", help="Who interviews (name or staff id).")] = None,
    report: ReportOption = None,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", help="Default: --report's extension.")] = None,
    rules: RulesOption = None,
    texts: TextsOption = None,
    home: HomeOption = None,
) -> None:
    """Walk through an instrument with a person, one question at a time; every answer is saved at once.

    Keys: the letters shown answer, ? = unknown, < previous, - skip, ! help,
    . save and quit, Ctrl-X or Esc hides the screen at once (everything is saved).
    """
    from ..content.loader import find_instrument, load_instrument_file
    from ..settings import setting
    from ..store import Store, check_case_ref
    from ._shared import report_format, store_setting

    if not resume and target is None:
        raise typer.BadParameter("give an instrument, or --resume to continue a draft", param_hint="INSTRUMENT")
    if case is not None:
        check_case_ref(case)
    ruleset = _load_rules(setting("rules", rules), home)
    if lang is None and not resume:
        lang = Lang(setting("lang") or "sv")
    # Only a new interview creates a store; --resume, like every other command, needs an existing one.
    with Store.open(store or store_setting(), actor=assessor, create=not resume) as st:
        if resume:
            info = _pick_draft(st, target or case)
            from ..interview._session import load_pinned

            ci = _with_texts(load_pinned(info, home), texts)
            _check_rules(ci, ruleset)
        else:
            assert target is not None
            path = find_instrument(target, home)
            ci = _with_texts(load_instrument_file(path), texts)
            _check_rules(ci, ruleset)
            if case is not None and st.find(case, status="draft"):
                from ..errors import StoreError

                raise StoreError(f"there is already a draft for this case; continue it with --resume {case}")
            info = st.create_assessment(
                ci, case_ref=case, assessor=assessor, lang=(lang or Lang.sv).value, instrument_path=path
            )
        st.lock(info.id)
        language = lang.value if lang is not None else info.lang
        chosen = report_format(report, fmt, setting("report.format") or "html")
        code = _run(st, ci, info, language, assessor or info.assessor, ruleset, report, chosen)
    if code:
        raise typer.Exit(code)


def _with_texts(ci: CompiledInstrument, texts: Path | None) -> CompiledInstrument:
    """The instrument with the licensed wording laid over it (``--texts``), checked before anything is stored."""
    if texts is None:
        return ci
    from ..content.texts import load_texts

    return load_texts(ci, texts)


def _load_rules(ref: str | None, home: Path | None) -> CompiledRuleSet | None:
    from ..api import resolve_rules

    return resolve_rules(ref, home)


def _check_rules(ci: CompiledInstrument, rules: CompiledRuleSet | None) -> None:
    """A rule set that cannot serve this instrument fails before the interview, not at its end."""
    if rules is not None:
        from ..assessment import assess

        assess(ci, {}, rules=rules)


def _pick_draft(st: Store, ref: str | None) -> AssessmentInfo:
    from ..errors import StoreError

    if ref is not None:
        drafts = st.find(ref, status="draft")
        if drafts:
            return drafts[0]
        if st.find(ref):
            raise StoreError("this case has no draft to continue: its assessment is completed", ref)
        raise StoreError("no assessment with this case reference", ref)
    drafts = list(st.list_assessments(status="draft"))
    if len(drafts) == 1:
        return drafts[0]
    if not drafts:
        raise StoreError("there is no draft to continue")
    refs = ", ".join(sorted({d.case_ref for d in drafts}))
    raise StoreError(f"several drafts; say which: screening interview --resume REF (drafts: {refs})")


def _run(
    st: Store,
    ci: CompiledInstrument,
    info: AssessmentInfo,
    lang: str,
    assessor: str | None,
    rules: CompiledRuleSet | None,
    report: Path | None,
    fmt: str,
) -> int:
    """Run the interview in the terminal; return the exit code."""
    from ..errors import InterviewInterrupted
    from ..interview import run_interview
    from ..interview._terminal import TerminalClosed, TerminalPrompter, hangup_guard
    from ..interview._texts import say

    closed: list[int] = []
    try:
        with hangup_guard(), TerminalPrompter() as prompter:
            try:
                outcome = run_interview(st, ci, info.id, prompter, lang=lang, assessor=assessor, rules=rules)
            except TerminalClosed as exc:  # raised outside a read (while writing)
                closed.append(exc.signum)
                raise InterviewInterrupted(info.id, None) from None
    except InterviewInterrupted as exc:
        context = exc.__context__
        if closed or isinstance(context, TerminalClosed):
            return 128 + (closed[0] if closed else getattr(context, "signum", 1))
        typer.echo("\n" + say("interrupted", lang, ref=_safe(info.case_ref)), err=True)
        return 130
    if outcome.status == "hidden":
        typer.echo(say("hidden", lang))
        return 0
    if outcome.status == "saved":
        typer.echo(say("quit", lang, ref=_safe(info.case_ref)))
        return 0
    if report is not None and outcome.result is not None:
        _write_report(st, outcome.result, ci, info, report, fmt, lang)
    point = st.checkpoint()
    typer.echo(("Granskningsloggens kontrollpunkt (spara den): " if lang == "sv" else
                "Audit trail checkpoint (keep it): ") + str(point))
    return 0


def _write_report(
    st: Store, result: Result, ci: CompiledInstrument, info: AssessmentInfo, path: Path, fmt: str, lang: str
) -> None:
    """Render the report with ``screening.report`` if this version has it; write it 0600."""
    from ..files import write_private
    from ..interview._texts import say

    try:
        from ..report import CaseInfo, render_report
    except ImportError:
        typer.echo(say("report_unavailable", lang), err=True)
        return
    case = CaseInfo(
        reference=info.case_ref,
        assessor=result.judgement.assessor if result.judgement else info.assessor,
        audit_checkpoint=str(st.checkpoint()),
    )
    from ..settings import setting

    text = render_report(result, instrument=ci, fmt=fmt, lang=lang, case=case, timezone=setting("timezone"))
    write_private(path, text)
    st.audit("report", info.id, detail=f"case-file {fmt}")
    typer.echo(say("report_written", lang, path=_safe(str(path))))


def _safe(text: str) -> str:
    from ..report.present import safe_text

    return safe_text(text)


cases_app = typer.Typer(
    name="cases",
    help="List assessments (never answers); `cases delete REF` removes a case.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(cases_app)


@cases_app.callback()
def cases_cmd(
    ctx: typer.Context,
    store: StoreOption = None,
    status: Annotated[StatusFilter | None, typer.Option("--status", help="Only drafts or only completed.")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="Only this instrument id.")] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv or en; default: the settings.")] = None,
) -> None:
    """List assessments: case reference, instrument, status and dates (never answers)."""
    from ..report._time import display_time  # local time with the zone, as in reports
    from ..settings import setting
    from ..store import Store
    from ._shared import store_setting, view_zone

    if ctx.invoked_subcommand is not None:
        return
    zone = view_zone()
    sv = (lang.value if lang is not None else setting("lang")) != "en"
    header = ("Referens", "Instrument", "Status", "Rev", "Påbörjad", "Ändrad") if sv else (
        "Reference", "Instrument", "Status", "Rev", "Started", "Changed")
    words = {"draft": "utkast" if sv else "draft", "completed": "slutförd" if sv else "completed"}
    with Store.open(store or store_setting()) as st:
        rows = [
            (_safe(a.case_ref), f"{a.instrument_id}@{a.instrument_version}", words[a.status], str(a.revision),
             display_time(a.created_at, zone), display_time(a.updated_at, zone))
            for a in st.list_assessments(status=status.value if status else None, instrument_id=instrument)
        ]
        st.audit("list", detail=f"{len(rows)} assessments")
    if not rows:
        typer.echo("Inga bedömningar." if sv else "No assessments.")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
