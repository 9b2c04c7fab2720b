"""OWASP API Security Top 10 checks that apply to ``screening serve``.

API1 broken object-level authorisation (other teams' ids, guessed, malformed and
deleted ids all look like a missing case), API3/API6 mass assignment (every body
refuses unknown fields), API4 unbounded input (body size by ``Content-Length`` and
while a chunked body streams in, too many answers, deep nesting, long query
parameters), API2 broken authentication (login rate limit, CSRF on session
cookies, the trusted sign-on header, disabled accounts and revoked tokens), API8
misconfiguration (security headers, cookie flags) — and the project's own rule:
no personal data in any error or log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from screening.store import Store

from .client import Api
from .conftest import PASSWORD, Site
from .states import INSTRUMENT, all_no, make_case, snapshot

CANARY = "Kanariefågel Svensson"
PNR = "19800101-1234"


def _problem(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if kind is not None:
        assert body["type"] == f"urn:screening:problem:{kind}", body
    return body


# ---------------------------------------------------------------------- API1: object-level authorisation


def test_other_teams_guessed_malformed_and_deleted_ids_all_look_missing(site: Site) -> None:
    anna, lena = site.client("anna"), site.client("lena")
    foreign = make_case(site.store, "b", "draft", assessor="bo")
    deleted = make_case(site.store, "a", "draft")
    assert lena.delete(f"/api/cases/{deleted}").status_code == 204
    missing = anna.get("/api/cases/" + "0" * 32)
    reference = _problem(missing, 404, "not-found")
    ids = [foreign, deleted, "f" * 32, foreign.upper(), foreign[:-1], foreign + "0",
           "' OR 1=1 --", "x" * 2000, "%00", "1"]
    before = snapshot(site.store)
    for aid in ids:
        for method, suffix, body in (("GET", "", None), ("GET", "/answers", None), ("GET", "/result", None),
                                     ("PUT", "/answers/fear", {"value": "yes"}),
                                     ("PUT", "/facts/age", {"value": 30}), ("POST", "/complete", None),
                                     ("DELETE", "", None)):
            who = lena if method == "DELETE" else anna
            kwargs: dict[str, Any] = {"json": body} if body else {}
            response = who.request(method, f"/api/cases/{aid}{suffix}", **kwargs)
            assert response.status_code == 404, (aid, method, suffix, response.text)
            assert response.json() == reference, (aid, method, suffix)
    assert snapshot(site.store) == before
    assert anna.get("/api/cases/..%2F..%2Fetc").status_code == 404  # no route: 404 too, without the detail


def test_a_case_listing_shows_only_the_teams_cases(site: Site) -> None:
    own, foreign = make_case(site.store, "a", "empty"), make_case(site.store, "b", "empty", assessor="bo")
    listed = {c["id"] for c in site.client("anna").get("/api/cases").json()}
    assert own in listed and foreign not in listed
    assert foreign in {c["id"] for c in site.client("bo").get("/api/cases").json()}


# ---------------------------------------------------------------------- API3/API6: mass assignment


def _bodies(site: Site) -> dict[tuple[str, str], dict[str, Any]]:
    """One valid body per endpoint that takes one (``{aid}`` filled in with a fresh own case)."""
    from screening.fhir import questionnaire_response

    srv = site.app.state.server  # type: ignore[attr-defined]
    ci = srv.content.instrument(INSTRUMENT)
    result = site.client("sys").post("/api/score", json={"instrument": INSTRUMENT, "answers": all_no()}).json()
    return {
        ("POST", "/api/session"): {"name": "anna", "password": PASSWORD},
        ("POST", "/api/score"): {"instrument": INSTRUMENT, "answers": all_no()},
        ("POST", "/api/score/fhir"): questionnaire_response(ci, all_no()),
        ("POST", "/api/validate"): {"yaml": "id: x\n"},
        ("POST", "/api/report"): {"result": result},
        ("POST", "/api/cases"): {"instrument": INSTRUMENT},
        ("PUT", "/api/cases/{aid}/answers/{item_id}"): {"value": "yes"},
        ("PUT", "/api/cases/{aid}/facts/{name}"): {"value": 30},
        ("PUT", "/api/cases/{aid}/judgement"): {"level": "identified", "rationale": "seen"},
        ("POST", "/api/rescore/dry-run"): {},
    }


def _body_routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for path, methods in app.openapi()["paths"].items():
        for method, spec in methods.items():
            if path.startswith("/api/") and "requestBody" in spec:
                found.add((method.upper(), path))
    return found


@pytest.mark.parametrize("extra", [{"team": "b"}, {"assessor": "bo"}, {"status": "completed"},
                                   {"id": "0" * 32}, {"role": "admin"}])
def test_every_body_refuses_fields_it_does_not_take(site: Site, extra: dict[str, str]) -> None:
    bodies = _bodies(site)
    assert _body_routes(site.app) == set(bodies), "an endpoint with a body and no row here"
    lena = site.client("lena")
    for (method, template), body in bodies.items():
        if template == "/api/score/fhir":
            continue  # a FHIR resource is open by definition; what it may name is checked by the reader
        api = Api(site.loop, site.app) if template == "/api/session" else lena  # signing in changes the cookie
        aid = make_case(site.store, "a", "draft") if "{aid}" in template else ""
        before = snapshot(site.store)
        url = template.format(aid=aid, item_id="fear", name="age")
        response = api.request(method, url, json={**body, **extra})
        problem = _problem(response, 422, "request-invalid")
        assert next(iter(extra)) in problem["detail"], problem
        assert snapshot(site.store) == before, (method, template)
        assert api.request(method, url, json=body).status_code < 300, (method, template)


def test_a_new_case_belongs_to_the_signed_in_team_and_assessor(site: Site) -> None:
    created = site.client("anna").post("/api/cases", json={"instrument": INSTRUMENT}).json()
    with Store.open(site.store) as st:
        assert st.case_team(created["id"]) == "a"
        assert st.get(created["id"]).assessor == "anna"
    assert created["status"] == "draft" and created["revision"] == 1


# ---------------------------------------------------------------------- API4: unbounded input


def test_a_body_over_the_limit_is_413_by_length_and_while_streaming(site_factory: Callable[..., Site]) -> None:
    site = site_factory(max_body=4096)
    api = site.client("sys")
    big = json.dumps({"instrument": INSTRUMENT, "answers": {"fear": "x" * 5000}})
    for lang, title in (("sv", "Begäran är för stor"), ("en", "The request is too large")):
        response = api.post("/api/score", content=big, headers={"content-type": "application/json",
                                                                "accept-language": lang})
        assert _problem(response, 413, "too-large")["title"] == title
        assert response.headers["x-content-type-options"] == "nosniff"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1000

    streamed = api.post("/api/score", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    _problem(streamed, 413, "too-large")
    assert streamed.headers["cache-control"] == "no-store"

    async def small() -> AsyncIterator[bytes]:  # a chunked body under the limit still works
        yield json.dumps({"instrument": INSTRUMENT, "answers": all_no()}).encode()

    assert api.post("/api/score", content=small(), headers={"content-type": "application/json"}).status_code == 200


def test_too_many_answers_deep_nesting_and_long_parameters_are_4xx(site: Site) -> None:
    api = site.client("sys")
    many = {f"item{i}": "yes" for i in range(2001)}
    assert "answers" in _problem(api.post("/api/score", json={"instrument": INSTRUMENT, "answers": many}),
                                 422, "request-invalid")["detail"]
    deep = '{"instrument": "freda-kortfragor", "answers": {"fear": ' + "[" * 50_000 + "]" * 50_000 + "}}"
    response = api.post("/api/score", content=deep, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    deep_dict = '{"value": ' + '{"a": ' * 20_000 + "1" + "}" * 20_000 + "}"
    aid = make_case(site.store, "a", "empty")
    response = api.put(f"/api/cases/{aid}/answers/fear", content=deep_dict,
                       headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    fhir = ('{"resourceType": "QuestionnaireResponse", "questionnaire": "x", "item": '
            + '[{"linkId": "g", "item": ' * 3000 + "[]" + "}]" * 3000 + "}")
    response = api.post("/api/score/fhir", content=fhir, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    long = "x" * 50_000
    for url in (f"/api/cases?status={long}", f"/api/audit/access?case={long}",
                f"/api/instruments/{INSTRUMENT}?version={long}", f"/api/cases/{aid}/report?format={long}",
                f"/api/instruments/{long}"):
        who = site.client("greta") if "audit" in url else api
        response = who.get(url)
        assert 400 <= response.status_code < 500, (url[:60], response.text[:200])
        assert long not in response.text


def test_a_revision_number_beyond_any_case_is_422_not_500_or_409(site: Site) -> None:
    """Too big for SQLite's integer was a 500; ten or twelve digits made the audit trail refuse the read (409)."""
    anna = site.client("anna")
    aid = make_case(site.store, "a", "completed")
    for endpoint in ("answers", "result", "report"):
        for revision in (10**20, 2**63, 198001011234, 0):
            response = anna.get(f"/api/cases/{aid}/{endpoint}", params={"revision": revision})
            assert _problem(response, 422, "request-invalid")["detail"].startswith("query.revision"), revision
        assert anna.get(f"/api/cases/{aid}/{endpoint}", params={"revision": 1}).status_code == 200


