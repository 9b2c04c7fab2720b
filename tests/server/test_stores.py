"""The server's per-thread stores: a thread's connection ends with its thread, and ``close`` ends them all.

Seen in the full suite: every worker thread the pool ever had kept its store open
(the pool held a reference to each), so file descriptors grew without bound — in a
long-running server as in the tests, where ``select()`` finally failed beyond 1024.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from screening.server._stores import StorePool
from screening.store import Store


def _open_files(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(path))
    return count


def test_a_threads_store_is_closed_when_the_thread_ends_and_close_ends_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    Store.open(path, create=True).close()
    pool = StorePool(path)
    before = _open_files(path)
    for _ in range(30):  # a thread pool's churn: each thread uses the store once and ends
        worker = threading.Thread(target=lambda: pool.get().get.__name__)
        worker.start()
        worker.join()
    assert _open_files(path) - before <= 2, "only a live thread's connection stays open"
    held = pool.get()  # this thread's
    assert _open_files(path) > before
    pool.close()
    del held
    assert _open_files(path) == before
