"""Write files atomically and readable by the owner only.

May import: errors / stdlib.

Reports and exports hold personal data about people at risk, so every file we
write is created 0600 from its first byte (never created wide and narrowed
later), appears under its final name only when complete (a crash leaves the old
file or nothing, never half a report), and survives a power cut once we return
(file and directory are fsynced). Error messages name the path, never the data.

The target is a new name or an existing regular file, nothing else: renaming over
a device node, a pipe or a socket would replace it (as root, ``-o /dev/full``
would swap the device for a file), so ``check_target`` refuses those first.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from .errors import ScreeningError

__all__ = ["FileWriteError", "check_target", "config_dir", "write_private"]

FILE_MODE = 0o600
DIR_MODE = 0o700


class FileWriteError(ScreeningError):
    """A file could not be written; nothing was left behind under the final name."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: cannot write file ({self.reason})"


def write_private(path: str | os.PathLike[str], data: str | bytes, *, make_parents: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically, owner-only (0600).

    The data goes to a temporary file in the same directory (same filesystem, so
    ``os.replace`` is atomic), created with ``O_CREAT | O_EXCL`` and mode 0600 so
    no other user can open it even for a moment; it is fsynced, renamed over the
    target, and the directory is fsynced so the rename itself is durable. On any
    failure the temporary file is removed.

    Args:
        path: the final file name. An existing regular file is replaced; a
            symlink at ``path`` is replaced by the file, never followed, unless
            it points at something that is not a regular file.
        data: text (written as UTF-8) or bytes.
        make_parents: create missing parent directories with mode 0700.

    Returns:
        The path written.

    Raises:
        FileWriteError: the directory is missing or not writable, the disk is
            full, or the target is a directory, a device, a pipe or a socket.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = target.parent
    if make_parents and not directory.exists():
        _make_private_dirs(directory, target)
    check_target(target)
    temp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except OSError as exc:
        raise FileWriteError(str(target), exc.strerror or type(exc).__name__) from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # a umask can only narrow, but be exact anyway
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        temp.replace(target)
    except OSError as exc:
        _remove_quietly(temp)
        raise FileWriteError(str(target), exc.strerror or type(exc).__name__) from None
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_directory(directory)
    return target


def config_dir() -> Path:
    """The user's ``screening`` config directory: ``$XDG_CONFIG_HOME/screening``, else ``~/.config/screening``.

    One rule for the key file (``crypto``) and the settings file (``settings``), kept
    here because both need it and this module imports nothing heavy: ``score`` reads
    the settings without loading the cryptography library. A relative
    ``$XDG_CONFIG_HOME`` is ignored, as the XDG specification says.
    """
    config = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "screening"


def check_target(path: str | os.PathLike[str]) -> None:
    """Refuse a target that is neither a new name nor a regular file (or a link to one).

    Shared by every writer of reports and exports, so none of them renames a file
    over a device, a pipe, a socket or a directory.

    Raises:
        FileWriteError: ``path`` exists and is not a regular file.
    """
    target = Path(path)
    try:
        mode = target.lstat().st_mode
        if stat.S_ISLNK(mode):
            mode = target.stat().st_mode  # what it points at decides; the link itself is replaced
    except FileNotFoundError:
        return  # a new name, or a link to nothing
    except OSError as exc:
        raise FileWriteError(str(path), exc.strerror or type(exc).__name__) from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise FileWriteError(str(path), "is a directory")
    raise FileWriteError(str(path), "not a regular file (a device, pipe or socket); give a file name")


def make_private_dirs(directory: Path) -> None:
    """Create every missing level of ``directory`` with 0700.

    ``mkdir(parents=True)`` would give the parents the umask's mode, so each level
    is made and chmodded in turn. Shared by reports, the key file and incident files.

    Raises:
        OSError: a level cannot be created (callers turn it into their own error).
    """
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for level in reversed(missing):
        try:
            level.mkdir(mode=DIR_MODE)
            level.chmod(DIR_MODE)
        except FileExistsError:  # a concurrent creator; what follows decides
            continue


def _make_private_dirs(directory: Path, target: Path) -> None:
    try:
        make_private_dirs(directory)
    except OSError as exc:
        raise FileWriteError(str(target), exc.strerror or type(exc).__name__) from None


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - nothing more we can do; the name is random
        pass


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some filesystems refuse to open a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platform dependent
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - platform dependent
        pass
    finally:
        os.close(fd)
