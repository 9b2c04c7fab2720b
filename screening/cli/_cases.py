"""``cases show REF`` and the store side of ``report --case REF``: a completed assessment from the command line.

May import: the library / typer.

Before this, a completed assessment's report could be produced only through the
library: ``interview --resume`` refuses completed cases and nothing exported
them (issue 13, seen 2). ``cases show`` prints one assessment for the caseworker
— metadata, answers and case facts in words, the stored result's level, status
and referrals, and the history of its revisions — and ``report --case`` renders
the stored result of a completed revision with the pinned instrument version.
Both are views of a case and are written to the audit trail first, as the
interview's view is (``view`` and ``report`` records). No personnummer is ever
printed: the case reference cannot be one (``check_case_ref``) and any text
answer that contains one is masked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._interview import Lang, cases_app
from ._shared import StoreOption, store_setting, view_zone

if TYPE_CHECKING:
    from ..engine.instrument import Item
    from ..engine.result import Result
    from ..engine.scoring import CompiledInstrument
    from ..store import AssessmentInfo, Store

__all__ = ["Revision", "find_case", "revisions", "show_cmd", "stored_report"]

_W = {
    "case": ("Ärende", "Case"),
    "instrument": ("Instrument", "Instrument"),
    "revision": ("Revision", "Revision"),
    "status": ("Status", "Status"),
    "started": ("Påbörjad", "Started"),
    "completed": ("Slutförd", "Completed"),
    "assessor": ("Bedömare", "Assessor"),
    "facts": ("Uppgifter om ärendet", "Facts about the case"),
    "answers": ("Svar", "Answers"),
    "result": ("Resultat", "Result"),
    "no_result": ("Inget sparat resultat för revisionen.", "No stored result for this revision."),
    "history": ("Historik", "History"),
    "draft": ("utkast", "draft"),
    "done": ("slutförd", "completed"),
    "row": ("Rad", "Row"),
    "unknown": ("vet inte / inget svar", "not known / no answer"),
    "no_rows": ("inga rader", "no rows"),
    "none": ("inga", "none"),
    "pnr": ("[personnummer dolt]", "[personal identity number hidden]"),
    "results": ("resultat", "results"),
    "level": ("nivå", "level"),
}


def _w(key: str, lang: str) -> str:
    sv, en = _W[key]
    return en if lang == "en" else sv


@dataclass(frozen=True)
class Revision:
    """One revision of an assessment, as the history lists it."""

    number: int
    status: str
    created_at: str
    completed_at: str | None
    instrument_version: str
    instrument_sha256: str


def revisions(st: Store, assessment_id: str) -> list[Revision]:
    """Every revision of an assessment, oldest first (metadata only: nothing here is sealed)."""
    rows = st.connection.execute(
        "SELECT revision, status, created_at, completed_at, instrument_version, instrument_sha256"
        " FROM revisions WHERE assessment_id = ? ORDER BY revision",
        (assessment_id,),
    ).fetchall()
    return [Revision(int(r[0]), str(r[1]), str(r[2]), r[3], str(r[4]), str(r[5])) for r in rows]


def find_case(st: Store, ref: str, instrument: str | None) -> AssessmentInfo:
    """The one assessment with this case reference (and instrument id, when a case has several).

    Raises:
        StoreError: none, or several and no ``instrument`` to choose by.
    """
    from ..errors import StoreError
    from ..store import check_case_ref

    check_case_ref(ref)
    found = [a for a in st.find(ref) if instrument is None or a.instrument_id == instrument]
    if not found:
        raise StoreError("no assessment with this case reference" + (f" and instrument {instrument}"
                                                                      if instrument else ""), ref)
    if len(found) > 1:
        ids = ", ".join(sorted({a.instrument_id for a in found}))
        if len({a.instrument_id for a in found}) > 1:
            raise StoreError(f"several assessments for this case ({ids}); say which with --instrument ID", ref)
    return found[0]  # newest first


def _pick_revision(st: Store, info: AssessmentInfo, number: int | None, completed: bool) -> Revision:
    from ..errors import StoreError

    history = revisions(st, info.id)
    if number is not None:
        chosen = next((r for r in history if r.number == number), None)
        if chosen is None:
            raise StoreError(f"no revision {number} (revisions: 1–{len(history)})", info.case_ref)
        if completed and chosen.status != "completed":
            raise StoreError(f"revision {number} is a draft; a report is made of a completed revision",
                             info.case_ref)
        return chosen
    if not completed:
        return history[-1]
    done = [r for r in history if r.status == "completed"]
    if not done:
        raise StoreError("the assessment is not completed; continue it with "
                         f"`screening interview --resume {info.case_ref}`", info.case_ref)
    return done[-1]


def _pinned(info: AssessmentInfo, rev: Revision, home: Path | None) -> CompiledInstrument:
    from ..interview._session import load_pinned

    return load_pinned(replace(info, instrument_version=rev.instrument_version,
                               instrument_sha256=rev.instrument_sha256), home)


# ---------------------------------------------------------------- cases show


@cases_app.command("show")
def show_cmd(
    ref: Annotated[str, typer.Argument(metavar="REF", help="Ärendets referens. / The case reference.")],
    revision: Annotated[
        int | None, typer.Option("--revision", min=1, help="Revision (standard: den senaste / default: the latest).")
    ] = None,
    instrument: Annotated[
        str | None,
        typer.Option("--instrument", help="Instrument-id när ärendet har flera. / When the case has several."),
    ] = None,
    store: StoreOption = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv eller/or en.")] = None,
    home: Annotated[Path | None, typer.Option("--home", help="Content directory; default bundled.")] = None,
) -> None:
    """Visa en bedömning: svar, uppgifter, resultat och historik. / Show one assessment in words."""
    from ..settings import setting
    from ..store import Store, check_case_ref

    words = lang.value if lang is not None else setting("lang") or "sv"
    check_case_ref(ref)  # a personnummer is refused before anything is opened
    with Store.open(store or store_setting()) as st:
        info = find_case(st, ref, instrument)
        rev = _pick_revision(st, info, revision, completed=False)
        st.audit("view", info.id, detail=f"cases show, revision {rev.number}")
        ci = _pinned(info, rev, home)
        answers = st.answers(info.id, rev.number)
        facts = st.facts(info.id, rev.number)
        stored = st.results(info.id, rev.number)
        history = [(r, st.results(info.id, r.number)) for r in revisions(st, info.id)]
    result = stored[-1][1] if stored else None
    for line in _show_lines(info, rev, ci, answers, facts, result, history, words, home):
        typer.echo(_no_personnummer(line, words))


def _no_personnummer(line: str, lang: str) -> str:
    """Every personnummer-shaped run in a line (a free-text answer, a rationale) masked, the rest kept."""
    from ..engine.pnr import _PERSONNUMMER, looks_like_personnummer

    return _PERSONNUMMER.sub(_w("pnr", lang), line) if looks_like_personnummer(line) else line




def _show_lines(
    info: AssessmentInfo, rev: Revision, ci: CompiledInstrument, answers: dict[str, object],
    facts: dict[str, object], result: Result | None, history: list[tuple[Revision, list[tuple[str, Result]]]],
    lang: str, home: Path | None,
) -> list[str]:
    from ..report.present import result_text, safe_text

    inst = ci.instrument
    status = _w("done" if rev.status == "completed" else "draft", lang)
    lines = [
        f"{_w('case', lang)}: {safe_text(info.case_ref)}",
        f"{_w('instrument', lang)}: {inst.title.get(lang)} ({inst.id} {inst.version})",
        f"{_w('revision', lang)}: {rev.number} / {len(history)}    {_w('status', lang)}: {status}",
        f"{_w('started', lang)}: {_time(rev.created_at)}"
        + (f"    {_w('completed', lang)}: {_time(rev.completed_at)}" if rev.completed_at else ""),
        f"{_w('assessor', lang)}: {safe_text(info.assessor or '—')}",
        "",
        f"== {_w('facts', lang)} ==",
    ]
    lines += _fact_lines(facts, result, lang, home) or [f"  {_w('none', lang)}"]
    lines += ["", f"== {_w('answers', lang)} =="]
    for section in inst.sections:
        shown = [item for item in section.items if item.id in answers]
        if shown:
            lines.append(f"{section.title.get(lang)}:")
        for item in shown:
            lines += _answer_lines(ci, item, answers[item.id], lang)
    lines += ["", f"== {_w('result', lang)} =="]
    lines += result_text(result, lang, ci).rstrip("\n").split("\n") if result else [_w("no_result", lang)]
    lines += ["", f"== {_w('history', lang)} =="]
    for r, results in history:
        level = ""
        if results:
            last = results[-1][1]
            name = last.level_labels.get(last.final_level or "")
            level = f"  {_w('level', lang)}: {name.get(lang) if name else last.final_level or '—'}"
        done = f"  {_w('completed', lang).lower()} {_time(r.completed_at)}" if r.completed_at else ""
        lines.append(f"  {r.number}. {_w('done' if r.status == 'completed' else 'draft', lang)}"
                     f"  {_time(r.created_at)}{done}  {r.instrument_version}"
                     f"  {len(results)} {_w('results', lang)}{level}")
    return lines


def _time(text: str | None) -> str:
    from ..report._time import display_time

    return display_time(text, view_zone()) if text else "—"




def _fact_lines(facts: dict[str, object], result: Result | None, lang: str, home: Path | None) -> list[str]:
    """Stored facts in words: as the stored result names them, else by the rule set's declarations."""
    named = {f.name: f for f in result.case_facts} if result else {}
    specs = {}
    if any(name not in named for name in facts):
        from ..api import resolve_rules
        from ..errors import ScreeningError
        from ..settings import setting

        ref = result.ruleset.get("id") if result and result.ruleset else setting("rules")
        try:
            rules = resolve_rules(ref, home)
        except ScreeningError:
            rules = None
        specs = dict(rules.ruleset.facts) if rules is not None else {}
    from ..referral._words import fact_text

    lines = []
    for name, value in facts.items():
        if name in named:
            fact = named[name]
            lines.append(f"  {fact.label.get(lang)}: {fact.text.get(lang)}")
        elif name in specs:
            lines.append(f"  {specs[name].label.get(lang)}: {fact_text(specs[name], value).get(lang)}")
        else:
            lines.append(f"  {name}: {_w('unknown', lang) if value is None else _plain(value, lang)}")
    return lines


