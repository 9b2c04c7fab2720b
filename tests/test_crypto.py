"""Encryption at rest: sealed values bound to their row, the key file, wrong keys, rotation, the v1 upgrade."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from test_privacy_support import file_bytes, isolated_user, raw, text_instrument

from screening import StoreError, assess
from screening.engine.instrument import JudgementInput
from screening.store._ddl import SCHEMA_V1 as _SCHEMA_V1
from screening.store._ddl import statements as _statements
from screening.store._store import Store
from screening.store.crypto import (
    KEY_BYTES,
    Keyring,
    aad,
    default_keyring,
    load_key_file,
    new_key,
    reset_default_keyring,
    write_key_file,
)
from screening.store.values import AnswerReader, decode, encode

CANARY = "CANARY-FRITEXT-7f3a"


@pytest.fixture
def user(tmp_path, monkeypatch):
    yield from isolated_user(tmp_path, monkeypatch)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def filled(st: Store, ci, ref: str = "c1", text: str = CANARY) -> str:
    info = st.create_assessment(ci, case_ref=ref)
    st.record_answer(info.id, "a", "yes")
    st.record_answer(info.id, "t", text)
    st.record_answer(info.id, "cal", [{"when": "2024-01-05", "what": text}])
    st.set_judgement(info.id, JudgementInput(level="high", rationale=text))
    return info.id


def kids_in_store(db: Path) -> set[bytes]:
    conn = raw(db)
    try:
        found = set()
        for table, column in (("answers", "value"), ("revisions", "judgement"), ("results", "result")):
            for (value,) in conn.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):
                found.add(bytes(value[1:9]))
        return found
    finally:
        conn.close()


# ---------------------------------------------------------------- the codec


def test_values_round_trip_and_are_not_json_any_more(user):
    value = [{"a": "å\u202e", "b": None, "c": 7}]
    data = encode("id", "answer:q1", value, revision=1)
    assert isinstance(data, bytes) and data[:1] == b"\x01"
    assert b"\xc3\xa5" not in data  # the UTF-8 of "å" is not in the ciphertext
    assert decode("id", "answer:q1", data, revision=1) == value


@pytest.mark.parametrize(("aid", "field", "revision"),
                         [("other", "answer:q1", 1), ("id", "answer:q2", 1), ("id", "judgement", 1),
                          ("id", "answer:q1", 2)])
def test_a_value_moved_to_another_assessment_or_field_fails_to_open(user, aid, field, revision):
    data = encode("id", "answer:q1", CANARY, revision=1)
    with pytest.raises(StoreError, match="failed authentication") as info:
        decode(aid, field, data, revision=revision)
    assert CANARY not in str(info.value)


def _both(aid, revision, rows, ring, reader):
    """``decode`` per value and ``AnswerReader.read``: the value or the error message of each."""
    def one(call):
        try:
            return call()
        except StoreError as exc:
            return ("refused", str(exc), exc.record_id)

    each = one(lambda: {item: decode(aid, f"answer:{item}", data, revision=revision, keyring=ring)
                        for item, data in rows})
    return each, one(lambda: reader.read(aid, revision, rows))


def test_the_batch_opener_gives_what_decode_gives_and_refuses_what_it_refuses(user):
    """The re-scorer's ``AnswerReader`` shares the binding's parts and parses a scalar once; nothing else differs."""
    ring = default_keyring()
    values = {"a": "yes", "b": "yes", "n": 3, "t": None, "f": True, "cal": [{"when": "2024-01-05", "what": CANARY}]}
    rows = [(item, encode("id", f"answer:{item}", v, revision=2, keyring=ring)) for item, v in values.items()]
    reader = AnswerReader(ring)
    each, batch = _both("id", 2, rows, ring, reader)
    assert batch == each == values
    batch["cal"][0]["what"] = "changed"  # a caller may change a list: it is never shared through the cache
    assert reader.read("id", 2, rows)["cal"][0]["what"] == CANARY
    assert all(not isinstance(v, list | dict) for v in reader.parsed.values())
    # Moved to another assessment, revision or item, plaintext, a flipped bit: the same refusal.
    flipped = bytearray(rows[0][1])
    flipped[-1] ^= 1
    for aid, revision, bad in (("other", 2, rows), ("id", 1, rows), ("id", 2, [("b", rows[0][1])]),
                               ("id", 2, [("a", b'"yes"'.decode())]), ("id", 2, [("a", bytes(flipped))])):
        each, batch = _both(aid, revision, bad, ring, reader)
        assert each[0] == "refused" and batch == each
        assert CANARY not in each[1]


def test_one_flipped_bit_anywhere_fails(user):
    data = bytearray(encode("id", "answer:q1", CANARY, revision=1))
    for position in (0, 5, 12, 25, len(data) - 1):
        broken = bytearray(data)
        broken[position] ^= 0x01
        with pytest.raises(StoreError):
            decode("id", "answer:q1", bytes(broken), revision=1)


def test_plaintext_in_the_store_is_refused_not_trusted(user):
    with pytest.raises(StoreError, match="not encrypted"):
        decode("id", "answer:q1", json.dumps(CANARY), revision=1)


def test_associated_data_is_unambiguous():
    assert aad("a|b", "c") != aad("a", "b|c")
    assert aad("ab", "c") != aad("a", "bc")


def test_no_nonce_repeats_in_200k_encryptions():
    ring = Keyring.from_key(new_key())
    nonces = {ring.seal(b"x", b"ad")[9:21] for _ in range(200_000)}
    assert len(nonces) == 200_000


# ---------------------------------------------------------------- the key file


def test_key_file_is_created_on_first_use_owner_only_under_umask_022(user):
    old = os.umask(0o022)
    try:
        ring = default_keyring()
    finally:
        os.umask(old)
    assert mode(user.key_file) == 0o600
    assert mode(user.key_file.parent) == 0o700
    assert mode(user.config) == 0o700
    assert load_key_file(user.key_file).current_kid == ring.current_kid
    reset_default_keyring()
    assert default_keyring().current_kid == ring.current_kid, "a second use must read the same key"


def test_a_key_file_others_can_read_is_refused(user):
    default_keyring()
    user.key_file.chmod(0o644)
    reset_default_keyring()
    with pytest.raises(StoreError, match="chmod 600"):
        default_keyring()


def test_a_malformed_key_file_names_the_line_not_the_content(user):
    user.key_file.parent.mkdir(parents=True)
    secret = base64.b64encode(b"x" * 31).decode()
    user.key_file.write_text(f"# comment\nkey {secret}\n")
    user.key_file.chmod(0o600)
    with pytest.raises(StoreError, match=r"key:2: not a base64-encoded 32-byte key") as info:
        default_keyring()
    assert secret not in str(info.value)


def test_key_from_the_environment_and_from_an_explicit_file(user, monkeypatch):
    raw_key = new_key()
    monkeypatch.setenv("SCREENING_KEY", base64.b64encode(raw_key).decode())
    reset_default_keyring()
    assert default_keyring().current_kid == Keyring.from_key(raw_key).current_kid
    assert not user.key_file.exists(), "an environment key never creates a key file"
    monkeypatch.setenv("SCREENING_KEY", "not base64!")
    reset_default_keyring()
    with pytest.raises(StoreError, match="SCREENING_KEY: not a base64-encoded 32-byte key"):
        default_keyring()
    monkeypatch.delenv("SCREENING_KEY")
    explicit = user.root / "elsewhere" / "k"
    monkeypatch.setenv("SCREENING_KEY_FILE", str(explicit))
    reset_default_keyring()
    default_keyring()
    assert mode(explicit) == 0o600 and not user.key_file.exists()


def test_the_key_is_nowhere_in_the_store(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        filled(st, ci)
        files = file_bytes(st.path)
    key_line = next(line for line in user.key_file.read_text().splitlines() if line.startswith("key "))
    raw_key = base64.b64decode(key_line.split()[1])
    assert len(raw_key) == KEY_BYTES
    for name, data in files.items():
        assert raw_key not in data, name
        assert key_line.split()[1].encode() not in data, name


# ---------------------------------------------------------------- the store sealed


def test_no_personal_value_in_the_database_or_its_wal(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = filled(st, ci)
        st.complete(aid, result=assess(ci, st.answers(aid), judgement=st.judgement(aid)))
        files = file_bytes(st.path)  # the WAL still holds every page written so far
    assert files["-wal"], "the test must look at a WAL with content"
    hits = {name: data.count(CANARY.encode()) for name, data in files.items()}
    assert hits == dict.fromkeys(hits, 0)


def test_a_ciphertext_moved_to_another_assessment_fails_loudly(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        first = filled(st, ci, "c1")
        second = filled(st, ci, "c2", "something else")
        conn = raw(st.path)
        (value,) = conn.execute("SELECT value FROM answers WHERE assessment_id = ? AND item_id = 't'",
                                (first,)).fetchone()
        conn.execute("UPDATE answers SET value = ? WHERE assessment_id = ? AND item_id = 't'", (value, second))
        conn.execute("INSERT INTO answers VALUES (?, 1, 'b', ?, 0, 'x')", (first, value))
        conn.close()
        with pytest.raises(StoreError, match=r"answer:t failed authentication: .*moved") as info:
            st.answers(second)
        assert CANARY not in str(info.value) and second in str(info.value)
        with pytest.raises(StoreError, match="answer:b failed authentication"):
            st.answers(first)


def test_plaintext_cannot_be_written_by_any_writer(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = filled(st, ci)
        conn = raw(st.path)
        with pytest.raises(sqlite3.IntegrityError, match="not encrypted with an active key"):
            conn.execute("UPDATE answers SET value = ? WHERE assessment_id = ?", (json.dumps("no"), aid))
        with pytest.raises(sqlite3.IntegrityError, match="not encrypted with an active key"):
            conn.execute("UPDATE revisions SET judgement = ? WHERE assessment_id = ?", (b"\x01" + b"0" * 40, aid))
        conn.close()


def test_a_store_opened_with_another_key_is_refused_before_anything_is_read(user, monkeypatch):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        filled(st, ci)
    other = Keyring.from_key(new_key(), source="the other key")
    with pytest.raises(StoreError, match=r"is encrypted with key .*which the other key does not have"):
        Store.open(user.store, keyring=other)
    # A lost key file is reported; a new key is not silently made for an existing store.
    user.key_file.unlink()
    reset_default_keyring()
    with pytest.raises(StoreError, match=r"no key file .*restore the key file"):
        Store.open(user.store)
    assert not user.key_file.exists()


# ---------------------------------------------------------------- rotation


def _rotate(path: Path, db: Path, *, finish: bool = True) -> Keyring:
    ring = load_key_file(path).rotated()
    write_key_file(ring, path)
    reset_default_keyring()
    with Store.open(db, keyring=ring) as st:
        st.rekey()
        st.retire_keys()
    if finish:
        write_key_file(ring.retire_old(), path)
        reset_default_keyring()
    return ring


def test_rotation_re_encrypts_everything_and_retires_the_old_key(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = filled(st, ci)
        st.complete(aid, result=assess(ci, st.answers(aid), judgement=st.judgement(aid)))
        before = st.answers(aid), st.judgement(aid), st.results(aid)
        old_kid = st.keyring.current_kid
    old_raw = base64.b64decode(user.key_file.read_text().split("\nkey ")[1].split()[0])
    ring = _rotate(user.key_file, user.store)
    assert kids_in_store(user.store) == {ring.current_kid}
    text = user.key_file.read_text()
    assert "\nold " not in text and f"audit {old_kid.hex()} " in text
    assert mode(user.key_file) == 0o600
    with Store.open(user.store) as st:
        assert (st.answers(aid), st.judgement(aid), st.results(aid)) == before
        from screening.store.audit import verify

        assert verify(st).ok, "records made with the retired key still verify through its audit key"
    # What the old key alone could open, it no longer can: every value is under the new key.
    conn = raw(user.store)
    (value,) = conn.execute("SELECT value FROM answers WHERE item_id = 't'").fetchone()
    conn.close()
    with pytest.raises(StoreError, match="which the old key does not have"):
        decode(aid, "answer:t", value, revision=1, keyring=Keyring(old_raw, source="the old key"))


def test_a_process_that_missed_the_rotation_cannot_write_with_the_old_key(user):
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(ci, case_ref="c1").id
        old_ring = st.keyring
        _rotate(user.key_file, user.store)
        conn = raw(st.path)
        with pytest.raises(sqlite3.IntegrityError, match="not encrypted with an active key"):
            conn.execute("INSERT INTO answers VALUES (?, 1, 'a', ?, 0, 'x')",
                         (aid, encode(aid, "answer:a", "yes", revision=1, keyring=old_ring)))
        conn.close()
        # The store notices the new key file and uses it.
        st.record_answer(aid, "a", "yes")
        assert st.answers(aid) == {"a": "yes"}
        assert st.keyring.current_kid != old_ring.current_kid
    assert kids_in_store(user.store) == {load_key_file(user.key_file).current_kid}


def test_rotation_interrupted_half_way_stays_readable_and_finishes_when_run_again(user, monkeypatch):
    import screening.store._keys as keys

    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        ids = [filled(st, ci, f"c{n}") for n in range(5)]
        before = {aid: st.answers(aid) for aid in ids}
    ring = load_key_file(user.key_file).rotated()
    write_key_file(ring, user.key_file)  # step 1 done: new key current, old key still there
    calls = {"n": 0}
    real = keys._reseal

    def crash_after_three(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt  # like a kill: the batch transaction rolls back
        real(*args, **kwargs)

    monkeypatch.setattr(keys, "_reseal", crash_after_three)
    with Store.open(user.store, keyring=ring) as st, pytest.raises(KeyboardInterrupt):
        keys.rekey(st.connection, ring, batch=2)
    monkeypatch.setattr(keys, "_reseal", real)
    assert len(kids_in_store(user.store)) == 2, "half re-encrypted: both keys in use"
    reset_default_keyring()
    with Store.open(user.store) as st:  # the key file (new + old) opens every value
        assert {aid: st.answers(aid) for aid in ids} == before
    with Store.open(user.store, keyring=ring) as st:
        st.rekey()
        st.retire_keys()
    write_key_file(ring.retire_old(), user.key_file)
    reset_default_keyring()
    assert kids_in_store(user.store) == {ring.current_kid}
    with Store.open(user.store) as st:
        assert {aid: st.answers(aid) for aid in ids} == before


def test_cli_key_rotate_and_show(user, capsys):
    from screening.cli import run

    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = filled(st, ci)
        old = st.keyring.current_kid.hex()
    assert run(["key", "show", "--lang", "en"]) == 0
    shown = capsys.readouterr().out
    assert f"Key id: {old}" in shown and str(user.key_file) in shown
    assert run(["key", "rotate", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "values re-encrypted, 1 key(s) retired" in out
    new = load_key_file(user.key_file).current_kid.hex()
    assert new != old and new in out
    with Store.open(user.store) as st:
        assert st.answers(aid)["t"] == CANARY


def test_cli_key_rotate_refuses_an_environment_key(user, monkeypatch, capsys):
    from screening.cli import run

    monkeypatch.setenv("SCREENING_KEY", base64.b64encode(new_key()).decode())
    reset_default_keyring()
    assert run(["key", "rotate"]) == 1
    assert "SCREENING_KEY" in capsys.readouterr().err


# ---------------------------------------------------------------- the version-1 upgrade


def test_a_version_1_store_is_sealed_when_opened(user):
    db = user.root / "v1.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for statement in _statements(_SCHEMA_V1):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    ci = text_instrument()
    conn.execute("INSERT INTO assessments VALUES ('a1', 'c1', 'privtest', NULL, NULL, 'sv', 1, 'x', 'x')")
    conn.execute("INSERT INTO revisions VALUES ('a1', 1, 'draft', '1.0.0', ?, ?, 'x', NULL)",
                 (ci.sha256, json.dumps({"level": "high", "rationale": CANARY})))
    conn.execute("INSERT INTO answers VALUES ('a1', 1, 't', ?, 0, 'x')", (json.dumps(CANARY),))
    conn.execute("UPDATE revisions SET status = 'completed'")
    conn.close()
    db.chmod(0o600)  # made with the sqlite3 module under umask 022; an open store must be owner-only
    with Store.open(db) as st:
        assert st.answers("a1") == {"t": CANARY}
        assert st.judgement("a1") == JudgementInput(level="high", rationale=CANARY)
        from screening.store.audit import verify

        assert verify(st).ok
        rows = st.connection.execute("SELECT action, case_ref, detail FROM audit WHERE action = 'migrate'").fetchall()
        assert rows == [("migrate", None, "schema 2, 2 values sealed"),
                        ("migrate", None, "schema 3, 0 outcomes indexed"),
                        ("migrate", None, "schema 4, 0 values bound to their revision")]
        st.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert kids_in_store(db) == {load_key_file(user.key_file).current_kid}
    assert CANARY.encode() not in db.read_bytes()


def test_a_table_made_elsewhere_gets_the_same_guarantee(user):
    """A table added outside the schema scripts: ``sealed_trigger`` makes the database refuse plaintext there too."""
    from screening.store._schema import sealed_trigger

    with Store.open(user.store, create=True) as st:
        aid = st.create_assessment(text_instrument(), case_ref="c1").id
        conn = st.connection
        conn.execute("CREATE TABLE made_elsewhere (assessment_id TEXT, outcome ANY)")
        conn.execute(sealed_trigger("made_elsewhere", "outcome"))
        conn.execute(sealed_trigger("made_elsewhere", "outcome"))  # idempotent
        with pytest.raises(sqlite3.IntegrityError, match="not encrypted with an active key"):
            conn.execute("INSERT INTO made_elsewhere VALUES (?, ?)", (aid, json.dumps({"level": "low"})))
        conn.execute("INSERT INTO made_elsewhere VALUES (?, ?)",
                     (aid, encode(aid, "rescore", {"level": "low"}, revision=1)))
        with pytest.raises(sqlite3.IntegrityError, match="not encrypted with an active key"):  # the schema's own
            conn.execute("INSERT INTO outcome_keys VALUES (1, 'i', 'r', 'e', '1')")
            conn.execute("INSERT INTO outcomes VALUES (?, 1, 1, ?, NULL, 'x')", (aid, json.dumps({"level": "low"})))
    with pytest.raises(ValueError):
        sealed_trigger("x; DROP TABLE audit", "v")


def test_rotation_to_a_key_whose_id_looks_like_a_personnummer_still_audits(user):
    """Regression (found as a flaky failure): a hex key id can hold ten digits in a row, which the audit
    trail rightly refuses in a detail; the rotation record must not put the id there."""
    import re

    with Store.open(user.store, create=True) as st:
        st.create_assessment(text_instrument(), case_ref="c1")
    raw_key = next(k for k in iter(new_key, None) if re.search(r"\d{10}", Keyring.from_key(k).current_kid.hex()))
    old = load_key_file(user.key_file)
    old_raw = base64.b64decode(user.key_file.read_text().split("\nkey ")[1].split()[0])
    ring = Keyring(raw_key, [old_raw], source="rotated")
    with Store.open(user.store, keyring=ring) as st:
        st.rekey()
        _, retired = st.retire_keys()
        assert retired == [old.current_kid]
        from screening.store.audit import verify

        assert verify(st).ok


def test_opening_a_store_reads_the_key_environment_again(user, monkeypatch, tmp_path):
    """Regression: a process that changed $XDG_CONFIG_HOME (or $HOME) must not keep using the old key file."""
    ci = text_instrument()
    with Store.open(user.store, create=True) as st:
        aid = filled(st, ci)
        first = st.keyring.current_kid
    elsewhere = tmp_path / "other-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(elsewhere))
    with Store.open(tmp_path / "second.db", create=True) as st:
        assert st.keyring.current_kid != first
        second = filled(st, ci, "c2")
        assert decode(second, "answer:t", st.connection.execute(
            "SELECT value FROM answers WHERE item_id = 't'").fetchone()[0], revision=1) == CANARY, \
            "the codec follows the store"
    assert (elsewhere / "screening" / "key").exists()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user.config))
    with Store.open(user.store) as st:
        assert st.keyring.current_kid == first and st.answers(aid)["t"] == CANARY
