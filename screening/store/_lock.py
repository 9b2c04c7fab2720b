"""One writer per draft: an OS file lock per assessment, next to the database; and where a store may live.

May import: errors / stdlib (fcntl, os, re).

Why ``flock`` and not a ``locks`` row: the kernel drops a ``flock`` the moment
its process dies, including under ``kill -9``, so a crashed interview never
leaves a stale lock and we never have to guess whether a pid is alive (pids are
reused, and a pid says nothing about another host). The lock file holds
nothing; its name is the assessment's random id, never the case reference. It
is removed on release, and an acquirer checks it still holds the file that is
on disk, so an unlink racing a new open cannot give two holders.

The lock is only as good as the name it hangs on, so the store has one name:

* ``Store.open`` resolves the path (``store_path``): a symlink to the store, or
  to its directory, locks the same ``<store>.locks/`` as the real path. Two
  names used to mean two lock directories, and two interviews on one draft.
* A database file with a second name (a hard link) is refused
  (``check_single_name``): no resolving can join the two names, and SQLite
  itself keeps its ``-wal`` and ``-shm`` per name, so two processes using the two
  names would not even see each other's transactions.
* The lock remembers the database's identity (``st_dev``, ``st_ino``) from when
  the store was opened, and a lock is taken only while the path still names
  that file: a store moved or replaced under a running process is refused
  rather than locked under a name that is now another database's.

Like SQLite itself, this needs a local file system: ``flock`` and SQLite's POSIX
locks are not reliable on NFS/SMB, so a store there is refused (``check_local``,
Linux: the file system type from ``/proc/self/mountinfo``) unless
``SCREENING_ALLOW_NETWORK_STORE=1`` says the risk is accepted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import AssessmentLocked, StoreError

__all__ = [
    "ALLOW_NETWORK_ENV",
    "AssessmentLock",
    "Identity",
    "check_identity",
    "check_local",
    "check_single_name",
    "ensure_private_dir",
    "filesystem_type",
    "is_network_fs",
    "lock_dir",
    "mount_of",
    "private_umask",
    "probe",
    "store_path",
]

_OPEN = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC

# (st_dev, st_ino) of the database file: what the store is, whatever it is called.
Identity = tuple[int, int]

ALLOW_NETWORK_ENV = "SCREENING_ALLOW_NETWORK_STORE"
MOUNTINFO = Path("/proc/self/mountinfo")

# File systems whose locks SQLite (and flock) cannot trust: network and cluster file systems.
_NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "coda", "davfs", "ceph", "glusterfs",
    "lustre", "gpfs", "beegfs", "orangefs", "pvfs2", "vboxsf", "prl_fs", "vmhgfs",
})
# FUSE file systems (``fuse.<name>`` in mountinfo) that reach another machine.
_NETWORK_FUSE = frozenset({
    "sshfs", "rclone", "s3fs", "gcsfuse", "goofys", "mountpoint-s3", "davfs2", "smbnetfs", "curlftpfs",
    "gvfsd-fuse", "glusterfs", "cephfs", "ceph-fuse", "juicefs", "seaweedfs", "vmhgfs-fuse", "nfs", "onedriver",
})


def store_path(path: str | os.PathLike[str]) -> Path:
    """The store's one name: ``~`` expanded, absolute, every symlink resolved (missing tails allowed).

    Raises:
        StoreError: the path loops through symlinks.
    """
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise StoreError(f"cannot resolve the store path {path} ({getattr(exc, 'strerror', None) or exc})") from None


def check_single_name(path: Path, st: os.stat_result) -> None:
    """Refuse a database file that has more than one name (a hard link).

    Raises:
        StoreError: ``st_nlink`` is above 1.
    """
    if st.st_nlink > 1:
        raise StoreError(
            f"the store {path} has {st.st_nlink} names (hard links). Two names would mean two lock directories "
            "and two SQLite journals for one database, and answers could be overwritten or lost. Keep one name: "
            "remove the other links, or make an independent copy (cp) if one was meant as a backup"
        )


def check_identity(db_path: Path, identity: Identity | None) -> None:
    """Fail unless ``db_path`` still names the database opened as ``identity``, under that one name.

    Raises:
        StoreError: the file was moved, replaced or deleted, or gained a second name.
    """
    if identity is None:
        return
    try:
        st = db_path.stat()
    except OSError:
        st = None
    if st is None or (st.st_dev, st.st_ino) != identity:
        raise StoreError(f"the store {db_path} was moved, replaced or deleted while it was open; nothing was "
                         "locked or saved — open the store again")
    check_single_name(db_path, st)


def lock_dir(db_path: Path) -> Path:
    """The directory holding one ``<assessment id>.lock`` per open draft."""
    return db_path.with_name(db_path.name + ".locks")


class AssessmentLock:
    """An exclusive, non-blocking lock on one assessment, held until ``release``."""

    def __init__(self, db_path: Path, assessment_id: str, identity: Identity | None = None) -> None:
        self.path = lock_dir(db_path) / f"{assessment_id}.lock"
        self.assessment_id = assessment_id
        self._db = db_path
        self._identity = identity
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        ``db_path`` must be the resolved path (``store_path``), and with ``identity``
        it must still name that database: the lock is the database's, not a name's.

        Raises:
            AssessmentLocked: another process (or another ``Store``) has it.
            StoreError: the lock file cannot be created, or the store file was moved or replaced.
        """
        if self._fd is not None:
            return
        check_identity(self._db, self._identity)
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


