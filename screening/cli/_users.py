"""``screening users …``: the server's accounts and API tokens; ``cases assign``: a CLI-made case to a team.

May import: the library (``accounts``, ``store``) / typer.

Run by whoever runs the server, on its machine, against its store: there is no
HTTP endpoint that makes an account, so a stolen session can not make another.
Each change is an "account" record in the store's audit trail (named after the
OS user who ran the command). A password is asked twice without echo, or read
from the first line of standard input with ``--password-stdin`` (for scripts;
never as an option, which would land in the shell's history and in ``ps``). An
API token is printed once, alone on standard output so a script can capture it;
the store keeps only its SHA-256, and ``users list`` never shows a hash.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import app
from ._interview import Lang, cases_app
from ._shared import StoreOption, store_setting

__all__ = ["users_app"]

users_app = typer.Typer(
    name="users", help="The server's accounts and API tokens (screening serve).", no_args_is_help=True,
    add_completion=False, rich_markup_mode=None,
)
app.add_typer(users_app)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The account's sign-in name.")]
LangOption = Annotated[Lang | None, typer.Option("--lang", help="sv or en; default: the settings.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input (scripts).")
]
ScopeOption = Annotated[
    list[str] | None,
    typer.Option("--scope", metavar="SCOPE", help="What a system account's token may do (repeatable): "
                 "instruments:read, score, validate, report, cases:read, cases:write."),
]


def _sv(lang: Lang | None) -> bool:
    from ..settings import setting

    return (lang.value if lang is not None else setting("lang")) != "en"


def _t(lang: Lang | None, sv: str, en: str) -> str:
    return sv if _sv(lang) else en


def _password(lang: Lang | None, from_stdin: bool) -> str:
    """A new password: the first line of stdin, or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt(_t(lang, "Lösenord", "Password"), hide_input=True,
                              confirmation_prompt=_t(lang, "Samma lösenord igen", "The same password again"))
    return value


def _scopes(scopes: list[str] | None) -> frozenset[str] | None:
    return None if not scopes else frozenset(s.strip() for s in scopes if s.strip())


@users_app.command("add")
def add_cmd(
    name: NameArgument,
    role: Annotated[str, typer.Option("--role", help="caseworker, team_lead, auditor, admin or system.")],
    team: Annotated[str | None, typer.Option("--team", help="The team whose cases the account works on.")] = None,
    scope: ScopeOption = None,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: the person signs in only through the sign-on header.")
    ] = False,
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """Add an account; a person gets a password (asked twice), a system account a token later (users token)."""
    from ..accounts import add_user
    from ..store import Store

    if role == "system" and not scope:  # least privilege: what another program may do is said, not assumed
        raise typer.BadParameter(_t(lang, "ett systemkonto behöver minst en --scope", "a system account needs at "
                                    "least one --scope"), param_hint="--scope")
    password = None
    if role != "system" and not no_password:
        password = _password(lang, password_stdin)
    with Store.open(store or store_setting(), create=True) as st:
        # The password is checked (length) and hashed inside; a refusal writes nothing.
        account = add_user(st, name, role, team=team, password=password, scopes=_scopes(scope) or frozenset())
    where = f" ({account.team})" if account.team else ""
    typer.echo(_t(lang, f"Kontot {account.name} lades till som {account.role}{where}.",
                  f"Added the account {account.name} as {account.role}{where}."))
    if account.role == "system":
        typer.echo(_t(lang, f"Skapa en API-nyckel med: screening users token {account.name}",
                      f"Make an API token with: screening users token {account.name}"))


@users_app.command("list")
def list_cmd(store: StoreOption = None, lang: LangOption = None) -> None:
    """List the accounts: name, role, team, disabled, active tokens (never a password hash)."""
    from ..report.present import safe_text
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        accounts = st.accounts()
        active: dict[str, int] = {}
        for token in st.tokens():
            if token.revoked_at is None:
                active[token.account] = active.get(token.account, 0) + 1
    if not accounts:
        typer.echo(_t(lang, "Inga konton.", "No accounts."))
        return
    header = _t(lang, "Namn|Roll|Team|Avstängt|Nycklar|Behörigheter",
                "Name|Role|Team|Disabled|Tokens|Scopes").split("|")
    yes, no = _t(lang, "ja", "yes"), _t(lang, "nej", "no")
    rows = [(safe_text(a.name), a.role, safe_text(a.team or "-"), yes if a.disabled else no, str(active.get(a.name, 0)),
             " ".join(sorted(a.scopes)) or "-") for a in accounts]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@users_app.command("disable")
