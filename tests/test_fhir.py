"""FHIR R4 (issue 16): every bundled instrument as a valid ``Questionnaire``; answers round-trip.

The R4B models of ``fhir.resources`` (a test-only dependency) are the judge of validity.
Round trips go through the real ``assess``: the same answers as JSON and as a
``QuestionnaireResponse`` must give the same result, unknowns included. ``enableWhen``
is checked against the engine itself: a small evaluator of FHIR's rules here must show
exactly the questions the engine asks, for random answer sets.
"""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import helpers
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import CompiledInstrument, assess, load_instrument, load_rules
from screening.engine.instrument import Item
from screening.errors import AnswerError
from screening.fhir import (
    ENABLE_WHEN_EXPRESSION,
    EXPRESSION_LANGUAGE,
    NO_ROWS,
    UNKNOWN_ANSWER,
    answers_from_response,
    canonical,
    facts_from_response,
    instrument_ref,
    questionnaire,
    questionnaire_response,
)
from screening.fhir._facts import facts_to_ask
from screening.referral import CompiledRuleSet

REPO = Path(__file__).resolve().parent.parent
BUNDLED = ["freda-beskrivning", "freda-farlighet", "freda-kortfragor", "hedersindikatorer", "patriark"]
SECRET = "Anna Svensson 19800101-1234"  # stands for personal data: it must never reach a message
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def compiled(ident: str) -> CompiledInstrument:
    return load_instrument(ident, REPO)


@functools.cache
def rules(ident: str) -> CompiledRuleSet:
    return load_rules(ident, REPO)


def walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for it in items:
        out.append(it)
        out.extend(walk(it.get("item", [])))
    return out


