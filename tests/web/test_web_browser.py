"""The web interview in a real browser: Chromium (Debian's) driven by Selenium against a real uvicorn.

What a caseworker meets: signing in, a whole interview of every bundled instrument with
answers from its golden vectors (every stored answer and the stored result checked
afterwards), resuming after the browser process is killed mid-answer, the quick exit and
the Back button, another team's case, a report printed to PDF and read back with
``pdftotext``. axe-core (bundled by the ``axe-selenium-python`` package, so no network)
runs in every screen: no serious or critical violation. The screenshots in the README
(docs/web-*.png) are written by this run with ``--update-goldens`` (else into a temp dir).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import CHROMEDRIVER, CHROMIUM, PASSWORD, ROOT, Browser, WebSite, new_browser

selenium = pytest.importorskip("selenium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists(),
                       reason="needs chromium and chromium-driver (.ci/run installs them)"),
]

MISSING = object()
# axe-core from npm (.ci/run: `npm install --prefix $TMPDIR/screening-axe axe-core@4`); AXE_CORE_JS names another copy.
AXE = Path(os.environ.get("AXE_CORE_JS") or Path(tempfile.gettempdir()) / "screening-axe" / "node_modules" / "axe-core"
           / "axe.min.js")
if not AXE.is_file():
    pytest.skip(f"axe-core is not installed at {AXE} (.ci/run installs it from npm)", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

DOCS = ROOT / "docs"


# ------------------------------------------------------------------ helpers


def path(d: Any) -> str:
    return urlparse(d.current_url).path


def page_loaded(d: Any, before: float) -> bool:
    """A new document (another ``performance.timeOrigin``) that has finished loading."""
    return bool(d.execute_script("return document.readyState === 'complete' && performance.timeOrigin !== "
                                 "arguments[0]", before))


def click_and_wait(d: Any, element: Any) -> None:
    """Click something that loads a new page, and wait until the new page is there."""
    before = d.execute_script("return performance.timeOrigin")
    element.click()
    WebDriverWait(d, 15, poll_frequency=0.01).until(lambda drv: page_loaded(drv, before))


def submit(d: Any) -> None:
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form button.primary"))


def sign_in(b: Browser, site: WebSite, name: str = "anna") -> None:
    d = b.driver
    d.get(site.url + "/web/signin")
    d.find_element(By.ID, "name").send_keys(name)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(d)
    assert path(d) == "/web/cases"


def start_case(b: Browser, site: WebSite, instrument: str, ref: str, lang: str = "sv") -> str:
    """Start an assessment in ``lang`` (the pages' language is the browser's choice, remembered)."""
    d = b.driver
    d.get(site.url + f"/web/cases?lang={lang}")
    Select(d.find_element(By.ID, "instrument")).select_by_value(instrument)
    d.find_element(By.ID, "case_ref").send_keys(ref)
    submit(d)
    return path(d).split("/")[3]


def radio(d: Any, name: str, value: str) -> None:
    d.find_element(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"][value="{value}"]').click()


def answer_fact(d: Any, *, danger: bool = False) -> None:
    name = path(d).rsplit("/", 1)[1]
    if name == "immediate_danger":
        radio(d, "value", "true" if danger else "false")
        submit(d)
    elif d.find_elements(By.CSS_SELECTOR, 'input[type="radio"]'):
        radio(d, "value", "__unknown__")
        submit(d)
    else:
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, 'button[name="unknown"]'))


def choose(d: Any, ci: Any, item: Any, name: str, value: object) -> None:
    """Choose ``value`` for a choice item or field (unknown: its scale's unknown option or "not known")."""
    if value is MISSING or value is None:
        options = ci.instrument.scales[item.scale].options
        unknown = next((o.value for o in options if o.unknown), "__unknown__")
        radio(d, name, str(unknown))
    else:
        radio(d, name, str(value))


def answer_question(d: Any, ci: Any, answers: dict[str, Any], before_done: Any = None) -> None:
    item = ci.items[path(d).rsplit("/", 1)[1]]
    value = answers.get(item.id, MISSING)
    if item.type == "group":
        rows = value if isinstance(value, list) else []
        for row in rows:
            click_and_wait(d, d.find_element(By.CSS_SELECTOR, "a.button"))
            for f in item.fields:
                if f.id not in row:
                    continue
                if f.type == "choice":
                    choose(d, ci, f, f"f_{f.id}", row[f.id])
                else:
                    d.find_element(By.ID, f"field-f_{f.id}").send_keys(str(row[f.id]))
            submit(d)
            assert "/row/" not in path(d), d.find_element(By.TAG_NAME, "main").text
        if before_done is not None:
            before_done()
        action = "done" if rows else "none" if value == [] else "unknown"
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, f'button[name="action"][value="{action}"]'))
    elif item.type == "choice":
        choose(d, ci, item, "value", value)
        submit(d)
    elif value is MISSING or value is None:
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, 'button[name="unknown"]'))
    else:
        box = d.find_element(By.ID, "field-value")
        box.clear()
        box.send_keys(str(value))
        submit(d)


