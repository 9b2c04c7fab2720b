"""Sealed values are bound to everything that identifies them (issue 15, item 5): no rollback by copying.

Before schema 4 a value was bound to (assessment, field) only, so revision 1's
ciphertext copied over revision 2's opened, and a correction could be undone
without the key. These tests copy ciphertexts the way an intruder with the file
(but not the key) would, and expect a clear refusal from every reader: the
store's own reads, the re-scorer's bulk reads, after a key rotation, and after
the schema-4 upgrade of an older store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_privacy_support import drop_triggers, isolated_user, raw, text_instrument

from screening import StoreError, assess
from screening.engine.instrument import JudgementInput
from screening.store._keys import sealed_columns
from screening.store._schema import SCHEMA_VERSION
from screening.store._store import Store
from screening.store.audit import verify
from screening.store.crypto import Keyring, aad, load_key_file, reset_default_keyring, write_key_file

FIRST, SECOND = "CANARY-FIRST-1a", "CANARY-SECOND-2b"


@pytest.fixture
def user(tmp_path, monkeypatch, store_at):
    """An isolated user whose store is on each backend in turn (tests/pg_fixtures.py)."""
    yield from isolated_user(tmp_path, monkeypatch, store_at)


def test_the_binding_is_unambiguous():
    from screening.store.crypto import bind

    assert bind("a|b", "1", "c") != bind("a", "b|1", "c")
    assert bind("ab", "1", "c") != bind("a", "b1", "c")
    assert bind("a", "1", "answer:t") != bind("a", "2", "answer:t")
    assert bind("a", "1", "result", "i", "r", "e") != bind("a", "1", "result", "i", "re", "")
    assert bind("a", "1", "c") != aad("a", "c")


def corrected(st: Store) -> str:
    """An assessment completed with FIRST, corrected to SECOND in revision 2 (answer, fact and judgement)."""
    ci = text_instrument()
    aid = st.create_assessment(ci, case_ref="c1").id
    st.record_answer(aid, "t", FIRST)
    st.record_fact(aid, "age", 34)
    st.set_judgement(aid, JudgementInput(level="high", rationale=FIRST))
    st.complete(aid, result=assess(ci, {"t": FIRST}))
    assert st.correct(aid) == 2
    st.record_answer(aid, "t", SECOND)
    st.record_fact(aid, "age", 35)
    st.set_judgement(aid, JudgementInput(level="low", rationale=SECOND))
    st.complete(aid, result=assess(ci, {"t": SECOND, "a": "yes"}))
    return aid


# Where each kind of value lives: table, column, and the row's identity within the assessment.
WHERE = {
    "answer": ("answers", "value", "item_id = 't'"),
    "fact": ("answers", "value", "item_id = 'fact:age'"),
    "judgement": ("revisions", "judgement", "1 = 1"),
    "result": ("results", "result", "1 = 1"),
}


def roll_back(db: Path, aid: str, kind: str) -> None:
    """Copy revision 1's ciphertext over revision 2's, as someone with the file but not the key can."""
    table, column, where = WHERE[kind]
    conn = raw(db)
    try:
        drop_triggers(conn, table)
        (old,) = conn.execute(f"SELECT {column} FROM {table} WHERE assessment_id = ? AND revision = 1 AND {where}",
                              (aid,)).fetchone()
        changed = conn.execute(f"UPDATE {table} SET {column} = ? WHERE assessment_id = ? AND revision = 2"
                               f" AND {where}", (old, aid)).rowcount
        assert changed == 1
    finally:
        conn.close()


READ = {
    "answer": lambda st, aid: st.answers(aid),
    "fact": lambda st, aid: st.facts(aid),
    "judgement": lambda st, aid: st.judgement(aid),
    "result": lambda st, aid: st.results(aid),
}


@pytest.mark.parametrize("kind", list(WHERE))
def test_revision_1s_ciphertext_copied_over_revision_2s_is_refused_as_tampering(user, kind):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
    roll_back(user.store, aid, kind)
    with Store.open(user.store) as st:
        with pytest.raises(StoreError, match=r"failed authentication: .*moved from another row or revision "
                                             r"\(tampering detected\)") as info:
            READ[kind](st, aid)
        message = str(info.value)
        assert aid in message and "revision 2" in message
        assert FIRST not in message and SECOND not in message
        # The refused read is in the audit trail as refused; revision 1 still reads.
        assert st.connection.execute("SELECT outcome FROM audit ORDER BY seq DESC LIMIT 1").fetchone() == ("refused",)
        assert st.answers(aid, 1) == {"t": FIRST} and st.facts(aid, 1) == {"age": 34}


def test_the_rollback_is_refused_by_the_re_scorers_bulk_read_too(user):
    from screening.batch._store import Filters, open_reader, read_chunk

    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
        ring = st.keyring
    for kind in ("answer", "judgement"):
        roll_back(user.store, aid, kind)
        conn = open_reader(user.store)
        try:
            with pytest.raises(StoreError, match="tampering detected"):
                read_chunk(conn, "", None, Filters(), lambda _: None, ring)
        finally:
            conn.close()


def test_a_correction_seals_its_copies_for_the_new_revision(user):
    with Store.open(user.store, create=True) as st:
        ci = text_instrument()
        aid = st.create_assessment(ci, case_ref="c1").id
        st.record_answer(aid, "t", FIRST)
        st.record_fact(aid, "age", 34)
        st.set_judgement(aid, JudgementInput(level="high", rationale=FIRST))
        st.complete(aid)
        st.correct(aid)
        assert st.answers(aid) == st.answers(aid, 1) == {"t": FIRST}
        assert st.facts(aid) == {"age": 34}
        assert st.judgement(aid) == st.judgement(aid, 1)
        conn = st.connection
        by_revision = {rev: value for rev, value in conn.execute(
            "SELECT revision, value FROM answers WHERE assessment_id = ? AND item_id = 't'", (aid,))}
        assert by_revision[1] != by_revision[2], "sealed again for revision 2, not copied"


def test_rotation_seals_with_the_same_binding(user):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
        before = st.answers(aid), st.facts(aid), st.judgement(aid), st.results(aid), st.answers(aid, 1)
    ring = load_key_file(user.key_file).rotated()
    write_key_file(ring, user.key_file)
    reset_default_keyring()
    with Store.open(user.store, keyring=ring) as st:
        assert st.rekey() > 0
        st.retire_keys()
    write_key_file(ring.retire_old(), user.key_file)
    reset_default_keyring()
    with Store.open(user.store) as st:
        assert (st.answers(aid), st.facts(aid), st.judgement(aid), st.results(aid), st.answers(aid, 1)) == before
    roll_back(user.store, aid, "answer")
    with Store.open(user.store) as st, pytest.raises(StoreError, match="tampering detected"):
        st.answers(aid)


# ---------------------------------------------------------------- the audit trail covers a rollback


def put_back(db: Path, aid: str, kind: str, value: bytes | None) -> None:
    """Write an older ciphertext of revision 2's own row back (or remove it), as from an old copy of the file."""
    table, column, where = WHERE[kind]
    conn = raw(db)
    try:
        drop_triggers(conn, table)
        if value is None and table == "answers":
            conn.execute(f"DELETE FROM {table} WHERE assessment_id = ? AND revision = 2 AND {where}", (aid,))
        else:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE assessment_id = ? AND revision = 2 AND {where}",
                         (value, aid))
    finally:
        conn.close()


