"""Whole assessments of every bundled instrument through the case endpoints, and the FHIR round trip.

Each instrument is answered as a client would: in the order ``progress.next`` gives,
with a golden vector's answers (an item the vector leaves out is answered unknown),
case facts, the judgement (with acknowledgements of critical rules where the vector
has them), completion; the stored result must be exactly what ``screening.assess``
gives on the same answers, facts and judgement (only the time and assessor differ).
Then every report, a correction as revision 2 that keeps revision 1, and the
refusals of a completed or locked draft.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from screening.assessment import assess
from screening.content.loader import list_instruments, load_instrument

from .client import Api
from .conftest import Site

INSTRUMENTS = sorted({f.id for f in list_instruments(None)})
FORMATS = {"html": "text/html", "md": "text/markdown", "txt": "text/plain"}


def _vectors(instrument: str) -> list[Any]:
    """The first vector with a judgement (the first vector if none has one) and the first with acknowledgements."""
    tests = load_instrument(instrument).instrument.tests
    chosen = [next((t for t in tests if t.judgement is not None), tests[0])]
    chosen += [t for t in tests if t.judgement is not None and t.judgement.acknowledged][:1]
    return chosen


def _json(value: object) -> Any:
    return json.loads(json.dumps(value, default=str))  # dates in the YAML are date objects


def _fact_value(spec: Any) -> object:
    return {"bool": False, "int": 30}.get(spec.type, (spec.values or [None])[0])


def _assessed_at(result: dict[str, Any]) -> str:
    """The time the server stamped (the only thing ``assess`` cannot know; the assessor is passed)."""
    found = result.get("assessed_at") or result.get("meta", {}).get("assessed_at")
    assert isinstance(found, str), sorted(result)
    return found


def _answer_all(api: Api, aid: str, view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Answer in the order the server gives, until it says done; returns the last view."""
    for _ in range(500):
        item = view["progress"]["next"]
        if item is None:
            return view
        response = api.put(f"/api/cases/{aid}/answers/{item}", json={"value": _json(answers.get(item))})
        assert response.status_code == 200, (item, response.text)
        view = response.json()
    raise AssertionError("progress.next never ended")


def _case_flow(site: Site, api: Api, instrument: str, vector: Any) -> tuple[str, dict[str, Any]]:
    srv = site.app.state.server  # type: ignore[attr-defined]
    ci, rules = srv.content.instrument(instrument), srv.content.rules
    created = api.post("/api/cases", json={"instrument": instrument, "case_ref": f"T-{instrument}"})
    assert created.status_code == 201, created.text
    aid, view = created.json()["id"], created.json()
    facts: dict[str, object] = {}
    for name in view["progress"]["facts_to_ask"]:
        facts[name] = _fact_value(rules.ruleset.facts[name])
        assert api.put(f"/api/cases/{aid}/facts/{name}", json={"value": facts[name]}).status_code == 200
    view = _answer_all(api, aid, api.get(f"/api/cases/{aid}").json(), dict(vector.answers))
    assert view["progress"]["facts_to_ask"] == []
    assert set(view["progress"]["answered"]) == set(view["progress"]["shown"])
    stored = api.get(f"/api/cases/{aid}/answers").json()
    assert stored["facts"] == facts
    applicable = {k: v for k, v in stored["answers"].items() if k in view["progress"]["shown"]}
    judgement = vector.judgement
    if judgement is not None:
        body = {"level": judgement.level, "rationale": judgement.rationale,
                "acknowledged": dict(judgement.acknowledged)}
        judged = api.put(f"/api/cases/{aid}/judgement", json=body)
        assert judged.status_code == 200, judged.text
    completed = api.post(f"/api/cases/{aid}/complete")
    assert completed.status_code == 200, completed.text
    got = completed.json()
    expected = assess(ci, ci.check_answers(applicable), judgement=judgement, rules=rules, facts=facts or None,
                      assessor="anna", assessed_at=_assessed_at(got))
    assert got == json.loads(expected.to_json()), vector.name
    assert api.get(f"/api/cases/{aid}/result").json() == got
    return aid, got


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_a_whole_assessment_through_the_api_gives_the_library_result(site: Site, instrument: str) -> None:
    anna = site.client("anna")
    vectors = _vectors(instrument)
    aid, first = _case_flow(site, anna, instrument, vectors[0])
    for fmt, media in FORMATS.items():
        for lang in ("sv", "en"):
            for profile in ("case-file", "referral"):
                report = anna.get(f"/api/cases/{aid}/report", params={"format": fmt, "lang": lang,
                                                                      "profile": profile})
                assert report.status_code == 200, (fmt, lang, profile, report.text[:300])
                assert report.headers["content-type"].startswith(media)
                assert f"T-{instrument}" in report.text or profile == "referral"
    # answering a completed case is refused, and changes nothing
    answers = anna.get(f"/api/cases/{aid}/answers").json()["answers"]
    item, value = next((k, v) for k, v in answers.items() if v is not None)
    refused = anna.put(f"/api/cases/{aid}/answers/{item}", json={"value": None})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "urn:screening:problem:store-refused"
    assert anna.get(f"/api/cases/{aid}/answers").json()["answers"] == answers
    # a correction is revision 2 with the same answers; revision 1 keeps its result
    corrected = anna.post(f"/api/cases/{aid}/corrections")
    assert corrected.status_code == 201, corrected.text
    assert (corrected.json()["revision"], corrected.json()["status"]) == (2, "draft")
    assert anna.get(f"/api/cases/{aid}/answers", params={"revision": 2}).json()["answers"] == answers
    assert anna.put(f"/api/cases/{aid}/answers/{item}", json={"value": None}).status_code == 200
    assert anna.get(f"/api/cases/{aid}/answers", params={"revision": 2}).json()["answers"][item] is None
    assert anna.get(f"/api/cases/{aid}/result", params={"revision": 1}).json() == first
    assert anna.put(f"/api/cases/{aid}/answers/{item}", json={"value": value}).status_code == 200
    again = anna.post(f"/api/cases/{aid}/complete")  # the judgement came along; it still fits the answers
    assert again.status_code == 200, again.text
    assert again.json()["final_level"] == first["final_level"]
    assert anna.get(f"/api/cases/{aid}/result", params={"revision": 1}).json() == first
    assert anna.get(f"/api/cases/{aid}/answers", params={"revision": 1}).json()["answers"] == answers
    assert anna.get(f"/api/cases/{aid}").json()["revision"] == 2
    for vector in vectors[1:]:  # the acknowledgements of unknown critical rules
        _case_flow(site, anna, instrument, vector)


