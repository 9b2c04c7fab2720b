"""Helpers for the re-score tests: stores with fixed ids, table dumps, small instruments.

No tests here; the re-score test modules import these. Stores are written through
the store's own schema (``Store.open``) and then filled with SQL, so ids and
timestamps are fixed and golden diffs are byte-stable.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, build_instrument, item, text, to_yaml

from screening import parse_instrument
from screening.engine.instrument import JudgementInput
from screening.store._store import Store
from screening.store.values import encode

STAMP = "2025-03-01T09:00:00.000Z"
# A fixed test key: the store seals every value, and no test may create or read a real key file.
TEST_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.fixture(autouse=True)
def test_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Import this fixture into a test module (autouse) to run it under ``TEST_KEY``."""
    from screening.store.crypto import reset_default_keyring

    monkeypatch.setenv("SCREENING_KEY", TEST_KEY)
    monkeypatch.delenv("SCREENING_KEY_FILE", raising=False)
    reset_default_keyring()
    yield
    reset_default_keyring()


def bench_module() -> Any:
    """``bench/bench_rescore.py`` (its instrument, rule set and fast store generator)."""
    spec = importlib.util.spec_from_file_location("bench_rescore", REPO / "bench" / "bench_rescore.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(path: Path | str) -> sqlite3.Connection:
    """A plain connection to a store on either backend: SQLite's file, or PostgreSQL through the
    store's adapter as the application's own account (its triggers apply, as to any writer)."""
    if isinstance(path, str):
        from typing import cast

        from screening.store._pg import PgConnection

        return cast(sqlite3.Connection, PgConnection.connect(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def fill_store(path: Path | str, ci: Any, records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Completed assessments with fixed ids (``id``, ``case``, ``answers``, optional ``judgement``, ``version``)."""
    Store.open(path, create=True).close()
    conn = connect(path)
    ids = []
    conn.execute("BEGIN")
    for n, rec in enumerate(records):
        aid = rec.get("id") or hashlib.sha256(f"assessment {n + 1}".encode()).hexdigest()[:32]
        ids.append(aid)
        version = rec.get("version", ci.instrument.version)
        judgement = rec.get("judgement")
        conn.execute(
            "INSERT INTO assessments (id, case_ref, instrument_id, lang, current_revision, created_at, updated_at)"
            " VALUES (?, ?, ?, 'sv', 1, ?, ?)",
            (aid, rec.get("case", f"ref-{n + 1:04d}"), rec.get("instrument", ci.instrument.id), STAMP, STAMP),
        )
        conn.execute(
            "INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256, judgement,"
            " created_at) VALUES (?, 1, 'draft', ?, ?, ?, ?)",
            (aid, version, rec.get("sha256", ci.sha256),
             None if judgement is None else encode(aid, "judgement", dict(judgement), revision=1), STAMP),
        )
        for key, value in rec["answers"].items():
            conn.execute(
                "INSERT INTO answers (assessment_id, revision, item_id, value, partial, answered_at)"
                " VALUES (?, 1, ?, ?, 0, ?)",
                (aid, key, encode(aid, f"answer:{key}", value, revision=1), STAMP),
            )
        conn.execute(
            "UPDATE revisions SET status = 'completed', completed_at = ? WHERE assessment_id = ?",
            (rec.get("completed_at", STAMP), aid),
        )
    conn.execute("COMMIT")
    conn.close()
    return ids


def save_results(path: Path | str, ci: Any, rules: Any, ids: list[str], records: list[Mapping[str, Any]]) -> None:
    """Store the result each assessment got under its own version (the baseline a re-score compares with)."""
    from screening import assess

    with Store.open(path) as st:
        for aid, rec in zip(ids, records, strict=True):
            judgement = rec.get("judgement")
            result = assess(
                ci, rec["answers"], judgement=None if judgement is None else JudgementInput(**judgement),
                rules=rules, assessed_at=STAMP,
            )
            st.save_result(aid, result, revision=1)


# The outcomes with their key spelled out: key ids are assigned in the order keys first
# appear, which two equal stores need not share.
OUTCOMES = (
    "SELECT o.assessment_id, o.revision, k.instrument_sha256, k.rules_sha256, k.engine_version,"
    " k.instrument_version, o.outcome, o.result_sha256{created} FROM outcomes o JOIN outcome_keys k ON k.id = o.key"
)


def _select(conn: sqlite3.Connection, table: str, skip: Iterable[str]) -> tuple[list[str], str]:
    skip = set(skip)
    if table == "outcomes":
        columns = ["assessment_id", "revision", "instrument_sha256", "rules_sha256", "engine_version",
                   "instrument_version", "outcome", "result_sha256"]
        created = "" if "created_at" in skip else ", o.created_at"
        return columns + ([] if created == "" else ["created_at"]), OUTCOMES.format(created=created)
    from screening.store._dialect import column_names

    columns = [c for c in column_names(conn, table) if c not in skip]
    return columns, f"SELECT {', '.join(columns)} FROM {table}"


def dump(path: Path | str, table: str, skip: Iterable[str] = ("created_at",)) -> list[tuple[Any, ...]]:
    """Every row of a table, sorted, without the columns in ``skip`` (the time of writing)."""
    conn = connect(path)
    try:
        columns, sql = _select(conn, table, skip)
        if not columns:
            return []
        return sorted(conn.execute(sql).fetchall())
    finally:
        conn.close()


def plain(path: Path | str, table: str) -> list[tuple[Any, ...]]:
    """``dump`` with the sealed column opened (ciphertexts differ between runs, contents must not)."""
    import json

    from screening.store.values import decode

    conn = connect(path)
    try:
        columns, sql = _select(conn, table, ("created_at",))
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    field = {"outcomes": "outcome", "results": "result"}.get(table)
    out = []
    for row in rows:
        data = dict(zip(columns, row, strict=True))
        if field is not None:
            opened = decode(data["assessment_id"], "rescore" if field == "outcome" else "result", data[field],
                            revision=data["revision"],
                            key=(data["instrument_sha256"], data["rules_sha256"], data["engine_version"]))
            data[field] = json.dumps(opened, sort_keys=True)
        out.append(tuple(data.values()))
    return sorted(out)


def tables(path: Path | str) -> list[str]:
    conn = connect(path)
    try:
        from screening.store._dialect import table_names

        return table_names(conn)
    finally:
        conn.close()


def digest(path: Path | str, table: str) -> str:
    """A hash of every row of a table (all columns), to show it did not change."""
    return hashlib.sha256(repr(dump(path, table, skip=())).encode()).hexdigest()


def yes_no_versions(tmp: Path, bundled: bool = True) -> dict[str, Path]:
    """A content directory with instrument ``t`` 1.0.0 and a 1.1.0 whose cut-off moved down by one.

    With ``bundled`` the shipped instruments and rule sets are copied in too, so the
    bundled rule sets (checked against every instrument) load from it.
    """
    if bundled:
        import shutil

        shutil.copytree(REPO / "instruments", tmp / "instruments", dirs_exist_ok=True)
        shutil.copytree(REPO / "rules", tmp / "rules", dirs_exist_ok=True)
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
    files = {}
    for data in (v1, v2):
        path = tmp / "instruments" / "t" / f"{data['version']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(data), encoding="utf-8")
        files[data["version"]] = path
    return files


def compile_yaml(data: Mapping[str, Any]) -> Any:
    return parse_instrument(to_yaml(data))
