"""Accountability: ``audit verify``/``show``/``access``, ``cases delete``, ``key show``/``key rotate``.

May import: the library / typer.

What each prints is safe to show on a shared screen: pseudonyms, ids, dates,
actions and outcomes, key ids (never keys), and never an answer. ``audit
verify`` ends with the checkpoint to keep outside the store; given an older
checkpoint it also catches records cut from the end.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import app
from ._interview import Lang, cases_app
from ._shared import StoreOption

if TYPE_CHECKING:
    import sqlite3

    from ..store.crypto import Keyring

audit_app = typer.Typer(
    name="audit", help="The audit trail: verify it, show one case's log extract, or the server's access log.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
)
key_app = typer.Typer(
    name="key", help="The encryption key: where it is, and rotation.", no_args_is_help=True,
    add_completion=False, rich_markup_mode=None,
)
app.add_typer(audit_app)
app.add_typer(key_app)

CaseArgument = Annotated[str, typer.Argument(metavar="REF", help="Case reference (pseudonym).")]
LangOption = Annotated[Lang, typer.Option("--lang")]


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


def _t(lang: Lang, sv: str, en: str) -> str:
    return sv if lang is Lang.sv else en


YES_WORDS = frozenset({"j", "ja", "y", "yes"})


def confirm(lang: Lang, sv: str, en: str) -> None:
    """Ask a yes/no question in ``lang`` (``[j/N]`` in Swedish); anything but yes aborts.

    Both languages' yes is accepted, so a Swedish ``j`` is never read as "no".

    Raises:
        typer.Abort: the answer was not yes (Enter means no).
    """
    answer = typer.prompt(_t(lang, sv + " [j/N]", en + " [y/N]"), default="", show_default=False)
    if answer.strip().casefold() not in YES_WORDS:
        raise typer.Abort()


@audit_app.command("verify")
def verify_cmd(
    store: StoreOption = None,
    checkpoint: Annotated[
        str | None, typer.Option("--checkpoint", help="A checkpoint kept earlier (N:hex), to catch a cut-off end.")
    ] = None,
    lang: LangOption = Lang.sv,
) -> None:
    """Check the audit trail's HMAC chain; name the first record that was edited, deleted or reordered."""
    from ..errors import StoreError
    from ..store import Store
    from ..store.audit import Checkpoint, verify

    against = Checkpoint.parse(checkpoint) if checkpoint is not None else None
    with Store.open(store) as st:
        result = verify(st, against=against)
    if not result.ok:
        raise StoreError(_t(lang, "granskningsloggen är inte intakt: ", "the audit trail is not intact: ")
                         + (result.reason or ""))
    typer.echo(_t(lang, f"Granskningsloggen: {result.count} poster, kedjan är obruten.",
                  f"Audit trail: {result.count} records, the chain is intact."))
    typer.echo(_t(lang, "Kontrollpunkt (spara den utanför datorn): ", "Checkpoint (keep it off this computer): ")
               + str(result.checkpoint))


@audit_app.command("show")
def show_cmd(
    case: Annotated[str, typer.Option("--case", metavar="REF", help="Case reference (pseudonym).")],
    store: StoreOption = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text, or json for other systems.")] = ShowFormat.text,
    lang: LangOption = Lang.sv,
) -> None:
    """The log extract for one case: who did what and when (no answers; works after deletion too)."""
    import sqlite3

    from ..errors import StoreError
    from ..report.present import safe_text
    from ..store import Store, check_case_ref
    from ..store._damage import damage_message, safe_reason
    from ..store.audit import Event, extract, record_many

    check_case_ref(case)
    with Store.open(store) as st:
        try:
            records = extract(st, case)
        except sqlite3.Error as exc:  # a damaged store: say where, never what it holds
            raise StoreError(damage_message(st.connection, exc, st.path)
                             or f"the audit trail could not be read ({safe_reason(exc)})") from None
        record_many(st, [Event("extract", None, "log extract", "ok", case_ref=case)])
    if fmt is ShowFormat.json:
        rows = [{"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "assessment": r.assessment,
                 "case": r.case_ref, "detail": r.detail, "outcome": r.outcome} for r in records]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not records:
        typer.echo(_t(lang, "Inga poster för det fallet.", "No records for that case."))
        return
    header = _t(lang, "Nr|Tid (UTC)|Vem|Åtgärd|Detalj|Utfall", "No|Time (UTC)|Who|Action|Detail|Outcome").split("|")
    rows_text = [(str(r.seq), r.at[:19].replace("T", " "), safe_text(r.actor), r.action, safe_text(r.detail),
                  r.outcome) for r in records]
    widths = [max(len(row[i]) for row in [header, *rows_text]) for i in range(len(header))]
    for row in [header, *rows_text]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@audit_app.command("access")