def test_a_draft_locked_by_another_process_is_refused_409(site: Site) -> None:
    anna = site.client("anna")
    aid = anna.post("/api/cases", json={"instrument": "freda-kortfragor"}).json()["id"]
    script = ("import sys; from screening.store import Store\n"
              "st = Store.open(sys.argv[1]); st.lock(sys.argv[2]); print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", script, str(site.store), aid],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = anna.put(f"/api/cases/{aid}/answers/fear", json={"value": "yes"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == "urn:screening:problem:draft-locked"
        assert anna.get(f"/api/cases/{aid}/answers").json()["answers"] == {}
        assert anna.post(f"/api/cases/{aid}/complete").status_code == 409
        assert anna.get(f"/api/cases/{aid}").json()["status"] == "draft"
    finally:
        holder.communicate("")  # end of stdin: the holder exits and its lock goes with it
    assert anna.put(f"/api/cases/{aid}/answers/fear", json={"value": "yes"}).status_code == 200


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_a_fhir_questionnaire_response_scores_as_the_same_answers_as_json(site: Site, instrument: str) -> None:
    from screening.fhir import questionnaire_response

    srv = site.app.state.server  # type: ignore[attr-defined]
    ci, rules = srv.content.instrument(instrument), srv.content.rules
    api = site.client("sys")
    facts = {"age": 30, "children_in_household": True, "gender": "woman"}
    for vector in load_instrument(instrument).instrument.tests[:4]:
        answers = _json(dict(vector.answers))
        as_json = api.post("/api/score", json={"instrument": instrument, "answers": answers, "facts": facts})
        assert as_json.status_code == 200, as_json.text
        resource = questionnaire_response(ci, ci.check_answers(answers), rules=rules, facts=facts)
        as_fhir = api.post("/api/score/fhir", json=resource)
        assert as_fhir.status_code == 200, as_fhir.text
        assert as_fhir.json() == as_json.json(), vector.name


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_the_fhir_questionnaire_validates_as_r4b(site: Site, instrument: str) -> None:
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from screening.fhir import questionnaire_response

    api = site.client("admin")
    for lang in ("sv", "en"):
        response = api.get(f"/api/instruments/{instrument}", params={"format": "fhir", "lang": lang})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+json")
        parsed = Questionnaire.model_validate(response.json())
        assert parsed.item and parsed.url
    ci = site.app.state.server.content.instrument(instrument)  # type: ignore[attr-defined]
    answers = _json(dict(ci.instrument.tests[0].answers))
    QuestionnaireResponse.model_validate(questionnaire_response(ci, ci.check_answers(answers)))
