"""``--help`` in the caseworker's language (issue 13, seen 11: all help text was English only).

The language comes from ``--lang``, the settings file, ``$SCREENING_LANG`` or the
locale; every help text of every command exists in Swedish and English.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from screening.cli import _help, app

ROOT = Path(__file__).resolve().parent.parent

SWEDISH = ("Användning:", "Flaggor:", "Visa den här hjälpen och avsluta.")
ENGLISH = ("Usage:", "Options:", "Show this message and exit.")


def _help_text(args: list[str], tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "LC_", "LANG"))}
    clean.update(PYTHONPATH=str(ROOT), SCREENING_CONFIG=str(tmp_path / "settings.toml"), **env)
    proc = subprocess.run(
        [sys.executable, "-m", "screening", *args], check=False, capture_output=True, text=True, env=clean, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())  # unwrapped, so sentences can be matched whole


@pytest.mark.parametrize("args", [["--help"], ["interview", "--help"]], ids=" ".join)
def test_help_is_swedish_under_a_swedish_locale(args: list[str], tmp_path: Path) -> None:
    out = _help_text(args, tmp_path, LANG="sv_SE.UTF-8")
    assert all(word in out for word in SWEDISH), out
    assert not any(word in out for word in ENGLISH), out
    if args[0] == "interview":
        assert "Fortsätt ett utkast vid dess första obesvarade fråga." in out
        assert "Gå igenom ett instrument med en person" in out


@pytest.mark.parametrize("args", [["--help"], ["interview", "--help"]], ids=" ".join)
def test_help_is_english_under_an_english_locale(args: list[str], tmp_path: Path) -> None:
    out = _help_text(args, tmp_path, LANG="en_US.UTF-8")
    assert all(word in out for word in ENGLISH), out
    assert not any(word in out for word in SWEDISH), out
    assert " / " not in out  # no half-and-half texts
    if args[0] == "interview":
        assert "Continue a draft at its first unanswered question." in out


def test_lang_on_the_command_line_wins_over_the_locale(tmp_path: Path) -> None:
    out = _help_text(["interview", "--lang", "en", "--help"], tmp_path, LANG="sv_SE.UTF-8")
    assert "Continue a draft" in out and "Användning:" not in out


def test_settings_file_wins_over_the_environment_and_the_locale(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text('lang = "en"\n', encoding="utf-8")
    out = _help_text(["--help"], tmp_path, LANG="sv_SE.UTF-8", SCREENING_LANG="sv")
    assert "Usage:" in out and "Användning:" not in out


def test_screening_lang_wins_over_the_locale(tmp_path: Path) -> None:
    out = _help_text(["--help"], tmp_path, LANG="en_US.UTF-8", SCREENING_LANG="sv")
    assert "Användning:" in out


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "sv_SE.UTF-8"}, "sv"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # no German: English is the other language
        ({"LC_ALL": "sv_FI.UTF-8", "LANG": "en_US.UTF-8"}, "sv"),  # LC_ALL first, as the C library
        ({"LANG": "C.UTF-8"}, "sv"),  # no language chosen: the default of every command
        ({}, "sv"),
    ],
)
def test_locale_decides_when_nothing_else_does(
    environ: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCREENING_CONFIG", str(tmp_path / "none.toml"))
    assert _help.help_language([], environ) == expected


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_help_text_of_every_command_is_in_the_table(lang: str) -> None:
    """A new option or command fails here until its help exists in both languages."""
    command = typer.main.get_command(app)
    assert _help.localize(command, lang) == []


def test_the_table_has_a_swedish_and_an_english_text_for_every_entry() -> None:
    for source, (sv, en) in _help.TEXTS.items():
        assert sv.strip() and (en is None or en.strip()), source
        english = en if en is not None else source
        assert " / " not in sv and " / " not in english, source  # each language on its own


def test_completion_is_offered(tmp_path: Path) -> None:
    out = _help_text(["--help"], tmp_path, LANG="en_US.UTF-8")
    assert "--install-completion" in out and "--show-completion" in out
    script = _help_text(["--show-completion", "bash"], tmp_path, LANG="en_US.UTF-8", SHELL="/bin/bash")
    assert "_SCREENING_COMPLETE" in script
