"""A fault-injecting SQLite VFS (APSW) and a thin DB-API adapter, so the store's real code runs on it.

Why APSW, and why an adapter: a VFS written in Python needs APSW, and APSW
ships its own SQLite (3.54 here, ``apsw.using_amalgamation``) while the stdlib
``sqlite3`` links the system's (3.40). A VFS registered in one library does not
exist in the other, so ``sqlite3.connect("file:…?vfs=fault")`` cannot reach it.
The store therefore makes its connection through one seam,
``screening.store._schema.connection_factory``; a test puts ``ApswConnection``
there and every line of the store (pragmas, key check, ``BEGIN IMMEDIATE``,
triggers, audit records, COMMIT) runs unchanged over ``FaultVFS``. After a run,
the files are checked with the stdlib module, as the application would read them.

``FaultVFS`` does two things (SQLite's own harnesses do the same in C):

* **I/O errors**: the N-th read, write or sync fails, once or from then on
  (``Fault``); SQLite sees ``SQLITE_IOERR_READ``/``_WRITE``/``_FSYNC``.
* **Power loss**: with ``buffered``, writes stay in memory per file (the OS
  page cache) until that file's ``xSync``; ``power_loss()`` (or ``crash_at``, the
  N-th write or sync) forgets every unsynced byte, and every later I/O of the
  "dead" process fails. What is on disk then is what a machine would find after
  the power came back. With ``scramble`` (a ``random.Random``), a disk that
  wrote some of its cache back before the power went is modelled as SQLite's
  own crash tests do: a random subset of the unsynced writes reaches the disk,
  in any order, and one of them may be torn at a 512-byte sector. Deleting and creating files are treated as durable at
  once (SQLite's WAL salts make a stale ``-wal`` harmless); the ``-shm`` index
  goes through untouched, as SQLite rebuilds it from the WAL on the next open.

``xSync`` does not call the real ``fsync``: the test process never really loses
power, so durability is what this class says it is, and the runs stay fast.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

import apsw

__all__ = ["KINDS", "ApswConnection", "Fault", "FaultVFS", "connector"]

KINDS = ("read", "write", "sync")
_CODES = {"read": apsw.SQLITE_IOERR_READ, "write": apsw.SQLITE_IOERR_WRITE, "sync": apsw.SQLITE_IOERR_FSYNC}
_names = itertools.count(1)
_SECTOR = 512
_DML = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_WRITE_CHUNK = 65536  # the default VFS reports "disk full" for one write of 128 KiB or more


@dataclass(frozen=True)
class Fault:
    """Fail the ``at``-th I/O of ``kind`` (1-based); with ``persistent``, every one after it too."""

    kind: str
    at: int
    persistent: bool = False


class FaultVFS(apsw.VFS):
    """The default VFS with faults and an optional volatile write cache (see the module docstring)."""

    def __init__(self, *, buffered: bool = False, scramble: random.Random | None = None) -> None:
        self.vfs_name = f"fault{next(_names)}"
        super().__init__(self.vfs_name, "")
        self.buffered = buffered
        self.fault: Fault | None = None
        self.fired = 0  # faults raised since the last arm()
        self.ops = dict.fromkeys(KINDS, 0)
        self.crash_at: int | None = None  # lose power at this write-or-sync (counted from arm())
        self.crashed = False
        self.cache: dict[str, bytearray] = {}  # file name → its content, while it has unsynced writes
        self.pending: dict[str, list[tuple[int, bytes | None]]] = {}  # its unsynced writes (None: truncate)
        self.scramble = scramble
        self._mutations = 0

    # ------------------------------------------------------------------ control

    def arm(self, fault: Fault | None = None, *, crash_at: int | None = None) -> None:
        """Start counting from zero, with this fault (or power loss) ahead."""
        self.fault, self.crash_at, self.fired, self._mutations = fault, crash_at, 0, 0
        self.ops = dict.fromkeys(KINDS, 0)

    def disarm(self) -> None:
        self.fault = None
        self.crash_at = None

    def power_loss(self) -> None:
        """Forget everything not synced (with ``scramble``, most of it); the process is dead from now on."""
        if self.scramble is not None:
            for name, writes in self.pending.items():
                self._reach_disk(name, writes, self.scramble)
        self.cache.clear()
        self.pending.clear()
        self.crashed = True

    @staticmethod
    def _reach_disk(name: str, writes: list[tuple[int, bytes | None]], rnd: random.Random) -> None:
        """Some of ``writes`` reach the disk, in a random order; one may be cut at a sector boundary."""
        chosen = [w for w in writes if rnd.random() < 0.5]
        rnd.shuffle(chosen)
        if chosen and rnd.random() < 0.5:
            offset, data = chosen[-1]
            if data is not None and len(data) > _SECTOR:
                chosen[-1] = (offset, data[:_SECTOR * rnd.randrange(1, -(-len(data) // _SECTOR))])
        with contextlib.suppress(FileNotFoundError), open(name, "r+b") as fh:
            for offset, data in chosen:
                if data is None:
                    fh.truncate(offset)
                else:
                    fh.seek(offset)
                    fh.write(data)

    def flush(self) -> None:
        """A clean shutdown: the OS writes its cache back (used before the stdlib opens the files)."""
        for name, data in list(self.cache.items()):
            with open(name, "r+b") as fh:
                fh.truncate(len(data))
                fh.write(data)
        self.cache.clear()
        self.pending.clear()

    def close(self) -> None:
        if self.crashed:
            self.cache.clear()
            self.pending.clear()
        else:
            self.flush()
        self.unregister()

    # ------------------------------------------------------------------ the VFS

    def io(self, kind: str) -> None:
        """Count one I/O of ``kind``; fail it if the plan says so."""
        if self.crashed:
            raise apsw.exception_for(_CODES[kind])
        self.ops[kind] += 1
        if kind != "read":
            self._mutations += 1
            if self.crash_at is not None and self._mutations >= self.crash_at:
                self.power_loss()
                raise apsw.exception_for(_CODES[kind])
        fault = self.fault
        if fault is not None and fault.kind == kind:
            n = self.ops[kind]
            if n == fault.at or (fault.persistent and n > fault.at):
                self.fired += 1
                raise apsw.exception_for(_CODES[kind])

    def excepthook(self, etype: Any, evalue: Any, etraceback: Any) -> bool:
        """A fault SQLite chose to ignore is expected: keep it out of ``sys.unraisablehook``."""
        return isinstance(evalue, apsw.Error) or bool(super().excepthook(etype, evalue, etraceback))

    def xOpen(self, name: Any, flags: list[int]) -> apsw.VFSFile:
        if name is None:  # a temporary file (temp_store=MEMORY makes these rare): no faults
            return apsw.VFSFile("", name, flags)
        return FaultFile(self, name, flags)

    def xDelete(self, filename: str, syncdir: bool) -> None:
        if self.crashed:
            raise apsw.exception_for(apsw.SQLITE_IOERR_DELETE)
        self.cache.pop(filename, None)
        self.pending.pop(filename, None)
        super().xDelete(filename, syncdir)


class FaultFile(apsw.VFSFile):
    """One open file of a ``FaultVFS``: locks and shared memory are the default VFS's."""

    def __init__(self, vfs: FaultVFS, name: Any, flags: list[int]) -> None:
        super().__init__("", name, flags)
        self.vfs = vfs
        self.key = name.filename() if isinstance(name, apsw.URIFilename) else str(name)

    def excepthook(self, etype: Any, evalue: Any, etraceback: Any) -> bool:
        return isinstance(evalue, apsw.Error) or bool(super().excepthook(etype, evalue, etraceback))

    def _volatile(self) -> bytearray:
        data = self.vfs.cache.get(self.key)
        if data is None:
            size = super().xFileSize()
            data = self.vfs.cache[self.key] = bytearray(super().xRead(size, 0) if size else b"")
        return data

    def xRead(self, amount: int, offset: int) -> bytes:
        self.vfs.io("read")
        data = self.vfs.cache.get(self.key)
        if data is None:
            return super().xRead(amount, offset)
        return bytes(data[offset:offset + amount])  # short at the end: SQLite zero-fills and copes

    def xWrite(self, data: Any, offset: int) -> None:
        self.vfs.io("write")
        if not self.vfs.buffered:
            super().xWrite(data, offset)
            return
        buf = self._volatile()
        if len(buf) < offset:
            buf.extend(bytes(offset - len(buf)))
        buf[offset:offset + len(data)] = bytes(data)
        if self.vfs.scramble is not None:
            self.vfs.pending.setdefault(self.key, []).append((offset, bytes(data)))

    def xTruncate(self, newsize: int) -> None:
        self.vfs.io("write")
        if not self.vfs.buffered:
            super().xTruncate(newsize)
            return
        buf = self._volatile()
        if newsize < len(buf):
            del buf[newsize:]
        else:
            buf.extend(bytes(newsize - len(buf)))
        if self.vfs.scramble is not None:
            self.vfs.pending.setdefault(self.key, []).append((newsize, None))

    def xFileSize(self) -> int:
        data = self.vfs.cache.get(self.key)
        return len(data) if data is not None else super().xFileSize()

    def xSync(self, flags: int) -> None:
        self.vfs.io("sync")
        data = self.vfs.cache.pop(self.key, None)
        self.vfs.pending.pop(self.key, None)
        if data is not None:  # what the disk holds from now on
            super().xTruncate(len(data))
            for start in range(0, len(data), _WRITE_CHUNK):
                super().xWrite(bytes(data[start:start + _WRITE_CHUNK]), start)


