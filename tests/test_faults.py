"""A failing disk under the real store code (issue 15; D3 of the reliability plan).

The crash tests kill the process between SQLite's calls; these go under SQLite,
through ``faultvfs.FaultVFS`` (APSW, tests only; why APSW and an adapter: see
that module). For every N, the N-th read, write or sync fails — once, or from
then on — until a run gets through without reaching N, at every point of:

* an interview commit: ``record_answer``, ``record_fact``, ``set_judgement``,
  ``complete`` (with its result);
* a re-score over a store (``rescore --apply``): its chunks, their commits and
  the run's audit record;
* a key rotation: registering the new key, re-encrypting, retiring the old one.

Each time: the method raises ``StoreError`` (no other exception, nothing typed
in the message); an acknowledged write is there; an unacknowledged one is there
whole or not at all; nothing acknowledged before is lost; the store then reads
back with ``integrity_check`` ok and the audit chain verifying. When a lasting
fault clears, the same ``Store`` saves the write; a re-score or rotation that
stopped finishes when run again. Lost writes (power loss): test_power_loss.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import test_faults_support as support
from faultvfs import KINDS, Fault, FaultVFS
from test_faults_support import (
    BASE,
    CANARY,
    CHUNK,
    JUDGEMENT,
    KEY,
    check_error,
    check_readable,
    close_quietly,
    contents,
    copy_store,
    half_stored_chunks,
    new_store,
    on,
    rescored,
)

from screening import StoreError, assess
from screening.batch._run import RunConfig, run_store
from screening.store._store import Store
from screening.store.crypto import Keyring, reset_default_keyring

# The shared fixtures, by assignment (pytest finds them as module attributes).
demo = support.demo
draft = support.draft
rescore_store = support.rescore_store
ring = support.ring
rotation_store = support.rotation_store


LIMIT = 400  # no operation here does that many reads, writes or syncs: the loop must have ended


# ---------------------------------------------------------------------------- interview commits


@dataclass(frozen=True)
class Op:
    """One interview commit: ``run`` it; whether it is ``applied`` in a store."""

    run: Callable[[Store, str, Any], None]
    applied: Callable[[Store, str], bool]


OPS = {
    "answer": Op(lambda st, aid, _: st.record_answer(aid, "q3", CANARY),
                 lambda st, aid: st.answers(aid).get("q3", "absent") == CANARY),
    "fact": Op(lambda st, aid, _: st.record_fact(aid, "relation", CANARY),
               lambda st, aid: st.facts(aid).get("relation", "absent") == CANARY),
    "judgement": Op(lambda st, aid, _: st.set_judgement(aid, JUDGEMENT),
                    lambda st, aid: st.judgement(aid) == JUDGEMENT),
    "complete": Op(lambda st, aid, result: st.complete(aid, result=result) and None,
                   lambda st, aid: st.get(aid).status == "completed"),
}


def settled(st: Store, aid: str, op: str, applied: bool) -> None:
    """The write is there whole or not at all, and what was acknowledged before is untouched."""
    answers = st.answers(aid)
    assert {k: answers[k] for k in BASE} == BASE
    assert ("q3" in answers) == (op == "answer" and applied)
    assert ("relation" in st.facts(aid)) == (op == "fact" and applied)
    assert (st.judgement(aid) is not None) == (op == "judgement" and applied)
    completed = st.get(aid).status == "completed"
    assert completed == (op == "complete" and applied)
    assert len(st.results(aid)) == (1 if completed else 0)  # completion and its result commit together


def interview_run(tmp: Path, draft: tuple[Path, str], ring: Keyring, result: Any, op: str, fault: Fault) -> bool:
    """One run with ``fault`` armed around ``op``; whether the fault was reached."""
    path = copy_store(draft[0], tmp / "cases.db")
    aid = draft[1]
    with on(FaultVFS()) as vfs:
        st = Store.open(path, keyring=ring)
        try:
            vfs.arm(fault)
            acked = True
            try:
                OPS[op].run(st, aid, result)
            except StoreError as exc:
                acked = False
                check_error(exc)
            reached = vfs.fired > 0
            vfs.disarm()
            if fault.persistent and not acked and not OPS[op].applied(st, aid):
                OPS[op].run(st, aid, result)  # the disk is back: the same Store saves it now
                acked = True
        finally:
            close_quietly(st)
    with check_readable(path, ring) as st:
        applied = OPS[op].applied(st, aid)
        assert applied or not acked, f"{op}: acknowledged, then lost ({fault})"
        settled(st, aid, op, applied)
    path.unlink()
    return reached


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "lasting"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_an_io_error_at_any_point_of_an_interview_commit(tmp_path, draft, ring, demo, op, kind, persistent):
    result = assess(demo, BASE)
    n = 1
    while interview_run(tmp_path, draft, ring, result, op, Fault(kind, n, persistent)):
        n += 1
        assert n < LIMIT, "the fault loop does not end"
    # Every commit writes and syncs; the harness is in the path.
    assert n > 1 or kind == "read", f"{op} never did a {kind}"


# ---------------------------------------------------------------------------- a re-score over a store


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "lasting"])
@pytest.mark.parametrize("kind", KINDS)
def test_an_io_error_at_any_point_of_a_rescore_over_a_store(tmp_path, rescore_store, ring, kind, persistent,
                                                            monkeypatch):
    template, home, v1_sha = rescore_store
    monkeypatch.setenv("SCREENING_KEY", base64.b64encode(KEY).decode())  # the re-scorer uses the default key
    reset_default_keyring()
    config = RunConfig(instrument="t", to="1.1.0", rules=None, home=str(home), full_results="changed")
    clean = copy_store(template, tmp_path / "clean.db")
    run_store(clean, config, apply=True, progress=False, chunk=CHUNK)
    expected = rescored(clean, ring, v1_sha)
    before = rescored(template, ring, v1_sha)
    ids = sorted(before[0])
    n = 0
    reached = True
    while reached:
        n += 1
        assert n < LIMIT, "the fault loop does not end"
        fault = Fault(kind, n, persistent)
        path = copy_store(template, tmp_path / "cases.db")
        with on(FaultVFS()) as vfs:
            vfs.arm(fault)
            try:
                run_store(path, config, apply=True, progress=False, chunk=CHUNK)
            except StoreError as exc:
                check_error(exc)
            reached = vfs.fired > 0
        outcomes, kept = rescored(path, ring, v1_sha)
        assert kept == before[1], f"a re-score changed an interview's own rows ({fault})"
        assert half_stored_chunks(outcomes, ids) == [], fault
        run_store(path, config, apply=True, progress=False, chunk=CHUNK)  # the re-run finishes the job
        assert rescored(path, ring, v1_sha) == expected, fault
        path.unlink()
    assert n > 1 or kind == "read"


# ---------------------------------------------------------------------------- key rotation


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "lasting"])
@pytest.mark.parametrize("kind", KINDS)
def test_an_io_error_at_any_point_of_a_key_rotation(tmp_path, rotation_store, ring, kind, persistent):
    template, values = rotation_store
    new = ring.rotated()
    n = 0
    reached = True
    while reached:
        n += 1
        assert n < LIMIT, "the fault loop does not end"
        path = copy_store(template, tmp_path / "cases.db")
        with on(FaultVFS()) as vfs:
            vfs.arm(Fault(kind, n, persistent))
            st = None
            try:
                st = Store.open(path, keyring=new)
                st.rekey()
                st.retire_keys()
            except StoreError as exc:
                check_error(exc)
            finally:
                close_quietly(st)
            reached = vfs.fired > 0
        # Half rotated or not at all, every value opens with the rotated key file (new and old key) …
        with check_readable(path, new) as st:
            assert contents(st) == values
            st.rekey()  # … and running the rotation again finishes it
            st.retire_keys()
        with check_readable(path, new.retire_old()) as st:
            assert contents(st) == values
        path.unlink()
    assert n > 1 or kind == "read"


# ---------------------------------------------------------------------------- creating a store


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "lasting"])
@pytest.mark.parametrize("kind", KINDS)
def test_an_io_error_at_any_point_of_creating_a_store(tmp_path, ring, kind, persistent):
    """The schema, its pragmas and the key's registration: a store half made opens (and completes) next time."""
    n = 0
    reached = True
    while reached:
        n += 1
        assert n < LIMIT, "the fault loop does not end"
        path = tmp_path / f"new{n}" / "cases.db"
        with on(FaultVFS()) as vfs:
            vfs.arm(Fault(kind, n, persistent))
            try:
                new_store(path, ring).close()
            except StoreError as exc:
                check_error(exc)
            reached = vfs.fired > 0
        with check_readable(path, ring) as st:
            assert list(st.list_assessments()) == []
            st.create_assessment(support.load_instrument_file(support.DEMO))
    assert n > 1