def q_items(q: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {it["linkId"]: it for it in walk(q["item"])}


def result(ci: CompiledInstrument, answers: dict[str, object], **kw: Any) -> dict[str, Any]:
    return assess(ci, answers, **kw).model_dump(mode="json")


def normal(ci: CompiledInstrument, answers: dict[str, object]) -> dict[str, object]:
    """What the engine keeps of ``answers``, with "asked, not known" (``None``) kept as ``None``."""
    clean = ci.check_answers(answers)
    return {key: clean.get(key) for key in answers}


# --------------------------------------------------------------------------- the Questionnaire


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("ident", BUNDLED)
def test_every_bundled_questionnaire_is_valid_fhir(ident: str, lang: str) -> None:
    ci = compiled(ident)
    for with_rules in (None, rules("stockholm"), rules("goteborg")):
        q: dict[str, Any] = questionnaire(ci, lang=lang, rules=with_rules)
        Questionnaire.model_validate(q)
        assert q["url"] == f"urn:screening:instrument:{ident}" and q["version"] == ci.instrument.version
        assert {"system": "urn:screening:instrument-sha256", "value": ci.sha256} in q["identifier"]
        links = [it["linkId"] for it in walk(q["item"])]
        assert len(links) == len(set(links)), "linkIds are unique"
        assert set(ci.items) <= set(links)


@pytest.mark.parametrize("ident", BUNDLED)
def test_texts_are_the_instruments_own_in_each_language_never_an_id(ident: str) -> None:
    ci = compiled(ident)
    ids = set(ci.items) | {f.id for i in ci.items.values() for f in i.fields or ()}
    ids |= {o.value for s in ci.instrument.scales.values() for o in s.options} | {s.id for s in ci.instrument.sections}
    expressions = {i.show_if for i in ci.items.values() if i.show_if}
    by_lang = {lang: q_items(questionnaire(ci, lang=lang, rules=rules("stockholm"))) for lang in ("sv", "en")}
    for lang, found in by_lang.items():
        for key, item in ci.items.items():
            assert found[key]["text"] == item.text.get(lang)
            if item.help is not None:
                assert found[f"{key}:help"]["text"] == item.help.get(lang)
            if item.type == "choice":
                options = ci.instrument.scales[item.scale or ""].options
                assert [o["valueCoding"]["display"] for o in found[key]["answerOption"]] == [
                    o.label.get(lang) for o in options
                ]
        for node in found.values():
            shown = [node.get("text")] + [o["valueCoding"]["display"] for o in node.get("answerOption", [])]
            for text in shown:
                assert text and text not in ids | expressions, (lang, node["linkId"], text)
    differ = [k for k in by_lang["sv"] if by_lang["sv"][k].get("text") != by_lang["en"][k].get("text")]
    assert len(differ) > len(ci.items) // 2, "the English questionnaire is in English"


@pytest.mark.parametrize("ident", BUNDLED)
def test_unknown_options_are_answer_options_marked_unknown_and_weights_are_the_points(ident: str) -> None:
    ci = compiled(ident)
    found = q_items(questionnaire(ci))
    for key, item in ci.items.items():
        if item.type != "choice":
            continue
        options = ci.instrument.scales[item.scale or ""].options
        for opt, fhir_opt in zip(options, found[key]["answerOption"], strict=True):
            assert fhir_opt["valueCoding"]["code"] == opt.value
            ext = {e["url"]: e for e in fhir_opt.get("extension", [])}
            assert (UNKNOWN_ANSWER in ext) == opt.unknown
            if ORDINAL in ext:
                assert ext[ORDINAL]["valueDecimal"] == opt.points
    summed = {key for s in ci.instrument.scores if s.kind == "sum" for key in _score_items(ci, s.id)}
    for key, node in found.items():
        weights = [e for o in node.get("answerOption", []) for e in o.get("extension", []) if e["url"] == ORDINAL]
        assert bool(weights) == (key in summed), key


def _score_items(ci: CompiledInstrument, score_id: str) -> set[str]:
    return {row[0] for sid, rows in ci.scores if sid == score_id for row in rows}


def test_the_weights_and_repeating_groups_show_where_the_instrument_has_them() -> None:
    found = q_items(questionnaire(compiled("freda-beskrivning")))
    options = [o for it in found.values() for o in it.get("answerOption", [])]
    weights = {e["valueDecimal"] for o in options for e in o.get("extension", []) if e["url"] == ORDINAL}
    assert weights == {0, 1, 2}, "the points of the sum scores"
    groups = [(ident, key) for ident in BUNDLED for key, i in compiled(ident).items.items() if i.type == "group"]
    assert groups, "some bundled instrument has a repeating group"
    for ident, key in groups:
        node = q_items(questionnaire(compiled(ident)))[key]
        assert node["type"] == "group" and node["repeats"] is True
        assert {c["linkId"] for c in node["item"] if c["type"] != "display"} == {
            f"{key}.{f.id}" for f in compiled(ident).items[key].fields or ()
        }


@pytest.mark.parametrize("ident", BUNDLED)
def test_no_condition_is_dropped(ident: str) -> None:
    ci = compiled(ident)
    found = q_items(questionnaire(ci))
    for key, item in ci.items.items():
        node = found[key]
        if not item.show_if:
            assert "enableWhen" not in node
            continue
        exprs = [e["valueExpression"] for e in node.get("extension", []) if e["url"] == ENABLE_WHEN_EXPRESSION]
        assert ("enableWhen" in node) != bool(exprs), key
        if exprs:
            assert exprs == [{**exprs[0], "language": EXPRESSION_LANGUAGE, "expression": item.show_if}]
        elif len(node["enableWhen"]) > 1:
            assert node["enableBehavior"] in ("any", "all")


def test_the_translations_found_in_the_bundled_instruments() -> None:
    """A reader's check of the rules in ``_questionnaire``: unknown always keeps a question asked."""
    heder = q_items(questionnaire(compiled("hedersindikatorer")))
    assert heder["preschool_restrictions"]["enableBehavior"] == "any"
    assert heder["preschool_restrictions"]["enableWhen"] == [
        {"question": "age", "operator": "<=", "answerInteger": 6},
        {"question": "age", "operator": "exists", "answerBoolean": False},
    ]
    # "age >= 6 and age <= 20" would need (a or b) and (c or b): carried as the expression.
    assert "enableWhen" not in heder["school_absence"]
    kort = q_items(questionnaire(compiled("freda-kortfragor")))
    system = "urn:screening:instrument:freda-kortfragor:answer"
    assert kort["children_witnessed"]["enableWhen"] == [
        {"question": "has_children", "operator": "!=", "answerCoding": {"system": system, "code": "no"}}
    ]
    any_of = kort["current_contact"]["enableWhen"]
    assert kort["current_contact"]["enableBehavior"] == "any"
    assert {"question": "fear", "operator": "exists", "answerBoolean": False} in any_of


def _enabled(node: dict[str, Any], answers: Mapping[str, Any]) -> bool:
    """FHIR R4's enableWhen rules, over our answer values (a code or an int)."""
    def holds(atom: dict[str, Any]) -> bool:
        value: Any = answers.get(atom["question"])
        want: Any = atom.get("answerCoding", {}).get("code", atom.get("answerInteger"))
        op = atom["operator"]
        if op == "exists":
            return (value is not None) is atom["answerBoolean"]
        if op == "!=":
            return bool(value != want)  # true without an answer too
        if value is None:
            return False
        return bool({"=": value == want, "<": value < want, "<=": value <= want,
                     ">": value > want, ">=": value >= want}[op])

    results = [holds(a) for a in node["enableWhen"]]
    return any(results) if node.get("enableBehavior", "all") == "any" else all(results)


# --------------------------------------------------------------------------- random answer sets


def _date() -> st.SearchStrategy[str]:
    days = st.dates(datetime.date(1950, 1, 1), datetime.date(2030, 12, 31))
    return st.one_of(days.map(lambda d: d.isoformat()), days.map(lambda d: d.isoformat()[:7]),
                     days.map(lambda d: str(d.year)))


_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö ABCÅÄÖ-", min_size=1, max_size=30).map(str.strip).filter(bool)


def _value(ci: CompiledInstrument, item: Item) -> st.SearchStrategy[object]:
    if item.type == "choice":
        return st.sampled_from([o.value for o in ci.instrument.scales[item.scale or ""].options])
    if item.type == "number":
        return st.integers(item.min, item.max)
    if item.type == "date":
        return _date()
    if item.type == "text":
        return st.one_of(_TEXT, st.just("   "))
    row = st.fixed_dictionaries({}, optional={f.id: st.one_of(st.none(), _value(ci, f)) for f in item.fields or ()})
    return st.lists(row, max_size=3)


def answer_sets(ci: CompiledInstrument) -> st.SearchStrategy[dict[str, object]]:
    """Any subset of the items, each answered, unknown (an unknown option or ``None``) or left out."""
    return st.fixed_dictionaries(
        {}, optional={key: st.one_of(st.none(), _value(ci, item)) for key, item in ci.items.items()}
    )


def fact_sets(ci: CompiledInstrument, rs: CompiledRuleSet) -> st.SearchStrategy[dict[str, object]]:
    def value(name: str) -> st.SearchStrategy[object]:
        spec = rs.ruleset.facts[name]
        if spec.type == "bool":
            return st.booleans()
        if spec.type == "int":
            return st.integers(spec.min, spec.max)
        return st.sampled_from(spec.values or [])

    return st.fixed_dictionaries({}, optional={n: st.one_of(st.none(), value(n)) for n in facts_to_ask(ci, rs)})


@pytest.mark.parametrize("ident", BUNDLED)
def test_random_answers_round_trip_to_the_same_answers_and_result(ident: str) -> None:
    ci = compiled(ident)

    @SOME
    @given(answer_sets(ci), st.sampled_from(["sv", "en"]))
    def check(answers: dict[str, object], lang: str) -> None:
        qr = questionnaire_response(ci, answers, lang=lang)
        QuestionnaireResponse.model_validate(qr)
        back = answers_from_response(ci, qr)
        assert back == normal(ci, answers)
        assert result(ci, back) == result(ci, answers)

    check()


@pytest.mark.parametrize("ident", BUNDLED)
def test_enable_when_asks_exactly_what_the_engine_asks(ident: str) -> None:
    ci = compiled(ident)
    found = q_items(questionnaire(ci))
    gated = [key for key in ci.items if "enableWhen" in found[key]]

    @SOME
    @given(answer_sets(ci))
    def check(answers: dict[str, object]) -> None:
        clean = ci.check_answers(answers)
        skipped = set(ci.evaluate(clean).skipped_items)
        for key in gated:
            assert _enabled(found[key], clean) == (key not in skipped), key

    if gated:
        check()


@pytest.mark.parametrize("ident", BUNDLED)
def test_case_facts_round_trip_and_score_the_same(ident: str) -> None:
    ci, rs = compiled(ident), rules("stockholm")
    q: dict[str, Any] = questionnaire(ci, rules=rs)
    asked = {it["linkId"] for it in walk(q["item"][0]["item"]) if it["type"] != "display"}
    assert asked == {f"fact:{n}" for n in facts_to_ask(ci, rs)}

    @SOME
    @given(answer_sets(ci), fact_sets(ci, rs))
    def check(answers: dict[str, object], facts: dict[str, object]) -> None:
        qr = questionnaire_response(ci, answers, rules=rs, facts=facts)
        QuestionnaireResponse.model_validate(qr)
        assert facts_from_response(ci, rs, qr) == facts
        assert answers_from_response(ci, qr) == normal(ci, answers)
        assert result(ci, answers, rules=rs, facts=facts) == result(
            ci, answers_from_response(ci, qr), rules=rs, facts=facts_from_response(ci, rs, qr)
        )

    check()


# --------------------------------------------------------------------------- golden vectors


@pytest.mark.parametrize("ident", BUNDLED)
def test_golden_vectors_round_trip_unchanged(ident: str) -> None:
    ci = compiled(ident)
    assert ci.instrument.tests
    for vector in ci.instrument.tests:
        for lang in ("sv", "en"):
            qr = questionnaire_response(ci, vector.answers, lang=lang)
            QuestionnaireResponse.model_validate(qr)
            back = answers_from_response(ci, qr)
            assert back == vector.answers, vector.name
            judged = vector.judgement
            assert result(ci, back, judgement=judged) == result(ci, vector.answers, judgement=judged)


def test_unknown_is_an_answer_of_its_own_never_no() -> None:
    ci = compiled("hedersindikatorer")
    qr: dict[str, Any] = questionnaire_response(ci, {"age": None})
    nodes = {n["linkId"]: n for n in walk(qr["item"])}
    assert "answer" not in nodes["age"]
    assert nodes["age"]["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "asked-unknown"}
    ]
    assert answers_from_response(ci, qr)["age"] is None
    group = next((key, i) for ident in BUNDLED for key, i in compiled(ident).items.items() if i.type == "group")
    gci = next(compiled(ident) for ident in BUNDLED if group[0] in compiled(ident).items)
    value: list[object] | None
    for value in ([], None):
        qr = questionnaire_response(gci, {group[0]: value})
        assert answers_from_response(gci, qr) == {group[0]: value}
    assert NO_ROWS in str(questionnaire_response(gci, {group[0]: []}))


# --------------------------------------------------------------------------- hostile input


def _base() -> tuple[CompiledInstrument, dict[str, Any]]:
    ci = compiled("freda-kortfragor")
    return ci, questionnaire_response(ci, ci.instrument.tests[0].answers)


def _first_question(qr: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in walk(qr["item"]) if "answer" in n)


def _refused(ci: CompiledInstrument, qr: object, where: str) -> AnswerError:
    with pytest.raises(AnswerError) as info:
        answers_from_response(ci, qr)  # type: ignore[arg-type]
    assert info.value.item_id == where
    assert "Anna" not in str(info.value) and "19800101" not in str(info.value)
    return info.value


def test_the_wrong_resource_or_questionnaire_is_refused() -> None:
    ci, qr = _base()
    _refused(ci, [qr], "resourceType")
    _refused(ci, {**qr, "resourceType": "Questionnaire"}, "resourceType")
    _refused(ci, {**qr, "questionnaire": canonical(compiled("freda-beskrivning"))}, "questionnaire")
    _refused(ci, {**qr, "questionnaire": "urn:screening:instrument:freda-kortfragor|0.9.0"}, "questionnaire")
    missing = {k: v for k, v in qr.items() if k != "questionnaire"}
    err = _refused(ci, missing, "questionnaire")
    assert canonical(ci) in err.allowed


def test_unknown_link_ids_are_named_only_when_they_look_like_ids() -> None:
    ci, qr = _base()
    bad = copy.deepcopy(qr)
    _first_question(bad)["linkId"] = "physical_past_yaer"
    err = _refused(ci, bad, "physical_past_yaer")
    assert "did you mean 'physical_past_year'" in str(err)
    bad = copy.deepcopy(qr)
    _first_question(bad)["linkId"] = SECRET
    _refused(ci, bad, "(a linkId that is not an item id)")
    bad = copy.deepcopy(qr)
    bad["item"][0]["linkId"] = "section:nope"
    _refused(ci, bad, "section:nope")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"valueString": SECRET}, "valueCoding"),
        ({"valueCoding": {"system": "urn:other", "code": "yes"}}, "code of"),
        ({"valueCoding": {"code": SECRET}}, "not allowed"),
        ({"valueCoding": SECRET}, "code of"),
        ({"valueCoding": {"code": "yes"}, "valueString": SECRET}, "valueCoding"),
        (SECRET, "valueCoding"),
    ],
)
def test_values_of_the_wrong_type_or_outside_the_scale_are_refused(answer: object, reason: str) -> None:
    ci, qr = _base()
    bad = copy.deepcopy(qr)
    node = _first_question(bad)
    node["answer"] = [answer]
    err = _refused(ci, bad, node["linkId"])
    assert reason in str(err) and "yes" in err.allowed


