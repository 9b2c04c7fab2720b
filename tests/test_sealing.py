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
from screening._store_keys import sealed_columns
from screening.audit import verify
from screening.crypto import Keyring, aad, load_key_file, reset_default_keyring, write_key_file
from screening.instrument import JudgementInput
from screening.store import Store

FIRST, SECOND = "CANARY-FIRST-1a", "CANARY-SECOND-2b"


@pytest.fixture
def user(tmp_path, monkeypatch):
    yield from isolated_user(tmp_path, monkeypatch)


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
    "judgement": ("revisions", "judgement", "1"),
    "result": ("results", "result", "1"),
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
    with Store.open(user.store) as st:
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
    from screening._batch_store import Filters, read_chunk

    with Store.open(user.store) as st:
        aid = corrected(st)
        ring = st.keyring
    for kind in ("answer", "judgement"):
        roll_back(user.store, aid, kind)
        conn = sqlite3.connect(user.store, isolation_level=None)
        try:
            with pytest.raises(StoreError, match="tampering detected"):
                read_chunk(conn, "", None, Filters(), lambda _: None, ring)
        finally:
            conn.close()


def test_a_correction_seals_its_copies_for_the_new_revision(user):
    with Store.open(user.store) as st:
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
    with Store.open(user.store) as st:
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


# ---------------------------------------------------------------- the schema-4 upgrade


def as_schema_3(db: Path, ring: Keyring) -> int:
    """Make a store look as schema 3 left it: every value bound to (assessment, field) only.

    Returns:
        How many values were sealed the old way.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    count = 0
    try:
        conn.execute("BEGIN")
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
        conn.execute("DELETE FROM schema_version WHERE version = 4")
        conn.execute("INSERT OR IGNORE INTO schema_version VALUES (3, 'x')")
        conn.execute("PRAGMA user_version = 3")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return count


def test_a_schema_3_store_is_sealed_again_bound_to_revisions_when_opened(user):
    with Store.open(user.store) as st:
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
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        details = [d for (d,) in conn.execute("SELECT detail FROM audit WHERE action = 'migrate'")]
        assert details == [f"schema 4, {sealed} values bound to their revision"]
        assert verify(st).ok
        # The rolled-back value was sealed again too, but for revision 2: it reads as revision 1's
        # answer. The upgrade cannot tell a copy made before it from the original; every copy
        # made after it is refused (above).
        assert (st.facts(aid), st.judgement(aid), st.results(aid), st.answers(aid, 1)) == before[1:]


def test_the_schema_4_upgrade_waits_for_the_right_key_and_changes_nothing_without_it(user):
    with Store.open(user.store) as st:
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
