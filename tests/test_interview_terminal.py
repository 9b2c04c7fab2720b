"""The real ``screening interview`` in a pseudo-terminal: keys, commands, quick-hide, signals, files."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import DEMO, build_instrument, item, text, to_yaml
from terminal.driver import ACK, ROW_ACK, answer_facts, child_env, fact_keys, finish, spawn_cli

from screening.interview._terminal import CLEAR_SCREEN
from screening.store._lock import lock_dir
from screening.store._store import Store

pytestmark = [pytest.mark.terminal]


def term_home(root: Path, **overrides) -> Path:
    """A content home with one small instrument ``term`` covering every kind of item."""
    fields = [
        {"id": "when", "type": "date", "text": text("Datum")},
        {"id": "what", "type": "text", "text": text("Vad")},
    ]
    items = [
        item("a", help=text("Tänk på det senaste året.")),
        item("b"),
        {"id": "n", "type": "number", "min": 0, "max": 10, "text": text("Hur många gånger?")},
        {"id": "t", "type": "text", "text": text("Med egna ord")},
        {"id": "cal", "type": "group", "text": text("Händelser"), "fields": fields},
        item("c"),
    ]
    data = build_instrument(
        id="term",
        sections=[{"id": "s", "title": text("Avsnittet"), "items": items}],
        scores=[],
        levels=[],
        bands=None,
        judgement={"policy": "none"},
        **overrides,
    )
    path = root / "instruments" / "term" / f"{data['version']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(data), encoding="utf-8")
    return root


def answers(db: Path, ref: str) -> dict[str, object]:
    with Store.open(db) as st:
        (info,) = st.find(ref)
        return st.answers(info.id)


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "screening", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or child_env(),
        timeout=60,
        check=False,
    )


def test_a_whole_interview_by_keyboard(tmp_path):
    home, db = term_home(tmp_path / "home"), tmp_path / "cases.db"
    child = spawn_cli(["interview", "term", "--home", str(home), "--store", str(db), "--case", "anna"])
    child.expect("Fråga 1 av 6 · Avsnitt: Avsnittet")
    child.expect_exact("> ")
    child.send("!")
    child.expect_exact("Vägledning: Tänk på det senaste året.")
    child.send("j")
    child.expect_exact("✓ Sparat: Ja")
    child.expect("Fråga 2 av 6")
    child.expect_exact("> ")
    child.send("-")  # skip: recorded as unknown
    child.expect_exact("✓ Sparat: Vet ej")
    child.expect_exact("Svar (heltal 0–10): ")
    child.send("tre\r")
    child.expect_exact("Svaret passar inte: heltal 0–10.")
    child.send("9\x7f7\r")  # a typo, erased
    child.expect_exact("✓ Sparat: 7")
    child.expect_exact("Svar (fritext")
    child.send("Han sa [/b] \u202eslut\r")
    child.expect_exact("✓ Sparat: Han sa [/b] \\u202eslut")
    child.expect_exact("Rad 1 – Enter utan svar")
    child.expect_exact("Svar (datum ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ)): ")
    child.send("2024-01-05\r")
    child.expect_exact("Svar (fritext")
    child.send("Slag\r")
    child.expect(ROW_ACK)
    child.expect_exact("Ny rad 2")
    child.expect_exact("Svar (datum")
    child.send("\r")
    child.expect_exact("✓ Sparat: 1 rad")
    child.expect("Fråga 6 av 6")
    child.expect_exact("> ")
    child.send("<")  # back to the group: its row is shown, Enter keeps it
    child.expect("Fråga 5 av 6")
    child.expect_exact("Rad 1: Datum: 2024-01-05; Vad: Slag")
    child.expect_exact("Svar (datum")
    child.send("\r")
    child.expect("Fråga 6 av 6")
    child.expect_exact("> ")
    child.send("n")
    child.expect(ACK)
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\x18")  # Ctrl-X: hide
    rest, status = finish(child)
    assert status == 0
    assert rest.endswith(CLEAR_SCREEN + "Sparat.\r\n")
    assert answers(db, "anna") == {
        "a": "yes", "b": "unknown", "n": 7, "t": "Han sa [/b] \u202eslut",
        "cal": [{"when": "2024-01-05", "what": "Slag"}], "c": "no",
    }

    listing = run_cli("cases", "--store", str(db))
    assert listing.returncode == 0
    assert "anna" in listing.stdout and "utkast" in listing.stdout and "term@1.0.0" in listing.stdout
    assert "Slag" not in listing.stdout and "Han sa" not in listing.stdout

    child = spawn_cli(["interview", "--resume", "anna", "--home", str(home), "--store", str(db)])
    child.expect_exact("Fortsätter där ni slutade.")
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\r")
    child.expect_exact("✓ Bedömningen är slutförd och sparad.")
    _, status = finish(child)
    assert status == 0
    with Store.open(db) as st:
        assert st.find("anna")[0].status == "completed"


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["plain", "started-with-sigint-ignored"])
def test_ctrl_c_exits_calmly_with_130_and_keeps_the_answers(tmp_path, sigint_ignored):
    """Also when started with SIGINT ignored (seen when the suite ran from a background
    shell, whose jobs start so, and Python then installs no KeyboardInterrupt handler):
    Ctrl-C did nothing and the interview waited for the next key. Ctrl-C is how a
    caseworker stops: it must save and stop however the interview was started."""
    db = tmp_path / "cases.db"
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "bo"], sigint_ignored=sigint_ignored)
    answer_facts(child, DEMO)
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    child.expect_exact("> ")
    child.sendintr()
    rest, status = finish(child)
    assert status == 130
    assert "Avbrutet. Alla bekräftade svar är sparade." in rest
    assert "Traceback" not in rest
    assert answers(db, "bo") == {"q1": "yes"}
    assert list(lock_dir(db).iterdir()) == []


def test_a_closed_terminal_keeps_the_answers_and_the_lock_goes(tmp_path):
    db = tmp_path / "cases.db"
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "bo"])
    answer_facts(child, DEMO)
    for key in "jn":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("> ")
    child.kill(signal.SIGHUP)
    _, status = finish(child)
    assert status == 128 + signal.SIGHUP
    assert answers(db, "bo") == {"q1": "yes", "q2": "no"}
    assert list(lock_dir(db).iterdir()) == []


def test_quick_hide_in_the_middle_of_typing(tmp_path):
    home, db = term_home(tmp_path / "home"), tmp_path / "cases.db"
    child = spawn_cli(["interview", "term", "--home", str(home), "--store", str(db), "--case", "cy"])
    for key in "jn":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("Svar (heltal")
    child.send("5\r")
    child.expect(ACK)
    child.expect_exact("Svar (fritext")
    child.send("halvfärdig mening")
    child.expect_exact("halvfärdig mening")
    child.send("\x1b")  # Esc alone hides too
    rest, status = finish(child)
    assert status == 0
    assert rest.endswith(CLEAR_SCREEN + "Sparat.\r\n")
    assert answers(db, "cy") == {"a": "yes", "b": "no", "n": 5}


def test_every_file_is_owner_only_under_umask_022(tmp_path):
    """D8: stat everything the program created: store directory, db, -wal, -shm, lock, report."""
    xdg, reports = tmp_path / "xdg", tmp_path / "reports"
    reports.mkdir()
    env = child_env(XDG_DATA_HOME=str(xdg))
    report = reports / "rapport.md"
    child = spawn_cli(["interview", str(DEMO), "--report", str(report), "--format", "md"], env=env, umask=0o022)
    answer_facts(child, DEMO)
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    db = xdg / "screening" / "screening.db"
    during = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), *lock_dir(db).iterdir()]
    assert len(during) == 4
    file_modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in during}
    dir_modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in (xdg, db.parent, lock_dir(db))}
    for key in "nnl":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\r")
    child.expect_exact("> ")
    child.send("n")  # no judgement
    rest, status = finish(child)
    assert status == 0, rest
    assert "Rapporten är skriven" in rest
    file_modes[report.name] = stat.S_IMODE(report.stat().st_mode)
    assert file_modes == dict.fromkeys(file_modes, 0o600)
    assert dir_modes == dict.fromkeys(dir_modes, 0o700)
    created = [*xdg.rglob("*"), *reports.rglob("*")]
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in created if p.stat().st_mode & 0o077}
    assert loose == {}
    assert "demo" in report.read_text(encoding="utf-8").lower()


def test_a_second_process_on_the_same_draft_is_refused(tmp_path):
    db = tmp_path / "cases.db"
    first = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "dan"])
    answer_facts(first, DEMO)
    first.expect_exact("> ")
    second = run_cli("interview", "--resume", "dan", "--store", str(db))
    assert second.returncode == 1
    assert "assessment is open elsewhere" in second.stderr
    assert "Traceback" not in second.stderr
    first.send("j")
    first.expect(ACK)
    first.expect_exact("> ")
    first.send(".")
    _, status = finish(first)
    assert status == 0
    assert answers(db, "dan") == {"q1": "yes"}


def test_resume_after_the_instrument_changed(tmp_path):
    home, db = term_home(tmp_path / "home"), tmp_path / "cases.db"
    path = home / "instruments" / "term" / "1.0.0.yaml"
    original = path.read_bytes()
    args = ["--home", str(home), "--store", str(db)]
    child = spawn_cli(["interview", "term", *args, "--case", "eva"])
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    child.expect_exact("> ")
    child.send(".")
    assert finish(child)[1] == 0

    # A newer version next to it: the draft stays on 1.0.0.
    term_home(home, version="1.1.0", title=text("Ny version"))
    child = spawn_cli(["interview", "--resume", "eva", *args])
    child.expect_exact("Ärende eva · Testinstrument 1.0.0")
    child.expect("Fråga 2 av 6")
    child.sendintr()
    assert finish(child)[1] == 130

    # The pinned file itself edited: stop, say why, change nothing.
    path.write_text(to_yaml(build_instrument(id="term", title=text("Ändrad"))), encoding="utf-8")
    refused = run_cli("interview", "--resume", "eva", *args)
    assert refused.returncode == 1
    assert "not continued on another version" in refused.stderr
    path.write_bytes(original)
    child = spawn_cli(["interview", "--resume", "eva", *args])
    child.expect("Fråga 2 av 6")
    child.sendintr()
    assert finish(child)[1] == 130
    assert answers(db, "eva") == {"a": "yes"}


def test_a_personnummer_as_case_reference_is_refused(tmp_path):
    db = tmp_path / "cases.db"
    done = run_cli("interview", str(DEMO), "--store", str(db), "--case", "19850101-1236")
    assert done.returncode == 1
    assert "personal identity number" in done.stderr
    assert "1236" not in done.stderr + done.stdout


def test_scripted_input_from_a_pipe(tmp_path):
    db = tmp_path / "cases.db"
    done = run_cli(
        "interview", str(DEMO), "--store", str(db), "--case", "fia", stdin=fact_keys(DEMO) + "j\nn\nn\nl\n\nn\n"
    )
    assert done.returncode == 0, done.stderr
    assert "✓ Bedömningen är slutförd och sparad." in done.stdout
    cut = run_cli("interview", str(DEMO), "--store", str(db), "--case", "gun", stdin=fact_keys(DEMO) + "j\n")
    assert cut.returncode == 130
    assert "Avbrutet" in cut.stderr
    assert answers(db, "gun") == {"q1": "yes"}


def test_resume_needs_a_draft_and_says_which(tmp_path):
    db = tmp_path / "cases.db"
    missing = run_cli("interview", "--resume", "--store", str(db))  # resuming never creates a store
    assert (missing.returncode, "no case store" in missing.stderr, db.exists()) == (1, True, False)
    Store.open(db, create=True).close()
    none = run_cli("interview", "--resume", "--store", str(db))
    assert (none.returncode, "no draft" in none.stderr) == (1, True)
    for ref in ("h1", "h2"):
        run_cli("interview", str(DEMO), "--store", str(db), "--case", ref, stdin=".\n")
    several = run_cli("interview", "--resume", "--store", str(db))
    assert several.returncode == 1
    assert "h1, h2" in several.stderr
    again = run_cli("interview", str(DEMO), "--store", str(db), "--case", "h1")
    assert again.returncode == 1 and "--resume h1" in again.stderr
    usage = run_cli("interview", "--store", str(db))
    assert usage.returncode == 2


def test_nothing_reaches_the_screen_raw(tmp_path):
    """Pasted escape codes are swallowed by the line editor, bidi controls are shown escaped."""
    home, db = term_home(tmp_path / "home"), tmp_path / "cases.db"
    child = spawn_cli(["interview", "term", "--home", str(home), "--store", str(db), "--case", "ia"])
    for key in "jn":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("Svar (heltal")
    child.send("1\r")
    child.expect(ACK)
    child.expect_exact("Svar (fritext")
    child.send("A\x1b[2J\x1b[31mB\x07C\u202eD\r")
    child.expect(ACK)
    shown = child.before + child.after
    child.expect_exact("Rad 1 – Enter utan svar")
    child.sendintr()
    finish(child)
    assert answers(db, "ia")["t"] == "ABC\u202eD"
    assert "\x1b[2J" not in shown and "\x1b[31m" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "ABC\\u202eD" in shown


@pytest.fixture(autouse=True)
def _no_user_store(monkeypatch, tmp_path):
    """No test may reach the real ~/.local/share store."""
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    monkeypatch.setitem(os.environ, "XDG_DATA_HOME", str(tmp_path / "no-xdg"))
    yield
    assert not (tmp_path / "no-home" / ".local").exists()



def test_referrals_from_a_rule_set_and_a_bad_rule_set_fails_first(tmp_path):
    db = tmp_path / "cases.db"
    script = fact_keys("freda-kortfragor", "stockholm") + "j\n" * 20 + "\nn\n"
    done = run_cli("interview", "freda-kortfragor", "--rules", "stockholm", "--store", str(db), "--case", "ka",
                   stdin=script)
    assert done.returncode == 0, done.stderr
    assert "Rekommenderade insatser" in done.stdout
    bad = run_cli("interview", "freda-kortfragor", "--rules", "nowhere", "--store", str(db), "--case", "kb")
    assert bad.returncode == 1
    assert "no rule set" in bad.stderr
    with Store.open(db) as st:
        assert st.find("kb") == []  # nothing was started


def test_keys_typed_ahead_never_answer_an_unseen_question(tmp_path):
    db = tmp_path / "cases.db"
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "la"])
    answer_facts(child, DEMO)
    child.expect_exact("> ")
    child.send("jjjj")  # one write: the extra keys wait in the terminal while q1 is saved
    child.expect_exact("✓ Sparat: Ja")
    child.expect("Fråga 2 av 5")
    child.expect_exact("> ")
    child.send("n")
    child.expect_exact("✓ Sparat: Nej")
    child.expect_exact("> ")
    child.send(".")
    assert finish(child)[1] == 0
    assert answers(db, "la") == {"q1": "yes", "q2": "no"}


def test_a_word_typed_at_a_persons_pace_answers_one_question_only(tmp_path):
    """Issue 13, seen 1: 'nej' + Enter saved "Nej", then its 'j' answered the next question "Ja"."""
    db = tmp_path / "cases.db"
    env = child_env()
    del env["SCREENING_KEY_BURST_GAP"]  # the real setting: a person's pace
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "ma", "--rules", "none"], env=env)
    child.expect("Fråga 1 av 5")
    child.expect_exact("> ")
    time.sleep(0.6)  # a person reads the question
    for key in "nej\r":
        child.send(key)
        time.sleep(0.12)  # about eight keys a second
    child.expect_exact("✓ Sparat: Nej")
    child.expect("Fråga 2 av 5")
    time.sleep(0.6)
    child.send(".")
    _, status = finish(child)
    assert status == 0
    assert answers(db, "ma") == {"q1": "no"}