def test_numbers_dates_and_texts_are_type_checked_without_quoting_them() -> None:
    ci = compiled("hedersindikatorer")
    wrong: list[dict[str, object]] = [
        {"valueInteger": True}, {"valueInteger": 121}, {"valueString": "19800101-1234"}, {"valueDecimal": 34.5}
    ]
    for value in wrong:
        qr = questionnaire_response(ci, {"age": 34})
        _first_question(qr)["answer"] = [value]
        _refused(ci, qr, "age")
    def row(group: str, field: str, value: dict[str, object]) -> dict[str, object]:
        return {"linkId": group, "item": [{"linkId": f"{group}.{field}", "answer": [value]}]}

    farlighet, patriark = compiled("freda-farlighet"), compiled("patriark")
    cases: list[tuple[CompiledInstrument, dict[str, object], str]] = [
        (farlighet, row("calendar", "date", {"valueDate": "1980-13-45"}), "calendar[0].date"),
        (farlighet, row("calendar", "date", {"valueString": "1980-01-01"}), "calendar[0].date"),
        (farlighet, row("calendar", "severity", {"valueInteger": 10**9}), "calendar[0].severity"),
        (patriark, row("perpetrators", "pseudonym", {"valueString": SECRET}), "perpetrators[0].pseudonym"),
        (patriark, {"linkId": "info_sources", "answer": [{"valueString": "x" * 20_001}]}, "info_sources"),
        (patriark, {"linkId": "info_sources", "answer": [{"valueInteger": 1}]}, "info_sources"),
    ]
    for c, node, where in cases:
        qr = {"resourceType": "QuestionnaireResponse", "questionnaire": canonical(c), "item": [node]}
        _refused(c, qr, where)


