"""One case-store connection per worker thread, named after the request's account while it is used.

May import: store / stdlib.

FastAPI runs the (synchronous) endpoints in a thread pool; an SQLite connection
belongs to the thread that opened it, and every write is its own ``BEGIN
IMMEDIATE … COMMIT`` with a busy timeout, so one ``Store`` per thread is both
safe and as concurrent as the file allows. The audit records a request writes
name the signed-in account (``Store.acting_as``), never the server's OS user.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from ..store import Store

__all__ = ["StorePool"]


class StorePool:
    """Opens the store once per thread, on first use; ``close`` closes them all."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()
        self._gate = threading.RLock()  # one writer of this process at a time (``StoreBase.write_gate``)

    def get(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.path, actor="screening-server")
            store.write_gate = self._gate
            self._local.store = store
            with self._lock:
                self._all.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            stores, self._all = self._all, []
        for store in stores:
            with contextlib.suppress(Exception):  # another thread's connection: released at exit
                store.close()