# ---------------------------------------------------------------------- API2: authentication


def test_login_is_rate_limited_per_name_and_address(site_factory: Callable[..., Site]) -> None:
    site = site_factory(login_attempts=3)
    api = Api(site.loop, site.app, client=("10.0.0.7", 4000))
    for _ in range(3):
        _problem(api.login("anna", "wrong password!!"), 401, "unauthenticated")
    limited = api.login("anna", PASSWORD)  # the right password too: the guesser learns nothing
    _problem(limited, 429, "too-many-attempts")
    assert int(limited.headers["retry-after"]) > 0
    assert Api(site.loop, site.app, client=("10.0.0.7", 4001)).login("bo", PASSWORD).status_code == 200
    assert Api(site.loop, site.app, client=("10.0.0.8", 4000)).login("anna", PASSWORD).status_code == 200
    # a success resets the count
    other = Api(site.loop, site.app, client=("10.0.0.9", 4000))
    for _ in range(2):
        other.login("lena", "wrong password!!")
    assert other.login("lena", PASSWORD).status_code == 200
    for _ in range(2):
        other.login("lena", "wrong password!!")
    assert other.login("lena", PASSWORD).status_code == 200


def test_concurrent_guesses_do_not_get_past_the_limit(site_factory: Callable[..., Site]) -> None:
    """Every attempt counts from the moment it starts, not when its (slow) password check ends."""
    import asyncio

    import httpx

    site = site_factory(login_attempts=3)

    async def guess(i: int) -> int:
        transport = httpx.ASGITransport(app=site.app, client=("10.0.0.5", 6000 + i))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            return (await http.post("/api/session", json={"name": "nobody", "password": f"guess {i}"})).status_code

    async def all_at_once() -> list[int]:
        return await asyncio.gather(*(guess(i) for i in range(12)))

    statuses = site.loop.run(all_at_once())
    assert sorted(statuses) == [401] * 3 + [429] * 9, statuses


