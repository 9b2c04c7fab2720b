"""The settings file (issue 13, seen 9): the municipality's rule set, language, store and report defaults.

Before: Stockholm's rules were used unless ``--rules goteborg`` was typed every
time, and nothing said which rule set had made the recommendations. The CLI
runs in-process through ``screening.cli.run``; conftest points
``$XDG_CONFIG_HOME`` at a fresh directory for every test.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from helpers import REPO
from test_cases_cli import REF, cli, completed_case

from screening.settings import SettingsError, effective, load_settings, set_setting, settings_path

PATRIARK = str(REPO / "examples" / "patriark.yaml")
SCORE = ("score", "patriark", PATRIARK, "--judgement", "high", "--rationale", "x", "--format", "text")


def test_the_settings_file_sits_next_to_the_key_file_unless_screening_config_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screening.store.crypto import default_key_path

    assert settings_path() == default_key_path().parent / "settings.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # ignored by both, as XDG says
    expected = Path.home() / ".config" / "screening" / "settings.toml"
    assert settings_path() == default_key_path().parent / "settings.toml" == expected
    monkeypatch.setenv("SCREENING_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert settings_path() == tmp_path / "elsewhere.toml"


def test_config_set_writes_owner_only_and_the_municipality_rules_apply_without_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, *SCORE)
    assert code == 0 and "Stockholm – rekommenderade insatser efter bedömning, version" in out
    code, out, err = cli(capsys, "config", "set", "rules", "goteborg")
    assert code == 0, err
    path = settings_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings() == {"rules": "goteborg"}
    code, out, _ = cli(capsys, *SCORE)
    assert code == 0 and "Göteborg – rekommenderade insatser efter bedömning, version" in out
    code, out, _ = cli(capsys, *SCORE, "--rules", "stockholm")  # the command line wins over the settings
    assert code == 0 and "Stockholm – rekommenderade" in out and "Göteborg" not in out


def test_config_shows_every_value_and_where_it_comes_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert cli(capsys, "config", "set", "report.format", "md")[0] == 0
    monkeypatch.setenv("SCREENING_STORE", str(tmp_path / "env.db"))
    code, out, _ = cli(capsys, "config")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "md" in lines["report.format"] and "(inställningsfilen)" in lines["report.format"]
    assert "(inbyggt standardvärde)" in lines["rules"]
    assert "env.db" in lines["store"] and "$SCREENING_STORE" in lines["store"]
    code, out, _ = cli(capsys, "config", "--lang", "en")
    assert "(the settings file)" in out and "Settings file: " in out
    assert effective({"report.format": "txt"})["report.format"].source == "command line"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("colour", "blue", "unknown setting 'colour'"),  # an unknown key
        ("lang", "de", "lang: expected one of: sv, en"),
        ("report.format", "pdf", "report.format: expected one of: html, md, txt"),
        ("report.profile", "police", "expected one of: case-file, referral"),
        ("timezone", "Mars/Olympus", "expected a time zone"),
        ("rules", "malmo", "rules: 'malmo' is not a rule set that loads"),
    ],
)
def test_an_unknown_key_or_value_is_a_clear_error_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], key: str, value: str, message: str
) -> None:
    code, _, err = cli(capsys, "config", "set", key, value)
    assert code == 1 and message in err and "Traceback" not in err
    assert not settings_path().exists()


def test_a_broken_settings_file_names_the_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('lang = "sv"\nrules = goteborg\n', encoding="utf-8")
    code, _, err = cli(capsys, *SCORE)
    assert code == 1 and str(path) in err and "line 2" in err
    path.write_text('lang = "sv"\ncolour = "blue"\n', encoding="utf-8")
    code, _, err = cli(capsys, "config")
    assert code == 1 and "unknown setting 'colour'" in err


def test_the_interview_takes_the_rule_set_from_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('rules = "no-such-rules"\n', encoding="utf-8")  # as if edited by hand
    code, _, err = cli(capsys, "interview", "freda-kortfragor", "--store", str(tmp_path / "s.db"))
    assert code == 1 and "no-such-rules" in err  # read, and refused before any question


def test_language_store_and_report_defaults_come_from_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cases.db"
    completed_case(db)
    for key, value in (("lang", "en"), ("store", str(db)), ("report.format", "md"),
                       ("report.profile", "referral"), ("timezone", "America/New_York")):
        set_setting(key, value)
    code, out, err = cli(capsys, "cases")  # the store from the settings, English, New York time
    assert code == 0, err
    assert "Reference" in out and REF in out and re.search(r"\d\d:\d\d E[SD]T", out)
    code, out, err = cli(capsys, "cases", "show", REF)
    assert code == 0, err
    assert "Completed: 2026-07-01 08:05 EDT" in out and "Final level: High risk" in out
    code, out, err = cli(capsys, "report", "--case", REF)
    assert code == 0, err
    assert out.startswith("> **Confidential:**")  # Markdown, English
    assert "Summary for a referral partner" in out  # the referral profile
    assert "2026-07-01 08:05 EDT" in out  # the settings' time zone
    code, out, err = cli(capsys, "report", "--case", REF, "--format", "txt", "--lang", "sv",
                         "--profile", "case-file")
    assert code == 0, err
    assert out.startswith("SEKRETESS")
    assert "Fullständig rapport för akten" in out


def test_set_setting_keeps_other_values_and_quotes_safely(tmp_path: Path) -> None:
    target = tmp_path / "s.toml"
    set_setting("store", str(tmp_path / 'a "quoted"\\path.db'), target)
    set_setting("lang", "en", target)
    assert load_settings(target) == {"store": str(tmp_path / 'a "quoted"\\path.db'), "lang": "en"}
    with pytest.raises(SettingsError, match="unknown setting"):
        set_setting("nope", "x", target)
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"


def test_a_relative_store_path_is_kept_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    set_setting("store", "cases.db")
    assert load_settings()["store"] == str(tmp_path / "cases.db")


def test_show_speaks_the_settings_language(capsys: pytest.CaptureFixture[str]) -> None:
    set_setting("lang", "en")
    code, out, _ = cli(capsys, "show", "freda-kortfragor")
    assert code == 0 and "Section" in out and "Avsnitt" not in out
    code, out, _ = cli(capsys, "show", "freda-kortfragor", "--lang", "sv")
    assert code == 0 and "Avsnitt" in out


def test_score_reads_the_settings_without_loading_the_cryptography_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom screening.cli import run\n"
        f"run(['score', 'patriark', {PATRIARK!r}, '--judgement', 'high', '--rationale', 'x'])\n"
        "assert 'cryptography' not in sys.modules and 'screening.settings' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-800:]