def disable_cmd(name: NameArgument, store: StoreOption = None, lang: LangOption = None) -> None:
    """Disable an account: it cannot sign in, its sessions end and its tokens stop working."""
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        st.set_account(name, disabled=True)
    typer.echo(_t(lang, f"Kontot {name} är avstängt.", f"The account {name} is disabled."))


@users_app.command("enable")
def enable_cmd(name: NameArgument, store: StoreOption = None, lang: LangOption = None) -> None:
    """Enable a disabled account again."""
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        st.set_account(name, disabled=False)
    typer.echo(_t(lang, f"Kontot {name} är aktivt igen.", f"The account {name} is enabled again."))


@users_app.command("password")
def password_cmd(name: NameArgument, password_stdin: PasswordStdin = False, store: StoreOption = None,
                 lang: LangOption = None) -> None:
    """Set a person's password (asked twice); the account's open sessions end."""
    from ..accounts import hash_password
    from ..errors import StoreError
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        account = st.account(name)
        if account is None:
            raise StoreError(_t(lang, f"det finns inget konto som heter {name}", f"there is no account named {name}"))
        if account.role == "system":
            raise StoreError(_t(lang, "ett systemkonto loggar in med en API-nyckel, inte ett lösenord",
                                "a system account signs in with a token, not a password"))
        st.set_account(name, password_hash=hash_password(_password(lang, password_stdin)))
    typer.echo(_t(lang, f"Nytt lösenord för {name}; öppna inloggningar är avslutade.",
                  f"New password for {name}; open sessions are ended."))


@users_app.command("token")
def token_cmd(name: NameArgument, scope: ScopeOption = None, store: StoreOption = None,
              lang: LangOption = None) -> None:
    """Make an API token for a system account and print it once (the store keeps only its hash)."""
    from ..accounts import issue_token
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        secret = issue_token(st, name, _scopes(scope))
        token = st.tokens(name)[-1]
    typer.echo(secret)
    scopes = " ".join(sorted(token.scopes))
    typer.echo(_t(lang, f"API-nyckel {token.id} för {name} ({scopes}). Den visas bara nu: spara den i det andra "
                        f"systemets hemlighetsförråd. Återkalla: screening users revoke {token.id}",
                  f"API token {token.id} for {name} ({scopes}). It is shown only now: keep it in the other "
                  f"system's secret store. Revoke: screening users revoke {token.id}"), err=True)


@users_app.command("revoke")
def revoke_cmd(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The token's id (users token printed it).")],
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """Revoke an API token at once; requests with it get 401 from then on."""
    from ..store import Store

    with Store.open(store or store_setting()) as st:
        st.revoke_token(token_id)
    typer.echo(_t(lang, f"API-nyckeln {token_id} är återkallad.", f"The API token {token_id} is revoked."))


@cases_app.command("assign")
def assign_cmd(
    case: Annotated[str, typer.Argument(metavar="REF", help="Case reference (pseudonym).")],
    team: Annotated[str, typer.Option("--team", help="The team that takes the case over.")],
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """Give a case made at a terminal to a team, so the team can open it through the server."""
    from ..errors import StoreError
    from ..store import Store, check_case_ref

    check_case_ref(case)
    with Store.open(store or store_setting()) as st:
        found = st.find(case)
        if not found:
            raise StoreError(_t(lang, "ingen bedömning har den referensen", "no assessment with this case reference"),
                             case)
        free = [info for info in found if st.case_team(info.id) is None]
        if not free:
            raise StoreError(_t(lang, "ärendet hör redan till ett team; ett ärende flyttas inte mellan team",
                                "the case already belongs to a team; a case is not moved between teams"), case)
        for info in free:
            st.set_case_team(info.id, team)
    typer.echo(_t(lang, f"{len(free)} bedömning(ar) i {case} hör nu till teamet {team}.",
                  f"{len(free)} assessment(s) of {case} now belong to the team {team}."))
