"""`screening report` and the helper behind `screening score --report`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from test_report_support import DEMO, FIXTURE

from screening.cli import run
from screening.cli._report import load_result
from screening.cli._shared import write_report_file
from screening.report._render import ReportError

CANARY = "CANARY-FRITEXT-7f3a"


def _score(tmp_path: Path, instrument: Path, answers: dict[str, object], capsys: pytest.CaptureFixture[str]) -> Path:
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers), encoding="utf-8")
    assert run(["score", str(instrument), str(answers_file), "--rules", "none"]) == 0
    result_file = tmp_path / "result.json"
    result_file.write_text(capsys.readouterr().out, encoding="utf-8")
    return result_file


@pytest.fixture
def demo_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return _score(tmp_path, DEMO, {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}, capsys)


def test_report_to_file_is_owner_only(demo_result: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(demo_result), "--instrument", str(DEMO), "--case", "ÄR-1", "--assessor", "A", "-o", str(out)]
    assert run(args) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html = out.read_text(encoding="utf-8")
    assert 'data-field="final-level" data-value="medium"' in html and "ÄR-1" in html
    assert capsys.readouterr().out == ""  # the report went to the file only


def test_report_to_stdout_in_english_text(demo_result: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["report", str(demo_result), "--instrument", str(DEMO), "--format", "txt", "--lang", "en"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Final level: Medium\n" in out and "Case reference (pseudonym): not given" in out


def test_referral_profile_through_the_cli_has_no_free_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"address": "Gatan 1", "threats": "yes", "physical": "no", "weapon": "no", "view": "low", "notes": CANARY}
    result_file = _score(tmp_path, FIXTURE, answers, capsys)
    for fmt in ("html", "md", "txt"):
        assert run(["report", str(result_file), "--instrument", str(FIXTURE), "--format", fmt,
                    "--profile", "referral", "--case", "R1"]) == 0
        out = capsys.readouterr().out
        assert CANARY not in out and "Gatan 1" not in out
        assert run(["report", str(result_file), "--instrument", str(FIXTURE), "--format", fmt, "--case", "R1"]) == 0
        assert CANARY in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not a saved result"),
        (b'{"schema_version": 1}', "not a saved result"),
        (b"[]", "not a saved result"),
        ("\N{SNOWMAN}".encode(), "not a saved result"),
    ],
)
def test_a_bad_result_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    bad = tmp_path / "result.json"
    bad.write_bytes(content)
    assert run(["report", str(bad)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and str(bad) in err


def test_a_missing_result_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(tmp_path / "missing.json")]) == 1
    assert "cannot read file" in capsys.readouterr().err


def test_a_personal_identity_number_as_case_is_refused(demo_result: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(demo_result), "--instrument", str(DEMO), "--case", "19850101-1236"]) == 1
    err = capsys.readouterr().err
    assert "personal identity number" in err and "19850101" not in err


def test_case_details_without_a_case_are_a_usage_error(demo_result: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(demo_result), "--instrument", str(DEMO), "--protected"]) == 2
    assert "--case" in capsys.readouterr().err


def test_report_for_a_bundled_instrument_finds_it_by_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from screening import list_instruments, load_instrument_file

    bundled = list_instruments()
    if not bundled:
        pytest.skip("no bundled instruments yet")
    ci = load_instrument_file(bundled[0].path)
    result_file = _score(tmp_path, bundled[0].path, dict(ci.instrument.tests[0].answers), capsys)
    assert run(["report", str(result_file), "--format", "md", "--case", "R1"]) == 0
    assert ci.instrument.title.sv in capsys.readouterr().out


def test_write_report_file_picks_the_format_from_the_suffix(demo_result: Path, tmp_path: Path) -> None:
    result = load_result(demo_result)
    md = write_report_file(result, tmp_path / "r.md", instrument=str(DEMO), lang="en", case="R1")
    assert md.read_text(encoding="utf-8").startswith("> **Confidential:**")
    assert stat.S_IMODE(md.stat().st_mode) == 0o600
    assert "<!DOCTYPE html>" in write_report_file(result, tmp_path / "r.HTML", instrument=str(DEMO)).read_text(
        encoding="utf-8"
    )
    with pytest.raises(ReportError, match=r"\.html, \.md or \.txt"):
        write_report_file(result, tmp_path / "r.pdf", instrument=str(DEMO))
    assert not (tmp_path / "r.pdf").exists()
