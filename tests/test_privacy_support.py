"""Helpers for the privacy, crypto, audit and canary tests: an isolated user, raw store access.

No tests here; the test modules import these. ``isolated`` gives each test its own
config, state and data directories (so the key file, incident files and default
store are created inside ``tmp_path``, never in the real home) and a fresh keyring cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import build_instrument, item, text, to_yaml

from screening import parse_instrument
from screening.engine.scoring import CompiledInstrument


@dataclass(frozen=True)
class User:
    """Where an isolated user's files go."""

    root: Path
    config: Path
    state: Path
    data: Path
    location: str | None = None  # a PostgreSQL store's URL (tests/pg_fixtures.py); None: the default file

    @property
    def key_file(self) -> Path:
        return self.config / "screening" / "key"

    @property
    def incidents(self) -> Path:
        return self.state / "screening" / "incidents"

    @property
    def store(self) -> Path | str:
        return self.location or self.data / "screening" / "screening.db"


def isolated_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: object = None) -> Iterator[User]:
    """Body of each test module's ``user`` fixture (``yield from isolated_user(tmp_path, monkeypatch)``).

    ``store``: the ``store_at`` of a test run on both backends; a PostgreSQL URL becomes
    ``user.store``, an SQLite path leaves the default file in the user's data directory.
    """
    from screening.store.crypto import reset_default_keyring

    location = store if isinstance(store, str) else None
    u = User(tmp_path, tmp_path / "config", tmp_path / "state", tmp_path / "data", location)
    for name in ("SCREENING_KEY", "SCREENING_KEY_FILE", "SCREENING_STORE", "SCREENING_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(u.config))
    monkeypatch.setenv("XDG_STATE_HOME", str(u.state))
    monkeypatch.setenv("XDG_DATA_HOME", str(u.data))
    if location is not None:  # the default store is the PostgreSQL one, as SCREENING_STORE makes it
        monkeypatch.setenv("SCREENING_STORE", location)
    reset_default_keyring()
    yield u
    reset_default_keyring()


def raw(db: Path | str) -> sqlite3.Connection:
    """A second connection that edits the file like an intruder would (no triggers of ours help).

    On PostgreSQL: the database administrator, a superuser whose session fires no triggers
    (``session_replication_role = replica``), speaking the store's SQL through its adapter,
    with SQLite's ``randomblob`` made for the tamper tests.
    """
    if isinstance(db, str):
        from typing import cast

        from screening.store._pg import PgConnection

        conn = PgConnection.connect(dba_url(db))
        conn.execute("SET session_replication_role = replica")
        conn.execute("CREATE OR REPLACE FUNCTION randomblob(n integer) RETURNS bytea LANGUAGE sql AS $$"
                     " SELECT decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex')"
                     " FROM generate_series(1, n) $$")
        return cast(sqlite3.Connection, conn)
    return sqlite3.connect(db, isolation_level=None)


def dba_url(url: str) -> str:
    """The URL of the same database as the cluster's superuser (tests/pg_cluster.py)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc="postgres@" + parts.netloc.rsplit("@", 1)[-1]))


def drop_triggers(conn: sqlite3.Connection, table: str) -> None:
    if getattr(conn, "dialect", "") == "postgresql":
        return  # the administrator's session fires none (``raw``)
    for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", (table,)):
        conn.execute(f"DROP TRIGGER {name}")


def file_bytes(db: Path) -> dict[str, bytes]:
    """The database, its WAL and SHM as they are on disk now."""
    out = {}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db}{suffix}")
        out[suffix or "db"] = path.read_bytes() if path.exists() else b""
    return out


def privtest_data(judgement: str = "raise_or_lower") -> dict[str, object]:
    """Choice items, a free-text item and a repeating group with a text field: every personal field kind."""
    items = [
        item("a"),
        item("b"),
        {"id": "t", "type": "text", "text": text("Med egna ord")},
        {"id": "n", "type": "number", "min": 0, "max": 10, "text": text("Hur många gånger?")},
        {"id": "cal", "type": "group", "text": text("Händelser"), "fields": [
            {"id": "when", "type": "date", "text": text("Datum")},
            {"id": "what", "type": "text", "text": text("Vad")},
        ]},
    ]
    return build_instrument(
        id="privtest",
        sections=[{"id": "s", "title": text("Avsnitt"), "items": items}],
        scores=[{"id": "total", "label": text("Antal ja"), "kind": "count", "values": ["yes"]}],
        bands={"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": 0},
            {"level": "medium", "min": 1, "max": 1},
            {"level": "high", "min": 2, "max": 2},
        ]},
        judgement={"policy": judgement},
    )


def text_instrument(judgement: str = "raise_or_lower") -> CompiledInstrument:
    return parse_instrument(to_yaml(privtest_data(judgement)), "privtest.yaml")


def write_instrument_home(root: Path, judgement: str = "raise_or_lower") -> Path:
    """A content home holding the test instrument as ``instruments/privtest/1.0.0.yaml``."""
    path = root / "instruments" / "privtest" / "1.0.0.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(privtest_data(judgement)), encoding="utf-8")
    return root
