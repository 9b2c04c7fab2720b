"""A team lead's dry-run re-score over HTTP: the team's cases listed, another team's never, nothing stored."""

from __future__ import annotations

from screening.store import Store

from .conftest import Site


def _completed(site: Site, name: str, ref: str) -> str:
    api = site.client(name)
    case = api.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": ref}).json()
    aid = case["id"]
    while True:
        view = api.get(f"/api/cases/{aid}").json()
        if view["progress"]["next"] is None:
            break
        assert api.put(f"/api/cases/{aid}/answers/{view['progress']['next']}", json={"value": "yes"}).status_code \
            == 200
    assert api.post(f"/api/cases/{aid}/complete").status_code == 200
    return aid


def test_a_team_lead_sees_the_counts_and_only_the_own_teams_changes(site: Site) -> None:
    own, other = _completed(site, "anna", "K-A"), _completed(site, "bo", "K-B")
    with Store.open(site.store) as st:
        before = st.connection.execute("SELECT count(*) FROM outcomes").fetchone()[0]
    response = site.client("lena").post("/api/rescore/dry-run", json={"rules": "none"})
    assert response.status_code == 200, response.text
    diff = response.json()
    assert diff["counts"]["total"] == 2 and not diff["applied"]
    listed = {e["id"] for entries in diff["changed"].values() for e in entries}
    assert other not in listed and "K-B" not in response.text
    assert listed == {own}, "the own case is listed (its referrals change without a rule set); the other is not"
    with Store.open(site.store) as st:  # a dry run stores nothing
        assert st.connection.execute("SELECT count(*) FROM outcomes").fetchone()[0] == before


def test_a_caseworker_may_not_re_score(site: Site) -> None:
    response = site.client("anna").post("/api/rescore/dry-run", json={})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:screening:problem:forbidden"
