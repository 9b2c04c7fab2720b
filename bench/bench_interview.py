"""Interview latency: start-up to the first question, and answer key to the next question.

Run: ``python bench/bench_interview.py [--instrument ID|PATH] [--runs N]``

Targets: the first question on screen within 0.5 s of ``screening interview …``,
and the next question within 20 ms of an answer key (which includes a durable
COMMIT with ``synchronous=FULL``). Both are measured through a real
pseudo-terminal (pexpect), the way a caseworker sees them, and printed next to
two baselines measured in the same run on the same machine: the start-up of a
bare ``python -c pass`` through the same pseudo-terminal, and one bare SQLite
WAL+FULL commit. The ratios are what to compare between machines.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from terminal.driver import QUESTION, child_env, spawn_cli  # noqa: E402

TARGET_FIRST = 0.5
TARGET_NEXT = 0.020
SUMMARY = "Enter för att gå vidare"


def python_startup(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = pexpect.spawn(sys.executable, ["-c", "pass"], env=child_env(), encoding="utf-8")
        child.expect(pexpect.EOF)
        times.append(time.perf_counter() - start)
        child.close()
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


def interview(instrument: str, store: Path, runs: int) -> tuple[list[float], list[float]]:
    """Per run: time to the first question; then the time from each choice key to the next question."""
    first, following = [], []
    for n in range(runs):
        start = time.perf_counter()
        child = spawn_cli(["interview", instrument, "--store", str(store), "--case", f"bench{n}"], env=child_env())
        child.expect(QUESTION)
        first.append(time.perf_counter() - start)
        while True:
            child.expect(r"\[(\w)\] ")
            key = child.match.group(1)
            child.expect_exact("> ")
            sent = time.perf_counter()
            child.send(key)
            index = child.expect([QUESTION, SUMMARY, r"Svar \("])
            if index == 0:
                following.append(time.perf_counter() - sent)
                continue
            break  # the summary, or a typed question the benchmark does not answer
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
    return first, following


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(times) * 1000:8.2f} ms  p95 {p95 * 1000:8.2f} ms  (n={len(times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instrument", default="freda-kortfragor")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        env_home = os.environ.get("SCREENING_HOME")
        startup = python_startup(args.runs)
        commit = sqlite_commit(directory)
        first, following = interview(args.instrument, directory / "bench.db", args.runs)
    base_start, base_commit = statistics.median(startup), statistics.median(commit)
    med_first, med_next = statistics.median(first), statistics.median(following)
    print(f"instrument: {args.instrument}   python {sys.version.split()[0]}   SCREENING_HOME={env_home or '-'}")
    print(f"baseline  python -c pass (pty)      {describe(startup)}")
    print(f"baseline  SQLite WAL+FULL commit    {describe(commit)}")
    print(f"interview start → first question    {describe(first)}   target ≤ {TARGET_FIRST * 1000:.0f} ms")
    print(f"interview answer key → next question {describe(following)}   target ≤ {TARGET_NEXT * 1000:.0f} ms")
    print(f"ratio  first question / python start-up  {med_first / base_start:6.1f}×")
    print(f"ratio  next question / bare commit       {med_next / base_commit:6.1f}×")
    ok = med_first <= TARGET_FIRST and med_next <= TARGET_NEXT
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
