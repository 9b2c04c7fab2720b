"""Commands ``rescore`` (re-score stored assessments after a change) and ``diff`` (what changed).

May import: the library / typer.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from . import app

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Content directory (instruments/, rules/, reports/); default $SCREENING_HOME."),
]
StoreOption = Annotated[
    str | None, typer.Option("--store", help="Case store (default $SCREENING_STORE or the user's data directory).")
]
InputOption = Annotated[
    Path | None, typer.Option("--input", help="Re-score a JSON Lines file instead of a store (one assessment a line).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", help="Every re-scored assessment as JSON Lines, with its migrated answers.")
]
VersionOption = Annotated[str | None, typer.Option("--from-version", help="Only assessments made with this version.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Target version (default: the latest); needs --instrument.")]
RulesOption = Annotated[str, typer.Option("--rules", help="Referral rule set id or path; 'none' for no referrals.")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Only assessments completed on or after this date.")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only assessments completed before this date.")]
ApplyOption = Annotated[bool, typer.Option("--apply", help="Store the new results (default: a dry run).")]
OutOption = Annotated[Path | None, typer.Option("-o", "--out", help="Write the diff report here (0600, atomic).")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, help="At most this many assessments listed in the report.")]
FullOption = Annotated[
    bool, typer.Option("--full-results", help="With --apply, also store the full result (with trace) of each change.")
]
ChunkOption = Annotated[int, typer.Option("--chunk", min=1, max=100_000, help="Assessments per transaction.")]


class DiffFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


class SpecFormat(StrEnum):
    text = "text"
    json = "json"


class Lang(StrEnum):
    sv = "sv"
    en = "en"


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            dt.date.fromisoformat(value)
        else:
            dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("an ISO date (YYYY-MM-DD) or date-time", param_hint=name) from None
    return value


@app.command("rescore")
def rescore_cmd(
    store: StoreOption = None,
    input_file: InputOption = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="Only assessments of this instrument.")] = None,
    from_version: VersionOption = None,
    to: ToOption = None,
    rules: RulesOption = "stockholm",
    since: SinceOption = None,
    until: UntilOption = None,
    apply: ApplyOption = False,
    fmt: Annotated[DiffFormat, typer.Option("--format", help="Diff report format.")] = DiffFormat.md,
    lang: Annotated[Lang, typer.Option("--lang")] = Lang.sv,
    out: OutOption = None,
    output: OutputOption = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64, help="Processes (the parent and jobs-1 workers).")] = 1,
    limit: LimitOption = 10_000,
    full_results: FullOption = False,
    chunk: ChunkOption = 5000,  # batch._store.CHUNK (not imported: it would slow down `--help`)
    home: HomeOption = None,
) -> int:
    """Re-score stored assessments against a new instrument version or rule set and list who changed.

    Dry run by default: the diff is shown and nothing is stored. Bad records are
    listed in the diff, never stop the run, and make the exit code 1.
    """
    from ..batch._report import render_diff
    from ..batch._run import RunConfig, run_jsonl, run_store
    from ..files import write_private

    if to is not None and instrument is None:
        raise typer.BadParameter("--to needs --instrument", param_hint="--to")
    if input_file is not None and (store is not None or apply):
        raise typer.BadParameter("--input reads a file; --store and --apply are for a case store", param_hint="--input")
    filters = {
        "instrument": instrument,
        "version": from_version,
        "since": _date(since, "--since"),
        "until": _date(until, "--until"),
    }
    config = RunConfig(
        instrument=instrument, to=to, rules=None if rules == "none" else rules,
        home=None if home is None else str(home), filters=filters,
        full_results="changed" if full_results else "none",
    )
    if input_file is not None:
        if not input_file.is_file():
            raise typer.BadParameter("no such file", param_hint="--input")
        summary = run_jsonl(input_file, config, jobs=jobs, output=output, limit=limit, chunk=chunk)
    else:
        from ..store import store_location

        where = store_location(store)  # a postgresql:// URL, or the SQLite file
        path = where.expanduser() if isinstance(where, Path) else where
        summary = run_store(path, config, apply=apply, jobs=jobs, output=output, limit=limit, chunk=chunk)
    services = summary.rules.catalogue.services if summary.rules is not None else {}
    text = render_diff(
        summary.diff, fmt.value, lang=lang.value, targets=summary.targets,
        services={sid: s.name for sid, s in services.items()},
    )
    if out is not None:
        write_private(out, text)
        typer.echo(summary.diff["summary"][lang.value], err=True)
    else:
        typer.echo(text, nl=False)
    return 1 if summary.failed else 0


@app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="Instrument (id@version or path) or rule set (id or path).")],
    new: Annotated[str, typer.Argument(help="The other version, of the same kind.")],
    fmt: Annotated[SpecFormat, typer.Option("--format")] = SpecFormat.text,
    home: HomeOption = None,
) -> None:
    """Show what changed between two instrument versions or two rule sets."""
    from ..errors import Issue, SpecError
    from ..referral.diffspec import diff_instruments, diff_rulesets, render_changes

    kinds = [_kind(old, home), _kind(new, home)]
    if kinds[0] != kinds[1]:
        raise SpecError([Issue(new, 0, 0, "", f"cannot compare an {kinds[0]} with a {kinds[1]}")])
    if kinds[0] == "instrument":
        from ..content.loader import load_instrument

        a, b = load_instrument(old, home), load_instrument(new, home)
        title = f"{a.instrument.id} {a.instrument.version} → {b.instrument.id} {b.instrument.version}"
        changes = diff_instruments(a.instrument, b.instrument)
    else:
        from ..content.rules_loader import load_rules

        x, y = load_rules(old, home), load_rules(new, home)
        title = f"{x.ruleset.id} {x.ruleset.version} → {y.ruleset.id} {y.ruleset.version}"
        changes = diff_rulesets(x.ruleset, y.ruleset)
    typer.echo(render_changes(title, changes, fmt.value), nl=False)


def _kind(ref: str, home: Path | None) -> str:
    """``instrument`` or ``rule set``: by the file's content for a path, else by name."""
    from ..content.loader import content_root, list_instruments

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        from ..content.yamlsafe import load_yaml_file

        data = load_yaml_file(path).data
        return "rule set" if isinstance(data, dict) and "tables" in data else "instrument"
    ident = ref.partition("@")[0]
    if "@" in ref or any(f.id == ident for f in list_instruments(home)):
        return "instrument"
    if (content_root(home) / "rules" / f"{ref}.yaml").is_file():
        return "rule set"
    return "instrument"  # the loader names what is missing
