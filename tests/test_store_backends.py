"""The store under load and outages, on SQLite and PostgreSQL (issue 17), and what is PostgreSQL's own.

* Concurrent writers: 8 processes creating and answering assessments at once; nothing is
  lost, nothing is duplicated, and the audit chain (one chain, every writer's records in
  it) verifies. The issue's 2,000 assessments per process run under ``-m soak``.
* The PostgreSQL server stopped in the middle of an interview: the caseworker is told the
  answer was not saved, nothing acknowledged is lost, and the same interview goes on once
  the server is back (the session reconnects and takes its draft lock again).
* Migrations: an empty database gets the schema only when a store is to be created or by
  ``screening store upgrade``; a newer schema is refused.
* ``import screening`` and ``screening --help`` never load psycopg.

Kill -9 of a writer mid-answer runs on both backends in ``test_interview_crash.py`` and
``test_case_facts.py``; tampering by someone with the database (the DBA) in
``test_audit.py`` and ``test_sealing.py``; the whole store contract in ``test_store.py``.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from helpers import DEMO, python_env
from terminal.scripted import ScriptedPrompter

from screening import StoreError, load_instrument_file
from screening.cli import run
from screening.store import Store
from screening.store.audit import verify

WRITERS = 8

_WRITER = textwrap.dedent(
    """
    import sys
    from screening import load_instrument_file
    from screening.store import Store

    from screening import AssessmentLocked, StoreError

    location, n, k = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    location = location if location.startswith("postgresql://") else __import__("pathlib").Path(location)
    ci = load_instrument_file(sys.argv[4])

    def retried(action):
        # "not saved; try again" is the store's contract (SQLite's busy timeout under 8 writers
        # says so): try again, as the interview offers the question again.
        for _ in range(100):
            try:
                return action()
            except AssessmentLocked:
                raise
            except StoreError as exc:
                if "try again" not in exc.message:
                    raise
        raise SystemExit("gave up")

    with Store.open(location) as st:
        for i in range(n):
            info = retried(lambda: st.create_assessment(ci, case_ref=f"w{k}-{i}"))
            st.lock(info.id)
            retried(lambda: st.record_answer(info.id, "q1", f"w{k}-{i}"))
            retried(lambda: st.record_answer(info.id, "q2", "no"))
            retried(lambda: st.complete(info.id))
            st.unlock(info.id)
    print("done", n, flush=True)
    """
)


def _concurrent_writers(location: object, per_writer: int) -> None:
    with Store.open(location, create=True):  # the schema and the key exist before the writers start
        pass
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(location), str(per_writer), str(k), str(DEMO)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env())
        for k in range(WRITERS)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        assert proc.returncode == 0 and out.strip() == f"done {per_writer}", err[-3000:]
    with Store.open(location) as st:
        listed = list(st.list_assessments())
        assert len(listed) == WRITERS * per_writer, "nothing lost"
        assert len({a.id for a in listed}) == len({a.case_ref for a in listed}) == len(listed), "nothing twice"
        assert {a.status for a in listed} == {"completed"}
        rows = st.connection.execute("SELECT assessment_id, count(*) FROM answers GROUP BY assessment_id").fetchall()
        assert sorted(n for _, n in rows) == [2] * len(listed)
        sample = listed[:: max(1, len(listed) // 50)]  # each read is an audited view: a sample
        for info in sample:
            assert st.answers(info.id) == {"q1": info.case_ref, "q2": "no"}
        counts = dict(st.connection.execute(
            "SELECT action, count(*) FROM audit WHERE outcome = 'ok' GROUP BY action").fetchall())
        assert counts["create"] == counts["complete"] == len(listed)
        assert counts["answer"] == 2 * len(listed)
        failed = st.connection.execute("SELECT count(*) FROM audit WHERE outcome <> 'ok'").fetchone()[0]
        found = verify(st)
        assert found.ok, found.reason
        assert found.count == sum(counts.values()) + failed


def test_eight_concurrent_writers_lose_and_duplicate_nothing_and_the_chain_verifies(store_at):
    _concurrent_writers(store_at, 25)


@pytest.mark.soak
def test_eight_writers_of_two_thousand_assessments_each(store_at):
    """The issue's figure: 8 processes × 2,000 assessments (``pytest -m soak``)."""
    _concurrent_writers(store_at, 2000)


# ---------------------------------------------------------------- the server goes away


