"""Helpers of the server tests: cases in a given state made straight in the store, and store snapshots.

Made through ``Store`` (not the API) so a matrix of hundreds of requests can have a
fresh case per request cheaply; ``snapshot`` reads the database file through its own
connection, so it sees only what was committed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from screening.store.audit import Record, accesses

#: freda-kortfragor, every shown item answered "no" (its first golden vector): a complete draft.
INSTRUMENT = "freda-kortfragor"


def all_no() -> dict[str, object]:
    from screening.content.loader import load_instrument

    return dict(load_instrument(INSTRUMENT).instrument.tests[0].answers)


def make_case(store_path: Path, team: str, state: str, *, assessor: str = "anna") -> str:
    """A new freda-kortfragor assessment of ``team``: ``empty`` (a draft), ``draft`` (answered) or ``completed``."""
    from screening.assessment import assess
    from screening.content.loader import load_instrument
    from screening.store import Store

    ci = load_instrument(INSTRUMENT)
    with Store.open(store_path, actor=assessor) as st:
        info = st.create_assessment(ci, assessor=assessor, team=team)
        if state in ("draft", "completed"):
            answers = ci.check_answers(all_no())
            for item_id, value in answers.items():
                st.record_answer(info.id, item_id, value)
        if state == "completed":
            st.complete(info.id, result=assess(ci, ci.check_answers(all_no()), assessor=assessor))
        return info.id


def snapshot(store_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit trail and the sign-in sessions (what a request may change)."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if r[0] not in ("audit", "sessions") and not r[0].startswith("sqlite_")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def access_records(store_path: Path, actor: str | None = None, *, after: int = 0) -> list[Record]:
    """The "access" records (of ``actor``) numbered after ``after``."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return [r for r in accesses(conn, actor=actor) if r.seq > after]
    finally:
        conn.close()


def last_seq(store_path: Path) -> int:
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0])
    finally:
        conn.close()
