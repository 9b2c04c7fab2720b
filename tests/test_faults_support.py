"""Fixtures and checks shared by the fault-injection tests (test_faults.py, test_power_loss.py).

Import the fixtures a test module uses from here. Every store is built once per
module with the ordinary stdlib connection and copied for each run, so a run
costs one store open under ``faultvfs.FaultVFS`` and one check afterwards.
The checks read the files with the stdlib ``sqlite3`` and the production
connection, as screening would after a restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultvfs import FaultVFS, connector
from helpers import DEMO, build_instrument, item, text, to_yaml

from screening import StoreError, assess, load_instrument, load_instrument_file
from screening.engine.instrument import JudgementInput
from screening.store import _schema as schema
from screening.store import audit
from screening.store._store import Store
from screening.store.crypto import Keyring, new_key

CANARY = "KANARIE-7f3a Han sa [/b] att"  # typed by a caseworker; never in an error message
BASE = {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}  # acknowledged before any fault
JUDGEMENT = JudgementInput(level="high", rationale=CANARY)
KEY = new_key()
# Instrument ``t`` 1.0.0 in the re-score tests; assessments are re-scored to 1.1.0.
ANSWER_SETS = [
    {"a": "yes", "b": "no", "c": "no", "d": "no"},
    {"a": "yes", "b": "yes", "c": "no", "d": "no"},
    {"a": "no", "b": "no", "c": "no", "d": "no"},
    {"a": "yes", "b": "yes", "c": "yes", "d": "no"},
    {"a": "no", "b": "yes", "c": "no", "d": "unknown"},
]
CHUNK = 2  # assessments per re-score chunk: three chunks, three commits


# ---------------------------------------------------------------------------- running over the VFS


@contextlib.contextmanager
def on(vfs: FaultVFS) -> Iterator[FaultVFS]:
    """Every store connection opened inside goes through ``vfs``; the VFS is gone afterwards."""
    saved = schema.connection_factory
    schema.connection_factory = connector(vfs)
    try:
        yield vfs
    finally:
        schema.connection_factory = saved
        vfs.close()


def copy_store(template: Path, target: Path) -> Path:
    """A fresh owner-only copy of a cleanly closed store (no -wal left)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.copyfile(template, target)
    return target


def close_quietly(st: Store | None) -> None:
    """Close after a fault or a power loss: the close itself may fail, as it would then."""
    if st is not None:
        with contextlib.suppress(StoreError, sqlite3.Error):
            st.close()


def new_store(path: Path, ring: Keyring) -> Store:
    """A new, empty store (``Store.open`` makes one only when asked)."""
    return Store.open(path, keyring=ring, create=True)


def check_readable(path: Path, ring: Keyring) -> Store:
    """Open as screening would after a restart; integrity and the audit chain hold. The caller closes it."""
    st = Store.open(path, keyring=ring)
    assert st.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # Reads are audited (a commit each); this check needs no durability, so no fsync per read.
    st.connection.execute("PRAGMA synchronous = OFF")
    verdict = audit.verify(st)
    assert verdict.ok, verdict.reason
    return st


def check_error(exc: StoreError) -> None:
    """A clear error without content: nothing typed appears in it."""
    shown = f"{exc} {exc!r} {exc.args}"
    for word in ("KANARIE-7f3a", "[/b]"):
        assert word not in shown, shown


def contents(st: Store) -> dict[str, Any]:
    """Every sealed value of the store, opened: answers, facts, judgement and result hashes per assessment."""
    out: dict[str, Any] = {}
    for info in st.list_assessments():
        out[info.id] = (st.answers(info.id), st.facts(info.id), st.judgement(info.id),
                        [digest for digest, _ in st.results(info.id)])
    return out


# ---------------------------------------------------------------------------- stores


@pytest.fixture(scope="module")
def ring() -> Keyring:
    return Keyring.from_key(KEY, source="<test>")


@pytest.fixture(scope="module")
def demo():
    return load_instrument_file(DEMO)