def value_of(st: Store, aid: str, kind: str) -> bytes:
    table, column, where = WHERE[kind]
    (value,) = st.connection.execute(
        f"SELECT {column} FROM {table} WHERE assessment_id = ? AND revision = 2 AND {where}", (aid,)).fetchone()
    return bytes(value)


@pytest.mark.parametrize("kind", ["answer", "fact", "judgement"])
def test_a_correction_undone_from_an_older_copy_of_the_file_is_found_by_audit_verify(user, capsys, kind):
    """Revision 2's own first ciphertext (the correction's copy of revision 1's value) opens in its row:
    only the trail can tell it is not the value last written, and now it does."""
    from screening.cli import run

    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(ci, case_ref="c1").id
        st.record_answer(aid, "t", FIRST)
        st.record_fact(aid, "age", 34)
        st.set_judgement(aid, JudgementInput(level="high", rationale=FIRST))
        st.complete(aid)
        st.correct(aid)
        older = value_of(st, aid, kind)  # what a copy of the file taken now holds
        st.record_answer(aid, "t", SECOND)
        st.record_fact(aid, "age", 35)
        st.set_judgement(aid, JudgementInput(level="low", rationale=SECOND))
        st.complete(aid)
        assert verify(st).ok
        kept = st.checkpoint()
        last_write = {"answer": 7, "fact": 8, "judgement": 9}[kind]  # create, 3 writes, complete, correct, …
        assert st.connection.execute("SELECT action FROM audit WHERE seq = ?", (last_write,)).fetchone()[0] in (
            "answer", "judge")
    put_back(user.store, aid, kind, older)
    with Store.open(user.store) as st:
        READ[kind](st, aid)  # it opens: sealed for this very row
        found = verify(st, against=kept)
        assert not found.ok and found.first_bad == last_write
        assert "has another value there: it was rolled back" in (found.reason or "")
        assert FIRST not in (found.reason or "") and SECOND not in (found.reason or "")
    capsys.readouterr()
    assert run(["audit", "verify", "--store", str(user.store), "--checkpoint", str(kept), "--lang", "en"]) == 1
    assert f"record {last_write} wrote the " in capsys.readouterr().err