def test_two_answers_or_an_item_twice_are_refused() -> None:
    ci, qr = _base()
    bad = copy.deepcopy(qr)
    node = _first_question(bad)
    node["answer"] = node["answer"] * 2
    _refused(ci, bad, node["linkId"])
    bad = copy.deepcopy(qr)
    bad["item"].append({"linkId": _first_question(bad)["linkId"], "answer": _first_question(bad)["answer"]})
    _refused(ci, bad, _first_question(bad)["linkId"])


def test_group_rows_are_checked_field_by_field() -> None:
    ident, key = next((i, k) for i in BUNDLED for k, it in compiled(i).items.items() if it.type == "group")
    ci = compiled(ident)
    fields = ci.items[key].fields or []
    qr = {"resourceType": "QuestionnaireResponse", "questionnaire": canonical(ci),
          "item": [{"linkId": key, "item": [{"linkId": f"{key}.nope", "answer": [{"valueString": "x"}]}]}]}
    err = _refused(ci, qr, f"{key}[0].{key}.nope".replace(f"[0].{key}.", "[0]."))
    assert f"{key}.{fields[0].id}" in err.allowed
    qr["item"] = [{"linkId": key, "extension": [{"url": NO_ROWS, "valueBoolean": True}]}, {"linkId": key}]
    _refused(ci, qr, key)
    qr["item"] = [{"linkId": key, "answer": [{"valueString": "x"}]}]
    _refused(ci, qr, f"{key}[0]")