@pytest.fixture(scope="module")
def draft(tmp_path_factory, ring, demo) -> tuple[Path, str]:
    """A store with one draft whose four answers (``BASE``) are acknowledged."""
    path = tmp_path_factory.mktemp("draft") / "template.db"
    with new_store(path, ring) as st:
        aid = st.create_assessment(demo, case_ref="fel-1").id
        for key, value in BASE.items():
            st.record_answer(aid, key, value)
    return path, aid


@pytest.fixture(scope="module")
def empty_draft(tmp_path_factory, ring, demo) -> tuple[Path, str]:
    """A store with one draft and no answer yet."""
    path = tmp_path_factory.mktemp("empty") / "template.db"
    with new_store(path, ring) as st:
        aid = st.create_assessment(demo, case_ref="ström-1").id
    return path, aid


@pytest.fixture(scope="module")
def rotation_store(tmp_path_factory, ring, demo) -> tuple[Path, dict[str, Any]]:
    """A completed assessment with its result, and a draft with answers, a fact and a judgement; its contents."""
    path = tmp_path_factory.mktemp("rotation") / "template.db"
    with new_store(path, ring) as st:
        done = st.create_assessment(demo, case_ref="nyckel-1").id
        for key, value in BASE.items():
            st.record_answer(done, key, value)
        st.complete(done, result=assess(demo, BASE))
        draft = st.create_assessment(demo, case_ref="nyckel-2").id
        st.record_answer(draft, "q1", CANARY)
        st.record_fact(draft, "relation", CANARY)
        st.set_judgement(draft, JUDGEMENT)
        values = contents(st)
    return path, values


@pytest.fixture(scope="module")
def rescore_store(tmp_path_factory, ring) -> tuple[Path, Path, str]:
    """(store, content home, the 1.0.0 hash): instrument ``t`` 1.0.0, five interviews completed under it,
    and a 1.1.0 with lower cut-offs to re-score them to."""
    home = tmp_path_factory.mktemp("home")
    v1 = build_instrument(
        sections=[{"id": "main", "title": text("Frågor"), "items": [item("a"), item("b"), item("c"), item("d")]}],
        bands={"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": 1}, {"level": "medium", "min": 2, "max": 2},
            {"level": "high", "min": 3, "max": 4}]},
        missing={"max_unknown": 1},
    )
    v2 = dict(v1, version="1.1.0", bands={"score": "total", "ranges": [
        {"level": "low", "min": 0, "max": 0}, {"level": "medium", "min": 1, "max": 1},
        {"level": "high", "min": 2, "max": 4}]}, migrations=[{"from_version": "1.0.0"}])
    for data in (v1, v2):
        target = home / "instruments" / "t" / f"{data['version']}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_yaml(data), encoding="utf-8")
    ci = load_instrument("t@1.0.0", str(home))
    path = home / "template.db"
    with new_store(path, ring) as st:
        for n, answers in enumerate(ANSWER_SETS):
            aid = st.create_assessment(ci, case_ref=f"om-{n}").id
            for key, value in answers.items():
                st.record_answer(aid, key, value)
            st.complete(aid, result=assess(ci, answers))
    return path, home, ci.sha256


def rescored(path: Path, ring: Keyring, v1_sha: str) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """(assessment → its outcome rows, the interviews' own rows: answers, revisions and 1.0.0 results)."""
    with check_readable(path, ring) as st:
        conn = st.connection
        outcomes = dict(conn.execute("SELECT assessment_id, count(*) FROM outcomes GROUP BY assessment_id"))
        kept = [
            *conn.execute("SELECT assessment_id, revision, item_id, value FROM answers ORDER BY 1, 2, 3"),
            *conn.execute("SELECT assessment_id, revision, status, judgement FROM revisions ORDER BY 1, 2"),
            *conn.execute("SELECT assessment_id, result_sha256, result FROM results WHERE instrument_sha256 = ?"
                          " ORDER BY 1", (v1_sha,)),
        ]
    return outcomes, kept


def half_stored_chunks(outcomes: dict[str, int], ids: list[str]) -> list[int]:
    """Chunks (``CHUNK`` ids each, in id order) where some assessments got their new row and some not."""
    return [lo // CHUNK for lo in range(0, len(ids), CHUNK)
            if len({outcomes.get(aid, 1) for aid in ids[lo:lo + CHUNK]}) > 1]