def check_axe(d: Any, screen: str) -> None:
    """axe-core in the page (WCAG 2.0/2.1 A and AA rules and best practice): no serious or critical violation."""
    d.execute_script(AXE.read_text(encoding="utf-8"))
    results = d.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})"
        ".then(function (r) { done(r); });")
    bad = [f"{v['id']} ({v['impact']}): {[(n['target'], n['failureSummary'][:160]) for n in v['nodes']][:3]}"
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{screen}: {bad}"


SHOTS: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _screenshots_to(update_goldens: bool, tmp_path: Path) -> None:
    """docs/web-*.png are rewritten with ``--update-goldens`` (as docs/report-*.png); otherwise into tmp."""
    SHOTS["dir"] = DOCS if update_goldens else tmp_path


def shot(d: Any, name: str) -> None:
    folder = SHOTS.get("dir", DOCS)
    folder.mkdir(exist_ok=True)
    height = d.execute_script("return Math.min(document.documentElement.scrollHeight + 140, 1700)")
    d.set_window_size(1100, max(700, int(height)))
    d.save_screenshot(str(folder / f"web-{name}.png"))
    assert (folder / f"web-{name}.png").stat().st_size > 1000
    d.set_window_size(1100, 1000)


def shifted(ci: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """The vector's answers with every date moved into the last months (a date window is relative to today)."""
    out = dict(answers)
    today = dt.date.today()
    for key, value in answers.items():
        item = ci.items.get(key)
        if item is None or item.type != "group" or not isinstance(value, list):
            continue
        dates = [f.id for f in item.fields or () if f.type == "date"]
        if dates:
            out[key] = [{**row, **{f: (today - dt.timedelta(days=20 * (len(value) - n))).isoformat()
                                   for f in dates if f in row}} for n, row in enumerate(value)]
    return out


def vector(instrument: str) -> tuple[Any, dict[str, Any], Any]:
    """(instrument, answers, judgement) of a golden vector that answers every shown item and can be completed."""
    from screening.content.loader import load_instrument
    from screening.engine.instrument import JudgementInput

    ci = load_instrument(instrument)
    if instrument == "patriark":  # tests/cases/patriark.yaml: the full assessment that meets every requirement
        import yaml

        doc = yaml.safe_load((ROOT / "tests" / "cases" / "patriark.yaml").read_text(encoding="utf-8"))
        case = doc["cases"][0]
        return ci, doc["bases"][case["base"]], JudgementInput(**case["judgement"])
    required = ci.instrument.judgement.policy == "required"
    best: tuple[int, int] | None = None
    for n, v in enumerate(ci.instrument.tests):
        if (required and v.judgement is None) or v.expect.requirements_unmet:
            continue
        shown = ci.evaluate(ci.check_answers(v.answers))
        if any(k not in v.answers for k in ci.order if k not in shown.skipped_items):
            continue
        spread = len({str(x) for x in v.answers.values()}) + (5 if v.judgement else 0) + sum(
            3 for x in v.answers.values() if isinstance(x, list) and x)
        if best is None or spread > best[0]:
            best = (spread, n)
    assert best is not None
    chosen = ci.instrument.tests[best[1]]
    return ci, dict(chosen.answers), chosen.judgement


@pytest.fixture(scope="module")
def shared(web_site: WebSite) -> Iterator[Browser]:
    """One browser for the tests that need no crash (starting Chromium costs about a second)."""
    made = new_browser()
    sign_in(made, web_site)
    yield made
    made.quit()


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("instrument", ["freda-kortfragor", "freda-farlighet", "freda-beskrivning",
                                        "hedersindikatorer", "patriark"])
def test_a_whole_interview_of_each_instrument(web_site: WebSite, shared: Browser, instrument: str) -> None:
    from screening.assessment import assess

    d = shared.driver
    ci, raw, judgement = vector(instrument)
    answers = shifted(ci, raw)
    aid = start_case(shared, web_site, instrument, f"B-{instrument[:10]}")
    screens = instrument == "freda-farlighet"  # the screens with a group and a judgement: checked and pictured
    seen: set[str] = set()
    while "/summary" not in path(d):
        p = path(d)
        kind = "fact" if "/facts/" in p else "group" if ci.items[p.rsplit("/", 1)[1]].type == "group" else \
            f"question-{ci.items[p.rsplit('/', 1)[1]].type}"
        if kind not in seen:
            check_axe(d, f"{instrument} {kind}")
            seen.add(kind)
        if screens and kind == "fact" and "immediate_danger" in p:
            shot(d, "fact-sv")
        if "/facts/" in p:
            answer_fact(d)
        else:
            if screens and kind.startswith("question") and "shot" not in seen:
                shot(d, "question-sv")
                seen.add("shot")
            answer_question(d, ci, answers)
    check_axe(d, f"{instrument} summary")
    if screens:
        shot(d, "summary-sv")
    if judgement is not None:
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, f'a[href$="/web/cases/{aid}/judgement"]'))
        check_axe(d, f"{instrument} judgement")
        radio(d, "level", judgement.level)
        d.find_element(By.ID, "rationale").send_keys(judgement.rationale)
        for rid, why in (judgement.acknowledged or {}).items():
            d.find_element(By.ID, f"ack_{rid}").send_keys(why)
        if screens:
            shot(d, "judgement-sv")
        submit(d)
        assert path(d).endswith("/summary"), d.find_element(By.TAG_NAME, "main").text
    submit(d)  # complete
    assert path(d).endswith("/result"), d.find_element(By.TAG_NAME, "main").text
    check_axe(d, f"{instrument} result")
    if screens:
        shot(d, "result-sv")
    with web_site.store() as st:
        stored = {k: v for k, (v, _) in st.answer_rows(aid).items()}
        result = st.results(aid)[-1][1]
    expected = assess(ci, answers, judgement=judgement)
    shown = ci.evaluate(ci.check_answers(answers))
    for key in ci.order:
        if key in shown.skipped_items:
            continue
        want = answers.get(key)
        if isinstance(want, list):
            want = [{k: v for k, v in row.items() if v is not None} for row in want]
        if ci.items[key].type == "choice" and want is None:
            options = ci.instrument.scales[ci.items[key].scale or ""].options
            want = next((o.value for o in options if o.unknown), None)
        assert stored.get(key) == want, key
    assert result.final_level == expected.final_level and result.status == expected.status
    if result.final_level:
        label = result.level_labels[result.final_level].get("sv")
        assert label in d.find_element(By.TAG_NAME, "main").text


