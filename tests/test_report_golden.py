"""Golden reports: every instrument × format × language × profile, compared byte for byte.

Run ``pytest tests/test_report_golden.py --update-goldens`` after a deliberate change
to templates, labels, instruments or referral rules, then review ``git diff tests/golden``.
Files live in ``tests/golden/<id>-<version>/<vector>-<profile>-<lang>.<fmt>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_support import (
    CASE,
    FIXTURE,
    GOLDEN,
    compiled,
    instrument_id,
    instrument_paths,
    representative,
    with_referrals,
)

from screening.report._render import FORMATS, LANGS, PROFILES, render_report


def _cases() -> list[tuple[Path, int, str, str, str]]:
    return [
        (path, scored.index, fmt, lang, profile)
        for path in instrument_paths()
        for scored in representative(path)
        for fmt in FORMATS
        for lang in LANGS
        for profile in PROFILES
    ]


def golden_path(path: Path, index: int, fmt: str, lang: str, profile: str) -> Path:
    return GOLDEN / instrument_id(path) / f"{index:02d}-{profile}-{lang}.{fmt}"


def _render(path: Path, index: int, fmt: str, lang: str, profile: str) -> str:
    ci = compiled(path)
    scored = next(s for s in representative(path) if s.index == index)
    result = with_referrals(scored.result, ci) if path == FIXTURE else scored.result
    return render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, case=CASE)


@pytest.mark.parametrize(
    ("path", "index", "fmt", "lang", "profile"),
    _cases(),
    ids=[f"{instrument_id(p)}-{i:02d}-{f}-{la}-{pr}" for p, i, f, la, pr in _cases()],
)
def test_report_matches_golden(path: Path, index: int, fmt: str, lang: str, profile: str, update_goldens: bool) -> None:
    rendered = _render(path, index, fmt, lang, profile)
    # Rendering twice gives the same bytes: nothing in a report depends on the clock or on order.
    assert _render(path, index, fmt, lang, profile) == rendered
    target = golden_path(path, index, fmt, lang, profile)
    if update_goldens:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered, encoding="utf-8")
        return
    assert target.is_file(), f"missing golden {target.relative_to(GOLDEN)}: run pytest --update-goldens"
    expected = target.read_text(encoding="utf-8")
    if rendered != expected:
        diff_at = next(i for i, (a, b) in enumerate(zip(rendered + "\0", expected + "\0", strict=False)) if a != b)
        line = rendered[:diff_at].count("\n") + 1
        pytest.fail(
            f"{target.relative_to(GOLDEN)} differs from line {line}; if the change is intended, "
            "run pytest --update-goldens and review the diff"
        )


def test_no_stale_golden_files(update_goldens: bool) -> None:
    """Every file under tests/golden/<instrument>/ belongs to a current case."""
    expected = {golden_path(*case) for case in _cases()}
    present = {p for p in GOLDEN.glob("*/*") if p.is_file() and p.parent.name not in ("inputs", "rescore")}
    stale = sorted(present - expected)
    if update_goldens:
        for path in stale:
            path.unlink()
        return
    assert not stale, f"stale golden files (run pytest --update-goldens): {[str(p.relative_to(GOLDEN)) for p in stale]}"


def test_every_instrument_has_goldens() -> None:
    """The parametrisation really covers every instrument the loader finds."""
    ids = {instrument_id(path) for path, *_ in _cases()}
    assert {instrument_id(p) for p in instrument_paths()} <= ids
    assert {"demo-1.0.0", "report-fixture-1.0.0"} <= ids