def access_cmd(
    case: Annotated[str | None, typer.Option("--case", metavar="REF", help="Case reference (pseudonym).")] = None,
    user: Annotated[str | None, typer.Option("--user", metavar="NAME", help="An account's name.")] = None,
    store: StoreOption = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text, or json for other systems.")] = ShowFormat.text,
    lang: LangOption = Lang.sv,
) -> None:
    """The server's access log: who opened or was refused a case, when and from where (no answers)."""
    from ..report.present import safe_text
    from ..store import Store, check_case_ref
    from ..store.audit import Event, accesses, record_many

    if case is None and user is None:
        raise typer.BadParameter(_t(lang, "ange --case REF eller --user NAMN (eller båda)",
                                    "give --case REF or --user NAME (or both)"), param_hint="--case/--user")
    if case is not None:
        check_case_ref(case)
    with Store.open(store) as st:
        records = accesses(st, case_ref=case, actor=user)
        what = f"access log{' of a case' if case else ''}{' of ' + user if user else ''}"
        record_many(st, [Event("extract", None, what[:200], "ok", case_ref=case)])  # the auditor is audited too
    if fmt is ShowFormat.json:
        rows = [{"seq": r.seq, "at": r.at, "actor": r.actor, "assessment": r.assessment, "case": r.case_ref,
                 "detail": r.detail, "outcome": r.outcome} for r in records]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not records:
        typer.echo(_t(lang, "Inga åtkomstposter.", "No access records."))
        return
    header = _t(lang, "Nr|Tid (UTC)|Vem|Ärende|Detalj|Utfall", "No|Time (UTC)|Who|Case|Detail|Outcome").split("|")
    outcome = {"allowed": _t(lang, "tillåten", "allowed"), "refused": _t(lang, "nekad", "refused")}
    rows_text = [(str(r.seq), r.at[:19].replace("T", " "), safe_text(r.actor), safe_text(r.case_ref or "-"),
                  safe_text(r.detail), outcome.get(r.outcome, r.outcome)) for r in records]
    widths = [max(len(row[i]) for row in [header, *rows_text]) for i in range(len(header))]
    for row in [header, *rows_text]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@cases_app.command("delete")
def delete_cmd(
    case: CaseArgument,
    store: StoreOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    lang: LangOption = Lang.sv,
) -> None:
    """Delete every assessment of a case, its answers and results; the audit trail keeps only the pseudonym."""
    from ..errors import StoreError
    from ..store import Store, check_case_ref

    check_case_ref(case)
    with Store.open(store) as st:
        found = st.find(case)
        if not found:
            raise StoreError(_t(lang, "ingen bedömning har den referensen", "no assessment with this case reference"),
                             case)
        if not yes:
            confirm(lang, f"Radera {len(found)} bedömning(ar) för {case}? Det går inte att ångra.",
                    f"Delete {len(found)} assessment(s) of {case}? This cannot be undone.")
        for info in found:
            st.delete_assessment(info.id, compact=False)
        clean = st.scrub()
    typer.echo(_t(lang, f"Raderade {len(found)} bedömning(ar) för {case}; granskningsloggen behåller bara pseudonymen.",
                  f"Deleted {len(found)} assessment(s) of {case}; the audit trail keeps only the pseudonym."))
    if not clean:
        typer.echo(_t(lang, "Obs: ett annat program har databasen öppen, så gamla sidor kan ligga kvar i WAL-filen "
                      "tills det stängs; kör kommandot igen då.",
                      "Note: another program has the store open, so old pages may stay in the WAL file until it "
                      "closes; run the command again then."), err=True)


@key_app.command("show")
def key_show_cmd(lang: LangOption = Lang.sv) -> None:
    """Where the key comes from and its id (never the key itself)."""
    from ..store.crypto import default_keyring, key_source

    kind, path = key_source()
    ring = default_keyring(create=False)  # showing never makes a key
    where = "SCREENING_KEY" if kind == "env" else str(path)
    typer.echo(_t(lang, f"Nyckel från: {where}", f"Key from: {where}"))
    typer.echo(_t(lang, f"Nyckel-id: {ring.current_kid.hex()}", f"Key id: {ring.current_kid.hex()}"))
    for kid in ring.old_kids:
        typer.echo(_t(lang, f"Tidigare nyckel (rotation pågår): {kid.hex()}",
                      f"Old key (rotation running): {kid.hex()}"))
    for kid in ring.retired_kids:
        typer.echo(_t(lang, f"Pensionerad (bara för granskningsloggen): {kid.hex()}",
                      f"Retired (audit trail only): {kid.hex()}"))
    for store_id, where in sorted(ring.stores.items()):
        typer.echo(_t(lang, f"Databas med nyckeln: {_listing({store_id: where}, lang)}",
                      f"Store sealed with it: {_listing({store_id: where}, lang)}"))


