"""Core commands: instruments, show, validate, score, schema.

May import: the library / typer.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from . import app
from ._shared import HomeOption, Lang, write_report_file

TextsOption = Annotated[
    Path | None,
    typer.Option("--texts", help="Licensed official wording keyed by item id (overlays the paraphrased texts)."),
]




class Format(StrEnum):
    text = "text"
    json = "json"


@app.command("instruments")
def instruments_cmd(home: HomeOption = None) -> None:
    """List the bundled instruments: id, version, title and item count."""
    from ..content.loader import list_instruments, load_instrument_file

    for entry in list_instruments(home):
        ci = load_instrument_file(entry.path)
        inst = ci.instrument
        typer.echo(f"{inst.id:<24} {inst.version:<8} {len(ci.order):>3} items  {inst.title.sv}")


@app.command("show")
def show_cmd(
    instrument: Annotated[str, typer.Argument(help="Instrument id, id@version or a YAML path.")],
    fmt: Annotated[Format, typer.Option("--format", help="text for reading, json for other systems.")] = Format.text,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv or en; default: the settings.")] = None,
    texts: TextsOption = None,
    home: HomeOption = None,
) -> None:
    """Show an instrument's questions and allowed answers."""
    from ..content.loader import load_instrument

    ci = load_instrument(instrument, home)
    if texts is not None:
        from ..content.texts import load_texts

        ci = load_texts(ci, texts)
    if fmt is Format.json:
        payload = {
            "sha256": ci.sha256,
            "instrument": ci.instrument.model_dump(mode="json", exclude={"tests"}),
            "items": [
                {"id": item.id, "type": item.type, "allowed": list(ci.allowed(item))} for item in ci.items.values()
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True))
        return
    from ..report.present import questionnaire_text
    from ..settings import setting

    typer.echo(questionnaire_text(ci, lang.value if lang is not None else setting("lang") or "sv"))


@app.command("validate")
def validate_cmd(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or directories; default: all bundled content.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Check instruments and rules, all problems at once, and run the golden vectors."""
    from ..validate import validate_paths

    failed = validate_paths(paths or [], home, typer.echo)
    if failed:
        raise typer.Exit(1)


@app.command("score")
def score_cmd(
    instrument: Annotated[str, typer.Argument(help="Instrument id, id@version or a YAML path.")],
    answers: Annotated[Path, typer.Argument(help="YAML or JSON file mapping item ids to answers.")],
    judgement: Annotated[
        str | None, typer.Option(help="The assessor's level: its id, its label (e.g. 'Hög farlighet') or its key.")
    ] = None,
    rationale: Annotated[
        str | None, typer.Option(help="Why (required with --judgement; at most 4000 characters).")
    ] = None,
    acknowledge: Annotated[
        list[str] | None,
        typer.Option(
            "--acknowledge",
            help="RULE=REASON: why a critical rule an unknown answer could make hold is judged not to "
            "(needed for a judgement below it; repeatable).",
        ),
    ] = None,
    assessor: Annotated[str | None, typer.Option(help="Who assessed.")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.json,
    lang: Annotated[Lang | None, typer.Option("--lang", help="sv or en; default: the settings.")] = None,
    rules: Annotated[
        str | None,
        typer.Option(help="Referral rule set id or path; 'none' for no referrals; default: the settings, "
                     "else the bundled default."),
    ] = None,
    fact: Annotated[
        list[str] | None,
        typer.Option("--fact", help="Case fact name=value, e.g. children_in_household=true, age=17 (repeatable)."),
    ] = None,
    texts: TextsOption = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write a case-file report to FILE (.html, .md or .txt), owner-only."),
    ] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Case pseudonym for --report (never a personal identity number).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Score an answers file and print the result with recommended referrals (JSON by default)."""
    from ..api import parse_fact, score_file
    from ..report.present import result_text
    from ..settings import setting

    rules = setting("rules", rules)
    lang = lang if lang is not None else Lang(setting("lang") or "sv")

    if (judgement is None) != (rationale is None):
        raise typer.BadParameter("--judgement and --rationale go together", param_hint="--judgement/--rationale")
    facts = dict(parse_fact(f) for f in fact or [])
    reasons: dict[str, str] = {}
    for entry in acknowledge or []:
        rule, sep, why = entry.partition("=")
        if not sep or not rule.strip():
            raise typer.BadParameter("write RULE=REASON", param_hint="--acknowledge")
        reasons[rule.strip()] = why
    result = score_file(
        instrument,
        answers,
        judgement=judgement,
        rationale=rationale,
        assessor=assessor,
        home=home,
        rules=rules,
        facts=facts,
        texts=texts,
        lang=lang.value,
        acknowledged=reasons,
    )
    if report is not None:

        write_report_file(result, report, instrument=instrument, home=home, lang=lang.value, case=case)
    if fmt is Format.json:
        typer.echo(result.to_json(), nl=False)
    else:
        typer.echo(result_text(result, lang.value))


@app.command("schema")
def schema_cmd(
    which: Annotated[str, typer.Argument(help="instrument, result or all")] = "all",
) -> None:
    """Print the JSON Schema of the instrument format and of the result."""
    from ..engine.instrument import Instrument
    from ..engine.result import Result

    schemas = {"instrument": Instrument.model_json_schema(), "result": Result.model_json_schema()}
    if which not in ("all", *schemas):
        raise typer.BadParameter("choose instrument, result or all", param_hint="WHICH")
    payload = schemas if which == "all" else schemas[which]
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True))