def test_a_stopped_server_mid_interview_loses_nothing_acknowledged_and_the_interview_goes_on(pg_cluster, pg_db):
    from screening.interview._run import run_interview

    demo = load_instrument_file(DEMO)
    with Store.open(pg_db, create=True) as st:
        aid = st.create_assessment(demo, case_ref="avbrott").id
        st.lock(aid)
        seen: list[str] = []

        def outage(p: ScriptedPrompter) -> None:
            seen.append(p.prompts[-1])
            if len(seen) == 2:  # q1 answered and acknowledged: the server goes down before q2
                pg_cluster.stop()
            elif len(seen) == 3:  # the caseworker was told; the server comes back before Enter
                pg_cluster.start_again()

        p = ScriptedPrompter(["j", "n", "", "."])  # q1, q2 (fails), Enter: saved now; then save and quit
        p.before_read = outage
        try:
            outcome = run_interview(st, demo, aid, p)
        finally:
            if not pg_cluster.running:
                pg_cluster.start_again()
        screen = p.screen
        assert "Svaret kunde inte sparas (databasservern svarar inte, så det sparades inte" in screen, screen
        assert "Traceback" not in screen
        assert outcome.status == "saved"
        # Before the outage and after it: both answers, once each, under the one draft lock.
        assert st._session_answer_rows(aid) == {"q1": ("yes", False), "q2": ("no", False)}
        with Store.open(pg_db) as other, pytest.raises(StoreError, match="open elsewhere"):
            other.lock(aid)  # the reconnected session took the draft's lock again
        assert verify(st).ok


def test_a_stopped_server_is_a_clear_error_to_the_library_and_says_nothing_was_saved(pg_cluster, pg_db):
    demo = load_instrument_file(DEMO)
    with Store.open(pg_db, create=True) as st:
        aid = st.create_assessment(demo).id
        st.record_answer(aid, "q1", "yes")
        pg_cluster.stop()
        try:
            with pytest.raises(StoreError) as err:
                st.record_answer(aid, "q2", "CANARY-SVAR")
        finally:
            pg_cluster.start_again()
        message = str(err.value)
        assert "database server" in message and "not saved" in message and "CANARY" not in message
        st.record_answer(aid, "q2", "no")  # the same store, once the server is back
        assert st.answers(aid) == {"q1": "yes", "q2": "no"}
        assert verify(st).ok


# ---------------------------------------------------------------- schema versions


def test_an_empty_database_is_not_made_a_store_by_opening_it(pg_db):
    with pytest.raises(StoreError, match=r"no case store .* empty database.*store upgrade"):
        Store.open(pg_db)
    from screening.store._pg import PgConnection
    from screening.store._pgschema import schema_version

    conn = PgConnection.connect(pg_db)
    try:
        assert schema_version(conn) is None, "nothing was created"
    finally:
        conn.close()


def test_a_newer_schema_is_refused_and_an_older_one_asks_for_the_upgrade(pg_db):
    from screening.store._pgschema import PG_SCHEMA_VERSION

    Store.open(pg_db, create=True).close()
    from test_privacy_support import raw

    conn = raw(pg_db)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 'x')", (PG_SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(StoreError, match="upgrade screening"):
        Store.open(pg_db)


def test_a_database_with_other_tables_is_not_a_store(pg_db):
    from test_privacy_support import raw

    conn = raw(pg_db)
    conn.execute("CREATE TABLE mine (x integer)")
    conn.close()
    with pytest.raises(StoreError, match="not a screening store"):
        Store.open(pg_db, create=True)


def test_a_wrong_password_or_host_is_a_clear_error_without_the_password(pg_url):
    from urllib.parse import urlsplit

    port = urlsplit(pg_url).port
    with pytest.raises(StoreError) as err:
        Store.open(f"postgresql://nobody:hemligt@127.0.0.1:{port}/no_such_db")
    assert "cannot connect to the PostgreSQL store" in str(err.value) and "hemligt" not in str(err.value)


# ---------------------------------------------------------------- psycopg stays out of the way


@pytest.mark.parametrize("args", [["-c", "import screening, screening.store, screening.cli"],
                                  ["-m", "screening", "--help"]])
