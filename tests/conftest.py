"""Shared pytest configuration. Helpers add their own options and fixtures in marked blocks."""

from __future__ import annotations

import pytest

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