def _state_changing(app: Any) -> list[tuple[str, str]]:
    return sorted((m.upper(), p) for p, ms in app.openapi()["paths"].items() for m in ms
                  if p.startswith("/api/") and m.upper() not in ("GET", "HEAD", "OPTIONS")
                  and (m.upper(), p) != ("POST", "/api/session"))


def test_a_session_without_its_csrf_token_changes_nothing(site: Site) -> None:
    lena = site.client("lena")
    stolen = site.client("anna").csrf  # another session's token does not count either
    aid = make_case(site.store, "a", "completed")
    draft = make_case(site.store, "a", "draft")
    routes = _state_changing(site.app)
    assert len(routes) >= 10
    before = snapshot(site.store)
    for method, template in routes:
        url = template.format(aid=aid if "corrections" in template else draft, item_id="fear", name="age")
        for headers in ({}, {"X-CSRF-Token": "nope"}, {"X-CSRF-Token": stolen}):
            response = lena.request(method, url, csrf=False, json={}, headers=headers)
            _problem(response, 403, "csrf-failed")
    assert snapshot(site.store) == before
    assert lena.get("/api/me").status_code == 200  # the session itself is still good
    token = site.client("sys")  # a token has no cookie, so it needs no CSRF token
    assert token.post(f"/api/cases/{draft}/complete").status_code == 200