def test_psycopg_is_loaded_only_for_a_postgresql_store(args):
    code = ("import runpy, sys\nsys.argv = ['screening', '--help']\n"
            "try:\n    runpy.run_module('screening', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            if args[0] == "-m" else args[1] + "\n")
    code += "import sys\nprint('psycopg' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=python_env(),
                         timeout=120, check=False)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_psycopg_is_imported_only_inside_the_store():
    """One place decides the backend (``Store.open``); nothing above the store knows PostgreSQL's driver."""
    import re
    from pathlib import Path

    import screening

    root = Path(screening.__file__).parent
    found = [str(path.relative_to(root)) for path in root.rglob("*.py")
             if re.search(r"^\s*(import|from)\s+psycopg", path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert found and all(name.startswith("store/") for name in found), found


# ---------------------------------------------------------------- the database accounts (docs/postgresql.md)


def _documented_grants() -> list[str]:
    """The GRANT statements docs/postgresql.md tells the administrator to run."""
    from helpers import REPO

    text = (REPO / "docs" / "postgresql.md").read_text(encoding="utf-8")
    grants = [line.strip().rstrip(";") for line in text.splitlines() if line.startswith("GRANT ")]
    assert len(grants) == 4, grants
    return grants


def test_the_application_account_works_with_the_documented_rights_and_cannot_switch_off_the_rules(pg_cluster):
    from urllib.parse import urlsplit, urlunsplit

    from screening import AssessmentLocked, assess, load_instrument
    from screening.batch._run import RunConfig, run_store
    from screening.store import audit

    owner_url = pg_cluster.create_database("least_privilege")
    name = urlsplit(owner_url).path.lstrip("/")
    pg_cluster.psql("postgres", "DO $$ BEGIN CREATE ROLE screening_app LOGIN; EXCEPTION WHEN duplicate_object THEN "
                                "NULL; END $$")
    assert run(["store", "upgrade", "--store", owner_url]) == 0  # as the owner
    for grant in _documented_grants():
        pg_cluster.psql(name, grant.replace("DATABASE screening", f"DATABASE {name}"))
    parts = urlsplit(owner_url)
    app_url = urlunsplit(parts._replace(netloc="screening_app@" + parts.netloc.rsplit("@", 1)[-1]))
    demo = load_instrument_file(DEMO)
    with Store.open(app_url) as st:
        aid = st.create_assessment(demo, case_ref="minst").id
        st.lock(aid)
        st.record_answer(aid, "q1", "yes")
        st.record_fact(aid, "age", 40)
        st.complete(aid, result=assess(demo, {"q1": "yes"}))
        st.correct(aid)
        st.complete(aid)
        st.unlock(aid)
        other = st.create_assessment(demo, case_ref="bort").id
        st.delete_assessment(other)  # its VACUUM is the owner's: skipped with a warning, not an error
        st.rekey()
        assert st.retire_keys() == (0, [])
        assert audit.verify(st).ok
        with pytest.raises(sqlite3.Error, match="owner"):
            st.connection.execute("ALTER TABLE answers DISABLE TRIGGER ALL")
        with pytest.raises(sqlite3.Error, match="append-only"):
            st.connection.execute("DELETE FROM audit")
        bundled = load_instrument("freda-kortfragor")
        for ref in ("r1", "r2", "r3"):
            st.complete(st.create_assessment(bundled, case_ref=ref).id)
    config = RunConfig(instrument="freda-kortfragor", rules=None, home=None)
    summary = run_store(app_url, config, apply=True, jobs=2, progress=False, chunk=1)  # --jobs 2: a connection each
    assert summary.diff["counts"]["total"] == 3 and summary.diff["counts"]["stored"] == 3
    with Store.open(app_url) as st:
        assert st.answers(aid, 1) == {"q1": "yes"}
        with pytest.raises(AssessmentLocked), Store.open(app_url) as other_st:
            st.lock(aid)
            other_st.lock(aid)


def test_the_application_account_cannot_create_the_schema_and_says_so(pg_cluster):
    from urllib.parse import urlsplit, urlunsplit

    url = pg_cluster.create_database("no_schema_rights")
    pg_cluster.psql("postgres", "DO $$ BEGIN CREATE ROLE screening_app LOGIN; EXCEPTION WHEN duplicate_object THEN "
                                "NULL; END $$")
    parts = urlsplit(url)
    app_url = urlunsplit(parts._replace(netloc="screening_app@" + parts.netloc.rsplit("@", 1)[-1]))
    with pytest.raises(StoreError, match=r"0001_initial.sql failed .*permission denied"):
        Store.open(app_url, create=True)