# ---------------------------------------------------------------------- the DB-API adapter


def _error(exc: apsw.Error) -> sqlite3.Error:
    """The stdlib exception the store expects for an APSW one (its class and SQLite's own words)."""
    if isinstance(exc, apsw.ConstraintError):
        cls: type[sqlite3.Error] = sqlite3.IntegrityError
    elif isinstance(exc, apsw.CorruptError | apsw.NotADBError):
        cls = sqlite3.DatabaseError
    else:
        cls = sqlite3.OperationalError
    text = str(exc)
    if not text:  # raised by the VFS without a message
        text = apsw.mapping_result_codes.get(getattr(exc, "result", 10), "disk I/O error")
        text = {"SQLITE_IOERR": "disk I/O error"}.get(text, text)
    return cls(text.split(": ", 1)[1] if text.split(": ", 1)[0].endswith("Error") else text)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except apsw.Error as exc:
        raise _error(exc) from exc


class Row(tuple):  # type: ignore[type-arg]
    """``sqlite3.Row``'s interface (index, name, ``keys()``) for rows read through APSW."""

    names: tuple[str, ...]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Self:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            lowered = [n.lower() for n in self.names]
            return tuple.__getitem__(self, lowered.index(key.lower()))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


class ApswCursor:
    """The part of ``sqlite3.Cursor`` the store uses; results are read at once (test stores are small)."""

    def __init__(self, conn: ApswConnection) -> None:
        self.connection = conn
        self.row_factory: Any = None
        self.rowcount = -1
        self.description: tuple[tuple[str, None, None, None, None, None, None], ...] | None = None
        self._rows: list[tuple[Any, ...]] = []
        self._pos = 0

    def execute(self, sql: str, params: Any = ()) -> ApswCursor:
        with _translated():
            cur = self.connection.db.cursor()
            cur.execute(sql, params)
            try:
                names = tuple(d[0] for d in cur.get_description())
            except apsw.ExecutionCompleteError:
                names = ()
            rows = cur.fetchall()
        self._rows, self._pos = rows, 0
        self.description = tuple((n, None, None, None, None, None, None) for n in names) or None
        # As the stdlib's: the changes of an INSERT, UPDATE, DELETE or REPLACE, else -1.
        self.rowcount = self.connection.db.changes() if _DML.match(sql) else -1
        return self

    def executemany(self, sql: str, seq: Iterable[Any]) -> ApswCursor:
        total = 0
        for params in seq:
            self.execute(sql, params)
            total += max(self.rowcount, 0)
        self.rowcount, self._rows = (total if _DML.match(sql) else -1), []
        return self

    def _make(self, row: tuple[Any, ...]) -> Any:
        if self.row_factory is sqlite3.Row:
            return Row(row, tuple(d[0] for d in self.description or ()))
        if self.row_factory is not None:
            return self.row_factory(self, row)
        return row

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._make(self._rows[self._pos - 1])

    def fetchmany(self, size: int = 1) -> list[Any]:
        out = [self._make(r) for r in self._rows[self._pos:self._pos + size]]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[Any]:
        return self.fetchmany(len(self._rows))

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []


class ApswConnection(sqlite3.Connection):
    """An ``sqlite3.Connection`` (so ``isinstance`` holds) whose statements run on an APSW connection.

    The stdlib base is an unused ``:memory:`` database; everything the store calls is
    overridden to go to ``db``, with APSW's exceptions turned into the stdlib's.
    """

    db: apsw.Connection

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return ApswCursor(self).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:  # type: ignore[override]
        return ApswCursor(self).executemany(sql, parameters)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return ApswCursor(self)

    @property
    def in_transaction(self) -> bool:  # type: ignore[override]
        return not self.db.get_autocommit()

    def close(self) -> None:
        # sqlite3_close_v2 ignores a failed checkpoint-on-close (the stdlib raises nothing
        # then); APSW would still raise the exception our VFS raised inside it.
        try:
            with contextlib.suppress(apsw.Error):
                self.db.close(True)
        finally:
            super().close()


def connector(vfs: FaultVFS) -> Callable[[str, float], sqlite3.Connection]:
    """A ``connection_factory`` for the store that opens every connection on ``vfs``."""

    def connect(path: str, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", factory=ApswConnection)
        try:
            with _translated():
                conn.db = apsw.Connection(path, vfs=vfs.vfs_name)
                conn.db.set_busy_timeout(int(timeout * 1000))
        except BaseException:
            sqlite3.Connection.close(conn)
            raise
        return conn

    return connect
