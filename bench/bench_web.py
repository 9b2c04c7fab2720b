"""Benchmark: from a confirmed answer in the web interview to the next question on screen.

Starts the real server (uvicorn serving ``create_app`` in a subprocess on 127.0.0.1, a
fresh store; the same helper as tests/web) and measures, in the same run:

(a) server side, over HTTP with ``httpx`` (one keep-alive connection, signed in as a
    caseworker): the answer ``POST`` (authorise, log the access, validate, COMMIT), its
    303 and the ``GET`` of the next question page (authorise, log, render) — p50/p99 —
    beside ``GET /web/static/web.css`` (a bare static file) and ``GET /web/signin`` (a
    page rendered with no case and no store read) in the same run;
(b) in Chromium (Debian's, through Selenium and chromium-driver): from the click on
    "Spara och fortsätt" to the next question's page loaded, by the browser's own
    Navigation Timing (start of the navigation → ``loadEventEnd``, the POST, the 303 and
    the GET with its CSS and script), beside loading the static file and the sign-in
    page in the same browser; and the same timed from Python around Selenium's commands.

FREDA's description (51 questions, one per page) is answered by cycling through each page's choices; a new
case is started when one is done. Target (printed, not asserted): ≤ 50 ms p50 for (a) and (b).

    python bench/bench_web.py [--answers 300] [--browser-answers 100]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))



def quantiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(n: int, call: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def line(name: str, samples: list[float], base: float | None = None) -> float:
    p50, p99 = quantiles(samples)
    ratio = f"   ×{p50 / base:5.1f} the static file" if base else ""
    print(f"  {name:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (n={len(samples)}){ratio}")
    return p50


def server_side(url: str, answers: int) -> None:
    import httpx
    from web.conftest import PASSWORD

    http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    assert http.post("/web/signin", data={"name": "anna", "password": PASSWORD}).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/web/cases").text).group(1)  # type: ignore[union-attr]

    def new_case() -> str:
        loc = http.post("/web/cases", data={"csrf": csrf, "instrument": "freda-beskrivning"}).headers["location"]
        loc = http.get(loc).headers["location"]
        while "/facts/" in loc:  # the case facts: "not known" (immediate danger: no)
            page = http.get(loc).text
            value = "false" if loc.split("?")[0].endswith("/immediate_danger") else "__unknown__"
            data = {"csrf": csrf, "value": value} if 'type="radio"' in page else {"csrf": csrf, "unknown": "1"}
            data["seen"] = re.search(r'name="seen" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            loc = http.post(loc.split("?")[0], data=data).headers["location"]
        return loc

    for _ in range(20):  # warm up: templates compiled, the instrument loaded, connections open
        http.get("/web/static/web.css")
        http.get("/web/signin")
    static = timed(300, lambda: http.get("/web/static/web.css"))
    signin = timed(300, lambda: http.get("/web/signin"))
    loc = new_case()
    page = http.get(loc).text
    samples: list[float] = []
    n = 0
    while len(samples) < answers:
        if "/summary" in loc:
            loc = new_case()
            page = http.get(loc).text
        seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        values = re.findall(r'type="radio" name="value" id="[^"]+" value="([^"]+)"', page)
        start = time.perf_counter()
        response = http.post(loc.split("?")[0], data={"csrf": csrf, "seen": seen, "value": values[n % len(values)]})
        loc = response.headers["location"]
        page = http.get(loc).text
        samples.append(time.perf_counter() - start)
        assert response.status_code == 303, response.text
        n += 1
    print("(a) server side, httpx over TCP, one connection")
    base = line("GET /web/static/web.css (bare static file)", static)
    line("GET /web/signin (a page, no case)", signin, base)
    p50 = line("answer POST + 303 + GET next question", samples, base)
    print(f"  target ≤ 50 ms p50: {'met' if p50 <= 50 else 'NOT met'}")
    http.close()


def browser_side(url: str, answers: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from web.conftest import PASSWORD, new_browser

    b = new_browser()
    d = b.driver

    def loaded() -> None:
        WebDriverWait(d, 15, poll_frequency=0.002).until(
            lambda drv: drv.execute_script("return document.readyState") == "complete")

    def click(element: object) -> None:
        before = d.execute_script("return performance.timeOrigin")
        element.click()  # type: ignore[attr-defined]
        WebDriverWait(d, 15, poll_frequency=0.002).until(lambda drv: drv.execute_script(
            "return document.readyState === 'complete' && performance.timeOrigin !== arguments[0]", before))

    def navigation() -> float:
        """The browser's own time for the last navigation: its start (the click, or the URL) to load end."""
        return float(d.execute_script(
            "var n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")) / 1000

    try:
        d.get(url + "/web/signin")
        d.find_element(By.ID, "name").send_keys("anna")
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        click(d.find_element(By.CSS_SELECTOR, "button.primary"))

        def new_case() -> None:
            d.get(url + "/web/cases")
            Select(d.find_element(By.ID, "instrument")).select_by_value("freda-beskrivning")
            click(d.find_element(By.CSS_SELECTOR, "form button.primary"))
            assert "/facts/" in d.current_url, (d.current_url, d.find_element(By.TAG_NAME, "main").text[:300])
            while "/facts/" in d.current_url:
                if d.current_url.split("?")[0].endswith("/immediate_danger"):
                    d.find_element(By.CSS_SELECTOR, 'input[value="false"]').click()
                    click(d.find_element(By.CSS_SELECTOR, "form button.primary"))
                elif d.find_elements(By.CSS_SELECTOR, 'input[value="__unknown__"]'):
                    d.find_element(By.CSS_SELECTOR, 'input[value="__unknown__"]').click()
                    click(d.find_element(By.CSS_SELECTOR, "form button.primary"))
                else:
                    click(d.find_element(By.CSS_SELECTOR, 'button[name="unknown"]'))

        def get(path: str) -> None:
            d.get(url + path)
            loaded()

        static, signin, static_nav, signin_nav = [], [], [], []
        for _ in range(60):
            static += timed(1, lambda: get("/web/static/web.css"))
            static_nav.append(navigation())
            signin += timed(1, lambda: get("/web/signin"))
            signin_nav.append(navigation())
        new_case()
        samples: list[float] = []
        nav: list[float] = []
        n = 0
        while len(samples) < answers:
            if "/summary" in d.current_url:
                new_case()
            radios = d.find_elements(By.CSS_SELECTOR, 'input[type="radio"]')
            radios[n % len(radios)].click()
            button = d.find_element(By.CSS_SELECTOR, "form button.primary")
            start = time.perf_counter()
            click(button)
            samples.append(time.perf_counter() - start)
            nav.append(navigation())
            n += 1
        print("(b) in Chromium (headless): the browser's navigation timing, start → load end")
        base = line("load /web/static/web.css (bare static file)", static_nav)
        line("load /web/signin (a page, no case)", signin_nav, base)
        p50 = line("click 'save and continue' → next question", nav, base)
        print(f"  target ≤ 50 ms p50: {'met' if p50 <= 50 else 'NOT met'}")
        print("    the same, timed from Python around Selenium's commands (adds WebDriver's round trips)")
        base = line("load /web/static/web.css (bare static file)", static)
        line("load /web/signin (a page, no case)", signin, base)
        line("click 'save and continue' → next question", samples, base)
    finally:
        b.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--browser-answers", type=int, default=100)
    args = parser.parse_args()
    from web.conftest import start_server

    with tempfile.TemporaryDirectory() as tmp:
        site = start_server(Path(tmp))
        try:
            server_side(site.url, args.answers)
            browser_side(site.url, args.browser_answers)
        finally:
            site.process.terminate()
            site.process.wait(10)


if __name__ == "__main__":
    main()
