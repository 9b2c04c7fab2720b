"""Shared pytest configuration. Helpers add their own options and fixtures in marked blocks."""

from __future__ import annotations

import pytest

# ---------------------------------------------------------------- PostgreSQL (issue 17)
# A throwaway cluster per session and the `backend` parameter (sqlite, postgresql) of the
# store contract suite: tests/pg_fixtures.py, tests/pg_cluster.py.
pytest_plugins = ["pg_fixtures"]
# ---------------------------------------------------------------- end PostgreSQL

# ---------------------------------------------------------------- reports (tests/test_report*.py)
# `pytest --update-goldens` rewrites tests/golden/ (and docs/report-*.png) from the
# current templates instead of comparing against them. Review the diff before committing.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden report files (tests/golden/) and docs/report-*.png instead of comparing",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites golden files instead of comparing against them."""
    return bool(request.config.getoption("--update-goldens"))


# --- privacy: no test may touch the real user directories or key -------------------------


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own config/state dirs, so none creates ~/.config/screening/key."""
    from screening.store.crypto import reset_default_keyring

    base = tmp_path_factory.mktemp("user")
    for name in ("SCREENING_KEY", "SCREENING_KEY_FILE", "SCREENING_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    reset_default_keyring()
    yield
    reset_default_keyring()


# --- reports: a fixed clock and time zone, so report text is the same on every machine ------


@pytest.fixture(autouse=True)
def _report_clock(monkeypatch):
    """Reports print their creation time in local time: pin both (SOURCE_DATE_EPOCH, TZ) for every test."""
    import time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765010460")  # 2025-12-06 08:41 UTC
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    monkeypatch.delenv("SCREENING_CONFIG", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# --- CI: the real parts must be there ------------------------------------------------------
# Browser, driver and accessibility tests skip on a developer's machine without them; in CI
# (`CI` set, as `.ci/run` runs) a missing part is a failure, never a quiet skip.


def pytest_sessionstart(session: pytest.Session) -> None:
    import os
    import shutil
    import tempfile
    from pathlib import Path

    if not os.environ.get("CI"):
        return
    axe = Path(os.environ.get("AXE_CORE_JS") or Path(tempfile.gettempdir()) / "screening-axe" / "node_modules"
               / "axe-core" / "axe.min.js")
    missing = [name for name, found in (
        ("chromium", shutil.which("chromium")),
        ("chromedriver", shutil.which("chromedriver")),
        ("pdftotext", shutil.which("pdftotext")),
        ("axe-core", axe.is_file()),
    ) if not found]
    if missing:
        pytest.exit(f"CI needs {', '.join(missing)} (.ci/run installs them); nothing was skipped quietly",
                    returncode=1)