def probe(db_path: Path, assessment_id: str, identity: Identity | None = None) -> None:
    """Fail if someone holds the assessment's lock; used by writers that do not hold it.

    Raises:
        AssessmentLocked: the draft is open elsewhere.
        StoreError: the store file was moved or replaced (see ``AssessmentLock.acquire``).
    """
    check_identity(db_path, identity)
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


# ---------------------------------------------------------------------- network file systems


def mount_of(path: str, mountinfo: str) -> tuple[str, str] | None:
    """``(mount point, file system type)`` of the mount holding ``path``, from ``mountinfo``'s text.

    Pure, so it is tested with any text. ``path`` is absolute and resolved. The
    mount is the one with the longest mount point that is ``path`` or one of its
    parents; of several on the same point, the last listed (it is on top).
    Lines that do not parse are skipped (see proc(5): ``id parent major:minor
    root mount-point options [optional fields…] - fstype source super-options``,
    with space, tab, newline and backslash in paths escaped in octal).
    """
    best: tuple[str, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
            point, fstype = _unescape(fields[4]), fields[sep + 1]
        except (ValueError, IndexError):
            continue
        inside = point == "/" or path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fstype)
    return best


def _unescape(field: str) -> str:
    """mountinfo's octal escapes (``\\040`` for a space) back to characters."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def is_network_fs(fstype: str) -> bool:
    """Whether SQLite's and ``flock``'s locks are not to be trusted on this file system type."""
    kind = fstype.lower()
    if kind.startswith("fuse."):
        return kind[5:] in _NETWORK_FUSE
    return kind in _NETWORK_FS or kind.startswith("nfs")


def filesystem_type(directory: Path) -> str | None:
    """The file system type holding ``directory`` (Linux), or ``None`` where it cannot be told."""
    try:
        text = MOUNTINFO.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None  # not Linux, or /proc not mounted: nothing to go on
    found = mount_of(str(directory), text)
    return found[1] if found else None


def check_local(directory: Path) -> None:
    """Refuse a store directory on a network file system, unless ``$SCREENING_ALLOW_NETWORK_STORE`` is ``1``.

    Raises:
        StoreError: the directory is on NFS, SMB/CIFS, SSHFS or another network file system.
    """
    fstype = filesystem_type(directory)
    if fstype is None or not is_network_fs(fstype) or os.environ.get(ALLOW_NETWORK_ENV) == "1":
        return
    raise StoreError(
        f"the store's directory {directory} is on a network file system ({fstype}): SQLite's locks are not "
        "reliable there, so two programs could overwrite each other's answers or damage the store. Keep the "
        f"store on a local disk; to accept the risk anyway (one user on one computer at a time), set "
        f"{ALLOW_NETWORK_ENV}=1"
    )


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Owner-only for anything created inside (process-wide, so keep the block short)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; existing directories are left alone."""
    if path.is_dir():
        return
    with private_umask():
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory {path} ({exc.strerror})") from None