def test_deep_or_huge_input_is_refused_with_a_located_error() -> None:
    ci, qr = _base()
    node: dict[str, Any] = {"linkId": "physical_past_year"}
    for _ in range(50_000):  # far past Python's recursion limit: no RecursionError
        node = {"linkId": "section:violence", "item": [node]}
    err = _refused(ci, {**qr, "item": [node]}, "item")
    assert "deep" in str(err)
    err = _refused(ci, {**qr, "item": [{"linkId": "physical_past_year"}] * 60_000}, "item")
    assert "more than" in str(err)
    junk: object
    for junk in ("not a list", [SECRET], [{"answer": []}], {"linkId": "x"}):
        _refused(ci, {**qr, "item": junk}, "item")


def test_bad_case_facts_are_refused_without_their_value() -> None:
    ci, rs = compiled("freda-kortfragor"), rules("stockholm")
    qr: dict[str, Any] = questionnaire_response(ci, {}, rules=rs, facts={"immediate_danger": True, "age": 34})
    assert facts_from_response(ci, rs, qr) == {"immediate_danger": True, "age": 34}
    for link, answer, where in [
        ("fact:immediate_danger", {"valueString": SECRET}, "fact:immediate_danger"),
        ("fact:immediate_danger", {"valueBoolean": 1}, "fact:immediate_danger"),
        ("fact:age", {"valueInteger": 400}, "age"),
        ("fact:nope", {"valueBoolean": True}, "fact:nope"),
        (SECRET, {"valueBoolean": True}, "(a linkId that is not an item id)"),
    ]:
        bad = copy.deepcopy(qr)
        bad["item"][0]["item"] = [{"linkId": link, "answer": [answer]}]
        with pytest.raises(AnswerError) as info:
            facts_from_response(ci, rs, bad)
        assert info.value.item_id == where and "Anna" not in str(info.value) and "400" not in str(info.value)
    with pytest.raises(AnswerError):
        questionnaire_response(ci, {}, facts={"immediate_danger": True})


