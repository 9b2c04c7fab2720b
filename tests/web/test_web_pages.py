"""The web interview's pages through httpx against the app: saving, stale forms, locks, refusals, languages.

No browser here (tests/web/test_web_browser.py drives Chromium); these pin what a page
does with a form: every answer committed before the redirect, a stale form (another tab,
Back, a double click) changes nothing, a draft held elsewhere is refused, errors are pages
in the reader's language that never echo a personnummer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import PASSWORD, make_store


class Client:
    """A browser-like client: follows nothing by itself, keeps cookies, reads the CSRF token from pages."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
        self.csrf = ""

    def get(self, url: str) -> httpx.Response:
        response = self.loop.run_until_complete(self.http.get(url))
        found = re.search(r'name="csrf" value="([^"]*)"', response.text)
        if found and found.group(1):
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        body = {"csrf": self.csrf, **data} if csrf else data
        return self.loop.run_until_complete(self.http.post(url, data=body))

    def sign_in(self, name: str) -> None:
        assert self.post("/web/signin", {"name": name, "password": PASSWORD}, csrf=False).status_code == 303
        self.get("/web/cases")

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    from screening.server import ServerConfig, create_app

    path = tmp_path / "store.db"
    make_store(path)
    yield create_app(ServerConfig(store=path, secure_cookies=False)), path


@pytest.fixture
def anna(web: tuple[Any, Path]) -> Iterator[Client]:
    client = Client(web[0])
    client.sign_in("anna")
    yield client
    client.close()


def _start(c: Client, instrument: str = "freda-kortfragor", ref: str = "W1") -> str:
    response = c.post("/web/cases", {"instrument": instrument, "case_ref": ref})
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _facts_done(c: Client, aid: str) -> str:
    """Answer every case fact "not known" (immediate danger: no); the first question's URL."""
    url = c.get(f"/web/cases/{aid}").headers["location"]
    while "/facts/" in url:
        page = c.get(url).text
        name = url.split("/facts/")[1].split("?")[0]
        value = "false" if name == "immediate_danger" else "__unknown__"
        data = {"value": value} if 'type="radio"' in page else {"unknown": "1"}
        data["seen"] = _seen(page)
        response = c.post(url.split("?")[0], data)
        assert response.status_code == 303, response.text
        url = response.headers["location"]
    return url


