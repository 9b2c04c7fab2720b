"""``screening users …``, ``cases assign`` and ``audit access`` (issue 16): the server's accounts from the command line.

The commands run in-process through ``screening.cli.run`` (exit codes as a shell
sees them); the password prompt runs in a real pseudo-terminal, where echo is a
real question. What a command made is then tried against the real app
(``create_app`` through httpx's ASGI transport): a printed token signs in, a
disabled account does not, a revoked token stops working.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from server.client import Api, Loop
from terminal.driver import child_env, finish, spawn_cli

from screening.cli import run
from screening.store import Store

PASSWORD = "a long test password"


def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "server.db"


@pytest.fixture
def loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.close()


def app_of(db: Path) -> object:
    from screening.server import ServerConfig, create_app

    return create_app(ServerConfig(store=db))


def add(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, name: str, *args: str,
        password: str = PASSWORD) -> tuple[int, str, str]:
    return cli(capsys, monkeypatch, "users", "add", name, *args, "--password-stdin", "--store", str(db),
               "--lang", "en", stdin=password + "\n")


def test_a_person_is_added_with_a_password_from_stdin_and_listed_without_a_hash(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    code, out, err = add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    assert code == 0, err
    assert "Added the account anna as caseworker (a)." in out
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--store", str(db), "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Role", "Team", "Disabled", "Tokens", "Scopes"]
    assert lines[1].split() == ["anna", "caseworker", "a", "no", "0", "-"]
    assert "argon2" not in out and PASSWORD not in out
    with Store.open(db) as st:
        account = st.account("anna")
        assert account is not None and account.password_hash and account.password_hash.startswith("$argon2id$")
        details = [r[0] for r in st.connection.execute("SELECT action FROM audit WHERE action = 'account'")]
    assert details  # the change is in the audit trail


def test_swedish_is_the_default(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                db: Path) -> None:
    code, out, err = cli(capsys, monkeypatch, "users", "add", "anna", "--role", "caseworker", "--team", "a",
                         "--password-stdin", "--store", str(db), stdin=PASSWORD + "\n")
    assert code == 0, err
    assert out.strip() == "Kontot anna lades till som caseworker (a)."


@pytest.mark.parametrize(("args", "password", "message"), [
    (("--role", "caseworker", "--team", "a"), "short", "at least 12 characters"),
    (("--role", "boss", "--team", "a"), PASSWORD, "the role is one of"),
    (("--role", "caseworker"), PASSWORD, "belongs to a team"),
    (("--role", "auditor", "--scope", "score"), PASSWORD, "only a system account has scopes"),
], ids=["short password", "unknown role", "no team", "scope for a person"])
def test_a_refused_account_is_exit_1_with_a_clear_message_and_nothing_is_made(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, args: tuple[str, ...],
        password: str, message: str) -> None:
    code, out, err = add(capsys, monkeypatch, db, "anna", *args, password=password)
    assert code == 1
    assert message in err and "Traceback" not in err
    assert password not in err + out
    with Store.open(db) as st:
        assert st.accounts() == []


def test_a_taken_name_is_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                 db: Path) -> None:
    assert add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")[0] == 0
    code, _, err = add(capsys, monkeypatch, db, "anna", "--role", "team_lead", "--team", "b")
    assert code == 1 and "already an account named anna" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    # A system account must say what it may do; a missing --role is click's own usage error.
    code, _, err = cli(capsys, monkeypatch, "users", "add", "sys", "--role", "system", "--team", "a",
                       "--store", str(db), "--lang", "en")
    assert code == 2 and "--scope" in err
    code, _, err = cli(capsys, monkeypatch, "users", "add", "anna", "--store", str(db))
    assert code == 2 and "--role" in err
    code, _, err = cli(capsys, monkeypatch, "audit", "access", "--store", str(db), "--lang", "en")
    assert code == 2 and "--case REF or --user NAME" in err


def test_the_password_is_asked_twice_without_echo_in_a_terminal(tmp_path: Path) -> None:
    db = tmp_path / "tty.db"
    env = child_env()  # the same (temporary) config directory, so the same key as this process
    child = spawn_cli(["users", "add", "lena", "--role", "team_lead", "--team", "a", "--store", str(db),
                       "--lang", "en"], env=env, timeout=60)
    child.expect("Password: ")
    child.sendline(PASSWORD)
    child.expect("The same password again: ")
    child.sendline("a different long password")
    child.expect("Password: ")  # a mismatch asks again from the start
    child.sendline(PASSWORD)
    child.expect("The same password again: ")
    child.sendline(PASSWORD)
    rest, status = finish(child, timeout=60)
    assert status == 0, rest
    assert "Added the account lena as team_lead (a)." in rest
    transcript = (child.before or "") + rest
    assert PASSWORD not in transcript and "different" not in transcript  # nothing typed was echoed
    with Store.open(db) as st:
        assert st.account("lena") is not None


def test_a_token_is_printed_once_alone_on_stdout_and_signs_in(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    code, _, err = cli(capsys, monkeypatch, "users", "add", "sys", "--role", "system", "--team", "a",
                       "--scope", "score", "--scope", "cases:read", "--store", str(db))
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "users", "token", "sys", "--store", str(db), "--lang", "en")
    assert code == 0, err
    token = out.strip()
    assert out.count("\n") == 1 and token.startswith("scr_")  # a script can take stdout as it is
    assert "shown only now" in err and token not in err
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--store", str(db), "--lang", "en")
    assert token not in out and out.splitlines()[1].split() == ["sys", "system", "a", "no", "1", "cases:read",
                                                                 "score"]
    with Store.open(db) as st:
        (record,) = st.tokens("sys")
        stored = st.connection.execute("SELECT token_sha256 FROM api_tokens").fetchone()[0]
    assert token.encode() not in bytes(stored)

    api = Api(loop, app_of(db))
    api.token = token
    me = api.get("/api/me")
    assert me.status_code == 200 and me.json()["name"] == "sys"
    assert me.json()["permissions"] == ["cases:read", "score"]
    assert api.post("/api/cases", json={"instrument": "freda-kortfragor"}).status_code == 403  # not in its scope

    code, out, _ = cli(capsys, monkeypatch, "users", "revoke", record.id, "--store", str(db), "--lang", "en")
    assert code == 0 and f"The API token {record.id} is revoked." in out
    assert api.get("/api/me").status_code == 401
    code, _, err = cli(capsys, monkeypatch, "users", "revoke", record.id, "--store", str(db))
    assert code == 1 and "no active token" in err


def test_a_token_is_refused_for_a_person_and_beyond_the_accounts_scopes(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    cli(capsys, monkeypatch, "users", "add", "sys", "--role", "system", "--team", "a", "--scope", "score",
        "--store", str(db))
    code, out, err = cli(capsys, monkeypatch, "users", "token", "anna", "--store", str(db))
    assert code == 1 and "people sign in" in err and "scr_" not in out
    code, out, err = cli(capsys, monkeypatch, "users", "token", "sys", "--scope", "cases:write", "--store", str(db))
    assert code == 1 and "among the account's" in err and "scr_" not in out
    code, _, err = cli(capsys, monkeypatch, "users", "token", "nobody", "--store", str(db))
    assert code == 1 and "no account named nobody" in err


def test_a_disabled_account_cannot_sign_in_and_an_enabled_one_can(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    app = app_of(db)
    browser = Api(loop, app)
    assert browser.login("anna", PASSWORD).status_code == 200
    assert browser.get("/api/me").status_code == 200

    code, out, _ = cli(capsys, monkeypatch, "users", "disable", "anna", "--store", str(db), "--lang", "en")
    assert code == 0 and "The account anna is disabled." in out
    assert browser.get("/api/me").status_code == 401  # the open session ended with it
    assert Api(loop, app).login("anna", PASSWORD).status_code == 401
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--store", str(db), "--lang", "en")
    assert out.splitlines()[1].split()[3] == "yes"

    assert cli(capsys, monkeypatch, "users", "enable", "anna", "--store", str(db))[0] == 0
    assert Api(loop, app).login("anna", PASSWORD).status_code == 200
    code, _, err = cli(capsys, monkeypatch, "users", "disable", "nobody", "--store", str(db))
    assert code == 1 and "no account named nobody" in err


def test_a_new_password_replaces_the_old_and_ends_sessions(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    app = app_of(db)
    browser = Api(loop, app)
    assert browser.login("anna", PASSWORD).status_code == 200
    new = "another long test password"
    code, _, err = cli(capsys, monkeypatch, "users", "password", "anna", "--password-stdin", "--store", str(db),
                       "--lang", "en", stdin=new + "\n")
    assert code == 0, err
    assert browser.get("/api/me").status_code == 401
    assert Api(loop, app).login("anna", PASSWORD).status_code == 401
    assert Api(loop, app).login("anna", new).status_code == 200
    code, _, err = cli(capsys, monkeypatch, "users", "password", "anna", "--password-stdin", "--store", str(db),
                       stdin="short\n")
    assert code == 1 and "at least 12 characters" in err
    code, _, err = cli(capsys, monkeypatch, "users", "password", "nobody", "--password-stdin", "--store", str(db),
                       "--lang", "en", stdin=new + "\n")
    assert code == 1 and "there is no account named nobody" in err


def test_commands_on_a_missing_store_are_exit_1(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for args in (["users", "list"], ["users", "disable", "x"], ["audit", "access", "--user", "x"],
                 ["cases", "assign", "K-1", "--team", "a"]):
        code, _, err = cli(capsys, monkeypatch, *args, "--store", str(tmp_path / "none.db"))
        assert code == 1 and "no case store" in err and "Traceback" not in err, args
    assert not (tmp_path / "none.db").exists()


def test_a_case_made_at_a_terminal_is_assigned_to_a_team_and_the_team_then_sees_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    from screening.content.loader import find_instrument, load_instrument_file

    add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    path = find_instrument("freda-kortfragor")
    with Store.open(db) as st:
        aid = st.create_assessment(load_instrument_file(path), case_ref="K-7", assessor="A", lang="sv",
                                   instrument_path=path).id
    anna = Api(loop, app_of(db))
    anna.login("anna", PASSWORD)
    assert anna.get(f"/api/cases/{aid}").status_code == 404  # no team's case: nobody's through the server

    code, out, err = cli(capsys, monkeypatch, "cases", "assign", "K-7", "--team", "a", "--store", str(db),
                         "--lang", "en")
    assert code == 0, err
    assert "1 assessment(s) of K-7 now belong to the team a." in out
    assert anna.get(f"/api/cases/{aid}").status_code == 200
    code, _, err = cli(capsys, monkeypatch, "cases", "assign", "K-7", "--team", "b", "--store", str(db),
                       "--lang", "en")
    assert code == 1 and "already belongs to a team" in err  # never moved between teams
    code, _, err = cli(capsys, monkeypatch, "cases", "assign", "K-8", "--team", "a", "--store", str(db))
    assert code == 1 and "ingen bedömning har den referensen" in err


def test_audit_access_shows_who_opened_a_case_and_is_itself_logged(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    add(capsys, monkeypatch, db, "anna", "--role", "caseworker", "--team", "a")
    add(capsys, monkeypatch, db, "bo", "--role", "caseworker", "--team", "b")
    app = app_of(db)
    anna, bo = Api(loop, app), Api(loop, app)
    anna.login("anna", PASSWORD)
    bo.login("bo", PASSWORD)
    aid = anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": "K-9"}).json()["id"]
    assert anna.get(f"/api/cases/{aid}").status_code == 200
    assert bo.get(f"/api/cases/{aid}").status_code == 404

    code, out, err = cli(capsys, monkeypatch, "audit", "access", "--case", "K-9", "--store", str(db), "--format",
                         "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["actor"], r["outcome"]) for r in rows] == [("anna", "allowed"), ("anna", "allowed"),
                                                          ("bo", "refused")]
    assert all(r["case"] == "K-9" and r["assessment"] == aid for r in rows)

    code, out, _ = cli(capsys, monkeypatch, "audit", "access", "--user", "bo", "--store", str(db), "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["No", "Time", "(UTC)", "Who"]
    assert len(lines) == 2 and "bo" in lines[1] and "K-9" in lines[1] and lines[1].endswith("refused")
    code, out, _ = cli(capsys, monkeypatch, "audit", "access", "--user", "bo", "--store", str(db))
    assert out.splitlines()[1].endswith("nekad")
    code, out, _ = cli(capsys, monkeypatch, "audit", "access", "--user", "nobody", "--store", str(db), "--lang",
                       "en")
    assert out.strip() == "No access records."

    with Store.open(db) as st:
        extracts = st.connection.execute("SELECT count(*) FROM audit WHERE action = 'extract'").fetchone()[0]
    assert extracts == 4  # each read of the access log is itself a record


def test_help_of_the_new_commands_loads_no_server_library() -> None:
    """``screening --help`` stays light: fastapi, uvicorn and argon2 load only inside the commands that use them."""
    import subprocess
    import sys

    from helpers import REPO

    code = ("import sys; from screening.cli import run; [run(a) for a in (['--help'], ['serve', '--help'], "
            "['users', 'add', '--help'], ['audit', 'access', '--help'])]; print(sorted(sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          env={**child_env(), "PYTHONPATH": str(REPO)}, timeout=120)
    loaded = proc.stdout.strip().splitlines()[-1]
    for heavy in ("'fastapi'", "'uvicorn'", "'argon2'", "'starlette'", "'screening.server'"):
        assert heavy not in loaded, heavy


def test_an_account_for_sign_on_has_no_password_and_cannot_sign_in_with_one(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, loop: Loop) -> None:
    code, _, err = cli(capsys, monkeypatch, "users", "add", "anna", "--role", "caseworker", "--team", "a",
                       "--no-password", "--store", str(db), stdin=PASSWORD + "\n")
    assert code == 0, err
    with Store.open(db) as st:
        account = st.account("anna")
    assert account is not None and account.password_hash is None
    assert Api(loop, app_of(db)).login("anna", PASSWORD).status_code == 401
