"""One writer per draft: an OS file lock per assessment, next to the database.

May import: errors / stdlib (fcntl, os).

Why ``flock`` and not a ``locks`` row: the kernel drops a ``flock`` the moment
its process dies, including under ``kill -9``, so a crashed interview never
leaves a stale lock and we never have to guess whether a pid is alive (pids are
reused, and a pid says nothing about another host). The lock file holds
nothing; its name is the assessment's random id, never the case reference. It
is removed on release, and an acquirer checks it still holds the file that is
on disk, so an unlink racing a new open cannot give two holders.

Like SQLite itself, this needs a local file system: ``flock`` on NFS/SMB is not
reliable, and a store there is not supported.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import AssessmentLocked, StoreError

__all__ = ["AssessmentLock", "lock_dir", "probe"]

_OPEN = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def lock_dir(db_path: Path) -> Path:
    """The directory holding one ``<assessment id>.lock`` per open draft."""
    return db_path.with_name(db_path.name + ".locks")


class AssessmentLock:
    """An exclusive, non-blocking lock on one assessment, held until ``release``."""

    def __init__(self, db_path: Path, assessment_id: str) -> None:
        self.path = lock_dir(db_path) / f"{assessment_id}.lock"
        self.assessment_id = assessment_id
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises:
            AssessmentLocked: another process (or another ``Store``) has it.
            StoreError: the lock file cannot be created.
        """
        from ._store_schema import ensure_private_dir

        if self._fd is not None:
            return
        ensure_private_dir(self.path.parent)
        while True:
            try:
                fd = os.open(self.path, _OPEN, 0o600)
            except OSError as exc:
                raise StoreError(f"cannot create a lock file in {self.path.parent} ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise AssessmentLocked("assessment is open elsewhere", self.assessment_id) from None
            if _same_file(fd, self.path):
                self._fd = fd
                return
            os.close(fd)  # a releaser unlinked it between our open and flock: start over

    def release(self) -> None:
        """Remove the lock file and drop the lock (unlink first, so no one locks a ghost)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def probe(db_path: Path, assessment_id: str) -> None:
    """Fail if someone holds the assessment's lock; used by writers that do not hold it.

    Raises:
        AssessmentLocked: the draft is open elsewhere.
    """
    path = lock_dir(db_path) / f"{assessment_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # no lock file: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AssessmentLocked("assessment is open elsewhere", assessment_id) from None
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.lstat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
