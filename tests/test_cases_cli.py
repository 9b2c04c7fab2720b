"""A completed assessment from the command line: ``cases show REF`` and ``report --case REF`` (issue 13, seen 2).

Before: ``interview --resume`` refused a completed case and nothing exported it,
so its report could be made only through the library. The store here is filled
through the library, as a finished interview leaves it (answers, case facts,
judgement, completed revision with its result); the CLI runs in-process through
``screening.cli.run``. Also ``interview --texts`` (issue 13, seen 13), driven in
a real pseudo-terminal.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from helpers import REPO
from terminal.driver import QUESTION, child_env, finish, spawn_cli

from screening import JudgementInput, assess, load_instrument_file
from screening.api import load_answers, resolve_rules
from screening.cli import run
from screening.content.loader import find_instrument
from screening.store._store import Store

PNR = "19121212-1212"
REF = "ÄR-2026-0042"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def completed_case(
    db: Path, ref: str = REF, *, extra: dict[str, object] | None = None, rationale: str = "Fiktiv motivering."
) -> str:
    """A PATRIARK assessment as a finished interview stores it; returns its id."""
    path = find_instrument("patriark")
    ci = load_instrument_file(path)
    answers = {**load_answers(REPO / "examples" / "patriark.yaml"), **(extra or {})}
    rules = resolve_rules("default", None)
    facts = {"children_in_household": True, "age": 17}
    judgement = JudgementInput(level="high", rationale=rationale)
    with Store.open(db, actor="handlaggare-a", create=True) as st:
        info = st.create_assessment(ci, case_ref=ref, assessor="Handläggare A", lang="sv", instrument_path=path)
        for key, value in answers.items():
            st.record_answer(info.id, key, value)
        for name, value in facts.items():
            st.record_fact(info.id, name, value)
        st.set_judgement(info.id, judgement)
        result = assess(ci, answers, judgement=judgement, assessor="Handläggare A",
                        assessed_at="2026-07-01T12:05:00+00:00", rules=rules, facts=facts)
        st.complete(info.id, result=result, completed_at="2026-07-01T12:05:00+00:00")
        return info.id


def audit_actions(db: Path) -> list[tuple[str, str]]:
    with Store.open(db) as st:
        rows = st.connection.execute("SELECT action, detail FROM audit ORDER BY seq").fetchall()
    return [(str(a), str(d)) for a, d in rows]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_cases_show_prints_answers_facts_result_and_history_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    db = tmp_path / "s.db"
    completed_case(db, extra={"other_considerations": f"Ring {PNR} om det behövs."},
                   rationale=f"Samtal med mamma ({PNR[2:]}).")
    code, out, err = cli(capsys, "cases", "show", REF, "--store", str(db), "--lang", lang)
    assert code == 0, err
    sv = lang == "sv"
    assert REF in out
    assert ("Förövare och deras riskfaktorer" if sv else "Perpetrators and their risk factors") in out
    assert re.search(r"P5 tidigare: [^\n]*: Nej\n" if sv else r"P5 earlier: [^\n]*: No\n", out)  # words, not "no"
    assert ("Barn i hushållet: ja" if sv else "Children in the household: yes") in out  # a case fact in words
    assert ("Slutlig nivå: Hög risk" if sv else "Final level: High risk") in out
    assert ("Rekommenderade insatser" if sv else "Recommended referrals") in out
    assert ("== Historik ==" if sv else "== History ==") in out
    assert "2026-07-01 14:05 CEST" in out  # local time, not the stored UTC
    assert PNR not in out and "19121212" not in out
    assert ("Ring [personnummer dolt] om" if sv else "Ring [personal identity number hidden] om") in out
    assert ("view", "cases show, revision 1") in audit_actions(db)


@pytest.mark.parametrize("suffix", [".html", ".md", ".txt"])
@pytest.mark.parametrize("profile", ["case-file", "referral"])
def test_report_case_writes_every_format_and_profile_owner_only_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, profile: str
) -> None:
    db = tmp_path / "s.db"
    completed_case(db)
    out_file = tmp_path / f"rapport{suffix}"
    code, _, err = cli(capsys, "report", "--case", REF, "--store", str(db), "--profile", profile, "-o", str(out_file))
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert text.lstrip().startswith("<!DOCTYPE html>") == (suffix == ".html")  # the format from -o's extension
    assert "Hög risk" in text and REF.replace("-", "") in text.replace("\\", "").replace("-", "")
    assert "Stockholm" in text  # the rule set that made the referrals
    assert ("Fiktiv motivering." in text) == (profile == "case-file")  # free text only in the case file
    assert ("report", f"{profile} {suffix[1:]}, revision 1") in audit_actions(db)


def test_report_case_refuses_a_draft_and_names_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    ci = load_instrument_file(find_instrument("patriark"))
    with Store.open(db, create=True) as st:
        st.create_assessment(ci, case_ref="UTKAST-1")
    code, _, err = cli(capsys, "report", "--case", "UTKAST-1", "--store", str(db), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "interview --resume UTKAST-1" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()
    code, _, err = cli(capsys, "report", "--case", "OKÄND", "--store", str(db))
    assert code == 1 and "no assessment" in err


def test_report_case_reports_the_completed_revision_while_a_correction_is_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    aid = completed_case(db)
    with Store.open(db) as st:
        assert st.correct(aid) == 2
    code, out, err = cli(capsys, "report", "--case", REF, "--store", str(db), "--format", "txt")
    assert code == 0, err
    assert "Hög risk" in out
    code, _, err = cli(capsys, "report", "--case", REF, "--store", str(db), "--revision", "2")
    assert code == 1 and "revision 2 is a draft" in err
    code, _, err = cli(capsys, "report", "--case", REF, "--store", str(db), "--revision", "5")
    assert code == 1 and "no revision 5" in err
    code, out, err = cli(capsys, "cases", "show", REF, "--store", str(db), "--revision", "1")
    assert code == 0, err
    history = out[out.index("== Historik =="):]
    assert "  1. slutförd" in history and "  2. utkast" in history


def test_a_case_with_several_instruments_asks_which(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    completed_case(db)
    other = load_instrument_file(find_instrument("freda-kortfragor"))
    with Store.open(db) as st:
        st.create_assessment(other, case_ref=REF)
    code, _, err = cli(capsys, "cases", "show", REF, "--store", str(db))
    assert code == 1 and "--instrument" in err
    code, out, err = cli(capsys, "cases", "show", REF, "--store", str(db), "--instrument", "patriark")
    assert code == 0, err
    assert "Hög risk" in out


def test_a_personnummer_as_case_reference_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    completed_case(db)
    code, out, err = cli(capsys, "cases", "show", PNR, "--store", str(db))
    assert code == 1 and PNR not in out and PNR not in err and "personal identity number" in err


def test_report_from_a_result_file_takes_the_format_from_the_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "result.json"
    code, out, err = cli(capsys, "score", "patriark", str(REPO / "examples" / "patriark.yaml"),
                         "--judgement", "high", "--rationale", "x")
    assert code == 0, err
    saved.write_text(out, encoding="utf-8")
    target = tmp_path / "r.md"
    code, _, err = cli(capsys, "report", str(saved), "-o", str(target))
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("> **Sekretess")


@pytest.mark.slow
def test_interview_shows_licensed_wording_with_texts(tmp_path: Path) -> None:
    ci = load_instrument_file(find_instrument("freda-kortfragor"))
    first = ci.order[0]
    overlay = tmp_path / "texts.yaml"
    overlay.write_text(
        f"instrument: freda-kortfragor\nversion: {ci.instrument.version}\nlicence: Licens 2026-123\n"
        f"items:\n  {first}:\n    text: {{sv: OFFICIELL LYDELSE ETT, en: OFFICIAL WORDING ONE}}\n",
        encoding="utf-8",
    )
    child = spawn_cli(["interview", "freda-kortfragor", "--texts", str(overlay), "--rules", "none",
                       "--store", str(tmp_path / "s.db"), "--case", "T-1"], env=child_env())
    child.expect(QUESTION)
    child.expect_exact("OFFICIELL LYDELSE ETT")
    child.send(".")
    _, status = finish(child)
    assert status == 0


def test_interview_refuses_texts_for_another_instrument_before_storing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "texts.yaml"
    overlay.write_text("instrument: patriark\nversion: 1.0.0\nlicence: L\nitems: {}\n", encoding="utf-8")
    db = tmp_path / "s.db"
    code, _, err = cli(capsys, "interview", "freda-kortfragor", "--texts", str(overlay), "--rules", "none",
                       "--store", str(db))
    assert code == 1 and "Traceback" not in err
    with Store.open(db, create=True) as st:
        assert list(st.list_assessments()) == []


def test_the_case_list_shows_local_time_with_the_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    completed_case(db)
    code, out, err = cli(capsys, "cases", "--store", str(db))
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith(REF))
    assert row.count(" CET") + row.count(" CEST") == 2 and "UTC" not in row  # conftest: TZ=Europe/Stockholm


def test_report_refuses_an_extension_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    completed_case(db)
    code, _, err = cli(capsys, "report", "--case", REF, "--store", str(db), "-o", str(tmp_path / "r.pdf"))
    assert code == 2 and ".pdf" in err and not (tmp_path / "r.pdf").exists()
