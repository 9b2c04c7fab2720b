"""The audit trail: one record per action and none without it, no content, and every kind of tampering found."""

from __future__ import annotations

import json
import sqlite3

import pytest
from terminal.scripted import ScriptedPrompter
from test_privacy_support import drop_triggers, isolated_user, raw, text_instrument

from screening import AssessmentLocked, StoreError, assess
from screening.cli import run
from screening.engine.instrument import JudgementInput
from screening.interview._run import run_interview
from screening.store import audit as audit_mod
from screening.store._store import Store
from screening.store.audit import Checkpoint, Event, extract, record, record_many, verify

CANARY = "CANARY-FRITEXT-7f3a"
NAME = "CANARY-NAMN"


@pytest.fixture
def user(tmp_path, monkeypatch, store_at):
    """An isolated user whose store is on each backend in turn (tests/pg_fixtures.py)."""
    yield from isolated_user(tmp_path, monkeypatch, store_at)


def actions(st: Store) -> list[tuple[str, str | None, str, str]]:
    rows = st.connection.execute("SELECT action, case_ref, detail, outcome FROM audit ORDER BY seq")
    return [tuple(r) for r in rows]


def trail(st: Store, n: int = 20) -> None:
    """``n`` records, all ok."""
    ci = text_instrument()
    info = st.create_assessment(ci, case_ref="c1")
    for k in range(n - 1):
        st.record_answer(info.id, "a" if k % 2 else "b", "yes")


# ---------------------------------------------------------------- coverage (V8)


def test_every_action_writes_exactly_its_record_and_no_content(user, tmp_path, capsys):
    ci = text_instrument()
    with Store.open(user.store, actor="handläggare 7", create=True) as st:
        info = st.create_assessment(ci, case_ref="c1")
        aid = info.id
        st.lock(aid)
        for key, value in (("a", "yes"), ("t", CANARY), ("cal", [{"when": "2024-01-05", "what": NAME}])):
            st.record_answer(aid, key, value)
        st.set_judgement(aid, JudgementInput(level="high", rationale=f"{CANARY} {NAME}"))
        outcome = run_interview(st, ci, aid, ScriptedPrompter(["."]))  # open the case, save and quit
        assert outcome.status == "saved"
        result = assess(ci, st.answers(aid), judgement=st.judgement(aid), assessor="handläggare 7")
        st.complete(aid, result=result)
        st.save_result(aid, result, action="rescore")  # same key: nothing new is stored
        st.correct(aid)
        st.unlock(aid)
        from screening.cli._interview import _write_report

        _write_report(st, result, ci, st.get(aid), tmp_path / "r.md", "md", "sv")
        record(st, action="export", assessment=aid, detail="jsonl")
    capsys.readouterr()
    assert run(["cases", "--store", str(user.store)]) == 0
    assert run(["audit", "show", "--case", "c1", "--store", str(user.store)]) == 0
    assert run(["cases", "delete", "c1", "--yes", "--store", str(user.store)]) == 0
    capsys.readouterr()
    with Store.open(user.store) as st:
        got = actions(st)
        assert verify(st).ok
        actors = {r[0] for r in st.connection.execute("SELECT actor FROM audit")}
    assert got == [
        ("create", "c1", "privtest@1.0.0", "ok"),
        ("answer", "c1", "a", "ok"),
        ("answer", "c1", "t", "ok"),
        ("answer", "c1", "cal", "ok"),
        ("judge", "c1", "level and rationale", "ok"),
        ("view", "c1", "interview", "ok"),  # the interview's own reads are covered by this one
        ("view", "c1", "answers, revision 1", "ok"),
        ("view", "c1", "judgement, revision 1", "ok"),
        ("complete", "c1", "revision 1", "ok"),
        ("score", "c1", f"revision 1, privtest@1.0.0, engine {result.engine_version}", "stored"),
        ("rescore", "c1", f"revision 1, privtest@1.0.0, engine {result.engine_version}", "unchanged"),
        ("correct", "c1", "revision 2 from 1", "ok"),
        ("report", "c1", "case-file md", "ok"),
        ("export", "c1", "jsonl", "ok"),
        ("list", None, "1 assessments", "ok"),
        ("extract", "c1", "log extract", "ok"),
        ("delete", "c1", "11 rows", "ok"),  # 6 answers, 2 revisions, 1 result and its compact outcome, 1 assessment
    ]
    covered = {a for a, *_ in got}
    assert covered == audit_mod.ACTIONS - {"rekey", "migrate", "access", "account"}, "every action has a record"
    # "access" and "account" are written by the server and `screening users`: tests/server/test_access_log.py.
    assert "handläggare 7" in actors
    dump = json.dumps(got, ensure_ascii=False)
    assert CANARY not in dump and NAME not in dump


