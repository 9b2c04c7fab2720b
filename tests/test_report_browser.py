"""The HTML report in a real browser: headless Chromium prints it to PDF and PNG.

Checks that it renders at all (pages ≥ 1), that the level and the secrecy header
survive printing (pdftotext), and that nothing is fetched from outside. The
README's pictures (docs/report-{sv,en}.png) show a bundled instrument scored from
its fictional example answers, not a test instrument (issue 13, seen 13); with
``--update-goldens`` they are rendered again.
Skipped only when the ``chromium`` binary is absent (.ci/run installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_support import CASE, FIXTURE, REPO, compiled, level_label, scored_vectors, with_referrals

from screening.report._render import render_report

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="the chromium binary is not installed")

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium(tmp_path: Path, *args: str) -> None:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _pages(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_html_report_prints_to_pdf_and_png(tmp_path: Path, lang: str, update_goldens: bool) -> None:
    ci = compiled(FIXTURE)
    scored = scored_vectors(FIXTURE)[1]  # critical rule, unknown answer, group rows, free text
    result = with_referrals(scored.result, ci)
    html_file = tmp_path / f"report-{lang}.html"
    html = render_report(result, instrument=ci, lang=lang, case=CASE)
    # Self-contained: nothing to fetch (and the page's CSP would refuse it anyway).
    assert not re.search(r"\b(src|href|srcset)\s*=|https?://|<link\b|@import|url\(", html)
    html_file.write_text(html, encoding="utf-8")

    pdf = tmp_path / "report.pdf"
    _chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html_file.as_uri())
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _pages(pdf) >= 1

    if shutil.which("pdftotext"):
        command = ["pdftotext", "-layout", str(pdf), "-"]
        text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        flat = " ".join(text.split())
        level = level_label(ci, result.final_level, lang)
        assert re.search(rf"(Slutlig nivå|Final level): {re.escape(level)}\b", flat), flat[:500]
        assert ("SEKRETESS" if lang == "sv" else "CONFIDENTIAL") in flat
        assert result.referrals[0].name.get(lang) in flat

    png = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={png}", "--window-size=1240,1754", "--hide-scrollbars", html_file.as_uri())
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1240, 1754)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_readme_pictures_show_a_bundled_instrument(tmp_path: Path, lang: str, update_goldens: bool) -> None:
    """The danger assessment (freda-farlighet) scored from examples/, with the bundled rules and a judgement."""
    from screening.api import score_file
    from screening.content.loader import load_instrument

    ci = load_instrument("freda-farlighet")
    assert ci.instrument.id == "freda-farlighet" and "fixture" not in str(ci.instrument.title.sv).lower()
    result = score_file(
        "freda-farlighet", REPO / "examples" / "freda-farlighet.yaml", rules="default", lang=lang,
        judgement="high", rationale="Strypförsök och dödshot den senaste månaden; personen är rädd för sitt liv.",
        assessor="Handläggare A",
    )
    html_file = tmp_path / f"report-{lang}.html"
    html_file.write_text(render_report(result, instrument=ci, lang=lang, case=CASE), encoding="utf-8")
    png = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={png}", "--window-size=1240,1754", "--hide-scrollbars", html_file.as_uri())
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    shown = REPO / "docs" / f"report-{lang}.png"
    if update_goldens:
        shutil.copyfile(png, shown)
    picture = shown.read_bytes()
    assert (int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")) == (1240, 1754)
