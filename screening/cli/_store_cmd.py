"""Commands ``store upgrade`` (run the schema's migrations) and ``store copy`` (SQLite ↔ PostgreSQL).

May import: the library (lazily, inside the commands, so ``--help`` stays light) / typer.

Both are the administrator's steps: an upgrade changes the schema (on PostgreSQL the
caseworkers' account should not be allowed to, docs/postgresql.md), and a copy moves a
whole store — its sealed values, keys and audit chain as they are — into a new, empty
one, re-verifying the chain there and counting what it copied.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import app
from ._interview import Lang
from ._shared import StoreOption

store_app = typer.Typer(
    name="store", help="The case store: upgrade its schema, or copy it between SQLite and PostgreSQL.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
)
app.add_typer(store_app)

LangOption = Annotated[Lang, typer.Option("--lang")]


def _t(lang: Lang, sv: str, en: str) -> str:
    return en if lang is Lang.en else sv


@store_app.command("upgrade")
def upgrade_cmd(store: StoreOption = None, lang: LangOption = Lang.sv) -> None:
    """Bring the store's schema up to this version of screening (forward only; a newer store is refused)."""
    from ..store import store_location
    from ..store._copy import upgrade_store

    kind, before, after = upgrade_store(store_location(store))
    if before == after:
        typer.echo(_t(lang, f"Lagret ({kind}) har redan schemaversion {after}; inget ändrades.",
                      f"The store ({kind}) is already at schema version {after}; nothing was changed."))
    else:
        typer.echo(_t(lang, f"Lagret ({kind}) uppgraderades från schemaversion {before} till {after}.",
                      f"The store ({kind}) was upgraded from schema version {before} to {after}."))


@store_app.command("copy")
def copy_cmd(
    source: Annotated[
        str, typer.Argument(metavar="SRC", help="The store to copy: an SQLite file or a postgresql:// URL.")
    ],
    destination: Annotated[
        str, typer.Argument(metavar="DST", help="A new, empty store: an SQLite file or a postgresql:// URL.")
    ],
    lang: LangOption = Lang.sv,
) -> None:
    """Copy a store, SQLite to PostgreSQL or back, and check the copy: its audit trail and every count.

    The copy is the same store (same id, keys and audit trail): use one of the two afterwards.
    """
    from ..errors import StoreError
    from ..store import Store, store_location
    from ..store._copy import copy_store

    src, dst = store_location(source), store_location(destination)
    if str(src) == str(dst):
        raise StoreError(_t(lang, "källan och målet är samma lager",
                            "the source and the destination are the same store"))
    with Store.open(src) as a, Store.open(dst, create=True) as b:
        counts = copy_store(a, b)
    typer.echo(_t(
        lang,
        f"Kopierat: {counts.assessments} bedömningar, {counts.revisions} versioner, {counts.answers} svar, "
        f"{counts.results} resultat ({counts.outcomes} utfall, {counts.audit} poster i granskningsloggen), "
        f"{counts.accounts} konton, {counts.api_tokens} API-nycklar, {counts.case_teams} ärenden med team.",
        f"Copied: {counts.assessments} assessments, {counts.revisions} revisions, {counts.answers} answers, "
        f"{counts.results} results ({counts.outcomes} outcomes, {counts.audit} audit records), "
        f"{counts.accounts} accounts, {counts.api_tokens} API tokens, {counts.case_teams} cases with a team.",
    ))
    typer.echo(_t(lang, f"Granskningsloggen i kopian är obruten. Kontrollpunkt: {counts.checkpoint}",
                  f"The copy's audit trail is intact. Checkpoint: {counts.checkpoint}"))
    typer.echo(_t(lang, "Kopian är samma lager (samma id, nycklar och logg): använd bara det ena härefter.",
                  "The copy is the same store (same id, keys and log): use only one of the two from now on."))