def _seen(page: str) -> str:
    found = re.search(r'name="seen" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _answers(path: Path, aid: str) -> dict[str, Any]:
    from screening.store import Store

    with Store.open(path) as st:
        return {k: v for k, (v, _) in st.answer_rows(aid).items()}


def test_signed_out_goes_to_sign_in_and_pages_carry_their_own_policy(web: tuple[Any, Path]) -> None:
    c = Client(web[0])
    response = c.get("/web/cases")
    assert response.status_code == 303 and response.headers["location"] == "/web/signin"
    page = c.get("/web/signin")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="sv">' in page.text and "Logga in" in page.text
    english = c.get("/web/signin?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert c.get("/web/signin").text.count("Sign in") >= 1  # the choice is remembered
    wrong = c.post("/web/signin", {"name": "anna", "password": "not it"}, csrf=False)
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    c.close()


def test_an_answer_is_committed_before_the_redirect_and_a_stale_form_changes_nothing(
        anna: Client, web: tuple[Any, Path]) -> None:
    aid = _start(anna)
    first = _facts_done(anna, aid)
    page = anna.get(first).text
    assert "Fråga 1 av" in page
    seen = _seen(page)
    url = first.split("?")[0]
    item = url.rsplit("/", 1)[1]
    ok = anna.post(url, {"seen": seen, "value": "yes"})
    assert ok.status_code == 303 and f"saved={item}" in ok.headers["location"]
    assert _answers(web[1], aid)[item] == "yes"
    # The same form sent again (a double click, or Back and the same choice): confirmed, nothing new.
    again = anna.post(url, {"seen": seen, "value": "yes"})
    assert again.status_code == 303
    # The old form with another answer (another tab answered meanwhile): refused, said so, nothing changed.
    stale = anna.post(url, {"seen": seen, "value": "no"})
    assert stale.status_code == 409 and "i ett annat fönster" in stale.text and "Ja" in stale.text
    assert _answers(web[1], aid)[item] == "yes"
    # A fresh page may change it (Back, then a new choice on a page loaded now).
    assert anna.post(url, {"seen": _seen(anna.get(url).text), "value": "no"}).status_code == 303
    assert _answers(web[1], aid)[item] == "no"


def test_a_fact_set_in_another_tab_is_not_overwritten_by_an_old_form(anna: Client, web: tuple[Any, Path]) -> None:
    aid = _start(anna)
    url = f"/web/cases/{aid}/facts/immediate_danger"
    old = _seen(anna.get(url).text)
    assert anna.post(url, {"seen": old, "value": "true"}).status_code == 303  # tab 1: yes
    stale = anna.post(url, {"seen": old, "value": "false"})  # tab 2, loaded before: no
    assert stale.status_code == 409 and "i ett annat fönster" in stale.text
    assert "ring 112" in stale.text  # and the danger stays said
    from screening.store import Store

    with Store.open(web[1]) as st:
        assert st.facts(aid)["immediate_danger"] is True


def test_the_progress_says_when_a_skip_changes_the_total(anna: Client) -> None:
    aid = _start(anna)
    url = _facts_done(anna, aid).split("?")[0]
    while True:
        page = anna.get(url).text
        item = url.rsplit("/", 1)[1]
        response = anna.post(url, {"seen": _seen(page), "value": "no"})
        url = response.headers["location"]
        if item == "has_children":  # "no" children: the questions about children are not asked
            assert re.search(r"Nu \d+ frågor: \d+ frågor gäller inte", anna.get(url).text)
            return
        url = url.split("?")[0]
        assert "/q/" in url, "has_children was never asked"


def test_a_draft_open_in_a_terminal_refuses_the_web_with_409(anna: Client, web: tuple[Any, Path]) -> None:
    from screening.store import Store

    aid = _start(anna)
    url = _facts_done(anna, aid).split("?")[0]
    seen = _seen(anna.get(url).text)
    with Store.open(web[1]) as terminal:
        terminal.lock(aid)
        refused = anna.post(url, {"seen": seen, "value": "yes"})
        assert refused.status_code == 409 and "öppet i en intervju någon annanstans" in refused.text
    assert url.rsplit("/", 1)[1] not in _answers(web[1], aid)


def test_a_personnummer_is_refused_as_a_case_and_never_sent_back(anna: Client) -> None:
    refused = anna.post("/web/cases", {"instrument": "freda-kortfragor", "case_ref": "19900101-1234"})
    assert refused.status_code == 422 and "personnummer" in refused.text
    assert "19900101" not in refused.text and "1234" not in refused.text


def test_another_teams_case_is_a_404_page_and_a_form_without_the_token_a_403(
        anna: Client, web: tuple[Any, Path]) -> None:
    aid = _start(anna)
    bo = Client(web[0])
    bo.sign_in("bo")
    for url in (f"/web/cases/{aid}", f"/web/cases/{aid}/summary", f"/web/cases/{aid}/facts/immediate_danger"):
        page = bo.get(url)
        assert page.status_code == 404 and "hör inte till ditt team" in page.text, url
    assert bo.post(f"/web/cases/{aid}/facts/immediate_danger", {"value": "true"}).status_code == 404
    bo.close()
    forged = anna.post(f"/web/cases/{aid}/facts/immediate_danger", {"value": "true"}, csrf=False)
    assert forged.status_code == 403 and "Formuläret" in forged.text


def test_group_rows_are_added_once_deleted_only_from_a_fresh_list_and_dates_checked(
        anna: Client, web: tuple[Any, Path]) -> None:
    import datetime as dt

    aid = _start(anna, "freda-farlighet", "W2")
    _facts_done(anna, aid)
    base = f"/web/cases/{aid}/q/calendar"
    seen = _seen(anna.get(base).text)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    bad = anna.post(f"{base}/row/0", {"seen": seen, "f_date": future, "f_severity": "2"})
    assert bad.status_code == 422 and "efter i dag" in bad.text
    assert 'aria-describedby="field-f_date-hint field-f_date-error"' in bad.text  # the error tied to its field
    day = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    added = anna.post(f"{base}/row/0", {"seen": seen, "f_date": day, "f_severity": "2"})
    assert added.status_code == 303
    assert anna.post(f"{base}/row/0", {"seen": seen, "f_date": day, "f_severity": "2"}).status_code == 303
    assert _answers(web[1], aid)["calendar"] == [{"date": day, "severity": 2}]  # sent twice, added once
    stale_delete = anna.post(f"{base}/row/1/delete", {"seen": seen})
    assert stale_delete.status_code == 409
    assert len(_answers(web[1], aid)["calendar"]) == 1
    fresh = _seen(anna.get(base).text)
    assert anna.post(f"{base}/row/1/delete", {"seen": fresh}).status_code == 303
    assert _answers(web[1], aid)["calendar"] == []


def test_every_web_text_exists_in_both_languages_with_the_same_parameters() -> None:
    from string import Formatter

    from screening.server._webtexts import WEB

    for key, (sv, en) in WEB.items():
        assert sv.strip() and en.strip(), key
        names = [{f for _, f, _, _ in Formatter().parse(text) if f} for text in (sv, en)]
        assert names[0] == names[1], key


def test_completion_waits_for_every_question_and_a_required_judgement(anna: Client, web: tuple[Any, Path]) -> None:
    aid = _start(anna, "freda-farlighet", "W3")
    url = _facts_done(anna, aid)
    early = anna.post(f"/web/cases/{aid}/complete", {})
    assert early.status_code == 422 and "inte besvarade än" in early.text
    while "/summary" not in url:
        page = anna.get(url).text
        values = re.findall(r'type="radio" name="value" id="[^"]+" value="([^"]+)"', page)
        data = {"seen": _seen(page), **({"action": "none"} if "/calendar" in url else {"value": values[1]})}
        response = anna.post(url.split("?")[0], data)
        assert response.status_code == 303, response.text
        url = response.headers["location"]
    assert anna.post(f"/web/cases/{aid}/complete", {}).status_code == 422  # the judgement is required here
    page = anna.get(f"/web/cases/{aid}/judgement").text
    assert 'value="__none__"' not in page  # required: no "no judgement" choice
    refused = anna.post(f"/web/cases/{aid}/judgement", {"level": "low", "rationale": ""})
    assert refused.status_code == 422 and "behöver en motivering" in refused.text
    assert anna.post(f"/web/cases/{aid}/judgement", {"level": "low", "rationale": "Inget våld"}).status_code == 303
    done = anna.post(f"/web/cases/{aid}/complete", {})
    assert done.status_code == 303 and done.headers["location"].endswith("/result?done=1")
    assert anna.post(f"/web/cases/{aid}/complete", {}).status_code == 303  # a second click: the result again
    from screening.store import Store

    with Store.open(web[1]) as st:
        assert st.get(aid).status == "completed" and len(st.results(aid)) == 1
    assert "Rätta bedömningen" in anna.get(f"/web/cases/{aid}/result").text
    corrected = anna.post(f"/web/cases/{aid}/correct", {})
    assert corrected.status_code == 303 and corrected.headers["location"].endswith("/summary")
    assert anna.post(f"/web/cases/{aid}/correct", {}).status_code == 303  # a second click: no third revision
    with Store.open(web[1]) as st:
        info = st.get(aid)
        assert info.status == "draft" and info.revision == 2


def test_a_judgement_from_an_older_tab_does_not_overwrite_the_one_saved_since(
        anna: Client, web: tuple[Any, Path]) -> None:
    aid = _start(anna, "freda-kortfragor", "W7")
    url = f"/web/cases/{aid}/judgement"
    page = anna.get(url).text  # both tabs show the page before any judgement
    old = _seen(page)
    choices = re.findall(r'name="level" id="[^"]+" value="([^"]+)"', page)
    first, second = choices[0], choices[-1]  # a level, and "no judgement" (or another level)
    assert first != second
    assert anna.post(url, {"seen": old, "level": first, "rationale": "Flik ett"}).status_code == 303
    stale = anna.post(url, {"seen": old, "level": second, "rationale": "Flik två"})
    assert stale.status_code == 409 and "annan flik" in stale.text
    assert "Flik ett" in stale.text  # the saved judgement is shown, not the stale form's
    from screening.store import Store

    with Store.open(web[1]) as st:
        saved = st.judgement(aid)
    assert saved is not None and (saved.level, saved.rationale) == (first, "Flik ett")
    fresh = _seen(anna.get(url).text)
    assert anna.post(url, {"seen": fresh, "level": second, "rationale": "Flik två"}).status_code == 303
    with Store.open(web[1]) as st:
        now = st.judgement(aid)
    assert now is None or now.level == second  # from a fresh page the change goes through