def test_security_headers_on_every_kind_of_response(site: Site) -> None:
    anna = site.client("anna")
    aid = make_case(site.store, "a", "completed")
    responses = [anna.get("/api/me"), anna.get("/api/nowhere"), anna.request("PATCH", "/api/cases"),
                 Api(site.loop, site.app).get("/api/cases"), anna.get(f"/api/cases/{aid}/report"),
                 anna.get(f"/api/cases/{aid}/report?format=md"), anna.put(f"/api/cases/{aid}/answers/fear",
                                                                           json={"value": "yes"}),
                 anna.post("/api/score", json={"instrument": INSTRUMENT}), anna.get("/openapi.json")]
    for response in responses:
        h = response.headers
        where = f"{response.request.method} {response.request.url.path} {response.status_code}"
        assert "default-src 'none'" in h["content-security-policy"], where
        assert "frame-ancestors 'none'" in h["content-security-policy"], where
        assert h["x-content-type-options"] == "nosniff", where
        assert h["x-frame-options"] == "DENY", where
        assert h["cache-control"] == "no-store", where
        assert h["strict-transport-security"].startswith("max-age="), where
        assert h["referrer-policy"] == "no-referrer", where


def test_the_session_cookie_is_secure_httponly_and_samesite_strict(site: Site) -> None:
    response = Api(site.loop, site.app).login("anna", PASSWORD)
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=strict"
    assert "csrf" not in cookie.lower()


def test_the_trusted_header_is_ignored_unless_configured_and_from_a_trusted_proxy(
        site: Site, site_factory: Callable[..., Site]) -> None:
    header = {"X-Remote-User": "anna"}
    _problem(Api(site.loop, site.app).get("/api/me", headers=header), 401, "unauthenticated")  # off by default
    trusting = site_factory(trust_header="X-Remote-User")
    proxied = Api(trusting.loop, trusting.app, client=("127.0.0.1", 5000)).get("/api/me", headers=header)
    assert proxied.status_code == 200 and proxied.json()["name"] == "anna" and proxied.json()["via"] == "header"
    direct = Api(trusting.loop, trusting.app, client=("203.0.113.5", 5000))
    _problem(direct.get("/api/me", headers=header), 401, "unauthenticated")
    from_proxy = Api(trusting.loop, trusting.app, client=("127.0.0.1", 5000))
    _problem(from_proxy.get("/api/me", headers={"X-Remote-User": "nobody"}), 401, "unauthenticated")
    with Store.open(trusting.store) as st:
        st.set_account("anna", disabled=True)
    _problem(from_proxy.get("/api/me", headers=header), 401, "unauthenticated")


def test_a_page_of_another_site_cannot_make_a_signed_on_browser_change_anything(
        site_factory: Callable[..., Site]) -> None:
    """The proxy's sign-on cookie goes along with a cross-site form post; there is no CSRF token to ask for."""
    trusting = site_factory(trust_header="X-Remote-User")
    api = Api(trusting.loop, trusting.app, client=("127.0.0.1", 5000))
    user = {"X-Remote-User": "anna"}
    before = snapshot(trusting.store)
    for browser in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}, {"Origin": "null"}):
        refused = api.post("/api/cases", json={"instrument": INSTRUMENT}, headers={**user, **browser})
        _problem(refused, 403, "csrf-failed")
    assert snapshot(trusting.store) == before
    assert api.get("/api/cases", headers={**user, "Sec-Fetch-Site": "cross-site"}).status_code == 200  # reads
    for own in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "https://testserver"}, {}):  # {}: a program
        assert api.post("/api/cases", json={"instrument": INSTRUMENT}, headers={**user, **own}).status_code == 201


