"""One case-store connection per worker thread, named after the request's account while it is used.

May import: store / stdlib.

FastAPI runs the (synchronous) endpoints in a thread pool; an SQLite connection
belongs to the thread that opened it, and every write is its own ``BEGIN
IMMEDIATE … COMMIT`` with a busy timeout, so one ``Store`` per thread is both
safe and as concurrent as the file allows. The audit records a request writes
name the signed-in account (``Store.acting_as``), never the server's OS user.

The thread pool starts and ends threads as load comes and goes; a thread's store is
closed when its thread ends (``_Held``), so a server running for months holds one
connection per live thread, never one per thread it ever had.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from pathlib import Path

from ..store import Store
from ..store._pg import is_url

__all__ = ["StorePool"]


class _Held:
    """A thread's store; closed when the thread ends and its thread-local values are freed (in that thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # freed in another thread (``close``): the connection goes with it
            self.store.close()


class StorePool:
    """Opens the store once per thread, on first use; ``close`` closes them all."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = path
        self.local = not is_url(str(path)) if path is not None else not is_url(os.environ.get("SCREENING_STORE", ""))
        self._local = threading.local()
        self._all: weakref.WeakSet[Store] = weakref.WeakSet()  # for ``close``; a dead thread's store drops out
        self._lock = threading.Lock()
        self._gate = threading.RLock()  # one writer of this process at a time (``StoreBase.write_gate``)

    def get(self) -> Store:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            store = Store.open(self.path, actor="screening-server")
            store.write_gate = self._gate
            held = self._local.held = _Held(store)
            with self._lock:
                self._all.add(store)
        return held.store

    def close(self) -> None:
        """Close every thread's store.

        An SQLite connection may be closed only by the thread that opened it; for the
        others, dropping the thread-local (which holds the last reference to each
        thread's store) frees them, and a freed connection closes its file. A test
        process that makes many apps would otherwise run out of file descriptors.
        """
        with self._lock:
            stores, self._all = list(self._all), weakref.WeakSet()
            self._local = threading.local()
        for store in stores:
            with contextlib.suppress(Exception):  # another thread's SQLite connection: freed with the local
                store.close()
