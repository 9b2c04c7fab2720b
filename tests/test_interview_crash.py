"""D1: kill -9 the real interview at random moments; every acknowledged answer must survive.

The child runs ``screening interview`` in a pseudo-terminal. We answer with
random keys and free text (with Unicode, markup and a bidi control), and kill
it with SIGKILL at a random point: while it starts, a few milliseconds after a
key (often inside the COMMIT), while it waits, or half-way through a typed
line. Then we check the database file (``PRAGMA integrity_check``), that every
answer acknowledged on screen ("✓ Sparat") is stored byte for byte, and that
``--resume`` starts at the first unanswered question — and kill that run too.

The totals are printed in the terminal summary whether or not ``-s`` is given.
"""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest
from helpers import build_instrument, item, text, to_yaml
from terminal.driver import child_env, spawn_cli

from screening.store._store import Store

pytestmark = [pytest.mark.terminal, pytest.mark.slow]

KILLS = 100
ITEMS = 24
TEXTS = (
    "Han sa [/b] att hon skulle dö",
    "åäö ÅÄÖ – 😀 e\u0301",
    "höger\u202evänster",
    "{{7*7}} <b>fet</b>",
    "x" * 300,
)
SCREEN = re.compile(r"(?:Fråga (\d+) av \d+)|(✓ Sparat: )")


@dataclass
class Tally:
    kills: int = 0
    confirmed: int = 0
    lost: int = 0
    integrity_failures: int = 0
    wrong_resume_points: int = 0
    in_flight: int = 0  # killed after a key was sent but before its acknowledgement was seen
    in_flight_committed: int = 0  # ... and it had reached the database anyway (the kill hit after COMMIT)
    runs: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


TALLY = Tally()  # the run in progress; each backend's run has its own (TALLIES)
TALLIES: dict[str, Tally] = {}


class _Summary:
    """A plugin registered at run time so the figures show without ``-s``."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not any(t.runs for t in TALLIES.values()):
            return
        terminalreporter.section("interview kill -9 (D1)")
        for backend, t in TALLIES.items():
            self._line(terminalreporter, backend, t)

    def _line(self, terminalreporter, backend: str, t: Tally) -> None:
        terminalreporter.write_line(
            f"{backend}: kills {t.kills}, runs {t.runs}, confirmed answers {t.confirmed}, lost {t.lost}, "
            f"integrity failures {t.integrity_failures}, wrong resume points {t.wrong_resume_points}, "
            f"in flight at the kill {t.in_flight} (of which committed {t.in_flight_committed}), {t.seconds:.1f} s"
        )
        for note in t.notes[:10]:
            terminalreporter.write_line("  " + note)


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "interview-crash-summary")
    yield


def crash_instrument(home: Path) -> None:
    items = []
    for n in range(ITEMS):
        if n % 3 == 2:
            items.append({"id": f"t{n}", "type": "text", "text": text(f"Berätta {n}")})
        else:
            items.append(item(f"q{n}"))
    data = build_instrument(
        id="crash",
        sections=[{"id": "s", "title": text("Allt"), "items": items}],
        scores=[],
        levels=[],
        bands=None,
        judgement={"policy": "none"},
    )
    path = home / "instruments" / "crash" / "1.0.0.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(to_yaml(data), encoding="utf-8")


class Run:
    """One interview process, answered at random and killed at a random point."""

    def __init__(self, rng: random.Random, args: list[str], sent: dict[str, str]) -> None:
        self.rng = rng
        self.sent = sent  # item id -> what we typed (the last value we sent for it)
        self.child = spawn_cli(args, env=child_env(), timeout=30)
        self.transcript = ""
        self.first_question: int | None = None
        self.last_sent: str | None = None

    def _expect(self, pattern) -> None:
        self.child.expect(pattern)
        self.transcript += self.child.before + self.child.after

    def answer_some(self, count: int, order: tuple[str, ...]) -> bool:
        """Answer ``count`` questions waiting for each acknowledgement; ``False`` at the summary."""
        for _ in range(count):
            index = self.child.expect([r"Fråga (\d+) av \d+", "Enter för att gå vidare"])
            self.transcript += self.child.before + self.child.after
            if index == 1:
                return False
            number = int(self.child.match.group(1))
            if self.first_question is None:
                self.first_question = number
            key = order[number - 1]
            self._type(key)
            self._expect("✓ Sparat: ")
        return True

    def _type(self, key: str, *, enter: bool = True) -> None:
        if key.startswith("q"):
            self._expect("> ")
            value = self.rng.choice("jn?")
            self.sent[key] = {"j": "yes", "n": "no", "?": "unknown"}[value]
            self.child.send(value)
        else:
            self._expect(r"Svar \(fritext")
            value = self.rng.choice(TEXTS)
            self.sent[key] = value
            self.child.send(value + ("\r" if enter else ""))

    def kill_now(self) -> None:
        self.child.kill(signal.SIGKILL)
        try:
            while True:  # whatever reached the screen before the kill counts as shown
                self.transcript += self.child.read_nonblocking(65536, timeout=1)
        except (pexpect.EOF, pexpect.TIMEOUT):
            pass
        self.child.ptyproc.delayafterclose = 0  # it is dead already; do not wait 0.1 s
        self.child.close(force=True)


def confirmed_on_screen(transcript: str, order: tuple[str, ...]) -> list[str]:
    """Items whose acknowledgement was printed, attributed to the question shown before it."""
    current = None
    acked = []
    for match in SCREEN.finditer(transcript):
        if match.group(1):
            current = order[int(match.group(1)) - 1]
        elif current is not None:
            acked.append(current)
    return acked


def test_kill_minus_9_loses_no_acknowledged_answer(tmp_path, store_at, backend):
    """On each backend (tests/pg_fixtures.py): on PostgreSQL the killed session's locks go with it."""
    global TALLY
    TALLY = TALLIES[backend] = Tally()
    start = time.perf_counter()
    rng = random.Random(20260501)
    home, db = tmp_path / "home", store_at
    crash_instrument(home)
    order = tuple(("q" if n % 3 != 2 else "t") + str(n) for n in range(ITEMS))
    confirmed: dict[str, dict[str, str]] = {}  # case -> item -> value acknowledged on screen
    sent: dict[str, dict[str, str]] = {}
    case, fresh = 0, True
    while TALLY.kills < KILLS:
        ref = f"krasch{case}"
        args = ["--home", str(home), "--store", str(db)]
        args = ["interview", "crash", *args, "--case", ref] if fresh else ["interview", "--resume", ref, *args]
        sent.setdefault(ref, {})
        run = Run(rng, args, sent[ref])
        TALLY.runs += 1
        answered_before = _stored(db, ref)
        at_summary = _drive_and_kill(run, rng, order)
        TALLY.kills += 1
        acked = confirmed_on_screen(run.transcript, order)
        mine = confirmed.setdefault(ref, {})
        for key in acked:
            mine[key] = sent[ref][key]
        _check(db, ref, mine, order, run, answered_before)
        if run.last_sent is not None and run.last_sent not in acked:
            TALLY.in_flight += 1
            TALLY.in_flight_committed += (_stored(db, ref) or {}).get(run.last_sent) == sent[ref][run.last_sent]
        TALLY.confirmed = sum(len(v) for v in confirmed.values())
        now = _stored(db, ref)
        if at_summary or (now is not None and len(now) == ITEMS):
            case, fresh = case + 1, True
        else:
            fresh = now is None  # killed before the assessment was created
    TALLY.seconds = time.perf_counter() - start
    assert TALLY.lost == 0, TALLY.notes
    assert TALLY.integrity_failures == 0
    assert TALLY.wrong_resume_points == 0, TALLY.notes
    assert TALLY.confirmed > KILLS  # the harness really saw acknowledgements


