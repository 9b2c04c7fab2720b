"""Keys and field encryption: the key file, AES-GCM values bound to their row, audit MAC keys.

May import: errors, files, _crypto / stdlib.

Why field encryption with AES-GCM (``cryptography``'s ``AESGCM``) and not a
whole-file cipher: the store must stay a plain SQLite file that every SQLite
tool, the backup API and the batch re-scorer can open, while answers,
judgements and results are unreadable without the key. Each value is sealed on
its own with a random 96-bit nonce and *associated data* naming everything that
identifies it: the assessment, the revision, the field (``answer:<item>``,
``judgement``, ``result``) and, for a derived row, its result key (``bind``), so
a ciphertext copied into another row, another assessment or another revision
fails to open instead of silently becoming that row's answer — in particular an
answer corrected in revision 2 cannot be rolled back by copying revision 1's
ciphertext over it.

Stored form (bytes): ``0x01 | key id (8) | nonce (12) | ciphertext+tag``. The
key id is derived from the key (HKDF), so it names the key without revealing it
and a value says which key opens it; that is what lets a key rotation proceed
row by row and survive a crash half way.

The key never lives in the database or the repository. It comes from
``$SCREENING_KEY`` (base64 of 32 bytes), else the file ``$SCREENING_KEY_FILE``,
else ``$XDG_CONFIG_HOME/screening/key`` (``~/.config/screening/key``), created
on first use 0600 in a 0700 directory. A key file readable by anyone else is
refused, as ssh does. Its lines::

    key <base64>              the current key: seals new values, MACs new audit records
    old <base64>              the previous key while a rotation runs: still opens values
    audit <key id> <base64>   a retired key's audit MAC key: verifies old audit records only
    store <store id> <path>   a store sealed with this key, where it was last opened

The ``store`` lines are why ``screening key rotate`` can refuse to cut off a
store that shares the key file: every store records itself the first time it is
opened with the file (``record_store``), and a rotation that does not name each
of them stops before changing anything unless forced. A rotation, and every
rewrite of the file, holds ``key_file_lock``: two rotations at once would
otherwise each write their own "new" key, and one of them would be lost.

Three keys are derived from each key with HKDF-SHA256 (separate ``info``
strings): the AES-256-GCM key, the audit HMAC key and the key id. A retired key
leaves only its audit key behind, from which neither of the others can be
computed, so retiring really removes the power to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreError
from ..files import config_dir, make_private_dirs
from ._crypto import FORMAT, HEADER, KEY_BYTES, KID_BYTES, NONCE_BYTES, Keyring, aad, bind, new_key

__all__ = [
    "FORMAT",
    "HEADER",
    "KEY_BYTES",
    "KID_BYTES",
    "NONCE_BYTES",
    "Keyring",
    "aad",
    "bind",
    "codec_keyring",
    "default_key_path",
    "default_keyring",
    "key_file_lock",
    "key_source",
    "load_key_file",
    "new_key",
    "record_store",
    "reset_default_keyring",
    "write_key_file",
]


# ---------------------------------------------------------------------- key files


def default_key_path() -> Path:
    """``$XDG_CONFIG_HOME/screening/key``, else ``~/.config/screening/key`` (see ``files.config_dir``)."""
    return config_dir() / "key"


def key_source() -> tuple[str, Path | None]:
    """Where the key comes from: ``("env", None)`` for ``$SCREENING_KEY``, else ``("file", path)``."""
    if os.environ.get("SCREENING_KEY"):
        return "env", None
    explicit = os.environ.get("SCREENING_KEY_FILE")
    return "file", Path(explicit).expanduser() if explicit else default_key_path()


def _b64key(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise StoreError(f"{where}: not a base64-encoded 32-byte key")
    return raw


def _check_private(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"the key file {path} is not a regular file")
    if st.st_uid != os.getuid():
        raise StoreError(f"the key file {path} belongs to another user; refusing to use it")
    if st.st_mode & 0o077:
        raise StoreError(
            f"the key file {path} can be read by others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"make it owner-only: chmod 600 {path}"
        )


def load_key_file(path: Path) -> Keyring:
    """Read and check a key file (owner-only, well-formed); never echoes its content.

    Raises:
        StoreError: missing, not owner-only, or malformed (the line is named, not shown).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StoreError(f"no key file at {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the key file {path} ({exc.strerror})") from None
    try:
        _check_private(path, os.fstat(fd))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(64 * 1024)
    finally:
        os.close(fd)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise StoreError(f"the key file {path} is not a screening key file") from None
    current: bytes | None = None
    old: list[bytes] = []
    retired: dict[bytes, bytes] = {}
    stores: dict[bytes, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"{path}:{n}"
        if words[0] == "store" and len(words) >= 3:
            try:
                store_id = bytes.fromhex(words[1])
            except ValueError:
                raise StoreError(f"{where}: not a store id") from None
            stores[store_id] = line.split(maxsplit=2)[2]
        elif words[0] == "key" and len(words) == 2 and current is None:
            current = _b64key(words[1], where)
        elif words[0] == "old" and len(words) == 2:
            old.append(_b64key(words[1], where))
        elif words[0] == "audit" and len(words) == 3:
            try:
                kid = bytes.fromhex(words[1])
            except ValueError:
                kid = b""
            if len(kid) != KID_BYTES:
                raise StoreError(f"{where}: not a key id")
            retired[kid] = _b64key(words[2], where)
        else:
            raise StoreError(f"{where}: expected 'key <base64>', 'old <base64>', 'audit <id> <base64>' "
                             "or 'store <id> <path>'")
    if current is None:
        raise StoreError(f"the key file {path} has no 'key' line")
    return Keyring(current, old, retired, source=f"the key file {path}", path=path, stores=stores)


def _private_dir(path: Path) -> None:
    try:
        make_private_dirs(path)
    except OSError as exc:
        raise StoreError(f"cannot create the key directory {path} ({exc.strerror})") from None


def _create_key_file(path: Path) -> None:
    """Create a new key file atomically: written in full under a temporary name, then linked.

    ``os.link`` fails if the name exists, so two processes starting at once
    cannot end up with different keys: the loser reads the winner's file.
    """
    _private_dir(path.parent)
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    keyring = Keyring(new_key(), source=f"the key file {path}", path=path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, keyring.file_text().encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot create the key file {path} ({exc.strerror})") from None
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # pragma: no cover - platform dependent
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_key_file(keyring: Keyring, path: Path) -> None:
    """Replace the key file atomically and durably (0600); used by rotation.

    Raises:
        StoreError: the file could not be written; the old one is unchanged.
    """
    from ..files import FileWriteError, write_private

    try:
        write_private(path, keyring.file_text().encode("ascii"))
    except FileWriteError as exc:
        raise StoreError(f"the key file {path} could not be written ({exc.reason}); it is unchanged") from None


@contextlib.contextmanager
def key_file_lock(path: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold the key file's lock (``.<name>.lock`` beside it, 0600); yields whether it was got.

    Every rewrite of a key file happens under it. ``wait=False`` never blocks: a
    rotation refuses to start while another runs, and a store that cannot record
    itself now does so at a later open.

    Raises:
        StoreError: the lock file cannot be created.
    """
    lock = path.with_name(f".{path.name}.lock")
    _private_dir(path.parent)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the key file's lock {lock} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def record_store(keyring: Keyring, store_id: bytes, where: Path) -> bool:
    """Add a store to the ``store`` lines of the key file it was opened with; ``True`` if written.

    Best effort and never blocking: skipped when the keyring has no file, the file
    is locked (a rotation runs) or its current key is no longer this keyring's (a
    rotation finished elsewhere); the store records itself at a later open then.
    """
    path = keyring.path
    if path is None or keyring.stores.get(store_id) == str(where):
        return False
    try:
        with key_file_lock(path) as held:
            if not held:
                return False
            on_disk = load_key_file(path)
            if on_disk.current_kid != keyring.current_kid:
                return False
            if on_disk.stores.get(store_id) != str(where):
                write_key_file(on_disk.with_stores({**on_disk.stores, store_id: str(where)}), path)
            keyring.stores.update(on_disk.stores)
            keyring.stores[store_id] = str(where)
            return True
    except StoreError:
        return False


# ---------------------------------------------------------------------- the default keyring

_lock = threading.Lock()
_cache: dict[tuple[str, str], Keyring] = {}
_active: list[Keyring] = []  # the last one resolved: the fast path of every encode/decode


def _env_key() -> Keyring:
    text = os.environ.get("SCREENING_KEY", "")
    return Keyring(_b64key(text, "SCREENING_KEY"), source="SCREENING_KEY")


def default_keyring(*, create: bool = True) -> Keyring:
    """The process's keyring from ``$SCREENING_KEY`` / ``$SCREENING_KEY_FILE`` / the config directory.

    Cached per source, and the environment is read on every call, so opening a
    store after ``$SCREENING_KEY_FILE`` or ``$HOME`` changed uses the right key.
    The codec's per-value path is ``codec_keyring()``. ``create`` makes a new key
    file when none exists (first use). After rewriting a key file, call
    ``reset_default_keyring()``.

    Raises:
        StoreError: the key is malformed, not owner-only, or (``create=False``) missing.
    """
    kind, path = key_source()
    if kind == "env":
        ident = ("env", hashlib.sha256(os.environ.get("SCREENING_KEY", "").encode()).hexdigest())
    else:
        ident = ("file", str(path))
    with _lock:
        hit = _cache.get(ident)
        if hit is not None:
            _active[:] = [hit]
            return hit
        if kind == "env":
            keyring = _env_key()
        else:
            assert path is not None
            if create and not path.exists():
                _create_key_file(path)
            keyring = load_key_file(path)
        _cache[ident] = keyring
        _active[:] = [keyring]
        return keyring


def codec_keyring() -> Keyring:
    """The keyring last resolved by ``default_keyring`` (which every store open does): free to call per value.

    ``encode``/``decode`` without a keyring use this. It does not re-read the
    environment; a process that changes it opens the store again (or calls
    ``default_keyring``) before coding values, and a stale key fails loudly: the
    store's triggers refuse its ciphertext and decryption names the key.
    """
    return _active[0] if _active else default_keyring()


def reset_default_keyring() -> None:
    """Forget cached keyrings (after a rotation, or when tests change the environment)."""
    with _lock:
        _cache.clear()
        _active.clear()
