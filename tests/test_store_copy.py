"""``screening store copy`` (SQLite ↔ PostgreSQL) and ``screening store upgrade`` (issue 17).

A copy is the same store moved: every sealed value as it was, the same keys and the same
audit chain, which verifies in the copy — also against a checkpoint kept before the copy.
"""

from __future__ import annotations

import pytest
from helpers import DEMO
from test_privacy_support import raw

from screening import StoreError, assess, load_instrument_file
from screening.cli import run
from screening.engine.instrument import JudgementInput
from screening.store import Store
from screening.store.audit import extract, verify


@pytest.fixture
def demo():
    return load_instrument_file(DEMO)


def fill(location, demo) -> None:
    """Every kind of row: completed with a result, corrected, a draft with a judgement and facts, one deleted."""
    with Store.open(location, create=True) as st:
        done = st.create_assessment(demo, case_ref="klar")
        st.record_answer(done.id, "q1", "yes")
        st.record_answer(done.id, "rows", [{"d": "2024-01-01"}], partial=True)
        st.complete(done.id, result=assess(demo, {"q1": "yes"}))
        st.correct(done.id)
        st.record_answer(done.id, "q1", "no")
        st.complete(done.id, result=assess(demo, {"q1": "no"}))
        draft = st.create_assessment(demo, case_ref="utkast")
        st.record_answer(draft.id, "q2", "Fritext åäö 😀")
        st.record_fact(draft.id, "age", 34)
        st.set_judgement(draft.id, JudgementInput(level="high", rationale="skäl"))
        st.add_account("anna", "caseworker", team="nordost", password_hash="$argon2id$not-a-real-hash")
        st.add_account("journal", "system", team="nordost", scopes=frozenset({"score"}))
        st.add_token("journal", b"\x01" * 32, frozenset({"score"}))
        st.create_assessment(demo, case_ref="teamets", team="nordost")
        gone = st.create_assessment(demo, case_ref="raderad")
        st.record_answer(gone.id, "q1", "yes")
        st.delete_assessment(gone.id, compact=False)


def contents(location) -> list[tuple[object, ...]]:
    """What a caseworker can read of every assessment and revision (reads are audited: do it last)."""
    out = []
    with Store.open(location) as st:
        for info in st.list_assessments():
            for rev in range(1, info.revision + 1):
                out.append((info.case_ref, info.status, rev, st._answer_rows(info.id, rev), st._facts(info.id, rev),
                            st._judgement(info.id, rev), [(h, r.to_json()) for h, r in st._results(info.id, rev)]))
    return out


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_a_copy_moves_every_row_and_its_audit_trail_verifies_there(direction, demo, tmp_path, pg_cluster, capsys):
    db, url = tmp_path / "cases.db", pg_cluster.create_database(f"copy_{direction.replace('-', '_')}")
    src, dst = (str(db), url) if direction.startswith("sqlite") else (url, str(db))
    fill(src, demo)
    with Store.open(src) as st:
        kept = st.checkpoint()
    before = contents(src)
    capsys.readouterr()
    assert run(["store", "copy", src, dst, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Copied: 3 assessments, 4 revisions, 6 answers, 2 results (2 outcomes," in out, out
    assert "2 accounts, 1 API tokens, 1 cases with a team." in out, out
    assert "The copy's audit trail is intact" in out
    assert contents(dst) == before
    with Store.open(dst) as st:
        assert verify(st, against=kept).ok, "the chain is the source's, continued"
        # The copy's own record (the reads of contents() came after it).
        details = [d for (a, d) in st.connection.execute("SELECT action, detail FROM audit") if a == "migrate"]
        kind = "SQLite" if direction.startswith("sqlite") else "PostgreSQL"
        assert details == [f"copied from a {kind} store: 3 assessments"]
        # The server's accounts, tokens and case teams moved with the store.
        assert [a.name for a in st.accounts()] == ["anna", "journal"]
        assert st.token_account(b"\x01" * 32) is not None
        assert st.case_team(st.find("teamets")[0].id) == "nordost"
        # The deleted case is still in the trail (pseudonym only); the copy can be written to.
        assert [r.action for r in extract(st, "raderad")][-1] == "delete"
        info = st.create_assessment(demo, case_ref="efter")
        st.record_answer(info.id, "q1", "yes")
        assert verify(st).ok


def test_a_copy_into_a_store_that_is_not_empty_is_refused(demo, tmp_path, pg_db, capsys):
    fill(pg_db, demo)
    fill(tmp_path / "other.db", demo)
    capsys.readouterr()
    assert run(["store", "copy", pg_db, str(tmp_path / "other.db"), "--lang", "en"]) == 1
    assert "is not empty" in capsys.readouterr().err


def test_a_source_whose_trail_does_not_verify_is_not_copied(demo, tmp_path, pg_db, capsys):
    fill(pg_db, demo)
    conn = raw(pg_db)  # the DBA edits a record
    conn.execute("UPDATE audit SET actor = 'någon annan' WHERE seq = 3")
    conn.close()
    capsys.readouterr()
    assert run(["store", "copy", pg_db, str(tmp_path / "copy.db"), "--lang", "en"]) == 1
    assert "does not verify" in capsys.readouterr().err
    with Store.open(tmp_path / "copy.db") as st:
        assert list(st.list_assessments()) == []


def test_upgrade_makes_an_empty_database_a_store_and_then_has_nothing_to_do(pg_db, capsys):
    from screening.store._pgschema import PG_SCHEMA_VERSION

    assert run(["store", "upgrade", "--store", pg_db, "--lang", "en"]) == 0
    assert f"upgraded from schema version 0 to {PG_SCHEMA_VERSION}" in capsys.readouterr().out
    assert run(["store", "upgrade", "--store", pg_db]) == 0
    assert f"har redan schemaversion {PG_SCHEMA_VERSION}" in capsys.readouterr().out
    Store.open(pg_db).close()  # a store now, without create


def test_upgrade_refuses_a_database_newer_than_the_code(pg_db, capsys):
    from screening.store._pgschema import PG_SCHEMA_VERSION

    Store.open(pg_db, create=True).close()
    conn = raw(pg_db)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 'x')", (PG_SCHEMA_VERSION + 1,))
    conn.close()
    capsys.readouterr()
    assert run(["store", "upgrade", "--store", pg_db, "--lang", "en"]) == 1
    assert "upgrade screening" in capsys.readouterr().err


def test_upgrade_of_an_sqlite_store(tmp_path, capsys):
    from screening.store._schema import SCHEMA_VERSION

    assert run(["store", "upgrade", "--store", str(tmp_path / "none.db")]) == 1
    assert "no case store" in capsys.readouterr().err
    Store.open(tmp_path / "s.db", create=True).close()
    assert run(["store", "upgrade", "--store", str(tmp_path / "s.db"), "--lang", "en"]) == 0
    assert f"already at schema version {SCHEMA_VERSION}" in capsys.readouterr().out


def test_the_library_refuses_copying_a_store_onto_itself(tmp_path, demo):
    fill(tmp_path / "a.db", demo)
    from screening.store._copy import copy_store

    with Store.open(tmp_path / "a.db") as a, Store.open(tmp_path / "a.db") as b, pytest.raises(StoreError,
                                                                                                  match="not empty"):
        copy_store(a, b)
