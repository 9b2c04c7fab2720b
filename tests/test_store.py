"""The case store: durable writes, owner-only files, pinned pragmas, revisions, results, locks."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import DEMO, compile_instrument, python_env

from screening import AssessmentLocked, StoreError, assess, load_instrument_file
from screening.engine.instrument import JudgementInput
from screening.store import _schema as schema
from screening.store._lock import lock_dir
from screening.store._store import Store, check_case_ref, default_store_path, new_case_ref


@pytest.fixture
def demo():
    return load_instrument_file(DEMO)


@pytest.fixture
def store(store_at):
    """A new store on each backend (tests/pg_fixtures.py)."""
    with Store.open(store_at, create=True) as st:
        yield st


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- opening and files


def test_default_path_follows_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SCREENING_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "screening" / "screening.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "screening" / "screening.db"
    monkeypatch.setenv("SCREENING_STORE", str(tmp_path / "explicit.db"))
    assert default_store_path() == tmp_path / "explicit.db"


def test_files_and_directories_are_owner_only_even_under_umask_022(monkeypatch, tmp_path, demo):
    monkeypatch.delenv("SCREENING_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o022)
    try:
        with Store.open(create=True) as st:
            info = st.create_assessment(demo)
            st.lock(info.id)
            st.record_answer(info.id, "q1", "yes")
            db = st.path
            created = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), lock_dir(db) / f"{info.id}.lock"]
            modes = {p.name: mode(p) for p in created}
            dirs = {p.name: mode(p) for p in (db.parent, db.parent.parent, lock_dir(db))}
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(modes, 0o600)
    assert dirs == dict.fromkeys(dirs, 0o700)


@pytest.mark.sqlite_only
def test_pragmas_are_set_and_read_back(store):
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
    assert conn.isolation_level is None


def test_a_pragma_that_does_not_take_is_an_error(monkeypatch, tmp_path):
    # An in-memory database cannot be in WAL mode: SQLite answers "memory".
    with pytest.raises(StoreError, match="refused PRAGMA journal_mode"):
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            schema._apply_pragmas(conn, Path(":memory:"))
        finally:
            conn.close()


def test_schema_version_is_recorded(store, backend):
    conn = store._conn
    if backend == "postgresql":
        from screening.store._pgschema import PG_SCHEMA_VERSION, migrations

        assert migrations()[-1][0] == PG_SCHEMA_VERSION
        recorded = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert recorded == list(range(1, PG_SCHEMA_VERSION + 1)), "each migration is recorded as it is run"
        return
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(schema.SCHEMA_VERSION,)]


OUTCOMES = ("SELECT o.assessment_id, o.revision, k.instrument_sha256, k.rules_sha256, k.engine_version,"
            " k.instrument_version, o.outcome, o.result_sha256, o.created_at"
            " FROM outcomes o JOIN outcome_keys k ON k.id = o.key ORDER BY o.assessment_id, k.rules_sha256")

# The batch re-scorer's own table in a schema-2 store (hashes in every row).
OLD_RESCORE_TABLE = """CREATE TABLE rescore_results (
    assessment_id TEXT NOT NULL, revision INTEGER NOT NULL, instrument_sha256 TEXT NOT NULL,
    rules_sha256 TEXT NOT NULL, engine_version TEXT NOT NULL, instrument_version TEXT NOT NULL,
    outcome ANY NOT NULL, result_sha256 TEXT, created_at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision, instrument_sha256, rules_sha256, engine_version)) STRICT, WITHOUT ROWID"""


def as_version_2(path: Path) -> None:
    """Make a store look as schema 2 left it: values bound to (assessment, field) only, no outcome tables."""
    from test_sealing import as_schema_3

    from screening.store.crypto import default_keyring

    as_schema_3(path, default_keyring())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE outcomes")
    conn.execute("DROP TABLE outcome_keys")
    conn.execute("DROP INDEX assessments_by_id")
    conn.execute("DROP INDEX revisions_by_assessment")
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version VALUES (2, 'x')")
    conn.execute("PRAGMA user_version = 2")
    conn.close()


def test_every_stored_result_has_its_compact_outcome(store, demo):
    """What a re-score compares with: written with the result, in the same transaction, under the same key."""
    from screening.engine.result import compact_outcome
    from screening.store.values import decode

    info = store.create_assessment(demo)
    store.record_answer(info.id, "q1", "yes")
    result = assess(demo, {"q1": "yes"})
    store.complete(info.id, result=result)
    rows = store._conn.execute(OUTCOMES).fetchall()
    full = store._conn.execute("SELECT assessment_id, revision, instrument_sha256, rules_sha256, engine_version,"
                               " result_sha256, created_at FROM results").fetchall()
    assert [(*r[:5], *r[7:]) for r in rows] == full and rows[0][5] == demo.instrument.version
    assert decode(info.id, "rescore", rows[0][6], revision=1, key=rows[0][2:5]) == compact_outcome(
        result.model_dump(mode="json"))
    assert compact_outcome(result.model_dump(mode="json"))["level"] == result.final_level
    with pytest.raises(sqlite3.IntegrityError, match="never rewritten"):
        store._conn.execute("UPDATE outcomes SET created_at = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        store._conn.execute("DELETE FROM outcomes")


def test_a_version_2_store_gets_the_compact_outcome_of_every_result_when_opened(tmp_path, demo):
    from screening.store.audit import verify
    from screening.store.crypto import aad, default_keyring
    from screening.store.values import canonical, decode

    path = tmp_path / "v2.db"
    with Store.open(path, create=True) as st:
        ids = []
        for value in ("yes", "no"):
            info = st.create_assessment(demo)
            st.record_answer(info.id, "q1", value)
            st.complete(info.id, result=assess(demo, {"q1": value}))
            ids.append(info.id)
        expected = st._conn.execute(OUTCOMES).fetchall()
    as_version_2(path)
    # A batch re-score had stored one outcome under other rules, in its own table.
    earlier = {"level": "low", "status": "concluded", "complete": True, "critical": [], "referrals": []}
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(OLD_RESCORE_TABLE)
    conn.execute("INSERT INTO rescore_results VALUES (?, 1, ?, 'rules-x', '0.0.9', ?, ?, NULL, '2025-01-01')",
                 (ids[0], expected[0][2], demo.instrument.version,
                  default_keyring().seal(canonical(earlier), aad(ids[0], "rescore"))))
    conn.close()
    with Store.open(path) as st:
        got = st._conn.execute(OUTCOMES).fetchall()
        # The results' outcomes again (same keys, hashes and times; the sealed bytes differ, a fresh
        # nonce, but open to the same outcome), and the re-scorer's row moved with its own key.
        moved = [r for r in got if r[3] == "rules-x"]
        assert len(moved) == 1 and moved[0][0] == ids[0]
        assert decode(ids[0], "rescore", moved[0][6], revision=1, key=moved[0][2:5]) == earlier
        rest = [r for r in got if r[3] != "rules-x"]
        assert [(*r[:6], *r[7:]) for r in rest] == [(*r[:6], *r[7:]) for r in expected]
        assert [decode(r[0], "rescore", r[6], revision=r[1], key=r[2:5]) for r in rest] == [
            decode(r[0], "rescore", r[6], revision=r[1], key=r[2:5]) for r in expected]
        assert st._conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'rescore_results'").fetchone() is None
        assert st._conn.execute("SELECT version FROM schema_version").fetchall() == [(2,), (schema.SCHEMA_VERSION,)]
        assert st._conn.execute("SELECT detail FROM audit WHERE action = 'migrate'").fetchall() == [
            ("schema 3, 2 outcomes indexed",),
            ("schema 4, 5 values bound to their revision",),  # 2 answers, 2 results, the moved outcome
        ]
        assert verify(st).ok
        # The answers were rebuilt clustered by their key: all there, and still frozen.
        assert [st.answers(i) for i in ids] == [{"q1": "yes"}, {"q1": "no"}]
        with pytest.raises(sqlite3.IntegrityError, match="revision is completed"):
            st._conn.execute("UPDATE answers SET answered_at = 'y'")
        assert "WITHOUT ROWID" in st._conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'answers'").fetchone()[0]
        assert st._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_version_2_store_is_not_upgraded_with_a_key_that_is_not_its_own(tmp_path, demo, monkeypatch):
    import base64

    from screening.store.crypto import reset_default_keyring

    path = tmp_path / "v2.db"
    with Store.open(path, create=True) as st:
        info = st.create_assessment(demo)
        st.record_answer(info.id, "q1", "yes")
        st.complete(info.id, result=assess(demo, {"q1": "yes"}))
    as_version_2(path)
    monkeypatch.setenv("SCREENING_KEY", base64.b64encode(b"k" * 32).decode())
    reset_default_keyring()
    with pytest.raises(StoreError, match="key"):
        Store.open(path)
    conn = sqlite3.connect(path)
    try:  # nothing of the upgrade happened
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'migrate'").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade screening"):
        Store.open(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database at all, just some text" * 40, "cannot use the store"),
        (None, "not a screening store"),
    ],
)
def test_a_foreign_file_is_refused(tmp_path, content, message):
    path = tmp_path / "other.db"
    if content is None:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE mine (x)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    path.chmod(0o600)  # owner-only, so what is refused is the content (a 0644 file is refused for its mode first)
    with pytest.raises(StoreError, match=message):
        Store.open(path)


# ---------------------------------------------------------------- case references


@pytest.mark.parametrize(
    "ref", ["850101-1234", "8501011234", "19850101-1234", "198501011234", "850161+1234", "anna-19850101-1234"]
)
def test_personnummer_is_refused_without_repeating_it(ref):
    with pytest.raises(StoreError) as info:
        check_case_ref(ref)
    assert "1234" not in str(info.value)
    assert "personal identity number" in str(info.value)


@pytest.mark.parametrize("ref", ["", " anna", "a/b", "x" * 65, "rad\nbrytning", "\x1b[2J"])
def test_odd_case_references_are_refused(ref):
    with pytest.raises(StoreError, match="case reference"):
        check_case_ref(ref)


@pytest.mark.parametrize("ref", ["anna", "Ärende-2024.17", "F1_syster", "2024-0017"])
def test_pseudonyms_are_accepted(ref):
    assert check_case_ref(ref) == ref


def test_random_references_are_valid_and_distinct():
    refs = {new_case_ref() for _ in range(200)}
    assert len(refs) == 200
    assert all(check_case_ref(r) for r in refs)


# ---------------------------------------------------------------- assessments and answers


def test_create_pins_the_instrument_by_hash(store, demo):
    info = store.create_assessment(demo, case_ref="anna", assessor="kw1", instrument_path=DEMO)
    assert (info.case_ref, info.instrument_id, info.instrument_version) == ("anna", "demo", "1.0.0")
    assert info.instrument_sha256 == demo.sha256
    assert info.instrument_path == str(DEMO.absolute())
    assert (info.status, info.revision, info.assessor) == ("draft", 1, "kw1")
    assert store.get(info.id) == info


def test_an_instrument_without_hash_cannot_be_pinned(store, demo):
    from screening.engine.scoring import CompiledInstrument

    with pytest.raises(StoreError, match="content hash"):
        store.create_assessment(CompiledInstrument(demo.instrument, ""))


def test_answers_round_trip_exactly(store, demo):
    info = store.create_assessment(demo)
    text = "Han sa [/b] \x1b[2J 😀 åäö \u202e slut"
    values = {"q1": "yes", "q2": None, "free": text, "n": -3, "rows": [{"d": "2024-01-01", "s": None}, {}]}
    for item, value in values.items():
        store.record_answer(info.id, item, value)
    assert store.answers(info.id) == values
    store.record_answer(info.id, "q1", "no")
    assert store.answers(info.id)["q1"] == "no"


def test_partial_groups_are_marked(store, demo):
    info = store.create_assessment(demo)
    store.record_answer(info.id, "rows", [{"a": 1}], partial=True)
    assert store.answer_rows(info.id)["rows"] == ([{"a": 1}], True)
    store.record_answer(info.id, "rows", [{"a": 1}])
    assert store.answer_rows(info.id)["rows"] == ([{"a": 1}], False)


def test_values_that_are_not_json_are_refused_without_echo(store, demo):
    info = store.create_assessment(demo)
    with pytest.raises(StoreError, match="could not be stored"):
        store.record_answer(info.id, "q1", {"secret-canary"})
    assert store.answers(info.id) == {}


def test_unknown_assessment(store):
    with pytest.raises(StoreError, match="no such assessment"):
        store.get("nope")
    with pytest.raises(StoreError, match="no such assessment"):
        store.record_answer("nope", "q1", "yes")


# ---------------------------------------------------------------- durability (D2)


def test_a_failing_commit_saves_nothing_and_says_try_again(monkeypatch, store, demo):
    info = store.create_assessment(demo)
    store.record_answer(info.id, "q1", "yes")

    def broken(self):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_commit", broken)
    with pytest.raises(StoreError) as err:
        store.record_answer(info.id, "q2", "no")
    assert "disk I/O error" in str(err.value)
    assert "try again" in str(err.value)
    assert not store._conn.in_transaction
    monkeypatch.undo()
    assert store.answers(info.id) == {"q1": "yes"}
    store.record_answer(info.id, "q2", "no")  # the retry works
    assert store.answers(info.id) == {"q1": "yes", "q2": "no"}


def test_an_interrupt_inside_a_transaction_rolls_back(monkeypatch, store, demo):
    info = store.create_assessment(demo)

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.record_answer(info.id, "q1", "yes")
    monkeypatch.undo()
    assert not store._conn.in_transaction
    assert store.answers(info.id) == {}


def test_each_answer_is_durable_for_another_connection_at_once(store_at, demo):
    with Store.open(store_at, create=True) as writer, Store.open(store_at) as reader:
        info = writer.create_assessment(demo)
        for n, value in enumerate(["yes", "no", "unknown"], 1):
            writer.record_answer(info.id, f"q{n}", value)
            assert reader.answers(info.id)[f"q{n}"] == value


# ---------------------------------------------------------------- revisions


def test_completed_answers_are_immutable(store, demo):
    info = store.create_assessment(demo)
    store.record_answer(info.id, "q1", "yes")
    store.complete(info.id)
    with pytest.raises(StoreError, match="completed"):
        store.record_answer(info.id, "q1", "no")
    with pytest.raises(StoreError, match="completed"):
        store.set_judgement(info.id, JudgementInput(level="high", rationale="x"))
    with pytest.raises(sqlite3.IntegrityError, match="revision is completed"):
        store._conn.execute("UPDATE answers SET value = '\"no\"'")
    with pytest.raises(sqlite3.IntegrityError, match="revision is completed"):
        store._conn.execute("DELETE FROM answers")
    with pytest.raises(StoreError, match="completed"):
        store.complete(info.id)
    assert store.answers(info.id) == {"q1": "yes"}


def test_a_correction_is_a_new_revision_that_keeps_the_old(store, demo):
    info = store.create_assessment(demo)
    store.record_answer(info.id, "q1", "yes")
    store.set_judgement(info.id, JudgementInput(level="high", rationale="hot"))
    result = assess(demo, {"q1": "yes"})
    store.complete(info.id, result=result)
    with pytest.raises(StoreError, match="still a draft"):
        store.correct(store.create_assessment(demo).id)
    assert store.correct(info.id) == 2
    store.record_answer(info.id, "q1", "no")
    now = store.get(info.id)
    assert (now.revision, now.status) == (2, "draft")
    assert store.answers(info.id) == {"q1": "no"}
    assert store.answers(info.id, revision=1) == {"q1": "yes"}
    assert store.judgement(info.id) == store.judgement(info.id, revision=1)
    assert [r.final_level for _, r in store.results(info.id, revision=1)] == [result.final_level]
    assert store.results(info.id) == []


# ---------------------------------------------------------------- results


def test_results_are_derived_rows_and_rescoring_writes_nothing(store, demo):
    info = store.create_assessment(demo)
    answers = {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}
    for item, value in answers.items():
        store.record_answer(info.id, item, value)
    result = assess(demo, store.answers(info.id), assessed_at="2026-01-01T00:00:00Z")
    first = store.save_result(info.id, result)
    again = store.save_result(info.id, assess(demo, store.answers(info.id), assessed_at="2026-01-01T00:00:00Z"))
    assert first.created and not again.created
    assert first.sha256 == again.sha256
    other_engine = result.model_copy(update={"engine_version": "99.0.0"})
    assert store.save_result(info.id, other_engine).created
    stored = store.results(info.id)
    assert [h for h, _ in stored] == [first.sha256, store.save_result(info.id, other_engine).sha256]
    assert stored[0][1].to_json() == result.to_json()
    assert store.answers(info.id) == answers
    with pytest.raises(sqlite3.IntegrityError, match="never rewritten"):
        store._conn.execute("UPDATE results SET result_sha256 = 'x'")


# ---------------------------------------------------------------- listing


def test_list_streams_in_pages_with_filters(store, demo):
    other = compile_instrument("other.yaml")
    made = [store.create_assessment(demo if n % 2 else other, case_ref=f"c{n}") for n in range(7)]
    store.complete(made[1].id)
    listed = list(store.list_assessments(batch=2))
    assert [a.id for a in listed] == [a.id for a in made]
    assert [a.case_ref for a in store.list_assessments(instrument_id="demo", batch=2)] == ["c1", "c3", "c5"]
    assert [a.case_ref for a in store.list_assessments(status="completed")] == ["c1"]
    assert [a.case_ref for a in store.list_assessments(version="1.0.0", instrument_sha256=demo.sha256)] == [
        "c1", "c3", "c5"
    ]
    assert list(store.list_assessments(since="2999-01-01")) == []
    assert len(list(store.list_assessments(until="2999-01-01"))) == 7


def test_listing_survives_writes_between_pages(store, demo):
    for n in range(5):
        store.create_assessment(demo, case_ref=f"c{n}")
    seen = []
    for info in store.list_assessments(batch=2):
        seen.append(info.case_ref)
        store.save_result(info.id, assess(demo, {}))
    assert seen == [f"c{n}" for n in range(5)]


def test_find_by_case_reference(store, demo):
    a = store.create_assessment(demo, case_ref="anna")
    store.complete(a.id)
    b = store.create_assessment(demo, case_ref="anna")
    assert [x.id for x in store.find("anna")] == [b.id, a.id]
    assert [x.id for x in store.find("anna", status="draft")] == [b.id]
    assert store.find("bertil") == []


# ---------------------------------------------------------------- locks


def test_a_draft_is_open_in_one_store_at_a_time(store_at, backend, demo):
    path = store_at
    with Store.open(path, create=True) as first, Store.open(path) as second:
        info = first.create_assessment(demo)
        first.lock(info.id)
        with pytest.raises(AssessmentLocked, match="open elsewhere"):
            second.lock(info.id)
        with pytest.raises(AssessmentLocked):
            second.record_answer(info.id, "q1", "yes")
        first.record_answer(info.id, "q1", "yes")
        first.unlock(info.id)
        if backend == "sqlite":
            assert not (lock_dir(path) / f"{info.id}.lock").exists()
        second.lock(info.id)
        second.record_answer(info.id, "q2", "no")
    with Store.open(path) as st:
        assert st.answers(info.id) == {"q1": "yes", "q2": "no"}


def test_a_killed_holder_leaves_no_stale_lock(store_at, demo):
    path = store_at
    with Store.open(path, create=True) as st:
        info = st.create_assessment(demo)
    code = textwrap.dedent(
        f"""
        import sys
        from screening.store._store import Store
        st = Store.open({str(path)!r})
        st.lock({info.id!r})
        print("locked", flush=True)
        sys.stdin.readline()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=python_env(), text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "locked"
            with Store.open(path) as st, pytest.raises(AssessmentLocked):
                st.lock(info.id)
        finally:
            child.kill()
            child.wait()
    with Store.open(path) as st:
        st.lock(info.id)  # the kernel (SQLite) or the server (PostgreSQL) dropped the dead process's lock
        st.record_answer(info.id, "q1", "yes")