def test_every_public_read_of_personal_data_is_one_view_record_with_ids_only(user):
    """Issue 15, item 8: ``answers()`` and ``judgement()`` (and the other reads) wrote no record at all."""
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(ci, case_ref="c1").id
        st.record_answer(aid, "t", CANARY)
        st.record_fact(aid, "age", 34)
        st.set_judgement(aid, JudgementInput(level="high", rationale=NAME))
        st.complete(aid, result=assess(ci, {"t": CANARY}))
        before = len(actions(st))
        assert st.answers(aid) == {"t": CANARY}
        assert st.answer_rows(aid) == {"t": (CANARY, False)}
        assert st.facts(aid) == {"age": 34}
        assert st.judgement(aid) == JudgementInput(level="high", rationale=NAME)
        assert len(st.results(aid)) == 1
        assert st.answers(aid, 1) == {"t": CANARY}
        got = actions(st)[before:]
        assert verify(st).ok
    assert got == [
        ("view", "c1", "answers, revision 1", "ok"),
        ("view", "c1", "answers, revision 1", "ok"),
        ("view", "c1", "facts, revision 1", "ok"),
        ("view", "c1", "judgement, revision 1", "ok"),
        ("view", "c1", "results, revision 1", "ok"),
        ("view", "c1", "answers, revision 1", "ok"),
    ]
    dump = json.dumps(got, ensure_ascii=False)
    assert CANARY not in dump and NAME not in dump


def test_a_read_of_an_unknown_assessment_is_recorded_as_refused(user):
    with Store.open(user.store, create=True) as st:
        with pytest.raises(StoreError, match="no such assessment"):
            st.judgement("0" * 32)
        assert actions(st)[-1] == ("view", None, "judgement", "refused")


def test_resuming_an_interview_is_one_view_not_one_per_answer(user):
    """The interview session reads the draft unaudited: ``run_interview`` logged the case's view."""
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(ci, case_ref="c1").id
        for key in ("a", "b", "t"):
            st.record_answer(aid, key, "yes" if key != "t" else CANARY)
        st.set_judgement(aid, JudgementInput(level="high", rationale=NAME))
        before = len(actions(st))
        assert run_interview(st, ci, aid, ScriptedPrompter(["."])).status == "saved"
        assert actions(st)[before:] == [("view", "c1", "interview", "ok")]


def test_an_action_that_fails_to_commit_leaves_no_ok_record_only_a_failed_one(user, monkeypatch):
    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(text_instrument(), case_ref="c1").id

        def broken_disk() -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(st, "_commit", broken_disk)
        with pytest.raises(StoreError, match="not saved"):
            st.record_answer(aid, "t", CANARY)
        monkeypatch.undo()
        assert st.answers(aid) == {}
        assert actions(st)[1:] == [("answer", "c1", "t", "failed"), ("view", "c1", "answers, revision 1", "ok")]
        st.record_answer(aid, "t", CANARY)
        assert actions(st)[-1] == ("answer", "c1", "t", "ok")
        assert verify(st).ok


