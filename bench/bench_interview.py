"""Start-up and interview latency: first question, next question, and ``screening score``.

Run: ``python bench/bench_interview.py [--instrument ID] [--runs N] [--skip-installed]``

Targets (issue 13, seen 10): the first question on screen within 0.5 s of
``screening interview …``, ``screening score`` done within 0.3 s, and the next
question within 20 ms of an answer key (which includes a durable COMMIT with
``synchronous=FULL``). Measured the way a caseworker sees them: the interview
through a real pseudo-terminal (pexpect), ``score`` through a pipe. Each is the
median of ``--runs`` runs (5 by default), printed next to baselines measured in
the same run on the same machine: a bare ``python -c pass`` through the same
pty and pipe, and one bare SQLite WAL+FULL commit. The ratios are what to
compare between machines.

Both ways of running the code are measured: this checkout (what the tests and
an editable install run) and a non-editable install of a wheel built from it
(what users run: bytecode compiled at install, content under ``_content``).
The wheel is built with ``pip wheel`` (build isolation fetches hatchling) and
installed with ``pip install --target`` into a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parent.parent

TARGET_FIRST = 0.5
TARGET_SCORE = 0.3
TARGET_NEXT = 0.020
SUMMARY = "Enter för att gå vidare"
CHOICE = r"\[(\w)\] [^\n]*\r?\n> "  # the keys line and the prompt of a choice question
TYPED = r"Svar \([^\n]*: "  # a typed question (a number, a date)


def env_for(pythonpath: str, home: Path) -> dict[str, str]:
    """A clean environment: the given code first on sys.path, a temporary key, settings and store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "XDG_"))}
    env.update(
        PYTHONPATH=pythonpath,
        PYTHONUTF8="1",
        LANG="C.UTF-8",
        TERM="xterm",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        SCREENING_KEY_BURST_GAP="0",  # the benchmark types like a machine
    )
    return env


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable, args, env=env, cwd=str(cwd), encoding="utf-8", codec_errors="replace", timeout=60,
        dimensions=(40, 120),
    )
    child.delaybeforesend = None
    return child


def python_pty(runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = spawn(["-c", "pass"], env, cwd)
        child.expect(pexpect.EOF)
        times.append(time.perf_counter() - start)
        child.close()
    return times


def timed_pipe(args: list[str], runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def sqlite_commit(directory: Path, runs: int = 300) -> list[float]:
    conn = sqlite3.connect(directory / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    times = []
    for n in range(runs):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (n, '"yes"'))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def interview(
    instrument: str, runs: int, env: dict[str, str], cwd: Path, tag: str
) -> tuple[list[float], list[float]]:
    """Per run: time to the first question (a case fact or an item); then from each key to the next question."""
    first: list[float] = []
    following: list[float] = []
    store = Path(env["HOME"]) / f"bench-{tag}.db"
    for n in range(runs):
        start = time.perf_counter()
        child = spawn(["-m", "screening", "interview", instrument, "--store", str(store), "--case", f"{tag}{n}"],
                      env, cwd)
        index = child.expect([CHOICE, TYPED])
        first.append(time.perf_counter() - start)
        while True:
            sent = time.perf_counter()
            child.send(child.match.group(1) if index == 0 else "?\r")
            index = child.expect([CHOICE, TYPED, SUMMARY])
            if index == 2:
                break
            following.append(time.perf_counter() - sent)
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
    return first, following


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(times) * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  (n={len(times)})"


def installed_copy(directory: Path) -> Path:
    """A non-editable install of a wheel built from this checkout; returns the directory to put on sys.path."""
    wheels, target = directory / "wheels", directory / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True)
    (wheel,) = wheels.glob("screening-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def measure(label: str, pythonpath: str, home: Path, cwd: Path, args: argparse.Namespace,
            report: Callable[[str], None]) -> bool:
    env = env_for(pythonpath, home)
    py_pty = python_pty(args.runs, env, cwd)
    py_pipe = timed_pipe(["-c", "pass"], args.runs, env, cwd)
    answers = REPO / "examples" / f"{args.instrument}.yaml"
    score = timed_pipe(["-m", "screening", "score", args.instrument, str(answers)], args.runs, env, cwd)
    first, following = interview(args.instrument, args.runs, env, cwd, label.split()[0])
    commit = sqlite_commit(home)
    m_first, m_score, m_next = (statistics.median(x) for x in (first, score, following))
    report(f"--- {label}")
    report(f"baseline  python -c pass (pty)          {describe(py_pty)}")
    report(f"baseline  python -c pass (pipe)         {describe(py_pipe)}")
    report(f"baseline  SQLite WAL+FULL commit        {describe(commit)}")
    report(f"interview start -> first question       {describe(first)}   target <= {TARGET_FIRST * 1000:.0f} ms")
    report(f"screening score (pipe)                  {describe(score)}   target <= {TARGET_SCORE * 1000:.0f} ms")
    report(f"answer key -> next question             {describe(following)}   target <= {TARGET_NEXT * 1000:.0f} ms")
    report(f"ratio  first question / python start-up  {m_first / statistics.median(py_pty):6.1f}x")
    report(f"ratio  score / python start-up            {m_score / statistics.median(py_pipe):6.1f}x")
    report(f"ratio  next question / bare commit        {m_next / statistics.median(commit):6.1f}x")
    return m_first <= TARGET_FIRST and m_score <= TARGET_SCORE and m_next <= TARGET_NEXT


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--instrument", default="freda-kortfragor")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-installed", action="store_true", help="only this checkout (no wheel build)")
    args = parser.parse_args()
    print(f"instrument: {args.instrument}   python {sys.version.split()[0]}   runs: {args.runs}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "checkout").mkdir()
        ok &= measure("checkout (editable)", str(REPO), directory / "checkout", REPO, args, print)
        if not args.skip_installed:
            site = installed_copy(directory)
            home = directory / "installed"
            home.mkdir()
            ok &= measure("installed wheel (non-editable)", str(site), home, home, args, print)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