def _answer_lines(ci: CompiledInstrument, item: Item, value: object, lang: str) -> list[str]:
    head = f"  {item.text.get(lang)}"
    if item.type == "group":
        if not isinstance(value, list) or not value:
            return [f"{head}: {_w('unknown' if value is None else 'no_rows', lang)}"]
        lines = [f"{head}:"]
        for n, row in enumerate(value, 1):  # one field a line: a PATRIARK perpetrator has 21
            lines.append(f"    {_w('row', lang)} {n}:")
            lines += [
                f"      {f.text.get(lang)}: {_words(ci, f, row.get(f.id) if isinstance(row, dict) else None, lang)}"
                for f in item.fields or ()
            ]
        return lines
    return [f"{head}: {_words(ci, item, value, lang)}"]


def _words(ci: CompiledInstrument, item: Item, value: object, lang: str) -> str:
    if value is None:
        return _w("unknown", lang)
    if item.type == "choice" and isinstance(value, str):
        scale = ci.instrument.scales.get(item.scale or "")
        for option in scale.options if scale else ():
            if option.value == value:
                return option.label.get(lang)
    return _plain(value, lang)


def _plain(value: object, lang: str) -> str:
    from ..report.present import safe_text

    if isinstance(value, bool):
        return ("ja" if value else "nej") if lang == "sv" else ("yes" if value else "no")
    return safe_text(str(value)).replace("\n", " / ")  # one line, so the personnummer filter sees it whole


