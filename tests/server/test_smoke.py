"""The server's first promises, end to end through the ASGI transport (the matrix is in test_authz.py)."""

from __future__ import annotations

from .conftest import Site


def test_a_caseworker_starts_a_case_and_an_answer_is_stored_before_the_reply(site: Site) -> None:
    anna = site.client("anna")
    created = anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": "K-1"})
    assert created.status_code == 201, created.text
    aid, first = created.json()["id"], created.json()["progress"]["next"]
    answered = anna.put(f"/api/cases/{aid}/answers/{first}", json={"value": "yes"})
    assert answered.status_code == 200, answered.text
    from screening.store import Store

    with Store.open(site.store) as st:  # another connection: the answer is committed
        assert st.answers(aid) == {first: "yes"}


def test_a_wrong_answer_is_a_problem_naming_the_item_and_allowed_values_not_the_value(site: Site) -> None:
    anna = site.client("anna")
    aid = anna.post("/api/cases", json={"instrument": "freda-kortfragor"}).json()["id"]
    response = anna.put(f"/api/cases/{aid}/answers/physical_past_year", json={"value": "Anna Svensson 19800101"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:screening:problem:answer-invalid"
    assert body["item_id"] == "physical_past_year" and "yes" in body["allowed"]
    assert "Anna" not in response.text and "19800101" not in response.text


def test_another_teams_case_is_not_found_and_the_refusal_is_logged(site: Site) -> None:
    anna = site.client("anna")
    aid = anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": "K-2"}).json()["id"]
    assert site.client("bo").get(f"/api/cases/{aid}").status_code == 404
    records = site.client("greta").get("/api/audit/access", params={"case": "K-2"}).json()
    assert [(r["actor"], r["outcome"]) for r in records][-1] == ("bo", "refused")


def test_the_server_keeps_its_promises_on_either_backend(site_factory, store_at) -> None:
    """The same flow on SQLite and on PostgreSQL (``store_at``: a file, or a fresh database's URL)."""
    from screening.store import Store
    from screening.store.audit import accesses, verify

    site = site_factory(store=store_at)
    anna = site.client("anna")
    created = anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": "K-9"})
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    while (step := anna.get(f"/api/cases/{aid}").json()["progress"]["next"]) is not None:
        assert anna.put(f"/api/cases/{aid}/answers/{step}", json={"value": "no"}).status_code == 200
    assert anna.post(f"/api/cases/{aid}/complete").status_code == 200
    assert anna.get(f"/api/cases/{aid}/report", params={"format": "txt"}).status_code == 200
    assert site.client("bo").get(f"/api/cases/{aid}").status_code == 404
    with Store.open(site.store) as st:
        assert st.get(aid).status == "completed"
        outcomes = [(r.actor, r.outcome) for r in accesses(st, case_ref="K-9")]
        assert ("anna", "allowed") in outcomes and ("bo", "refused") in outcomes
        assert verify(st).ok