def test_a_removed_answer_is_found_by_audit_verify(user):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
    put_back(user.store, aid, "answer", None)
    with Store.open(user.store) as st:
        found = verify(st)
        assert not found.ok and "answer t of assessment" in (found.reason or "") and "has none" in (found.reason or "")


def test_rotation_keeps_what_the_trail_says_was_written(user):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
        nonces = value_of(st, aid, "answer")[9:21], value_of(st, aid, "judgement")[9:21]
    ring = load_key_file(user.key_file).rotated()
    write_key_file(ring, user.key_file)
    reset_default_keyring()
    with Store.open(user.store, keyring=ring) as st:
        st.rekey()
        st.retire_keys()
        assert (value_of(st, aid, "answer")[9:21], value_of(st, aid, "judgement")[9:21]) == nonces
        assert value_of(st, aid, "answer")[1:9] == ring.current_kid
        assert verify(st).ok


# ---------------------------------------------------------------- the schema-4 upgrade


def as_schema_3(db: Path, ring: Keyring) -> int:
    """Make a store look as schema 3 left it: every value bound to (assessment, field) only, no seals in the trail.

    Returns:
        How many values were sealed the old way.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    count = 0
    try:
        conn.execute("BEGIN")
        _trail_without_seals(conn, ring)
        conn.execute("INSERT INTO maintenance (reason) VALUES ('migrate')")
        for col in sealed_columns(conn):
            for row in conn.execute(f"SELECT {col.columns()} FROM {col.table} WHERE {col.column} IS NOT NULL"
                                    ).fetchall():
                text = col.open(row, ring)
                old = ring.seal(text, aad(row["assessment_id"], col.field_of(row)))
                where = " AND ".join(f"{k} = ?" for k in col.key)
                conn.execute(f"UPDATE {col.table} SET {col.column} = ? WHERE {where}",
                             (old, *(row[k] for k in col.key)))
                count += 1
        conn.execute("DELETE FROM maintenance")
        conn.execute("DELETE FROM schema_version WHERE version >= 4")
        conn.execute("INSERT OR IGNORE INTO schema_version VALUES (3, 'x')")
        conn.execute("PRAGMA user_version = 3")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return count


def _trail_without_seals(conn: sqlite3.Connection, ring: Keyring) -> None:
    """The audit trail as schema 3 wrote it: no ``seal`` column, every MAC made without one."""
    from screening.store import audit
    from screening.store._ddl import SCHEMA_V2, statements

    rows = conn.execute("SELECT seq, at, actor, action, assessment, case_ref, detail, outcome, kid FROM audit"
                        " ORDER BY seq").fetchall()
    drop_triggers(conn, "audit")
    conn.execute("DELETE FROM audit")
    conn.execute("ALTER TABLE audit DROP COLUMN seal")
    prev = audit._genesis(conn)
    for seq, at, actor, action, assessment, case_ref, detail, outcome, kid in rows:
        event = audit.Event(action, assessment, detail, outcome)
        key = ring.audit_key(bytes(kid))
        assert key is not None
        prev = audit._mac(key, prev, audit._canonical(seq, at, actor, event, case_ref, bytes(kid)))
        conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, at, actor, action, assessment, case_ref, detail, outcome, kid, prev))
    for statement in statements(SCHEMA_V2):
        if statement.startswith("CREATE TRIGGER audit_"):
            conn.execute(statement)


@pytest.mark.sqlite_only  # SQLite's schema history / the files' bytes
def test_a_schema_3_store_is_sealed_again_bound_to_revisions_when_opened(user):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
        before = st.answers(aid), st.facts(aid), st.judgement(aid), st.results(aid), st.answers(aid, 1)
        ring = st.keyring
    sealed = as_schema_3(user.store, ring)
    # Under schema 3 the rollback went through: this is the defect.
    roll_back(user.store, aid, "answer")
    table, column, where = WHERE["answer"]
    conn = raw(user.store)
    (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE assessment_id = ? AND revision = 2 AND {where}",
                            (aid,)).fetchone()
    conn.close()
    assert ring.open(value, aad(aid, "answer:t")) == f'"{FIRST}"'.encode()
    with Store.open(user.store) as st:
        conn = st.connection
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # upgraded through 4 to the newest
        details = [d for (d,) in conn.execute("SELECT detail FROM audit WHERE action = 'migrate'")]
        assert details == [f"schema 4, {sealed} values bound to their revision"]
        assert verify(st).ok
        # The rolled-back value was sealed again too, but for revision 2: it reads as revision 1's
        # answer. The upgrade cannot tell a copy made before it from the original; every copy
        # made after it is refused (above).
        assert (st.facts(aid), st.judgement(aid), st.results(aid), st.answers(aid, 1)) == before[1:]


@pytest.mark.sqlite_only  # SQLite's schema history / the files' bytes
def test_the_schema_4_upgrade_waits_for_the_right_key_and_changes_nothing_without_it(user):
    with Store.open(user.store, create=True) as st:
        aid = corrected(st)
        ring = st.keyring
    as_schema_3(user.store, ring)
    snapshot = user.store.read_bytes()
    other = Keyring.from_key(b"\x07" * 32, source="another key")
    with pytest.raises(StoreError, match="which another key does not have"):
        Store.open(user.store, keyring=other)
    conn = raw(user.store)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()
    assert user.store.read_bytes() == snapshot
    with Store.open(user.store) as st:
        assert st.answers(aid) == {"t": SECOND}


# ---------------------------------------------------------------- key files shared by stores (items 6 and 13)


def two_stores(user) -> tuple[Path, str, Path, str]:
    """The default store and another one, both sealed with the user's one key file."""
    other = user.root / "elsewhere" / "other.db"
    ids = []
    for db in (user.store, other):
        with Store.open(db, create=True) as st:
            aid = st.create_assessment(text_instrument(), case_ref="c1").id
            st.record_answer(aid, "t", FIRST)
            ids.append(aid)
    return user.store, ids[0], other, ids[1]