def test_resume_after_the_browser_is_killed_mid_answer(web_site: WebSite) -> None:
    first = new_browser()
    try:
        sign_in(first, web_site)
        d = first.driver
        aid = start_case(first, web_site, "freda-beskrivning", "KILL1")
        while "/facts/" in path(d):
            answer_fact(d)
        confirmed: dict[str, str] = {}
        options = ["never", "sometimes", "repeatedly", "never", "unknown", "sometimes"]
        for value in options:
            item = path(d).rsplit("/", 1)[1]
            radio(d, "value", value)
            submit(d)
            confirmed[item] = value
        pending = path(d).rsplit("/", 1)[1]
        radio(d, "value", "repeatedly")  # chosen, never confirmed
        first.kill()
    finally:
        first.quit()
    with web_site.store() as st:
        stored = {k: v for k, (v, _) in st.answer_rows(aid).items()}
    assert stored == confirmed
    second = new_browser()
    try:
        sign_in(second, web_site)
        d = second.driver
        click_and_wait(d, d.find_element(By.PARTIAL_LINK_TEXT, "KILL1"))
        assert path(d) == f"/web/cases/{aid}/q/{pending}"
        assert f"Fråga {len(confirmed) + 1} av" in d.find_element(By.CSS_SELECTOR, ".progress").text
        assert not d.find_elements(By.CSS_SELECTOR, 'input[type="radio"]:checked')
        click_and_wait(d, d.find_element(By.LINK_TEXT, "Föregående"))
        last = list(confirmed)[-1]
        assert d.find_element(By.CSS_SELECTOR, 'input[type="radio"]:checked').get_attribute("value") == confirmed[last]
    finally:
        second.quit()


