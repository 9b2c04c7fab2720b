"""The authorisation matrix: every ``/api/`` endpoint × every role × own/other team's case, from ONE table.

The expected outcome is derived, never written per cell: ``screening.accounts.PERMISSIONS``
(narrowed by a system token's scopes) says what a role may do, ``ENDPOINTS`` says which
permission each endpoint needs and whether it touches a case, and the team rule says
another team's case is "not found". So:

* anonymous → 401 (except signing in, which is public);
* a case of another team (or of no team, for auditor/admin) → 404, the same as a missing case;
* a permission the role lacks → 403;
* otherwise 2xx.

Every allowed request on a case leaves one "allowed" access record of it. For every
refused request the store is unchanged (every table but the audit trail and
sessions, compared row by row) and an "access" record with outcome ``refused`` names
the signed-in account (and the case, when one was asked for).

The endpoints are enumerated from the app, so a new ``/api/`` endpoint without a row
here fails ``test_every_api_endpoint_has_a_row``. The web pages (``/web/…``) are left
out on purpose: their helper tests their own pages (tests/server/test_web*.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from screening.accounts import PERMISSIONS

from .client import Api, Loop
from .conftest import PASSWORD, make_store
from .states import INSTRUMENT, access_records, last_seq, make_case, snapshot

PUBLIC = "(public)"  # no sign-in needed
SIGNED_IN = "(signed in)"  # any account

#: who → (role, team, token scopes or None). ``None``: anonymous.
ROLES: dict[str, tuple[str, str | None, frozenset[str] | None] | None] = {
    "anna": ("caseworker", "a", None),
    "lena": ("team_lead", "a", None),
    "greta": ("auditor", None, None),
    "admin": ("admin", None, None),
    "sys": ("system", "a", PERMISSIONS["system"]),
    "sysread": ("system", "a", frozenset({"cases:read"})),
    "anonymous": None,
}


@dataclass(frozen=True)
class Endpoint:
    permission: str
    #: the case it needs: None (no case), or its state ("empty", "draft", "completed")
    case: str | None = None
    body: Callable[[dict[str, Any]], Any] | None = None
    query: dict[str, str] | None = None
    fresh_client: bool = False  # signs in or out: run on a client of its own


def _no_body(_: dict[str, Any]) -> None:
    return None


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("POST", "/api/session"): Endpoint(PUBLIC, body=lambda _: {"name": "anna", "password": PASSWORD},
                                       fresh_client=True),
    ("DELETE", "/api/session"): Endpoint(SIGNED_IN, fresh_client=True),
    ("GET", "/api/me"): Endpoint(SIGNED_IN),
    ("GET", "/api/instruments"): Endpoint("instruments:read"),
    ("GET", "/api/instruments/{instrument_id}"): Endpoint("instruments:read"),
    ("GET", "/api/rulesets"): Endpoint("instruments:read"),
    ("GET", "/api/rulesets/{ruleset_id}"): Endpoint("instruments:read"),
    ("POST", "/api/score"): Endpoint("score", body=lambda f: f["score"]),
    ("POST", "/api/score/fhir"): Endpoint("score", body=lambda f: f["fhir"]),
    ("POST", "/api/validate"): Endpoint("validate", body=lambda f: f["validate"]),
    ("POST", "/api/report"): Endpoint("report", body=lambda f: f["report"]),
    ("GET", "/api/cases"): Endpoint("cases:read"),
    ("POST", "/api/cases"): Endpoint("cases:write", body=lambda _: {"instrument": INSTRUMENT}),
    ("GET", "/api/cases/{aid}"): Endpoint("cases:read", "empty"),
    ("GET", "/api/cases/{aid}/answers"): Endpoint("cases:read", "draft"),
    ("PUT", "/api/cases/{aid}/answers/{item_id}"): Endpoint("cases:write", "empty",
                                                             body=lambda _: {"value": "yes"}),
    ("PUT", "/api/cases/{aid}/facts/{name}"): Endpoint("cases:write", "empty", body=lambda _: {"value": 30}),
    ("PUT", "/api/cases/{aid}/judgement"): Endpoint("cases:write", "draft", body=lambda _: {
        "level": "identified", "rationale": "observed injuries"}),
    ("DELETE", "/api/cases/{aid}/judgement"): Endpoint("cases:write", "draft"),
    ("POST", "/api/cases/{aid}/complete"): Endpoint("cases:write", "draft"),
    ("POST", "/api/cases/{aid}/corrections"): Endpoint("cases:write", "completed"),
    ("GET", "/api/cases/{aid}/result"): Endpoint("cases:read", "completed"),
    ("GET", "/api/cases/{aid}/report"): Endpoint("report", "completed", query={"format": "txt"}),
    ("DELETE", "/api/cases/{aid}"): Endpoint("cases:delete", "draft"),
    ("GET", "/api/audit/access"): Endpoint("audit:read", query={"user": "anna"}),
    ("POST", "/api/rescore/dry-run"): Endpoint("rescore", body=lambda _: {}),
}


def permissions_of(who: str) -> frozenset[str]:
    found = ROLES[who]
    assert found is not None
    role, _, scopes = found
    return PERMISSIONS[role] & scopes if scopes is not None else PERMISSIONS[role]


def expected(endpoint: Endpoint, who: str, case_team: str | None) -> int | None:
    """The refusal status ``who`` gets, or ``None`` when the request is allowed."""
    if endpoint.permission == PUBLIC:
        return None
    found = ROLES[who]
    if found is None:
        return 401
    if endpoint.case is not None and case_team != found[1]:
        return 404
    if endpoint.permission != SIGNED_IN and endpoint.permission not in permissions_of(who):
        return 403
    return None


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every ``/api/`` route of the app, however the routers are nested."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None) or getattr(route, "app", None)
            if getattr(route, "path", None) is not None and getattr(route, "methods", None):
                if route.path.startswith("/api/"):
                    found.update((m, route.path) for m in route.methods if m != "HEAD")
            elif inner is not None and hasattr(inner, "routes"):
                walk(inner.routes)

    walk(app.routes)
    for path, methods in app.openapi()["paths"].items():  # a second way in: what the API publishes
        if path.startswith("/api/"):
            found.update((m.upper(), path) for m in methods)
    return found


@dataclass
class Matrix:
    app: Any
    store: Path
    loop: Loop
    tokens: dict[str, str]
    clients: dict[str, Api]
    fixtures: dict[str, Any]

    def client(self, who: str, *, fresh: bool = False) -> Api:
        if not fresh:
            return self.clients[who]
        api = Api(self.loop, self.app)
        if who in self.tokens:
            api.token = self.tokens[who]
        elif ROLES[who] is not None:
            assert api.login(who, PASSWORD).status_code == 200
        return api


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    from screening.fhir import questionnaire_response
    from screening.server import ServerConfig, create_app
    from screening.store.crypto import reset_default_keyring

    from .states import all_no as answers

    path = tmp_path_factory.mktemp("authz") / "store.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCREENING_KEY_FILE", str(path.with_name("key")))
        reset_default_keyring()
        tokens = make_store(path)
        app = create_app(ServerConfig(store=path))
        loop = Loop()
        m = Matrix(app, path, loop, tokens, {}, {})
        for who, account in ROLES.items():
            m.clients[who] = Api(loop, app)
            if who in tokens:
                m.clients[who].token = tokens[who]
            elif account is not None:
                assert m.clients[who].login(who, PASSWORD).status_code == 200
        ci = app.state.server.content.instrument(INSTRUMENT)
        rules = app.state.server.content.rules
        score = {"instrument": INSTRUMENT, "answers": answers()}
        result = m.clients["anna"].post("/api/score", json=score)
        assert result.status_code == 200, result.text
        m.fixtures = {
            "score": score, "fhir": questionnaire_response(ci, answers()),
            "validate": {"yaml": _instrument_yaml(), "name": "freda-kortfragor.yaml"},
            "report": {"result": result.json(), "format": "txt"},
            "ruleset": rules.ruleset.id if rules is not None else "none",
        }
    yield m
    loop.close()
    reset_default_keyring()


@pytest.fixture(autouse=True)
def _matrix_key(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _private_user_dirs: None) -> None:
    """The module's store outlives one test: every test of it uses the store's key file."""
    from screening.store.crypto import reset_default_keyring

    if "matrix" in request.fixturenames:
        monkeypatch.setenv("SCREENING_KEY_FILE", str(request.getfixturevalue("matrix").store.with_name("key")))
        reset_default_keyring()


def _instrument_yaml() -> str:
    from screening.content.loader import list_instruments

    return next(f.path for f in list_instruments(None) if f.id == INSTRUMENT).read_text(encoding="utf-8")


def test_every_api_endpoint_has_a_row(matrix: Matrix) -> None:
    routes = api_routes(matrix.app)
    assert len(routes) >= 20  # the enumeration itself works
    assert routes == set(ENDPOINTS), (
        f"endpoints without a row: {sorted(routes - set(ENDPOINTS))}; rows without an endpoint: "
        f"{sorted(set(ENDPOINTS) - routes)}")


def test_the_table_is_not_trivial() -> None:
    """Every outcome occurs, so a matrix that expects only one thing cannot pass by accident."""
    seen = {expected(e, who, team) for e in ENDPOINTS.values() for who in ROLES for team in ("a", "b")}
    assert seen == {None, 401, 403, 404}


def _url(m: Matrix, method: str, template: str, endpoint: Endpoint, aid: str | None) -> str:
    return template.format(aid=aid, item_id="fear", name="age", instrument_id=INSTRUMENT,
                           ruleset_id=m.fixtures["ruleset"])


@pytest.mark.parametrize(("method", "template"), sorted(ENDPOINTS), ids=lambda v: str(v))
def test_matrix(matrix: Matrix, method: str, template: str) -> None:
    endpoint = ENDPOINTS[(method, template)]
    fresh: dict[str, str] = {}  # team → a case id not yet changed by an allowed write

    def case_of(team: str) -> str:
        if team not in fresh:
            assert endpoint.case is not None
            fresh[team] = make_case(matrix.store, team, endpoint.case, assessor="anna" if team == "a" else "bo")
        return fresh[team]

    failures: list[str] = []
    for who in ROLES:
        for team in ("a", "b") if endpoint.case else (None,):
            aid = case_of(team) if team else None
            want = expected(endpoint, who, team)
            api = matrix.client(who, fresh=endpoint.fresh_client)
            before, seq = snapshot(matrix.store), last_seq(matrix.store)
            body = (endpoint.body or _no_body)(matrix.fixtures)
            response: httpx.Response = api.request(method, _url(matrix, method, template, endpoint, aid),
                                                   params=endpoint.query,
                                                   **({"json": body} if body is not None else {}))
            cell = f"{who} {method} {template} (team {team}): {response.status_code}"
            if want is None:
                if not 200 <= response.status_code < 300:
                    failures.append(f"{cell}, expected 2xx: {response.text[:200]}")
                if aid is not None:
                    allowed = [r for r in access_records(matrix.store, who, after=seq) if r.assessment == aid]
                    if [r.outcome for r in allowed] != ["allowed"]:
                        failures.append(f"{cell}: not one allowed access record of the case ({allowed})")
                if method != "GET" and team is not None:
                    del fresh[team]  # an allowed write changed it
                continue
            if response.status_code != want:
                failures.append(f"{cell}, expected {want}: {response.text[:200]}")
                continue
            if response.headers.get("content-type") != "application/problem+json":
                failures.append(f"{cell}: not a problem+json")
            if snapshot(matrix.store) != before:
                failures.append(f"{cell}: the refused request changed the store")
            if want != 401:
                records = access_records(matrix.store, who, after=seq)
                if not records or records[-1].outcome != "refused":
                    failures.append(f"{cell}: no refused access record ({records})")
                elif aid is not None and records[-1].assessment != aid:
                    failures.append(f"{cell}: the refused record names {records[-1].assessment}, not the case")
    assert not failures, "\n".join(failures)


def test_a_missing_case_and_another_teams_case_look_the_same(matrix: Matrix) -> None:
    other = make_case(matrix.store, "b", "draft", assessor="bo")
    anna = matrix.clients["anna"]
    missing, foreign = anna.get("/api/cases/" + "0" * 32), anna.get(f"/api/cases/{other}")
    assert missing.status_code == foreign.status_code == 404
    assert missing.json() == foreign.json()
