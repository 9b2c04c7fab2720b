"""The report on paper: every rating of a wide group, local times, a print date, page numbers, the rule set.

Issue 13: the printed PATRIARK report dropped 9 of 20 ratings per perpetrator
(the one-row-per-perpetrator table ran off the A4 page, "P5 tidigare" was not
in the PDF), times were UTC, and the printed report had no date, no page
numbers and did not say which rule set made the recommendations. The print
tests run Debian's headless Chromium and read the PDF back with ``pdftotext``;
they are skipped only when either program is absent (.ci/run installs both).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import REPO

from screening import load_instrument
from screening.api import resolve_rules, score_file
from screening.engine.result import Result
from screening.engine.scoring import CompiledInstrument
from screening.report._render import CaseInfo, render_report

CHROMIUM = shutil.which("chromium")
PDFTOTEXT = shutil.which("pdftotext")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or PDFTOTEXT is None, reason="chromium or pdftotext (poppler-utils) is not installed"
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PRINTED = dt.datetime(2026, 12, 6, 8, 41, tzinfo=dt.UTC)
CASE = CaseInfo("ÄR-2026-0007", assessor="Handläggare B", assessed_at="2026-07-01T12:05:00+00:00")


def _patriark() -> tuple[CompiledInstrument, Result]:
    ci = load_instrument("patriark")
    result = score_file("patriark", REPO / "examples" / "patriark.yaml", judgement="high",
                        rationale="Fiktivt skäl.", rules="default")
    return ci, result


def _print(tmp_path: Path, html: str) -> tuple[str, int]:
    """Print ``html`` to A4 PDF with headless Chromium; the PDF's text and its number of pages."""
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    assert CHROMIUM is not None and PDFTOTEXT is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
         page.as_uri()],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text, text.count("\f")


@needs_browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_rating_of_every_perpetrator_and_victim_is_on_the_printed_page(tmp_path: Path, lang: str) -> None:
    ci, result = _patriark()
    html = render_report(result, instrument=ci, lang=lang, case=CASE, timezone="Europe/Stockholm",
                         printed_at=PRINTED)
    text, pages = _print(tmp_path, html)
    flat = " ".join(text.split())
    expected: dict[str, int] = {}
    for group in ("perpetrators", "victims"):
        item = ci.items[group]
        records = result.answers[group]
        assert isinstance(records, list) and records
        for field in item.fields or ():
            if field.type != "choice":
                continue
            tag = field.text.get(lang).split(":")[0]  # "P5 tidigare" / "P5 earlier"
            assert f"{tag}:" in flat, f"{tag} is not on the printed page"
            for record in records:
                value = record[field.id]
                option = next(o for o in ci.instrument.scales[field.scale or ""].options if o.value == value)
                word = option.label.get(lang).split(" ")[0]
                expected[word] = expected.get(word, 0) + 1
        for record in records:
            assert str(record["pseudonym"]) in flat
    for word, count in expected.items():
        found = len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", text))
        assert found >= count, f"{word!r}: {found} on the page, {count} ratings"
    # Page numbers and the print date on every page, in local time with the zone's name.
    word = "Sida" if lang == "sv" else "Page"
    of = "av" if lang == "sv" else "of"
    numbers = re.findall(rf"{word} (\d+) {of} (\d+)", text)
    assert [int(n) for n, _ in numbers] == list(range(1, pages + 1)), numbers
    assert {int(total) for _, total in numbers} == {pages}
    assert flat.count("2026-12-06 09:41 CET") >= pages  # the margin of every page, and the header
    assert "2026-07-01 14:05 CEST" in flat  # assessed in summer: Swedish summer time
    assert "Stockholm" in flat  # the rule set by its title


def test_times_are_local_with_the_zone_and_the_report_has_a_print_date() -> None:
    ci, result = _patriark()
    for fmt in ("html", "md", "txt"):
        text = render_report(result, instrument=ci, fmt=fmt, case=CASE, timezone="Europe/Stockholm",
                             printed_at=PRINTED)
        assert "2026-07-01 14:05 CEST" in text, fmt
        assert "2026-12-06 09:41 CET" in text, fmt
        assert "12:05" not in text, fmt  # never the stored UTC time


def test_a_bad_time_zone_is_a_clear_error() -> None:
    from screening.report._render import ReportError

    ci, result = _patriark()
    with pytest.raises(ReportError, match="unknown time zone"):
        render_report(result, instrument=ci, timezone="Europe/Atlantis")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_report_names_the_rule_set_with_title_and_version(lang: str) -> None:
    ci, result = _patriark()
    rules = resolve_rules("default", None)
    assert rules is not None and result.ruleset_title == rules.ruleset.title
    title = rules.ruleset.title.get(lang)
    for fmt in ("html", "md", "txt"):
        for profile in ("case-file", "referral"):
            text = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, printed_at=PRINTED)
            plain = text.replace("\\", "")  # Markdown escapes
            assert f"{title}, version {rules.ruleset.version}" in plain, (fmt, profile)


def test_a_result_without_rules_says_so() -> None:
    ci = load_instrument("patriark")
    result = score_file("patriark", REPO / "examples" / "patriark.yaml", judgement="high", rationale="Skäl.",
                        rules=None)
    text = render_report(result, instrument=ci, fmt="txt", printed_at=PRINTED)
    assert "Regeluppsättning för insatser: ingen" in text


def test_a_wide_group_prints_fields_as_rows_and_at_most_four_records_a_table() -> None:
    ci, result = _patriark()
    answers = dict(result.answers)
    perpetrators = answers["perpetrators"]
    assert isinstance(perpetrators, list)
    many = [{**perpetrators[0], "pseudonym": f"F{n}"} for n in range(1, 7)]
    result = result.model_copy(update={"answers": {**answers, "perpetrators": many}})
    html = render_report(result, instrument=ci, case=CASE, printed_at=PRINTED)
    block = html[html.index('data-item="perpetrators"'):html.index('data-item="victims"')]
    tables = block.split('data-field="group-block"')[1:]
    assert len(tables) == 2  # six perpetrators: four, then two
    assert all(f">F{n}<" in tables[0] for n in range(1, 5)) and all(f">F{n}<" in tables[1] for n in (5, 6))
    assert block.count(">P5 tidigare:") == 2


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_terminal_summary_names_the_rule_set(lang: str) -> None:
    from screening.report.present import result_text

    _, result = _patriark()
    rules = resolve_rules("default", None)
    assert rules is not None
    shown = result_text(result, lang)
    assert f"{rules.ruleset.title.get(lang)}, version {rules.ruleset.version}" in shown