# ---------------------------------------------------------------------------- the harness itself


def test_the_apsw_adapter_answers_like_the_stdlib_connection(tmp_path):
    """What the store relies on behaves the same through ``ApswConnection``: else the loops test the adapter."""
    import sqlite3

    from faultvfs import connector

    script = [
        ("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL)", ()),
        ("BEGIN IMMEDIATE", ()),
        ("INSERT INTO t VALUES (?, ?)", ("a", b"\x01")),
        ("INSERT INTO t VALUES (?, ?) ON CONFLICT DO NOTHING", ("a", b"\x02")),
        ("INSERT INTO t VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", ("a", b"\x03")),
        ("COMMIT", ()),
        ("SELECT k, v FROM t", ()),
        ("SELECT count(*) FROM t WHERE k = ?", ("none",)),
    ]

    def run(conn: sqlite3.Connection) -> list[Any]:
        seen: list[Any] = [isinstance(conn, sqlite3.Connection), conn.in_transaction]
        for sql, params in script:
            cur = conn.execute(sql, params)
            seen += [cur.rowcount, cur.fetchall(), conn.in_transaction]
        rows = [("a", b""), ("b", b""), ("c", b"")]
        cur = conn.executemany("INSERT INTO t VALUES (?, ?) ON CONFLICT DO NOTHING", rows)
        seen.append(cur.rowcount)
        cur = conn.execute("SELECT k AS key, v FROM t ORDER BY k")
        cur.row_factory = sqlite3.Row
        row = cur.fetchone()
        seen += [row["key"], row["KEY"], row[1], list(row.keys()), len(cur.fetchmany(5))]
        for bad, error in (("INSERT INTO t VALUES ('a', x'00')", sqlite3.IntegrityError),
                           ("SELEC 1", sqlite3.OperationalError)):
            with pytest.raises(error) as caught:
                conn.execute(bad)
            seen.append(str(caught.value))
        conn.close()
        return seen

    stdlib = run(sqlite3.connect(tmp_path / "a.db", isolation_level=None))
    vfs = FaultVFS()
    try:
        adapted = run(connector(vfs)(str(tmp_path / "b.db"), 5.0))
    finally:
        vfs.close()
    assert adapted == stdlib
