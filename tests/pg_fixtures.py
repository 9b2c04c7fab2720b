"""PostgreSQL for tests: one throwaway cluster per session (``tests/pg_cluster.py``), a fresh
database per test, and the ``backend`` parameter that runs the store contract suite on both.

Registered from ``tests/conftest.py``. Where PostgreSQL cannot be started, tests that need it
skip with the reason — except in CI (``CI=true``), where they fail: a CI run that silently
tested only SQLite would report a PostgreSQL store it never ran.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import Cluster, ClusterError

BACKENDS = ("sqlite", "postgresql")
_numbers = itertools.count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL is not available: {reason}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The session's running PostgreSQL cluster (skip locally / fail in CI if there is none)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    try:
        cluster = Cluster.start()
    except (ClusterError, OSError) as exc:
        _unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: Cluster) -> str:
    """The URL of the session cluster's ``screening`` database (shared: tests that need a clean one use ``pg_db``)."""
    return pg_cluster.url


@pytest.fixture
def pg_db(pg_cluster: Cluster) -> str:
    """The URL of a new empty database, for this test alone."""
    if not pg_cluster.running:  # a test that stopped the server and failed before it came back
        pg_cluster.restart()
    return pg_cluster.create_database(f"t{os.getpid()}_{next(_numbers)}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend`` is ``sqlite`` and ``postgresql``: a test using it (or ``store_at``) runs on each.

    ``@pytest.mark.sqlite_only`` keeps a test on SQLite alone: what it checks is the
    file's (modes, hard links, WAL, pragmas, the APSW fault VFS, SQLite's schema history).
    """
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ["sqlite"] if only else list(BACKENDS))


@pytest.fixture
def another_store_at(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A second new store's location on the same backend."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_cluster").create_database(f"t{os.getpid()}_{next(_numbers)}")
    return tmp_path / "other-cases.db"


@pytest.fixture
def store_at(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A new store's location on this test's backend: an SQLite path or a fresh database's URL."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_db")
    return tmp_path / "cases.db"
