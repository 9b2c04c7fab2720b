"""Every command the README shows runs, and its command table renders (issue 13, seen 13).

The README's examples had gone stale (an example's own "Try:" line failed) and the
last rows of its command table showed as raw text. This test reads the fenced
``sh`` and ``console`` blocks of README.md and runs every ``screening …`` line in
order, in an empty home directory (temporary ``HOME`` and XDG directories, so a
temporary key, settings file and case store), with ``screening`` on ``PATH`` as
this checkout. Each must exit 0, or the code its line states (``# exit 1``).
Only the two install commands at the top are skipped; an interview line is run
through a pipe, answering each question with the first key offered, ``?`` to a
typed one, Enter at the summary and no professional judgement.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest
from pexpect.popen_spawn import PopenSpawn

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
EXIT = re.compile(r"#\s*exit\s+(\d+)\b")


@dataclass(frozen=True)
class Shown:
    line: int  # in README.md, for the failure message
    command: str
    exit_code: int


def readme_commands(text: str) -> list[Shown]:
    """``screening …`` lines of the README's ``sh``/``console`` blocks, minus the install lines."""
    found: list[Shown] = []
    lang: str | None = None
    pending = ""
    for number, raw in enumerate(text.splitlines(), 1):
        fence = FENCE.match(raw)
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang not in ("sh", "console"):
            continue
        line = raw.strip()
        if lang == "console":
            if not line.startswith("$ "):
                continue  # output shown in the transcript
            line = line[2:]
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line.startswith("#") or "pip install" in line:
            continue  # the two install commands at the top: they build a virtualenv
        code = EXIT.search(line)
        command = line.split(" #", 1)[0].strip()
        if command.split()[0] == "screening":
            found.append(Shown(number, command, int(code.group(1)) if code else 0))
    return found


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An empty home with ``screening`` (this checkout) on PATH and the examples beside it."""
    root = tmp_path_factory.mktemp("readme")
    home, work, bin_dir = root / "home", root / "work", root / "bin"
    for d in (home, work, bin_dir):
        d.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    wrapper = bin_dir / "screening"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m screening "$@"\n', encoding="utf-8")
    wrapper.chmod(stat.S_IRWXU)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(REPO),
        LANG="C.UTF-8",
    )
    return work, env


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 10
    assert any(c.command.startswith("screening interview") for c in COMMANDS)


def _interview(command: str, cwd: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Run an interview line through a pipe, answering as the module docstring says."""
    child = PopenSpawn(["sh", "-c", command], cwd=str(cwd), env=env, encoding="utf-8", timeout=300)
    seen = []
    prompts = [
        r"\[j\] (?:ja|yes)  \[n\] (?:nej|no)\n> ",  # a professional judgement? no
        r"(?:Svar|Answer) \([^\n]*: ",  # a typed question: unknown
        r"(?:Enter för att gå vidare|Enter to continue)[^\n]*: ",  # the summary: continue
        r"\[(\w)\] [^\n]*\n> ",  # a choice: the first key offered
        pexpect.EOF,
    ]
    for _ in range(200):
        index = child.expect(prompts)
        seen.append(child.before)
        if index == 4:
            break
        child.send({0: "n\n", 1: "?\n", 2: "\n"}.get(index) or child.match.group(1) + "\n")
    child.wait()
    for stream in (child.proc.stdin, child.proc.stdout):
        if stream is not None:
            stream.close()
    return child.exitstatus, "".join(seen)


@pytest.mark.parametrize("shown", COMMANDS, ids=lambda s: f"README:{s.line} {s.command}")
def test_every_readme_command_runs(shown: Shown, place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    if shown.command.startswith("screening interview"):
        code, output = _interview(shown.command, cwd, env)
    else:
        proc = subprocess.run(
            ["sh", "-c", shown.command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        code, output = proc.returncode, proc.stdout + proc.stderr
    assert code == shown.exit_code, f"README.md:{shown.line}: {shown.command}\n{output[-3000:]}"
    assert "Traceback" not in output


def test_every_table_row_belongs_to_a_table_that_renders() -> None:
    """A blank line inside a table ends it; the rows after it showed as raw text."""
    lines = README.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        start = number
        while start > 0 and lines[start - 1].startswith("|"):
            start -= 1
        assert start + 1 < len(lines) and re.fullmatch(r"\|(?:\s*:?-+:?\s*\|)+", lines[start + 1]), (
            f"README.md:{number + 1} is a table row without a header and separator above it"
        )