# ---------------------------------------------------------------- report --case


def stored_report(
    ref: str,
    *,
    revision: int | None,
    instrument: str | None,
    store: Path | str | None,
    home: Path | None,
    fmt: str,
    lang: str,
    profile: str,
    protected: bool,
    templates: Path | None,
    timezone: str | None,
) -> str:
    """The report of a completed revision's stored result, rendered with its pinned instrument; audited."""
    from ..errors import StoreError
    from ..report import CaseInfo, render_report
    from ..store import Store, check_case_ref

    check_case_ref(ref)
    with Store.open(store or store_setting()) as st:
        info = find_case(st, ref, instrument)
        rev = _pick_revision(st, info, revision, completed=True)
        stored = st.results(info.id, rev.number)
        if not stored:
            raise StoreError(f"revision {rev.number} has no stored result; `screening rescore` stores one", ref)
        result = stored[-1][1]
        ci = _pinned(info, rev, home)
        st.audit("report", info.id, detail=f"{profile} {fmt}, revision {rev.number}")
        case = CaseInfo(
            reference=info.case_ref,
            assessor=result.judgement.assessor if result.judgement and result.judgement.assessor else info.assessor,
            assessed_at=result.assessed_at or rev.completed_at,
            protected_identity=protected,
            audit_checkpoint=str(st.checkpoint()),
        )
    return render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, case=case,
                         templates=templates, timezone=timezone)