@key_app.command("rotate")
def key_rotate_cmd(
    stores: Annotated[
        list[str] | None,
        typer.Option("--store", help="A store sealed with this key (repeatable); default the default store."),
    ] = None,
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep the old key until another rotate (other stores still use it).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Rotate even though the key file lists stores not named with --store "
                                           "(they can no longer be read unless --keep-old).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be re-encrypted (values per table); change nothing.")
    ] = False,
    lang: LangOption = Lang.sv,
) -> None:
    """Make a new key, re-encrypt every value of the stores with it, then retire the old key.

    Crash-safe: the key file keeps the old key until every store is done, each
    value names its key, and running the command again finishes the job. The key
    file lists every store opened with it; a rotation that does not name each of
    them with ``--store`` refuses to start (``--force`` overrides). One rotation at
    a time: a second one while the first runs refuses (the key file's lock).
    """
    from ..errors import StoreError
    from ..store import Store, store_location
    from ..store.crypto import key_file_lock, key_source, load_key_file, reset_default_keyring, write_key_file

    kind, path = key_source()
    if kind == "env" or path is None:
        raise StoreError(_t(lang, "nyckeln kommer från SCREENING_KEY; en rotation skriver om en nyckelfil. Sätt "
                                  "SCREENING_KEY_FILE (eller ta bort SCREENING_KEY) för att rotera",
                            "the key comes from SCREENING_KEY; rotation rewrites a key file. Set SCREENING_KEY_FILE "
                            "(or unset SCREENING_KEY) to rotate"))
    targets = [_target(store_location(t)) for t in stores] if stores else [_target(store_location())]
    with key_file_lock(path) as held:
        if not held:
            raise StoreError(_t(lang, f"en annan nyckelrotation pågår redan för {path}; vänta tills den är klar och "
                                      "se sedan den nya nyckeln med screening key show",
                                f"another key rotation is already running for {path}; wait for it to finish, then "
                                "see the new key with screening key show"))
        ring = load_key_file(path)
        found = {target: _store_id(target) for target in targets if _exists(target)}
        named = set(found.values())
        others = {sid: where for sid, where in ring.stores.items() if sid not in named}
        if others and not force and not dry_run:
            raise StoreError(_t(lang, f"nyckelfilen {path} används också av {len(others)} databas(er) som inte "
                                      f"angavs: {_listing(others, lang)}. Ange var och en med --store, annars går de "
                                      "inte att läsa efter rotationen (eller --force, med --keep-old för att "
                                      "behålla den gamla nyckeln åt dem)",
                                f"the key file {path} is also used by {len(others)} store(s) not named: "
                                f"{_listing(others, lang)}. Name each with --store, or they cannot be read after the "
                                "rotation (or --force, with --keep-old to keep the old key for them)"))
        if dry_run:
            _dry_run(found, targets, others, ring, path, lang)
            return
        if ring.old_kids:
            typer.echo(_t(lang, "En tidigare rotation avslutas (ingen ny nyckel skapas).",
                          "Finishing an earlier rotation (no new key is made)."))
        else:
            ring = ring.rotated()
        # The stores this rotation re-encrypts are the ones the new key file lists.
        ring = ring.with_stores({**{s: w for s, w in ring.stores.items() if s in others and keep_old},
                                 **{sid: _name(target) for target, sid in found.items()}})
        write_key_file(ring, path)
        reset_default_keyring()
        for target in targets:
            name = _name(target)
            if target not in found:
                typer.echo(_t(lang, f"{name}: finns inte, hoppas över.", f"{name}: does not exist, skipped."))
                continue
            with Store.open(target, keyring=ring) as st:
                moved = st.rekey()
                late, retired = st.retire_keys()
            typer.echo(_t(lang, f"{name}: {moved + late} värden omkrypterade, {len(retired)} nycklar pensionerade.",
                          f"{name}: {moved + late} values re-encrypted, {len(retired)} key(s) retired."))
        if not keep_old:
            write_key_file(ring.retire_old(), path)
        reset_default_keyring()
    if others and not keep_old:
        typer.echo(_t(lang, f"Obs: {_listing(others, lang)} går inte längre att läsa med nyckelfilen (--force).",
                      f"Note: {_listing(others, lang)} can no longer be read with the key file (--force)."), err=True)
    typer.echo(_t(lang, f"Ny nyckel: {ring.current_kid.hex()} i {path}.",
                  f"New key: {ring.current_kid.hex()} in {path}."))
    typer.echo(_t(lang, "Säkerhetskopiera nyckelfilen nu, till en säker plats skild från databasen: utan den nya "
                        "nyckeln går ingenting i databasen att läsa, och äldre kopior av nyckelfilen öppnar inte "
                        "längre de omkrypterade värdena.",
                  "Back up the key file now, somewhere safe and apart from the store: without the new key nothing "
                  "in the store can be read, and older copies of the key file no longer open the re-encrypted "
                  "values."))


