"""The access log: every read and write of a case leaves an "access" record in the audit chain.

A record names the actor (the record's actor), and in its detail the role, team, what
was done, how the request signed in and from which address; its outcome is ``allowed``
or ``refused``. The records are part of the tamper-evident chain (``audit.verify``), the
auditor's endpoint filters them by case and by person, and reading them is itself
recorded (an "extract" record).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from screening.store import Store
from screening.store.audit import Record, verify

from .client import Api
from .conftest import PASSWORD, Site
from .states import INSTRUMENT, access_records, all_no, last_seq

ADDRESS = "192.0.2.17"


def _signed_in(site: Site, name: str) -> Api:
    api = Api(site.loop, site.app, client=(ADDRESS, 41000))
    assert api.login(name, PASSWORD).status_code == 200
    return api


def _one_access(site: Site, after: int, actor: str) -> Record:
    records = access_records(site.store, actor, after=after)
    assert len(records) == 1, [r.detail for r in records]
    return records[0]


def test_every_case_read_and_write_is_an_access_record_naming_who_what_and_where(site: Site) -> None:
    anna, lena = _signed_in(site, "anna"), _signed_in(site, "lena")
    created = anna.post("/api/cases", json={"instrument": INSTRUMENT, "case_ref": "K-77"})
    aid = created.json()["id"]
    seq = last_seq(site.store)
    steps: list[tuple[Api, str, str, dict[str, Any], str]] = [
        (anna, "PUT", f"/api/cases/{aid}/facts/age", {"json": {"value": 30}}, "set fact age"),
        *[(anna, "PUT", f"/api/cases/{aid}/answers/{item}", {"json": {"value": value}}, f"answer {item}")
          for item, value in list(all_no().items())[:3]],
        (anna, "GET", f"/api/cases/{aid}", {}, "read the case"),
        (anna, "GET", f"/api/cases/{aid}/answers", {}, "read the answers"),
        (anna, "PUT", f"/api/cases/{aid}/judgement", {"json": {"level": "identified", "rationale": "seen"}},
         "record the judgement"),
        (anna, "POST", f"/api/cases/{aid}/complete", {}, "complete the assessment"),
        (anna, "GET", f"/api/cases/{aid}/result", {}, "read the result"),
        (anna, "GET", f"/api/cases/{aid}/report", {"params": {"format": "md"}}, "report case-file md"),
        (anna, "POST", f"/api/cases/{aid}/corrections", {}, "start a correction"),
        (anna, "DELETE", f"/api/cases/{aid}/judgement", {}, "clear the judgement"),
        (lena, "DELETE", f"/api/cases/{aid}", {}, "delete the case"),
    ]
    for api, method, url, kwargs, what in steps:
        response = api.request(method, url, **kwargs)
        assert response.status_code < 300, (method, url, response.text)
        actor = "lena" if api is lena else "anna"
        record = _one_access(site, seq, actor)
        role = "team_lead" if actor == "lena" else "caseworker"
        assert record.detail == f"{what} by {role} of a via session from {ADDRESS}", record.detail
        assert (record.actor, record.assessment, record.case_ref, record.outcome) == (actor, aid, "K-77", "allowed")
        seq = record.seq
    # refused: another team's caseworker, and a role that may not
    bo = _signed_in(site, "bo")
    other = anna.post("/api/cases", json={"instrument": INSTRUMENT, "case_ref": "K-78"}).json()["id"]
    seq = last_seq(site.store)
    assert bo.get(f"/api/cases/{other}").status_code == 404
    record = _one_access(site, seq, "bo")
    assert (record.assessment, record.outcome) == (other, "refused")
    assert record.detail == f"read the case by caseworker of b via session from {ADDRESS}"
    assert anna.delete(f"/api/cases/{other}").status_code == 403
    record = _one_access(site, record.seq, "anna")
    assert (record.assessment, record.outcome, record.detail.split(" by ")[0]) == (other, "refused",
                                                                                   "delete the case")
    with Store.open(site.store) as st:
        checked = verify(st)
    assert checked.ok, checked.reason
    assert checked.count == last_seq(site.store)


def test_a_token_request_names_the_system_account_and_its_way_in(site: Site) -> None:
    api = site.client("sys", address=ADDRESS)
    aid = api.post("/api/cases", json={"instrument": INSTRUMENT}).json()["id"]
    seq = last_seq(site.store)
    assert api.get(f"/api/cases/{aid}").status_code == 200
    record = _one_access(site, seq, "sys")
    assert record.detail == f"read the case by system of a via token from {ADDRESS}"


@pytest.mark.parametrize(("sent", "recorded"), [("19800101-1234", "########-####"), ("a%0Ab", "a?b"),
                                                ("a%00b", "a?b"), ("a%E2%80%AEb", "a?b"), ("a%C2%85b", "a?b")])
def test_a_hostile_id_in_the_url_is_masked_in_the_record_not_left_unrecorded(site: Site, sent: str,
                                                                            recorded: str) -> None:
    """A personnummer or a control character in a URL id: the audit trail refused the record, and the request."""
    anna = site.client("anna")
    aid = anna.post("/api/cases", json={"instrument": INSTRUMENT}).json()["id"]
    foreign = site.client("bo").post("/api/cases", json={"instrument": INSTRUMENT}).json()["id"]
    for case, status, outcome in ((aid, 404, "allowed"), (foreign, 404, "refused")):
        for kind, what in (("answers", "answer"), ("facts", "set fact")):
            seq = last_seq(site.store)
            response = anna.put(f"/api/cases/{case}/{kind}/{sent}", json={"value": "yes"})
            assert response.status_code == status, response.text
            record = _one_access(site, seq, "anna")
            assert (record.assessment, record.outcome) == (case, outcome)
            assert record.detail.startswith(f"{what} {recorded} by caseworker"), record.detail


def test_the_auditor_filters_by_case_and_by_person_and_the_reading_is_logged(site: Site) -> None:
    anna, bo, greta = site.client("anna"), site.client("bo"), site.client("greta")
    a1 = anna.post("/api/cases", json={"instrument": INSTRUMENT, "case_ref": "A-1"}).json()["id"]
    anna.post("/api/cases", json={"instrument": INSTRUMENT, "case_ref": "A-2"})
    bo.post("/api/cases", json={"instrument": INSTRUMENT, "case_ref": "B-1"})
    assert anna.get(f"/api/cases/{a1}").status_code == 200
    assert bo.get(f"/api/cases/{a1}").status_code == 404

    by_case = greta.get("/api/audit/access", params={"case": "A-1"})
    assert by_case.status_code == 200, by_case.text
    rows = by_case.json()
    assert rows and {r["case"] for r in rows} == {"A-1"}
    assert [(r["actor"], r["outcome"]) for r in rows][-2:] == [("anna", "allowed"), ("bo", "refused")]

    by_user = greta.get("/api/audit/access", params={"user": "bo"}).json()
    assert by_user and {r["actor"] for r in by_user} == {"bo"}
    assert {r["case"] for r in by_user if r["case"]} == {"B-1", "A-1"}
    both = greta.get("/api/audit/access", params={"user": "bo", "case": "A-1"}).json()
    assert [(r["actor"], r["case"], r["outcome"]) for r in both] == [("bo", "A-1", "refused")]
    limited = greta.get("/api/audit/access", params={"user": "anna", "limit": 1}).json()
    assert len(limited) == 1

    conn = sqlite3.connect(f"file:{site.store}?mode=ro", uri=True)
    try:
        extracts = conn.execute("SELECT actor, case_ref, detail FROM audit WHERE action = 'extract'"
                                " ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert [(a, c) for a, c, _ in extracts] == [("greta", "A-1"), ("greta", None), ("greta", "A-1"),
                                                ("greta", None)]
    assert "access log" in extracts[0][2]
    assert greta.get("/api/audit/access").status_code == 422  # a case or a person, never everything
    bad_ref = greta.get("/api/audit/access", params={"case": "19800101-1234"})  # a question, not a store failure
    assert (bad_ref.status_code, bad_ref.json()["type"]) == (422, "urn:screening:problem:request-invalid")
    assert "19800101" not in bad_ref.text
    assert anna.get("/api/audit/access", params={"user": "bo"}).status_code == 403
    with Store.open(site.store) as st:
        assert verify(st).ok


def test_a_token_id_is_never_shaped_like_a_personnummer(site_factory: Callable[..., Site],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The id is named in the audit detail, which refuses a personnummer: one token in ~80 failed."""
    import types

    from screening.accounts import issue_token
    from screening.store import _accounts

    site = site_factory()
    drawn = iter(["198001011234", "800101123456", "0a1b2c3d4e5f"])
    monkeypatch.setattr(_accounts, "secrets", types.SimpleNamespace(token_hex=lambda n: next(drawn)))
    with Store.open(site.store) as st:
        issue_token(st, "sys")
        assert "0a1b2c3d4e5f" in [t.id for t in st.tokens("sys")]