def test_a_session_ended_by_signing_out_is_refused_afterwards(site: Site) -> None:
    anna = site.client("anna")
    cookie = anna.http.cookies.get("screening_session")
    assert cookie and anna.delete("/api/session").status_code == 204
    replay = Api(site.loop, site.app)
    replay.http.cookies.set("screening_session", cookie)
    _problem(replay.get("/api/me"), 401, "unauthenticated")
    _problem(Api(site.loop, site.app).get("/api/me", headers={"Authorization": f"Bearer {cookie}"}), 401)


def test_a_disabled_account_and_a_revoked_token_are_refused(site: Site) -> None:
    anna, sys = site.client("anna"), site.client("sys")
    assert anna.get("/api/me").status_code == sys.get("/api/me").status_code == 200
    with Store.open(site.store) as st:
        st.set_account("anna", disabled=True)
        st.revoke_token(st.tokens("sys")[0].id)
    _problem(anna.get("/api/me"), 401, "unauthenticated")
    _problem(Api(site.loop, site.app).login("anna", PASSWORD), 401, "unauthenticated")
    _problem(sys.get("/api/me"), 401, "unauthenticated")
    sysread = site.client("sysread")
    with Store.open(site.store) as st:
        st.set_account("sysread", disabled=True)  # a disabled system account's token stops working
    _problem(sysread.get("/api/me"), 401, "unauthenticated")


def test_text_answers_and_the_rationale_are_escaped_in_html_reports(site: Site) -> None:
    api = site.client("sys")
    markup = "<script>alert(1)</script><b onmouseover=x>"
    aid = api.post("/api/cases", json={"instrument": "patriark"}).json()["id"]
    for item in ("info_sources", "other_considerations"):
        assert api.put(f"/api/cases/{aid}/answers/{item}", json={"value": markup}).status_code == 200
    assert api.put(f"/api/cases/{aid}/judgement", json={"level": "low", "rationale": markup}).status_code == 200
    result = api.post(f"/api/cases/{aid}/complete")
    assert result.status_code == 200, result.text
    stored = api.get(f"/api/cases/{aid}/report", params={"format": "html"})
    rendered = api.post("/api/report", json={"result": result.json(), "format": "html"})
    for page in (stored, rendered):
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "&lt;script&gt;" in page.text
        assert "<script" not in page.text and "<b onmouseover" not in page.text
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


# ---------------------------------------------------------------------- no personal data in errors or logs


