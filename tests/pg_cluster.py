"""A throwaway PostgreSQL cluster for tests, benchmarks and CI: initdb in a temporary directory,
``pg_ctl start`` on a free port of 127.0.0.1 with its socket in that directory, stopped at exit.

Why a real server and not a mock: the PostgreSQL store's promises (a commit is durable when it
returns, advisory locks die with their session, a server that goes away is an error and not a
lost answer) are the server's behaviour, and only a server shows them.

PostgreSQL refuses to run as root, so as root the cluster runs as an unprivileged user
(``screening-pg``, created with ``useradd`` if missing, else ``nobody``) through ``runuser``.

Usage::

    python tests/pg_cluster.py          # start one, print its URL, stop on Ctrl-C
    with Cluster.start() as cluster: …  # cluster.url, cluster.stop(), cluster.restart()
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

PG_USER = "screening-pg"
DB_NAME = "screening"


class ClusterError(RuntimeError):
    """PostgreSQL could not be found or started (the message says why)."""


def find_bin() -> Path:
    """The directory of ``initdb``/``pg_ctl``: ``$PG_BIN``, the PATH, or the newest Debian install."""
    env = os.environ.get("PG_BIN")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # /usr/local/bin/initdb may be a link into the real bin directory
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if debian:
        return Path(debian[-1]).parent
    raise ClusterError("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin; "
                       "apt-get install postgresql, or set PG_BIN)")


def _run_as() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run the server as: as root an unprivileged user, else ourselves."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam(PG_USER)
    except KeyError:
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                              capture_output=True, check=False)
        try:
            pw = pwd.getpwnam(PG_USER)
        except KeyError:
            if made.returncode != 0:
                pw = pwd.getpwnam("nobody")
            else:
                raise
    return ["runuser", "-u", pw.pw_name, "--"], pw.pw_uid, pw.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running throwaway cluster; ``url`` is a ``postgresql://`` URL for its ``screening`` database."""

    def __init__(self, base: Path, port: int, prefix: list[str], bindir: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.port = port
        self.prefix = prefix
        self.bindir = bindir
        self.user = "screening"
        self.running = False

    @property
    def url(self) -> str:
        return self.url_for(DB_NAME)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    @classmethod
    def start(cls) -> Cluster:
        """initdb, start, create the ``screening`` role and database.

        Raises:
            ClusterError: not installed, or initdb/start failed (with the server's log).
        """
        bindir = find_bin()
        prefix, uid, gid = _run_as()
        base = Path(tempfile.mkdtemp(prefix="screening-pg-"))
        if uid is not None and gid is not None:
            os.chown(base, uid, gid)
        os.chmod(base, 0o700)
        cluster = cls(base, _free_port(), prefix, bindir)
        atexit.register(cluster.destroy)
        init = cluster._pg("initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                           "--locale=C", "--no-sync")
        if init.returncode != 0:
            cluster.destroy()
            raise ClusterError(f"initdb failed: {init.stderr.strip()[-2000:]}")
        cluster._start()
        cluster.psql("postgres", f"CREATE ROLE {cluster.user} LOGIN")
        cluster.psql("postgres", f"CREATE DATABASE {DB_NAME} OWNER {cluster.user}")
        return cluster

    def _pg(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, str(self.bindir / tool), *args], capture_output=True, text=True,
                              check=False, cwd=self.base)

    def _start(self) -> None:
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.base}"
                " -c fsync=on -c synchronous_commit=on -c max_connections=100 -c shared_buffers=32MB")
        log = self.base / "server.log"
        started = self._pg("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start")
        if started.returncode != 0:
            text = log.read_text(errors="replace")[-2000:] if log.exists() else started.stderr
            raise ClusterError(f"pg_ctl start failed: {text}")
        self.running = True

    def psql(self, dbname: str, sql: str) -> list[tuple[object, ...]]:
        """Run one SQL statement as the superuser ``postgres`` (setup, and the DBA of the tamper tests)."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}", autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]  # test SQL, never user input
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        """A fresh empty database owned by the test role; its URL."""
        self.psql("postgres", f"CREATE DATABASE {name} OWNER {self.user}")
        return self.url_for(name)

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def start_again(self) -> None:
        """Start the stopped server on the same port and data (a restart after an outage)."""
        self._start()

    def restart(self) -> None:
        self.stop()
        self._start()

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Cluster:  # noqa: PYI034 - a plain class, not meant to be subclassed
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.destroy()


def main() -> int:
    try:
        cluster = Cluster.start()
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(cluster.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
