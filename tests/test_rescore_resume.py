"""Kill -9 a real ``screening rescore --apply`` at random points; the re-run equals a clean run."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from helpers import REPO, python_env
from test_rescore_support import TEST_KEY, bench_module, plain, test_key  # noqa: F401  (test_key: autouse)

N = 3000
KILLS = 20


def command(store, home):
    return [sys.executable, "-m", "screening", "rescore", "--store", str(store), "--home", str(home),
            "--instrument", "bench-count", "--to", "1.1.0", "--rules", "bench", "--apply", "--full-results",
            "--chunk", "100", "--format", "json", "-o", str(store.with_suffix(".diff.json"))]


def rows(path):
    return {t: plain(path, t) for t in ("outcomes", "results")}


@pytest.mark.slow
def test_kill_and_resume_equals_a_clean_run(tmp_path):
    bench = bench_module()
    home = bench.make_home(tmp_path / "bench")
    base = tmp_path / "base.db"
    bench.generate(base, N, home, seed=5)
    env = python_env(SCREENING_KEY=TEST_KEY)

    clean = tmp_path / "clean.db"
    shutil.copy(base, clean)  # with its owner-only mode
    start = time.monotonic()
    done = subprocess.run(command(clean, home), env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
                          check=False)
    duration = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    expected = rows(clean)
    # N compact outcomes stored with the interviews' results, N written by the re-score; a
    # full result for each changed assessment besides the N stored ones.
    assert len(expected["outcomes"]) == 2 * N and N < len(expected["results"]) < 2 * N

    rnd = random.Random(20250301)
    interrupted = partial = 0
    for trial in range(KILLS):
        store = tmp_path / f"trial{trial}.db"
        shutil.copy(base, store)
        proc = subprocess.Popen(command(store, home), env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.05, duration))
        if proc.poll() is None:
            interrupted += 1
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=600)
        conn = sqlite3.connect(store)
        try:
            # The re-score's own rows: those under the target version (the stored ones are 1.0.0).
            written = conn.execute(
                "SELECT count(*) FROM outcomes o JOIN outcome_keys k ON k.id = o.key"
                " WHERE k.instrument_version = '1.1.0'").fetchone()[0]
        finally:
            conn.close()
        partial += 0 < written < N
        again = subprocess.run(command(store, home), env=env, cwd=REPO, capture_output=True, text=True,
                               timeout=600, check=False)
        assert again.returncode == 0, again.stderr
        assert rows(store) == expected, f"trial {trial}: the resumed store differs from a clean run"
        conn = sqlite3.connect(store)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
        store.unlink()
    # The kills must really have hit running re-scores, some of them between commits.
    assert interrupted >= KILLS // 2, f"only {interrupted} of {KILLS} kills hit a running process"
    assert partial >= 3, f"only {partial} kills left a partly written store"