def test_quick_exit_by_esc_and_by_the_button_leaves_no_case_behind_back(web_site: WebSite) -> None:
    b = new_browser()
    try:
        d = b.driver
        sign_in(b, web_site)
        start_case(b, web_site, "freda-kortfragor", "EXIT1")
        answer_fact(d, danger=True)
        assert "112" in d.find_element(By.CSS_SELECTOR, ".danger").text  # a yes shows the advice at once
        assert "js" in d.find_element(By.TAG_NAME, "html").get_attribute("class")  # web.js ran
        check_axe(d, "fact after danger")
        d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        WebDriverWait(d, 10).until(lambda drv: path(drv) == "/web/exit")
        assert d.title == "Väder i dag"
        check_axe(d, "neutral page")
        d.back()
        WebDriverWait(d, 10).until(lambda drv: drv.execute_script("return document.readyState") == "complete")
        assert "EXIT1" not in d.page_source and "112" not in d.page_source
        assert path(d) == "/web/signin"
        # The button does the same; and without JavaScript it is a plain link to the same page.
        sign_in(b, web_site)
        click_and_wait(d, d.find_element(By.PARTIAL_LINK_TEXT, "EXIT1"))
        click_and_wait(d, d.find_element(By.ID, "quick-exit"))
        assert path(d) == "/web/exit"
        d.back()
        WebDriverWait(d, 10).until(lambda drv: drv.execute_script("return document.readyState") == "complete")
        assert "EXIT1" not in d.page_source
    finally:
        b.quit()


def test_another_teams_case_is_refused(web_site: WebSite, shared: Browser) -> None:
    aid = start_case(shared, web_site, "freda-kortfragor", "TEAM1")
    bo = new_browser("en")
    try:
        sign_in(bo, web_site, "bo")
        d = bo.driver
        assert "TEAM1" not in d.page_source
        d.get(f"{web_site.url}/web/cases/{aid}/summary?lang=en")
        assert "does not exist, or is not your team's" in d.find_element(By.TAG_NAME, "main").text
        assert "TEAM1" not in d.page_source
        check_axe(d, "error page")
    finally:
        bo.quit()


def test_english_screens_and_the_reports_printed_to_pdf(web_site: WebSite, shared: Browser,
                                                        tmp_path: Path) -> None:
    d = shared.driver
    d.get(web_site.url + "/web/cases?lang=en")
    check_axe(d, "case list")
    shot(d, "cases-en")
    aid = start_case(shared, web_site, "patriark", "PDF1", "en")
    while "/facts/" in path(d):
        answer_fact(d)
    ci, answers, judgement = vector("patriark")
    while "/summary" not in path(d):
        item = ci.items[path(d).rsplit("/", 1)[1]]
        if item.id == "perpetrators":
            click_and_wait(d, d.find_element(By.CSS_SELECTOR, "a.button"))
            check_axe(d, "group row")
            d.find_element(By.ID, "field-f_pseudonym").send_keys("19900101-1234")
            submit(d)
            assert "never a personal identity number" in d.find_element(By.CSS_SELECTOR, ".error-summary").text
            assert d.find_element(By.ID, "field-f_pseudonym").get_attribute("value") == ""
            check_axe(d, "group row with an error")
            shot(d, "row-error-en")
            click_and_wait(d, d.find_element(By.LINK_TEXT, "Cancel"))
        answer_question(d, ci, answers, (lambda: shot(d, "group-en")) if item.id == "perpetrators" else None)
    shot(d, "summary-en")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, f'a[href$="/web/cases/{aid}/judgement"]'))
    radio(d, "level", judgement.level)
    d.find_element(By.ID, "rationale").send_keys(judgement.rationale)
    shot(d, "judgement-en")
    submit(d)
    submit(d)
    assert path(d).endswith("/result")
    shot(d, "result-en")
    pdftotext = shutil.which("pdftotext")
    for profile, link in (("case-file", "The case-file report"), ("referral", "The referral report")):
        click_and_wait(d, d.find_element(By.LINK_TEXT, link))
        check_axe(d, f"{profile} report")
        pdf = tmp_path / f"{profile}.pdf"
        pdf.write_bytes(base64.b64decode(d.print_page()))
        assert pdf.read_bytes().startswith(b"%PDF")
        if pdftotext:
            text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout
            assert "PDF1" in text and "Quick exit" not in text  # the page's own bar is not printed
            level = ci.instrument.levels[[lv.id for lv in ci.instrument.levels].index(judgement.level)]
            assert level.label.get("en").lower() in text.lower()
        d.back()


