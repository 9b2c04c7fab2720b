"""Open the case store's SQLite file safely: owner-only files, pinned pragmas, schema.

May import: errors, crypto, audit, _ddl, _damage, _keys, _lock, values /
stdlib (sqlite3, os).

Why this is its own module: every durability promise of the store rests on how
the file is opened, and those rules are easy to lose in a bigger class.

* The database is pre-created with ``os.open(..., 0o600)`` and connected under
  ``umask 0o077``: SQLite gives its ``-wal`` and ``-shm`` files the database's
  mode, so all three stay owner-only even when the user's umask is 022.
* A store is created only when asked (``create``; the CLI asks only when an
  interview starts): a mistyped path is an error, not a new empty store whose
  empty audit trail would "verify".
* An existing store is checked before SQLite touches it (``_check_files``): one
  regular file with one name, and it and its ``-wal``/``-shm``/``-journal``
  owner-only. A wider mode is refused with the ``chmod`` that fixes it, as the
  key file's is; a store made elsewhere (``cp`` under umask 022, the ``sqlite3``
  shell) is not used as it is, and its sidecars do not inherit the wide mode.
* The path is resolved and its directory must be on a local file system (see
  ``_lock``): one name per store is what its draft locks hang on.
* A damaged file gets a message that names what is damaged (``_damage``).
* WAL with ``synchronous=FULL`` makes every commit durable once it returns, so
  the interview can acknowledge an answer right after COMMIT.
* The pragmas are read back and a drift is an error: a silently ignored
  ``journal_mode`` (some file systems refuse WAL) would void the promise.
* ``isolation_level=None``: the legacy implicit transactions of ``sqlite3`` lost
  every acknowledged answer under kill -9 in our measurements; the store opens
  each transaction itself with ``BEGIN IMMEDIATE``.
* ``temp_store=MEMORY``: sorts and VACUUM never write store pages to ``$TMPDIR``.
* Schema 2 makes the database enforce what the code promises: triggers refuse a
  value that is not sealed under one of the store's active keys (whoever writes
  it), keep completed revisions and results frozen except inside a deletion or
  key rotation (a ``maintenance`` row present only within that transaction), and
  keep the audit trail append-only. Opening a schema-1 store seals its values in
  the upgrade transaction.
* Schema 3 keeps a compact outcome next to every stored result (``outcomes``), so
  re-scoring a large store never opens the full results, and stores the answers
  clustered by assessment.
* Schema 4 binds every sealed value to its revision (and a result or outcome to
  its key) as well as to its assessment and field: before it, revision 1's
  ciphertext copied over revision 2's opened, so a correction could be rolled
  back without the key. The upgrade seals every value again in one transaction,
  after the key was checked (``_keys.reseal_bound``), and the audit records
  of answers and judgements name the value they wrote (``audit``).
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import StoreError
from ._damage import damage_message, safe_reason
from ._ddl import SCHEMA_V1, SCHEMA_V2, SCHEMA_V4, SCHEMA_V5, sealed_trigger, statements, v3_statements
from ._lock import Identity, check_local, check_single_name, ensure_private_dir, private_umask, store_path
from .crypto import Keyring, default_keyring

__all__ = [
    "SCHEMA_VERSION", "connect", "default_store_path", "identity_of", "open_connection",
    "sealed_trigger",
]

SCHEMA_VERSION = 5
BUSY_TIMEOUT_MS = 5000

# Expected value of each pragma after it was set; read back at every connect.
PRAGMAS: tuple[tuple[str, str, object], ...] = (
    ("journal_mode", "WAL", "wal"),
    ("synchronous", "FULL", 2),
    ("foreign_keys", "ON", 1),
    ("trusted_schema", "OFF", 0),
    ("secure_delete", "ON", 1),  # overwritten draft answers do not linger in free pages
    ("temp_store", "MEMORY", 2),  # sorts and VACUUM never spill store pages into $TMPDIR
    ("busy_timeout", str(BUSY_TIMEOUT_MS), BUSY_TIMEOUT_MS),
)

def sqlite_connection(path: str, timeout: float) -> sqlite3.Connection:
    """A stdlib ``sqlite3`` connection in autocommit mode (the store opens every transaction itself)."""
    return sqlite3.connect(path, isolation_level=None, timeout=timeout)


# How ``open_connection`` makes the connection: ``(path, busy timeout in seconds)``.
# Production never changes it. It is a seam for tests only: tests/faultvfs.py puts a
# fault-injecting SQLite VFS under the real store code through it (the stdlib module
# links the system SQLite and cannot reach a VFS registered with APSW's own copy).
connection_factory: Callable[[str, float], sqlite3.Connection] = sqlite_connection


def default_store_path() -> Path:
    """``$SCREENING_STORE``, else ``$XDG_DATA_HOME/screening/screening.db``, else ``~/.local/share/…``."""
    env = os.environ.get("SCREENING_STORE")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "screening" / "screening.db"


def connect(path: Path, *, keyring: Keyring | None = None, create: bool = False) -> sqlite3.Connection:
    """Open the store at ``path`` (with ``create``, make it if missing) with the durable, private settings.

    The keyring (default: the process's, ``crypto.default_keyring``) is checked
    against the keys the store is sealed with; ``encode``/``decode`` without a
    keyring then use the same one.

    Raises:
        StoreError: there is no store at ``path`` (and ``create`` is false); the file
            cannot be created or opened, can be read by other users, has a second
            name, lies on a network file system, is not a screening store, was
            written by a newer version, a pragma did not take effect, or the key is
            missing or is not this store's.
    """
    return open_connection(path, keyring, create=create)[0]


def open_connection(
    path: Path, keyring: Keyring | None = None, *, create: bool = False
) -> tuple[sqlite3.Connection, Keyring]:
    """``connect``, also returning the keyring that was checked against the store.

    ``path`` is resolved first (``_lock.store_path``), so every name of the
    store opens the same file with the same ``-wal``, ``-shm`` and lock directory.
    """
    from ._keys import attach_keyring

    path = store_path(path)
    check_local(path.parent)
    before = _check_files(path, create=create)
    ensure_private_dir(path.parent)
    with private_umask():
        if before is None:
            _precreate(path)
        try:
            conn = connection_factory(str(path), BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path} ({safe_reason(exc)})") from None
        try:
            if before is not None and identity_of(path) != before:
                raise StoreError(f"the store {path} was replaced while it was being opened; try again")
            _apply_pragmas(conn, path)
            _migrate(conn, path, keyring, upto=2)
            ring = attach_keyring(conn, path, keyring)
            _migrate(conn, path, ring)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # the latter: SQLite's message is not text
            message = damage_message(conn, exc, path)
            conn.close()
            raise StoreError(message or f"cannot use the store {path} ({safe_reason(exc)})") from None
        except BaseException:
            conn.close()
            raise
    return conn, ring


def identity_of(path: Path) -> Identity | None:
    """``(st_dev, st_ino)`` of the file at ``path``, or ``None`` if there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


# The files SQLite keeps beside a database; each holds pages of it, so each is as private as the database.
SIDECARS = ("-wal", "-shm", "-journal")


def _check_files(path: Path, *, create: bool) -> Identity | None:
    """Check an existing store's files before SQLite opens them; ``None`` if there is no store yet.

    The database must be one regular file with one name, and it and every
    sidecar (``-wal``, ``-shm``, ``-journal``) owner-only: case references, dates
    and the audit trail are not encrypted, and SQLite gives new sidecars the
    database's mode. A mode that lets others read is refused with the command
    that fixes it, as the key file's is (``crypto``), never silently changed:
    whoever could read the files may already have, and someone should know.

    Raises:
        StoreError: no store and not ``create``; not a regular file; hard links;
            a sidecar without its database; group or other permission bits.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise StoreError(f"cannot open the store {path} ({exc.strerror})") from None
    sidecars = [path.with_name(path.name + suffix) for suffix in SIDECARS]
    if st is None:
        if not create:
            raise StoreError(f"there is no case store at {path}; nothing was created. Check the path (a new "
                             "store is created only by starting an interview)")
        left = [str(f) for f in sidecars if os.path.lexists(f)]
        if left:
            raise StoreError(f"{', '.join(left)} is left from a store that is no longer there; move it away "
                             "before a new store is created under this name")
        return None
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path} is not a case store (not a regular file)")
    check_single_name(path, st)
    loose: list[tuple[Path, int]] = []
    for file, fst in [(path, st), *((f, _lstat(f)) for f in sidecars)]:
        if fst is None:
            continue
        if not stat.S_ISREG(fst.st_mode):
            raise StoreError(f"{file} is not a regular file; SQLite keeps its journal there — move it away")
        if fst.st_mode & 0o077:
            loose.append((file, stat.S_IMODE(fst.st_mode)))
    if loose:
        names = ", ".join(f"{f.name} (mode {mode:04o})" for f, mode in loose)
        raise StoreError(
            f"the store {path} can be read or changed by other users: {names}. Its case references, dates and "
            "audit trail are not encrypted. Make it owner-only — chmod 600 "
            + " ".join(shlex.quote(str(f)) for f, _ in loose)
            + " — and consider who may have read it"
        )
    return st.st_dev, st.st_ino


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot check {path} ({exc.strerror})") from None


def _precreate(path: Path) -> None:
    """Create the database file 0600 so SQLite's -wal and -shm inherit owner-only modes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.close(os.open(path, flags, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot create the store {path} ({exc.strerror})") from None


def _apply_pragmas(conn: sqlite3.Connection, path: Path) -> None:
    for name, value, _ in PRAGMAS:
        conn.execute(f"PRAGMA {name} = {value}")
    for name, _, expected in PRAGMAS:
        row = conn.execute(f"PRAGMA {name}").fetchone()
        got = row[0] if row else None
        if isinstance(got, str):
            got = got.lower()
        if got != expected:
            raise StoreError(f"the store {path} refused PRAGMA {name} (wanted {expected!r}, got {got!r})")


def _migrate(conn: sqlite3.Connection, path: Path, keyring: Keyring | None, *, upto: int = SCHEMA_VERSION) -> None:
    """Create the schema on a new file, upgrade an older store up to ``upto``; refuse newer or foreign files.

    Each upgrade runs in one transaction with its data changes, so a store is never
    half upgraded: version 1 → 2 seals every plaintext value under the current key;
    2 → 3 adds the compact outcome of every stored result; 3 → 4 seals every value
    again bound to its revision and result key; 4 → 5 adds the server's accounts, tokens,
    sessions and case teams (no data to change). ``open_connection`` runs
    the upgrades that read sealed values only after the key was checked (``upto``).
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version >= upto:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store {path} has schema version {version}; this screening understands up to "
                f"{SCHEMA_VERSION} — upgrade screening"
            )
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have won
        target = version
        if version == 0:
            if conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise StoreError(f"{path} is an SQLite database but not a screening store")
            for statement in (*statements(SCHEMA_V1), *statements(SCHEMA_V2), *v3_statements(),
                              *statements(SCHEMA_V4), *statements(SCHEMA_V5)):
                conn.execute(statement)
            target = SCHEMA_VERSION
        if target == 1 and upto >= 2:
            _upgrade_v1(conn, keyring)
            target = 2
        if target == 2 and upto >= 3:
            assert keyring is not None, "the 2 → 3 upgrade reads sealed results: check the key first"
            _upgrade_v2(conn, keyring)
            target = 3
        if target == 3 and upto >= 4:
            assert keyring is not None, "the 3 → 4 upgrade opens every sealed value: check the key first"
            _upgrade_v3(conn, keyring)
            target = 4
        if target == 4 and upto >= 5:
            for statement in statements(SCHEMA_V5):
                conn.execute(statement)
            target = 5
        if target > version:
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (target,),
            )
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _upgrade_v1(conn: sqlite3.Connection, keyring: Keyring | None) -> None:
    """Version 1 → 2: keys, audit trail, new triggers, and every plaintext value sealed."""
    from . import audit
    from ._keys import seal_plaintext

    for statement in statements(SCHEMA_V2):
        conn.execute(statement)
    ring = keyring or default_keyring()
    sealed = seal_plaintext(conn, ring)
    audit.append(conn, ring, [audit.Event("migrate", detail=f"schema 2, {sealed} values sealed")],
                 actor=audit.default_actor())


def _upgrade_v2(conn: sqlite3.Connection, ring: Keyring) -> None:
    """Version 2 → 3: answers clustered by key; the compact outcome table, with a row for every stored result."""
    from . import audit
    from .values import OutcomeKeys, insert_outcome, open_legacy

    for statement in v3_statements():
        conn.execute(statement)
    if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'rescore_results'").fetchone():
        # The re-scorer's table of schema 2: the same sealed values (bound to the same
        # assessment and field), with their hashes moved into outcome_keys.
        conn.execute(
            "INSERT OR IGNORE INTO outcome_keys (instrument_sha256, rules_sha256, engine_version, instrument_version)"
            " SELECT instrument_sha256, rules_sha256, engine_version, min(instrument_version) FROM rescore_results"
            " GROUP BY instrument_sha256, rules_sha256, engine_version"
        )
        conn.execute(
            "INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
            " SELECT x.assessment_id, x.revision, k.id, x.outcome, x.result_sha256, x.created_at"
            " FROM rescore_results x JOIN outcome_keys k USING (instrument_sha256, rules_sha256, engine_version)"
        )
        conn.execute("DROP TABLE rescore_results")
    cur = conn.execute(
        "SELECT y.assessment_id, y.revision, y.instrument_sha256, y.rules_sha256, y.engine_version, y.result,"
        " y.result_sha256, y.created_at FROM results y WHERE NOT EXISTS (SELECT 1 FROM outcomes x"
        " JOIN outcome_keys k ON k.id = x.key WHERE x.assessment_id = y.assessment_id AND x.revision = y.revision"
        " AND k.instrument_sha256 = y.instrument_sha256 AND k.rules_sha256 = y.rules_sha256"
        " AND k.engine_version = y.engine_version)"
    )
    added = 0
    known: OutcomeKeys = {}
    while rows := cur.fetchmany(500):  # a large store's results do not fit in memory at once
        for aid, revision, isha, rsha, engine, blob, digest, created in rows:
            data = json.loads(open_legacy(aid, "result", blob, keyring=ring))  # sealed as schema 2 sealed it
            result = data if isinstance(data, dict) else {}
            instrument = result.get("instrument")
            version = instrument.get("version", "") if isinstance(instrument, dict) else ""
            insert_outcome(conn, (aid, revision, isha, rsha, engine), str(version), result, digest, created,
                           keyring=ring, known=known)
            added += 1
    audit.append(conn, ring, [audit.Event("migrate", detail=f"schema 3, {added} outcomes indexed")],
                 actor=audit.default_actor())


def _upgrade_v3(conn: sqlite3.Connection, ring: Keyring) -> None:
    """Version 3 → 4: every sealed value bound to its revision and result key (see ``_keys.reseal_bound``)."""
    from . import audit
    from ._keys import reseal_bound

    for statement in statements(SCHEMA_V4):
        conn.execute(statement)
    resealed = reseal_bound(conn, ring)
    audit.append(conn, ring, [audit.Event("migrate", detail=f"schema 4, {resealed} values bound to their revision")],
                 actor=audit.default_actor())
