"""Start-up does only what the command needs (issue 13, seen 10), and stays as strict.

The speed itself is measured by ``bench/bench_interview.py`` (ratios against
``python -c pass``); these tests hold the two things the speed-up may not cost:
a rule set loaded for one instrument (``check="in use"``, what every command
uses) finds exactly the problems the full check finds for that instrument,
located the same, before any of its rules runs, and gives the same results; and
a command imports and parses no more than it needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from screening.api import resolve_rules, score_file
from screening.assessment import assess
from screening.content.loader import list_instruments, load_instrument, load_instrument_file
from screening.content.rules_loader import load_rules_file
from screening.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _home(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """A copy of the bundled content, with one text replacement in rules/stockholm.yaml."""
    home = tmp_path / "home"
    for part in ("instruments", "rules", "reports"):
        shutil.copytree(ROOT / part, home / part)
    if edit is not None:
        path = home / "rules" / "stockholm.yaml"
        text = path.read_text(encoding="utf-8")
        assert edit[0] in text
        path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    return home


def _issues(call: object) -> list[tuple[int, int, str, str]]:
    with pytest.raises(SpecError) as info:
        call()  # type: ignore[operator]
    return [(i.line, i.column, i.loc, i.message) for i in info.value.issues]


def test_a_mistake_in_one_instruments_table_is_found_before_its_rules_run(tmp_path: Path) -> None:
    after = "\n        urgency: within_days"
    typo = (f"refer: [relationsvaldsteam]{after}", f"refer: [relationsvaldstem]{after}")
    home = _home(tmp_path, typo)
    path = home / "rules" / "stockholm.yaml"
    full = _issues(lambda: load_rules_file(path, home))
    assert full and all(loc.startswith("tables.1.") for _, _, loc, _ in full)  # the kortfragor table
    in_use = load_rules_file(path, home, check="in use")  # the other instruments' tables are not its concern
    kort = load_instrument("freda-kortfragor", home)
    assert _issues(lambda: assess(kort, {}, rules=in_use)) == full  # same problems, same places
    danger = load_instrument("freda-farlighet", home)
    assert assess(danger, {}, rules=in_use).referrals is not None  # an instrument whose tables are sound


def test_a_mistake_shared_by_all_instruments_is_found_at_load(tmp_path: Path) -> None:
    home = _home(tmp_path, ("incomplete_support: [relationsvaldsteam]", "incomplete_support: [nosuchservice]"))
    path = home / "rules" / "stockholm.yaml"
    assert _issues(lambda: load_rules_file(path, home, check="in use")) == _issues(lambda: load_rules_file(path, home))


def test_a_mistake_in_the_table_of_the_instrument_in_use_stops_the_interview_before_it_starts(tmp_path: Path) -> None:
    home = _home(tmp_path, ("when: \"level >= 'identified'\"", "when: \"level >= 'identifed'\""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run(
        [sys.executable, "-m", "screening", "interview", "freda-kortfragor", "--home", str(home),
         "--store", str(tmp_path / "s.db"), "--case", "startup1"],
        check=False, input="", capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "stockholm.yaml:" in proc.stderr and "identifed" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("entry", list_instruments(), ids=lambda e: e.id)
def test_results_are_the_same_with_the_rule_set_checked_in_use(entry: object) -> None:
    """Every bundled instrument's example scores to the same JSON with either kind of check."""
    ident = entry.id  # type: ignore[attr-defined]
    answers = EXAMPLES / f"{ident}.yaml"
    if not answers.is_file():
        pytest.skip("no example answers")
    in_use = score_file(ident, answers, rules="default")
    full_rules = load_rules_file(ROOT / "rules" / "stockholm.yaml")
    from screening.api import load_answers

    full = assess(load_instrument_file(entry.path), load_answers(answers), rules=full_rules)  # type: ignore[attr-defined]
    strip = ("created_at", "id")
    a, b = json.loads(in_use.to_json()), json.loads(full.to_json())
    for key in strip:
        a.pop(key, None), b.pop(key, None)
    assert a == b


def test_in_use_rule_set_parses_only_the_instruments_it_is_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    from screening.content import rules_loader

    parsed: list[str] = []
    real = rules_loader.load_instrument_file

    def counting(path: str | os.PathLike[str]) -> object:
        parsed.append(Path(path).parent.name)
        return real(path)

    monkeypatch.setattr(rules_loader, "load_instrument_file", counting)
    rules = resolve_rules("default", None)
    assert parsed == []  # the shared parts are checked without reading any instrument
    assert rules is not None
    result = assess(load_instrument("freda-kortfragor"), {}, rules=rules)
    assert parsed == []  # a follow-up names another instrument by the title at the top of its file
    titles = {f.target: f.name for f in result.follow_up if f.kind == "assessment"}
    full = load_rules_file(ROOT / "rules" / "stockholm.yaml").instrument_titles
    assert titles and all(full[target] == name for target, name in titles.items())


def test_help_imports_neither_the_engine_nor_pydantic() -> None:
    code = "import sys; from screening.cli import run; run(['--help']); print(sorted(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    modules = proc.stdout.strip().splitlines()[-1]
    for heavy in ("'screening.engine._decide'", "'pydantic'", "'jinja2'", "'sqlite3'", "'yaml'"):
        assert heavy not in modules, heavy


def test_choosing_a_rule_set_in_the_settings_checks_it_for_every_instrument(tmp_path: Path) -> None:
    """``config set rules`` is done once for all instruments, so it keeps the full check."""
    home = _home(tmp_path, ("when: \"level >= 'identified'\"", "when: \"level >= 'identifed'\""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path), SCREENING_CONFIG=str(tmp_path / "settings.toml"))
    proc = subprocess.run(
        [sys.executable, "-m", "screening", "config", "set", "rules", str(home / "rules" / "stockholm.yaml"),
         "--home", str(home)],
        check=False, capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "identifed" in proc.stderr and not (tmp_path / "settings.toml").exists()