# --------------------------------------------------------------------------- every shape of condition

CONDITIONS = {
    "eq": ("a == 'yes'", True),
    "ne": ("a != 'no'", True),
    "in": ("a in ['yes', 'no']", True),
    "not_in_one": ("a not in ['no']", True),
    "not_in_two": ("a not in ['no', 'yes']", False),
    "gt": ("n > 5", True),
    "num_eq": ("n == 3", True),
    "num_ne": ("n != 3", True),
    "or": ("a == 'yes' or n < 10", True),
    "and_single": ("a != 'no' and b != 'no'", True),
    "any_of": ("any_of(['yes', 'no'], a, b)", True),
    "and_double": ("a == 'yes' and b == 'yes'", False),
    "not": ("not a == 'yes'", False),
    "count": ("count('yes', a, b) >= 1", False),
    "gated_gate": ("g_eq == 'yes'", False),
}


def synthetic() -> CompiledInstrument:
    words = helpers.text
    number = {"id": "n", "type": "number", "min": 0, "max": 100, "text": words("Antal")}
    items = [helpers.item("a"), helpers.item("b"), number]
    items += [helpers.item(f"g_{name}", show_if=cond) for name, (cond, _) in CONDITIONS.items()]
    scores = [{"id": "total", "label": words("Antal ja"), "kind": "count", "values": ["yes"], "items": ["a", "b"]}]
    sections = [{"id": "main", "title": words("Frågor"), "items": items}]
    return helpers.compile_data(helpers.build_instrument(sections=sections, scores=scores))


def test_each_shape_of_condition_is_translated_exactly_or_carried_whole() -> None:
    ci = synthetic()
    found = q_items(questionnaire(ci))
    Questionnaire.model_validate(questionnaire(ci))
    for name, (cond, exact) in CONDITIONS.items():
        node = found[f"g_{name}"]
        assert ("enableWhen" in node) == exact, name
        if not exact:
            assert node["extension"][0]["valueExpression"]["expression"] == cond
    choices = ["yes", "no", "unknown", None]
    for a in choices:
        for b in choices:
            for n in (None, 0, 3, 5, 6, 9, 10, 100):
                answers = {k: v for k, v in {"a": a, "b": b, "n": n}.items() if v is not None}
                skipped = set(ci.evaluate(ci.check_answers(answers)).skipped_items)
                for name, (_, exact) in CONDITIONS.items():
                    if exact:
                        assert _enabled(found[f"g_{name}"], answers) == (f"g_{name}" not in skipped), (name, answers)


def test_a_response_names_the_instrument_and_version_it_answers() -> None:
    for ident in BUNDLED:
        ci = compiled(ident)
        qr = questionnaire_response(ci, {})
        assert instrument_ref(qr) == (ident, ci.instrument.version)
        assert load_instrument(f"{ident}@{instrument_ref(qr)[1]}", REPO).sha256 == ci.sha256
    for bad, where in [
        ({"resourceType": "Questionnaire"}, "resourceType"),
        ("QuestionnaireResponse", "resourceType"),
        ({"resourceType": "QuestionnaireResponse"}, "questionnaire"),
        ({"resourceType": "QuestionnaireResponse", "questionnaire": "urn:screening:instrument:patriark"},
         "questionnaire"),
        ({"resourceType": "QuestionnaireResponse", "questionnaire": f"urn:screening:instrument:{SECRET}|1.0.0"},
         "questionnaire"),
        ({"resourceType": "QuestionnaireResponse", "questionnaire": ["urn:screening:instrument:patriark|1.0.0"]},
         "questionnaire"),
        ({"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/Questionnaire/x|1.0.0"},
         "questionnaire"),
    ]:
        with pytest.raises(AnswerError) as info:
            instrument_ref(bad)
        assert info.value.item_id == where and "Anna" not in str(info.value)