def _bad_requests(site: Site) -> list[tuple[Api, str, str, dict[str, Any]]]:
    """Requests that are refused and carry the canary (and a personnummer) in every place a client can put it."""
    anna, sys = site.client("anna"), site.client("sys")
    draft = make_case(site.store, "a", "draft")
    completed = make_case(site.store, "a", "completed")
    foreign = make_case(site.store, "b", "draft", assessor="bo")
    secret = f"{CANARY} {PNR}"
    return [
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": {"fear": secret}}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": {secret: "yes"}}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": {PNR: "yes"}}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": all_no(), secret: 1}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": all_no(), PNR: 1}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": all_no(),
                                              "judgement": {"level": "nonsense", "rationale": secret}}}),
        (sys, "POST", "/api/score", {"json": {"instrument": INSTRUMENT, "answers": all_no(),
                                              "facts": {"age": secret}}}),
        (sys, "POST", "/api/score", {"json": {"instrument": "patriark", "answers": {"info_sources": 5,
                                                                                   "other_considerations": [secret]}}}),
        (sys, "POST", "/api/score/fhir", {"json": {"resourceType": "QuestionnaireResponse", "questionnaire": secret,
                                                   "item": [{"linkId": "fear", "answer": [{"valueString": secret}]}]}}),
        (sys, "POST", "/api/report", {"json": {"result": {"instrument": secret, "answers": {"fear": secret}}}}),
        (sys, "POST", "/api/cases", {"json": {"instrument": INSTRUMENT, "case_ref": PNR}}),
        (sys, "POST", "/api/cases", {"json": {"instrument": INSTRUMENT, "case_ref": secret * 10}}),
        (anna, "PUT", f"/api/cases/{draft}/answers/fear", {"json": {"value": secret}}),
        (anna, "PUT", f"/api/cases/{draft}/answers/fear", {"json": {"value": {"name": secret}}}),
        (anna, "PUT", f"/api/cases/{draft}/answers/{PNR}", {"json": {"value": "yes"}}),
        (anna, "PUT", f"/api/cases/{draft}/facts/age", {"json": {"value": secret}}),
        (anna, "PUT", f"/api/cases/{draft}/facts/{PNR}", {"json": {"value": 3}}),
        (anna, "PUT", f"/api/cases/{draft}/judgement", {"json": {"level": "nonsense", "rationale": secret}}),
        (anna, "PUT", f"/api/cases/{draft}/judgement", {"json": {"level": "not_identified", "rationale": secret,
                                                                 "acknowledged": {secret: secret}}}),
        (anna, "PUT", f"/api/cases/{completed}/answers/fear", {"json": {"value": "yes"}}),
        (anna, "PUT", f"/api/cases/{foreign}/answers/fear", {"json": {"value": secret}}),
        (anna, "GET", f"/api/cases/{PNR}", {}),
        (anna, "GET", f"/api/cases?status={PNR}", {}),
        (site.client("greta"), "GET", f"/api/audit/access?case={PNR}", {}),
        (site.client("greta"), "GET", f"/api/audit/access?user={PNR}", {}),
        (Api(site.loop, site.app), "POST", "/api/session", {"json": {"name": PNR, "password": secret}}),
        (Api(site.loop, site.app), "GET", "/api/me", {"headers": {"Authorization": f"Bearer scr_{PNR}"}}),
    ]


def test_no_personal_data_in_any_error_or_log_record(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    requests = _bad_requests(site)
    caplog.set_level(logging.DEBUG)
    for api, method, url, kwargs in requests:
        response = api.request(method, url, **kwargs)
        where = f"{method} {url[:60]} {kwargs}"[:200]
        assert 400 <= response.status_code < 500, (where, response.text)
        for secret in (CANARY, "Kanarie", PNR, "19800101"):
            assert secret not in response.text, (where, response.text)
            assert secret not in str(response.headers), where
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))  # the test's client logs its URLs
    assert "Kanarie" not in logged and "19800101" not in logged


def test_a_text_answer_with_the_canary_is_scored_and_never_logged(site: Site,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = site.client("sys")
    response = api.post("/api/score", json={"instrument": "patriark", "answers": {"info_sources": CANARY}})
    assert response.status_code == 200, response.text
    aid = api.post("/api/cases", json={"instrument": "patriark"}).json()["id"]
    assert api.put(f"/api/cases/{aid}/answers/info_sources", json={"value": CANARY}).status_code == 200
    assert api.get(f"/api/cases/{aid}/answers").json()["answers"]["info_sources"] == CANARY
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert caplog.records and "Kanarie" not in logged


def test_one_address_trying_many_names_is_stopped_too(site_factory) -> None:
    """Per name the limit is login_attempts; per address ten times that, whatever the names."""
    site = site_factory(login_attempts=2)
    api = site.client()
    codes = [api.login(f"guess{n}", "wrong password!!").status_code for n in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    other = site.client(address="10.1.2.3")
    assert other.login("anna", "wrong password!!").status_code == 401  # another address is not affected


def test_the_case_list_is_paged(site) -> None:
    anna = site.client("anna")
    for n in range(3):
        assert anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": f"P-{n}"}).status_code == 201
    first = anna.get("/api/cases", params={"limit": 2}).json()
    rest = anna.get("/api/cases", params={"limit": 2, "offset": 2}).json()
    assert len(first) == 2 and len(rest) == 1
    assert {c["case_ref"] for c in first + rest} == {"P-0", "P-1", "P-2"}
    assert anna.get("/api/cases", params={"limit": 100_000}).status_code == 422