def _target(where: Path | str) -> Path | str:
    """A store to rotate: a PostgreSQL URL as it is, an SQLite path absolute."""
    return where if isinstance(where, str) else where.expanduser().absolute()


def _exists(target: Path | str) -> bool:
    return isinstance(target, str) or target.exists()  # a database's absence is the connection's error


def _name(target: Path | str) -> str:
    """How the key file lists a store: its path, or its URL without the password."""
    from ..store._pg import redact

    return redact(target) if isinstance(target, str) else str(target)


def _read_only(target: Path | str) -> sqlite3.Connection:
    """A connection that writes nothing: SQLite ``mode=ro``, or a PostgreSQL session of read-only transactions."""
    import sqlite3

    if isinstance(target, str):
        from typing import cast

        from ..store._pg import PgConnection

        conn = PgConnection.connect(target)
        conn.execute("SET default_transaction_read_only = on")
        return cast(sqlite3.Connection, conn)
    return sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)


def _store_id(target: Path | str) -> bytes:
    """A store's id, read without writing anything (no key check, no upgrade, no registration)."""
    import sqlite3

    from ..errors import StoreError
    from ..store._keys import identity

    try:
        conn = _read_only(target)
        try:
            found = identity(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store {_name(target)} ({exc})") from None
    if found is None:
        raise StoreError(f"{_name(target)} is not a screening store with encrypted values")
    return found


def _listing(stores: dict[bytes, str], lang: Lang) -> str:
    """Stores as ``path (id …)``, marking a path where there is no file any more (a store moved or deleted)."""
    from ..report.present import safe_text

    gone = _t(lang, ", finns inte längre där", ", no longer there")
    def there(where: str) -> bool:  # a PostgreSQL store is not looked for here (no connection to list stores)
        return where.startswith(("postgresql://", "postgres://")) or Path(where).exists()

    return ", ".join(f"{safe_text(where)} (id {sid.hex()[:12]}{'' if there(where) else gone})"
                     for sid, where in sorted(stores.items()))


def _dry_run(found: dict[Path | str, bytes], targets: list[Path | str], others: dict[bytes, str], ring: Keyring,
             path: Path, lang: Lang) -> None:
    """What ``key rotate`` would do, read-only: values per table and store, stores left out."""

    from ..store._keys import pending

    fresh = not ring.old_kids
    typer.echo(_t(lang, f"Provkörning: ingenting ändras. Nyckelfil: {path}.",
                  f"Dry run: nothing is changed. Key file: {path}."))
    typer.echo(_t(lang, "En ny nyckel skulle skapas." if fresh else "En påbörjad rotation skulle avslutas.",
                  "A new key would be made." if fresh else "An earlier rotation would be finished."))
    for target in targets:
        name = _name(target)
        if target not in found:
            typer.echo(_t(lang, f"{name}: finns inte, skulle hoppas över.",
                          f"{name}: does not exist, would be skipped."))
            continue
        conn = _read_only(target)
        try:
            counts = pending(conn, ring, fresh=fresh)
        finally:
            conn.close()
        per_table = ", ".join(f"{table} {n}" for table, n in counts.items())
        typer.echo(_t(lang, f"{name}: {sum(counts.values())} värden skulle omkrypteras ({per_table}).",
                      f"{name}: {sum(counts.values())} values would be re-encrypted ({per_table})."))
    if others:
        typer.echo(_t(lang, f"Nyckelfilen används också av: {_listing(others, lang)}; utan --store för var och en "
                            "vägrar rotationen (--force).",
                      f"The key file is also used by: {_listing(others, lang)}; without --store for each the rotation "
                      "refuses (--force)."))