def test_refused_actions_are_recorded_as_refused(user):
    with Store.open(user.store, create=True) as st, Store.open(user.store) as other:
        ci = text_instrument()
        aid = st.create_assessment(ci, case_ref="c1").id
        st.lock(aid)
        with pytest.raises(AssessmentLocked):
            other.record_answer(aid, "a", "yes")
        st.unlock(aid)
        st.complete(aid)
        with pytest.raises(StoreError, match="completed"):
            st.record_answer(aid, "a", "no")
        assert [a[2:] for a in actions(st) if a[0] == "answer"] == [("a", "refused"), ("a", "refused")]


def test_audit_records_cannot_be_changed_or_deleted_by_the_program(user):
    with Store.open(user.store, create=True) as st:
        trail(st, 3)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            st.connection.execute("UPDATE audit SET outcome = 'ok'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            st.connection.execute("DELETE FROM audit")


def test_record_on_a_raw_connection_joins_its_transaction(user):
    """How the batch re-scorer appends: inside its own chunk transaction, committed or rolled back with it."""
    from screening.batch._store import open_writer

    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(text_instrument(), case_ref="c1").id
    conn = open_writer(user.store)  # the re-scorer's connection, on either backend
    try:
        conn.execute("BEGIN IMMEDIATE")
        record_many(conn, [Event("rescore", aid, "to 2.0.0", "changed"), Event("rescore", None, "run", "ok")])
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'rescore'").fetchone()[0] == 0
        conn.execute("BEGIN IMMEDIATE")
        point = record_many(conn, [Event("rescore", aid, "to 2.0.0", "changed")], actor="batch")
        conn.execute("COMMIT")
        assert point == audit_mod.checkpoint(conn)
        assert verify(conn).ok
    finally:
        conn.close()


@pytest.mark.parametrize(
    "event",
    [
        Event("answered", "x"),  # not an action
        Event("answer", "x", detail="svar: 19850101-1236"),  # a personnummer in the detail
        Event("answer", "x", detail="rad\nett"),
        Event("answer", "x", outcome="It went fine"),
    ],
)
def test_malformed_events_are_refused(user, event):
    with Store.open(user.store, create=True) as st, pytest.raises(StoreError):
        record_many(st, [event])


def test_an_actor_that_looks_like_a_personnummer_is_refused(user):
    with pytest.raises(StoreError, match="actor"):
        Store.open(user.store, actor="19850101-1236", create=True)


# ---------------------------------------------------------------- tamper evidence (V9)


def _tamper(db, how: str) -> None:
    conn = raw(db)
    drop_triggers(conn, "audit")
    if how == "edit":
        conn.execute("UPDATE audit SET detail = 'b' WHERE seq = 7")
    elif how == "edit-actor":
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 7")
    elif how == "delete":
        conn.execute("DELETE FROM audit WHERE seq = 7")
    elif how == "delete-and-renumber":
        conn.execute("DELETE FROM audit WHERE seq = 7")
        conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 7")
    elif how == "reorder":
        cols = "at, actor, action, assessment, case_ref, detail, outcome, kid, mac"
        seven = conn.execute(f"SELECT {cols} FROM audit WHERE seq = 7").fetchone()
        eight = conn.execute(f"SELECT {cols} FROM audit WHERE seq = 8").fetchone()
        sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
        conn.execute(f"UPDATE audit SET {sets} WHERE seq = 7", eight)
        conn.execute(f"UPDATE audit SET {sets} WHERE seq = 8", seven)
    elif how == "forged-mac":
        conn.execute("UPDATE audit SET detail = 'a', mac = randomblob(32) WHERE seq = 7")
    elif how == "store-id":
        conn.execute("UPDATE store_meta SET value = randomblob(16) WHERE name = 'store_id'")
    conn.close()


@pytest.mark.parametrize(
    ("how", "first_bad", "words"),
    [
        ("edit", 7, "does not match its MAC"),
        ("edit-actor", 7, "does not match its MAC"),
        ("delete", 7, "record 7 is missing"),
        ("delete-and-renumber", 7, "does not match its MAC"),
        ("reorder", 7, "does not match its MAC"),
        ("forged-mac", 7, "does not match its MAC"),
        ("store-id", 1, "does not match its MAC"),
    ],
)
def test_the_first_bad_record_is_named(user, how, first_bad, words, capsys):
    with Store.open(user.store, create=True) as st:
        trail(st, 20)
        assert verify(st).ok
    _tamper(user.store, how)
    with Store.open(user.store) as st:
        found = verify(st)
    assert not found.ok
    assert found.first_bad == first_bad
    assert words in (found.reason or "")
    capsys.readouterr()
    assert run(["audit", "verify", "--store", str(user.store), "--lang", "en"]) == 1
    assert f"record {first_bad}" in capsys.readouterr().err


def test_a_cut_off_end_is_found_against_a_checkpoint(user, capsys):
    with Store.open(user.store, create=True) as st:
        trail(st, 20)
        kept = st.checkpoint()
    assert kept.count == 20
    conn = raw(user.store)
    drop_triggers(conn, "audit")
    conn.execute("DELETE FROM audit WHERE seq > 15")
    conn.close()
    with Store.open(user.store) as st:
        assert verify(st, values=False).ok, "without a checkpoint a shorter chain is still a valid chain"
        # ... but the answers the cut records wrote are still in the store, and the last records
        # left name older values there (schema 4: every answer record names the value it wrote).
        assert not verify(st).ok and "rolled back, replaced or removed" in (verify(st).reason or "")
        found = verify(st, against=kept)
        assert not found.ok and found.first_bad == 16 and "removed from the end" in (found.reason or "")
        # Appending after the cut does not hide it: record 20 now differs from the checkpoint.
        trail(st, 6)
        found = verify(st, against=kept)
        assert not found.ok and found.first_bad == 20 and "rewritten" in (found.reason or "")
    capsys.readouterr()
    assert run(["audit", "verify", "--store", str(user.store), "--checkpoint", str(kept), "--lang", "en"]) == 1
    assert "does not match the checkpoint" in capsys.readouterr().err


def test_verify_prints_a_checkpoint_that_later_verifies(user, capsys):
    with Store.open(user.store, create=True) as st:
        trail(st, 5)
    capsys.readouterr()
    assert run(["audit", "verify", "--store", str(user.store), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "5 records, the chain is intact" in out
    point = out.rsplit(": ", 1)[1].strip()
    assert Checkpoint.parse(point).count == 5
    assert run(["audit", "verify", "--store", str(user.store), "--checkpoint", point]) == 0


@pytest.mark.parametrize("text", ["5", "5:abc", "x:0123456789abcdef", "5:0123456789abcdeg"])
def test_a_malformed_checkpoint_is_a_clear_error(text):
    with pytest.raises(StoreError, match="checkpoint looks like"):
        Checkpoint.parse(text)


# ---------------------------------------------------------------- the log extract (V10)


def test_log_extract_for_one_case_in_text_and_json(user, capsys):
    with Store.open(user.store, actor="anna", create=True) as st:
        ci = text_instrument()
        one = st.create_assessment(ci, case_ref="c1").id
        st.create_assessment(ci, case_ref="c2")
        st.record_answer(one, "t", CANARY)
        st.audit("view", one, detail="report")
    capsys.readouterr()
    assert run(["audit", "show", "--case", "c1", "--store", str(user.store), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["actor"], r["detail"]) for r in rows] == [
        ("create", "anna", "privtest@1.0.0"), ("answer", "anna", "t"), ("view", "anna", "report")
    ]
    assert run(["audit", "show", "--case", "c1", "--store", str(user.store), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["No", "Time", "(UTC)", "Who", "Action", "Detail", "Outcome"]
    assert CANARY not in out and "c2" not in out
    with Store.open(user.store) as st:
        assert [r.action for r in extract(st, "c1")][-1] == "extract", "reading the log is logged too"
    assert run(["audit", "show", "--case", "19850101-1236", "--store", str(user.store)]) == 1