def _drive_and_kill(run: Run, rng: random.Random, order: tuple[str, ...]) -> bool:
    """Answer a few questions, then kill in one of four ways; ``True`` if the summary was reached."""
    how = rng.choice(["startup", "after_key", "after_key", "after_key", "idle", "mid_line"])
    if how == "startup":
        time.sleep(rng.uniform(0, 0.3))
        run.kill_now()
        return False
    if not run.answer_some(rng.randint(0, 5), order):
        run.kill_now()
        return True
    index = run.child.expect([r"Fråga (\d+) av \d+", "Enter för att gå vidare"])
    run.transcript += run.child.before + run.child.after
    if index == 1:
        run.kill_now()
        return True
    key = order[int(run.child.match.group(1)) - 1]
    if run.first_question is None:
        run.first_question = int(run.child.match.group(1))
    if how == "after_key":
        run._type(key)
        run.last_sent = key
        if rng.random() < 0.5:  # at once, or within 2 ms: around the COMMIT and the acknowledgement
            time.sleep(rng.uniform(0, 0.002))
    elif how == "mid_line" and key.startswith("t"):
        run._type(key, enter=False)
    run.kill_now()
    return False


def _stored(db: Path | str, ref: str) -> dict[str, object] | None:
    if isinstance(db, str):  # PostgreSQL: killed before the interview made the schema (opening never does)
        from screening.store._pg import PgConnection
        from screening.store._pgschema import schema_version

        conn = PgConnection.connect(db)
        try:
            if schema_version(conn) is None:
                return None
        finally:
            conn.close()
    elif not db.exists():  # killed before the interview made the store (opening never creates one)
        return None
    with Store.open(db) as st:
        found = st.find(ref)
        return st.answers(found[0].id) if found else None


def _check(db: Path | str, ref: str, mine: dict[str, str], order, run: Run, answered_before) -> None:
    """Integrity (of the SQLite file; PostgreSQL's is the server's), every acknowledged answer stored as
    typed, and the resume point."""
    if isinstance(db, Path):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True) if db.exists() else sqlite3.connect(":memory:")
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                TALLY.integrity_failures += 1
        finally:
            conn.close()
    stored = _stored(db, ref) or {}
    for key, value in mine.items():
        if stored.get(key) != value:
            TALLY.lost += 1
            TALLY.notes.append(f"{ref}/{key}: acknowledged but not stored as typed")
    if answered_before is not None and run.first_question is not None:
        expected = next((n for n, key in enumerate(order, 1) if key not in answered_before), None)
        if run.first_question != expected:
            TALLY.wrong_resume_points += 1
            TALLY.notes.append(f"{ref}: resumed at {run.first_question}, first unanswered was {expected}")