def readable(db: Path, aid: str) -> bool:
    reset_default_keyring()
    try:
        with Store.open(db) as st:
            return st.answers(aid) == {"t": FIRST}
    except StoreError:
        return False


def test_every_store_records_itself_in_the_key_file(user):
    main, _, other, _ = two_stores(user)
    text = user.key_file.read_text()
    for db in (main, other):
        conn = raw(db)
        (store_id,) = conn.execute("SELECT value FROM store_meta WHERE name = 'store_id'").fetchone()
        conn.close()
        assert f"store {bytes(store_id).hex()} {db}\n" in text
    assert load_key_file(user.key_file).stores.keys() == {bytes.fromhex(line.split()[1])
                                                         for line in text.splitlines() if line.startswith("store ")}


def test_rotate_refuses_a_key_file_another_store_still_uses(user, capsys):
    from screening.cli import run

    main, first, other, second = two_stores(user)
    before = user.key_file.read_bytes()
    capsys.readouterr()
    assert run(["key", "rotate", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "also used by 1 store(s) not named" in err and str(other) in err and "--force" in err
    assert user.key_file.read_bytes() == before, "nothing changed"
    assert readable(main, first) and readable(other, second)
    assert run(["key", "rotate"]) == 1  # Swedish too
    assert "används också av 1 databas(er)" in capsys.readouterr().err


def test_rotate_with_every_store_named_keeps_them_all_readable_and_says_to_back_up(user, capsys):
    from screening.cli import run

    main, first, other, second = two_stores(user)
    old = load_key_file(user.key_file).current_kid
    assert run(["key", "rotate", "--store", str(main), "--store", str(other), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    ring = load_key_file(user.key_file)
    assert ring.current_kid != old and f"New key: {ring.current_kid.hex()}" in out
    assert "Back up the key file now" in out
    assert len(ring.stores) == 2 and not ring.old_kids
    assert readable(main, first) and readable(other, second)


def test_rotate_force_cuts_off_the_stores_left_out_and_says_so(user, capsys):
    from screening.cli import run

    main, first, other, second = two_stores(user)
    assert run(["key", "rotate", "--force", "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert "can no longer be read" in captured.err and str(other) in captured.err
    assert readable(main, first) and not readable(other, second)
    assert list(load_key_file(user.key_file).stores.values()) == [str(main)]


@pytest.mark.sqlite_only  # SQLite's schema history / the files' bytes
def test_rotate_dry_run_counts_per_table_and_changes_nothing(user, capsys):
    from screening.cli import run

    main, first, other, _ = two_stores(user)
    with Store.open(main) as st:
        st.set_judgement(first, JudgementInput(level="high", rationale=FIRST))
        st.complete(first, result=assess(text_instrument(), {"t": FIRST}))
    files = {p: p.read_bytes() for p in (user.key_file, main, other)}
    capsys.readouterr()
    assert run(["key", "rotate", "--dry-run", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: nothing is changed" in out and "A new key would be made" in out
    assert f"{main}: 4 values would be re-encrypted (answers 1, revisions 1, results 1, outcomes 1)" in out
    assert "also used by" in out and str(other) in out
    assert {p: p.read_bytes() for p in files} == files
    assert run(["key", "rotate", "--dry-run", "--store", str(main), "--store", str(other)]) == 0
    assert "Provkörning: ingenting ändras" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in files} == files


def test_a_second_rotation_while_one_runs_refuses_clearly(user, capsys):
    from screening.cli import run
    from screening.store.crypto import key_file_lock

    main, first, _, _ = two_stores(user)
    before = user.key_file.read_bytes()
    with key_file_lock(user.key_file) as held:
        assert held
        assert run(["key", "rotate", "--force", "--lang", "en"]) == 1
    assert "another key rotation is already running" in capsys.readouterr().err
    assert user.key_file.read_bytes() == before
    assert run(["key", "rotate", "--force", "--lang", "en"]) == 0  # once the first is done
    assert readable(main, first)


@pytest.mark.sqlite_only  # SQLite's schema history / the files' bytes
def test_key_show_lists_the_stores_and_one_no_longer_there_is_marked(user, capsys):
    from screening.cli import run

    main, first, other, _ = two_stores(user)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{other}{suffix}").unlink(missing_ok=True)
    capsys.readouterr()
    assert run(["key", "show", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"Store sealed with it: {main} (id " in out
    assert f"Store sealed with it: {other} (id " in out and "no longer there" in out
    assert run(["key", "rotate", "--lang", "en"]) == 1
    assert "no longer there" in capsys.readouterr().err
    assert run(["key", "rotate", "--force", "--lang", "en"]) == 0
    assert readable(main, first)