def test_the_keyboard_alone_signs_in_and_answers(web_site: WebSite) -> None:
    """Tab, arrow keys, space and Enter only: the skip link first, then the quick exit, then the question."""
    b = new_browser()
    try:
        d = b.driver
        d.get(web_site.url + "/web/signin")
        body = d.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        assert d.switch_to.active_element.get_attribute("class") == "skip-link"
        d.switch_to.active_element.send_keys(Keys.TAB)
        assert d.switch_to.active_element.get_attribute("id") == "quick-exit"
        d.find_element(By.ID, "name").send_keys("anna", Keys.TAB, PASSWORD)
        before = d.execute_script("return performance.timeOrigin")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        WebDriverWait(d, 15).until(lambda drv: page_loaded(drv, before))
        assert path(d) == "/web/cases"
        start_case(b, web_site, "freda-kortfragor", "KEYS1")
        for _ in range(20):  # to the first radio button of the first fact
            d.switch_to.active_element.send_keys(Keys.TAB)
            if d.switch_to.active_element.get_attribute("type") == "radio":
                break
        assert d.switch_to.active_element.get_attribute("value") == "true"
        d.switch_to.active_element.send_keys(Keys.ARROW_DOWN)  # "no" (arrow keys move and select)
        before = d.execute_script("return performance.timeOrigin")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        WebDriverWait(d, 15).until(lambda drv: page_loaded(drv, before))
        with web_site.store() as st:
            aid = path(d).split("/")[3]
            assert st.facts(aid)["immediate_danger"] is False
    finally:
        b.quit()


def test_without_javascript_the_interview_and_the_quick_exit_still_work(web_site: WebSite) -> None:
    b = new_browser(javascript=False)
    try:
        d = b.driver
        sign_in(b, web_site)
        aid = start_case(b, web_site, "freda-kortfragor", "NOJS1")
        assert d.execute_script("return 1") == 1  # WebDriver's own scripts still run; the page's do not
        while "/facts/" in path(d):
            answer_fact(d)
        first = path(d)
        radio(d, "value", "yes")
        submit(d)
        assert path(d) != first
        assert "js" not in (d.find_element(By.TAG_NAME, "html").get_attribute("class") or "")  # web.js never ran
        click_and_wait(d, d.find_element(By.ID, "quick-exit"))  # a plain link without JavaScript
        assert path(d) == "/web/exit" and d.title == "Väder i dag"
        before = d.execute_script("return performance.timeOrigin")
        d.back()  # the case page was never cached, and the session is over: the sign-in page
        WebDriverWait(d, 15).until(lambda drv: page_loaded(drv, before))
        assert path(d) == "/web/signin" and "NOJS1" not in d.page_source
        with web_site.store() as st:
            assert {k: v for k, (v, _) in st.answer_rows(aid).items()} == {first.rsplit("/", 1)[1]: "yes"}
    finally:
        b.quit()


def test_two_tabs_on_one_draft_never_overwrite_each_other_silently(web_site: WebSite, shared: Browser) -> None:
    d = shared.driver
    aid = start_case(shared, web_site, "freda-kortfragor", "TABS1")
    while "/facts/" in path(d):
        answer_fact(d)
    question = d.current_url.split("?")[0]
    first_tab = d.current_window_handle
    d.switch_to.new_window("tab")
    d.get(question)
    radio(d, "value", "yes")
    submit(d)  # the second tab answers first
    d.close()
    d.switch_to.window(first_tab)
    radio(d, "value", "no")  # the first tab still shows the page from before
    submit(d)
    notice = d.find_element(By.CSS_SELECTOR, ".notice").text
    assert "i ett annat fönster eller en annan flik" in notice and "Ja" in notice
    check_axe(d, "stale form")
    with web_site.store() as st:
        assert st.answer_rows(aid)[question.rsplit("/", 1)[1]][0] == "yes"
