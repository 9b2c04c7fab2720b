"""The safety net of issue 12: minors, threats to children, unknown critical items under
professional judgement, "incomplete is incomplete", PATRIARK scenarios and the acute tier
of the honour indicators.

Two halves. Properties over every bundled instrument × both bundled rule sets × random
answers and case facts (unknown included); then one concrete test per case the review saw
("Seen" in the issue), each of which failed before the fix.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from screening import JudgementError, JudgementInput, assess, list_instruments, load_instrument
from screening.content.rules_loader import load_rules
from screening.engine.expr import UNKNOWN
from screening.engine.instrument import Text
from screening.referral._evaluate import Recommendation
from screening.referral._safety import apply_safety_rules
from screening.report._render import render_report

RULESETS = ("stockholm", "goteborg")
INSTRUMENTS = sorted({f.id for f in list_instruments()})
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WHY = "Samlad bedömning av underlaget."


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    return {name: load_rules(name) for name in RULESETS}


_COMPILED: dict[str, Any] = {}


def compiled(instrument: str) -> Any:
    """The bundled instrument, loaded once per test session (a property runs it many times)."""
    if instrument not in _COMPILED:
        _COMPILED[instrument] = load_instrument(instrument)
    return _COMPILED[instrument]


def neutral(ci: Any) -> dict[str, object]:
    """Every question answered with a known zero-point option; every repeating group known to be empty."""
    answers: dict[str, object] = {}
    for item in ci.items.values():
        if item.type == "choice":
            scale = ci.instrument.scales[item.scale]
            answers[item.id] = next(o.value for o in scale.options if not o.unknown and o.points == 0)
        elif item.type == "group":
            answers[item.id] = []
    return answers


def services(result: Any) -> list[str]:
    return [r.service for r in result.referrals]


def codes(result: Any) -> list[str]:
    return [w.code for w in result.warnings]


def roles(result: Any, crs: Any) -> set[str]:
    return {crs.catalogue.services[s].role for s in services(result)}


# --------------------------------------------------------------------------- strategies


def _value(ci: Any, item: Any, *, known: bool = False) -> st.SearchStrategy[object]:
    """A valid answer for ``item`` (a top-level item or a group field); ``None`` is unanswered."""
    if item.type == "choice":
        options = ci.instrument.scales[item.scale].options
        values = [o.value for o in options if not (known and o.unknown)]
        return st.sampled_from(values) if known else st.sampled_from([*values, None])
    if item.type == "number":
        lo = item.min if item.min is not None else 0
        hi = item.max if item.max is not None else 10
        # ages near the limits that matter (13, 18, 26) come up often
        near = [v for v in (6, 12, 13, 16, 17, 18, 26, 27, 40) if lo <= v <= hi]
        numbers = st.one_of(st.sampled_from(near), st.integers(lo, hi)) if near else st.integers(lo, hi)
        return numbers if known else st.one_of(st.none(), numbers)
    if item.type == "date":
        dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2025, 12, 31)).map(str)
        return dates if known else st.one_of(st.none(), dates)
    if item.type == "text":
        return st.just("F1") if known else st.sampled_from(["F1", None])
    if item.type == "group":
        row = st.fixed_dictionaries({f.id: _value(ci, f, known=True) for f in item.fields or ()})
        rows = st.lists(row, max_size=2)
        return rows if known else st.one_of(st.none(), rows)
    raise AssertionError(item.type)


def answer_sets(ci: Any) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({key: _value(ci, item) for key, item in ci.items.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )


def fact_sets(crs: Any) -> st.SearchStrategy[dict[str, object]]:
    fields: dict[str, st.SearchStrategy[object]] = {}
    for name, spec in crs.ruleset.facts.items():
        if spec.type == "bool":
            fields[name] = st.sampled_from([True, False, None])
        elif spec.type == "int":
            fields[name] = st.sampled_from([None, 9, 13, 15, 16, 17, 18, 19, 26, 30, 45])
        else:
            fields[name] = st.sampled_from([None, *(spec.values or ())])
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _disclosed(ci: Any, crs: Any, answers: dict[str, object], facts: dict[str, object]) -> bool:
    """Whether the rule set's own "violence disclosed" condition holds or may hold."""
    env = dict(ci.evaluate(ci.check_answers(answers)).env)
    for name in crs.ruleset.facts:
        if name in facts:
            env[name] = facts[name]
        env.setdefault(name, UNKNOWN)
    values = [t.violence.fn(env) for t in crs.tables_for(ci) if t.violence is not None]
    return any(v is True or v is UNKNOWN for v in values)


def _age(ci: Any, answers: dict[str, object], facts: dict[str, object]) -> object:
    if "age" in facts:
        return facts["age"]
    return answers.get("age") if "age" in ci.items else None


def _judgement(ci: Any, data: st.DataObject) -> JudgementInput | None:
    inst = ci.instrument
    if inst.judgement.policy == "none" or not data.draw(st.booleans(), label="judged"):
        return None
    level = data.draw(st.sampled_from(list(ci.levels)), label="level")
    acknowledge = data.draw(st.lists(st.sampled_from([c.id for c in inst.critical] or ["-"]), unique=True), label="ack")
    return JudgementInput(
        level=level, rationale=WHY, acknowledged={r: "Bedömd att inte gälla." for r in acknowledge if r != "-"}
    )


CASES = [(i, r) for i in INSTRUMENTS for r in RULESETS]


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(("instrument", "ruleset"), CASES)
@PROPERTY
@given(data=st.data())
def test_the_safety_net_holds_for_any_answers_and_facts(rules, instrument, ruleset, data):
    ci, crs = compiled(instrument), rules[ruleset]
    answers = data.draw(answer_sets(ci), label="answers")
    facts = data.draw(fact_sets(crs), label="facts")
    judgement = _judgement(ci, data)
    try:
        result = assess(ci, answers, rules=crs, facts=facts, judgement=judgement)
    except JudgementError:
        assert judgement is not None
        event("judgement refused")
        return
    catalogue = crs.catalogue.services
    found = roles(result, crs)
    disclosed = _disclosed(ci, crs, answers, facts)
    age = _age(ci, answers, facts)
    # children + disclosed violence → report-of-concern consideration
    if facts.get("children_in_household") is True and disclosed:
        event("children and violence")
        assert "child_report" in found, (services(result), facts)
    # under 18 + disclosed violence → the child-protection path
    if isinstance(age, int) and age < 18 and disclosed:
        event("minor and violence")
        assert "child_report" in found, (services(result), age)
    # an unknown age in an honour context → the child-protection path and a prompt for the age
    if age is None and facts.get("honour_context") is True:
        assert "child_report" in found and "age_unknown" in codes(result)
    # complete: false → never information only, never nothing
    if not result.complete:
        event("incomplete")
        assert any(catalogue[s].tier != "information" for s in services(result)), services(result)
    # a judgement never ends below a possibly-fired critical floor without a recorded reason
    if result.judgement is not None and result.final_level is not None:
        raise_to = {c.id: ci.levels.index(c.raise_to) for c in ci.instrument.critical}
        final = ci.levels.index(result.final_level)
        for rule in result.critical_possible:
            if raise_to[rule] > final:
                event("judged below a possible critical rule")
                assert rule in result.judgement.acknowledged, (rule, result.judgement)


def _complete_unknowns(
    ci: Any, answers: dict[str, object], unknown: list[str], data: st.DataObject
) -> dict[str, object]:
    """One completion of the unknown answers: each unknown top-level item gets a known value."""
    done = dict(answers)
    for key in unknown:
        if key in ci.items:
            done[key] = data.draw(_value(ci, ci.items[key], known=True), label=f"complete {key}")
    return done


@pytest.mark.parametrize("instrument", INSTRUMENTS)
@PROPERTY
@given(data=st.data())
def test_the_reported_range_contains_every_completion_of_the_unknowns(instrument, data):
    ci = compiled(instrument)
    answers = data.draw(answer_sets(ci), label="answers")
    result = assess(ci, answers)
    if result.level_range is None:
        return
    lo, hi = ci.levels.index(result.level_range.min), ci.levels.index(result.level_range.max)
    for _ in range(3):
        done = _complete_unknowns(ci, answers, result.completeness.unknown_items, data)
        other = assess(ci, done)
        if other.level_range is None:
            continue
        assert lo <= ci.levels.index(other.level_range.min), (result.level_range, other.level_range)
        assert ci.levels.index(other.level_range.max) <= hi, (result.level_range, other.level_range)


# --------------------------------------------------------------------------- seen: minors


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_danger_assessment_strangled_age_16_judged_high_gets_child_protection(rules, ruleset):
    ci = load_instrument("freda-farlighet")
    result = assess(
        ci,
        neutral(ci) | {"strangled": "yes"},
        rules=rules[ruleset],
        facts={"age": 16},
        judgement=JudgementInput(level="high", rationale=WHY),
    )
    assert "orosanmalan" in services(result)
    assert "safety.minor" in {r.rule for r in result.referrals}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_short_questions_physical_violence_age_16_gets_child_protection(rules, ruleset):
    ci = load_instrument("freda-kortfragor")
    result = assess(ci, neutral(ci) | {"physical_past_year": "yes"}, rules=rules[ruleset], facts={"age": 16})
    assert "orosanmalan" in services(result)


def test_seen_a_minor_gets_a_support_for_young_people_where_the_catalogue_has_one(rules):
    ci = load_instrument("freda-kortfragor")
    crs = rules["stockholm"]
    result = assess(ci, neutral(ci) | {"physical_past_year": "yes"}, rules=crs, facts={"age": 16})
    youth = [s for s in services(result) if crs.catalogue.services[s].age_max is not None]
    assert youth, services(result)
    assert all(crs.catalogue.services[s].age_max >= 16 for s in youth)


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_description_age_16_incomplete_still_gets_referrals(rules, ruleset):
    ci = load_instrument("freda-beskrivning")
    crs = rules[ruleset]
    answers = {k: v for k, v in list(neutral(ci).items())[:10]} | {"hit": "repeatedly"}
    result = assess(ci, answers, rules=crs, facts={"age": 16})
    assert not result.complete
    assert "orosanmalan" in services(result)
    assert any(crs.catalogue.services[s].tier == "support" for s in services(result)), services(result)


# --------------------------------------------------------------------------- seen: threats to the children


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_threats_to_harm_the_children_give_a_report_of_concern(rules, ruleset):
    ci = load_instrument("freda-farlighet")
    result = assess(
        ci,
        neutral(ci) | {"threats_to_children": "yes"},
        rules=rules[ruleset],
        judgement=JudgementInput(level="low", rationale=WHY),
    )
    assert "orosanmalan" in services(result)


@pytest.mark.parametrize("ruleset", RULESETS)
def test_threats_to_harm_children_in_the_description_give_a_report_of_concern(rules, ruleset):
    ci = load_instrument("freda-beskrivning")
    answers = neutral(ci) | {"threat_others": "sometimes", "has_children": "unknown"}
    result = assess(ci, answers, rules=rules[ruleset])
    assert "orosanmalan" in services(result)  # children not ruled out: whether there are any is not known
    assert "threats_to_children" in {r.rule for r in result.referrals}
    ruled_out = assess(ci, answers | {"has_children": "no"}, rules=rules[ruleset])
    assert "threats_to_children" not in {r.rule for r in ruled_out.referrals}


# --------------------------------------------------------------------------- seen: unknown critical items


def test_seen_unknown_strangulation_judged_low_is_refused_without_a_recorded_reason(rules):
    ci = load_instrument("freda-farlighet")
    answers = neutral(ci) | {"strangled": "unknown"}
    with pytest.raises(JudgementError) as info:
        assess(ci, answers, rules=rules["stockholm"], judgement=JudgementInput(level="low", rationale=WHY))
    words = info.value.words
    assert words is not None and "Stryptag" in words.get("sv") and "strangling" in words.get("en")
    assert "strangulation" not in words.get("sv")  # the rule in words, never its id


def test_an_acknowledged_unknown_critical_item_is_recorded_in_the_result_trace_and_report(rules):
    ci = load_instrument("freda-farlighet")
    answers = neutral(ci) | {"strangled": "unknown"}
    reason = "Personen beskriver inget tag om halsen."
    judgement = JudgementInput(level="low", rationale=WHY, acknowledged={"strangulation": reason})
    result = assess(ci, answers, rules=rules["stockholm"], judgement=judgement)
    assert result.final_level == "low"
    assert result.judgement is not None and result.judgement.acknowledged == {"strangulation": reason}
    assert any(reason in step.text.sv for step in result.trace if step.kind == "judgement")
    for lang in ("sv", "en"):
        for fmt in ("html", "md", "txt"):
            assert reason in render_report(result, instrument=ci, fmt=fmt, lang=lang)


def test_an_acknowledgement_of_a_rule_that_does_not_exist_is_refused(rules):
    ci = load_instrument("freda-farlighet")
    judgement = JudgementInput(level="low", rationale=WHY, acknowledged={"no_such_rule": "x"})
    with pytest.raises(JudgementError):
        assess(ci, neutral(ci), judgement=judgement)


def test_a_judgement_at_or_above_the_possible_critical_level_needs_no_acknowledgement(rules):
    ci = load_instrument("freda-farlighet")
    result = assess(ci, neutral(ci) | {"strangled": "unknown"}, judgement=JudgementInput(level="high", rationale=WHY))
    assert result.final_level == "high" and result.judgement is not None and result.judgement.acknowledged == {}


FIFTEEN_YES = [
    "violence_increased",
    "weapon_access",
    "unemployed",
    "avoided_consequences",
    "child_not_theirs",
    "forced_sex",
    "drugs",
    "alcohol",
    "controlling",
    "jealousy",
    "pregnancy_violence",
    "perpetrator_suicidal",
    "threats_to_children",
    "stalking",
    "own_suicidal",
]


def test_seen_fifteen_of_twenty_yes_judged_low_flags_the_discrepancy():
    ci = load_instrument("freda-farlighet")
    answers = neutral(ci) | dict.fromkeys(FIFTEEN_YES, "yes")
    result = assess(ci, answers, judgement=JudgementInput(level="low", rationale=WHY))
    assert result.critical == [] and result.final_level == "low"
    assert "judgement_discrepancy" in codes(result)
    assert any("15" in step.text.sv for step in result.trace if step.kind == "judgement")


def test_few_yes_judged_low_is_no_discrepancy():
    ci = load_instrument("freda-farlighet")
    answers = neutral(ci) | dict.fromkeys(FIFTEEN_YES[:3], "yes")
    result = assess(ci, answers, judgement=JudgementInput(level="low", rationale=WHY))
    assert "judgement_discrepancy" not in codes(result)


# --------------------------------------------------------------------------- seen: incomplete is incomplete


@pytest.mark.parametrize("ruleset", RULESETS)
def test_an_incomplete_judged_danger_assessment_is_never_information_only(rules, ruleset):
    ci = load_instrument("freda-farlighet")
    crs = rules[ruleset]
    answers = neutral(ci)
    for key in ("drugs", "alcohol", "unemployed", "jealousy"):
        answers.pop(key)
    for gender in (None, *(crs.ruleset.facts["gender"].values or ())):
        facts = {} if gender is None else {"gender": gender}
        result = assess(ci, answers, rules=crs, facts=facts, judgement=JudgementInput(level="medium", rationale=WHY))
        assert result.complete is False
        assert any(crs.catalogue.services[s].tier != "information" for s in services(result)), (
            gender,
            services(result),
        )


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_the_incomplete_safety_rule_looks_at_complete_not_only_at_the_status(rules, ruleset):
    """A concluded (judged) but incomplete result with only information gets support added."""
    ci, crs = load_instrument("freda-farlighet"), rules[ruleset]
    rec = Recommendation()
    rec.referrals.append(crs.referral("information", "low", "planned", Text(sv="Info.", en="Info."), []))
    tables = crs.tables_for(ci)
    apply_safety_rules(crs, tables, {}, "concluded", rec, ci.instrument.id, complete=False)
    assert any(crs.catalogue.services[r.service].tier != "information" for r in rec.referrals)
    assert "safety.incomplete" in {r.rule for r in rec.referrals}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_an_incomplete_description_never_ends_with_no_referral(rules, ruleset):
    ci = load_instrument("freda-beskrivning")
    crs = rules[ruleset]
    result = assess(ci, {}, rules=crs)
    assert result.complete is False and result.status == "no_level"
    assert any(crs.catalogue.services[s].tier != "information" for s in services(result)), services(result)
    assert "safety.incomplete" in {r.rule for r in result.referrals}


# --------------------------------------------------------------------------- seen: PATRIARK


PATRIARK_FULL: dict[str, object] = {
    "info_sources": "Samtal med U1 och skolan",
    "info_completeness": "Förövarna har inte intervjuats.",
    "perpetrators": [{"pseudonym": "F1", "t1_now": "yes", "t2_now": "partly"}],
    "victims": [{"pseudonym": "U1", "s2_now": "yes"}],
    "scenarios": [{"description": "F1 skadar U1", "rating": "high"}],
    "acute_risk": "medium",
    "likely_victims": "U1",
    "actions": [{"heading": "safety_planning", "action": "Säkerhetsplan med U1"}],
}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_patriark_high_scenario_judged_low_gives_protection_and_a_warning(rules, ruleset):
    ci = load_instrument("patriark")
    result = assess(
        ci,
        PATRIARK_FULL,
        rules=rules[ruleset],
        facts={"age": 30},
        judgement=JudgementInput(level="low", rationale=WHY),
    )
    assert result.final_level == "low"
    assert {"skyddat_boende", "police", "skyddsbedomning"} <= set(services(result))
    assert "level_covers_scenarios" in result.requirements_unmet
    assert "requirement_unmet" in codes(result)


@pytest.mark.parametrize("ruleset", RULESETS)
def test_patriark_high_acute_risk_judged_low_gives_protection(rules, ruleset):
    ci = load_instrument("patriark")
    answers = PATRIARK_FULL | {"scenarios": [{"description": "F1 hotar U1", "rating": "low"}], "acute_risk": "high"}
    result = assess(ci, answers, rules=rules[ruleset], judgement=JudgementInput(level="low", rationale=WHY))
    assert {"skyddat_boende", "police"} <= set(services(result))


def test_seen_patriark_with_nothing_filled_in_judged_low_is_neither_concluded_nor_complete(rules):
    ci = load_instrument("patriark")
    result = assess(ci, {}, rules=rules["stockholm"], judgement=JudgementInput(level="low", rationale=WHY))
    assert result.status == "incomplete" and result.complete is False
    assert {"perpetrator_rated", "victim_rated", "scenario_developed"} <= set(result.requirements_unmet)
    assert "incomplete" in codes(result)
    unjudged = assess(ci, {}, rules=rules["stockholm"])
    assert unjudged.complete is False


def test_a_full_patriark_judged_at_the_highest_scenario_is_concluded():
    ci = load_instrument("patriark")
    result = assess(ci, PATRIARK_FULL, judgement=JudgementInput(level="high", rationale=WHY))
    assert result.status == "concluded" and result.complete is True
    assert "level_covers_scenarios" not in result.requirements_unmet


# --------------------------------------------------------------------------- seen: honour indicators


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_death_threat_for_breaking_norms_age_30_gives_police_and_protected_housing(rules, ruleset):
    ci = load_instrument("hedersindikatorer")
    result = assess(ci, neutral(ci) | {"age": 30, "threats_and_sanctions": "yes"}, rules=rules[ruleset])
    assert {"skyddsbedomning", "police", "skyddat_boende", "nationellt_centrum"} <= set(services(result))
    assert "orosanmalan" not in services(result)  # an adult: no report of concern for the person


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_death_threat_with_unknown_age_gives_a_report_of_concern_and_asks_for_the_age(rules, ruleset):
    ci = load_instrument("hedersindikatorer")
    answers = neutral(ci) | {"threats_and_sanctions": "yes"}
    result = assess(ci, answers, rules=rules[ruleset])
    assert "orosanmalan" in services(result)
    assert "age_unknown" in codes(result)
    if ruleset == "stockholm":
        assert "origo" in services(result)  # kept while the age is not known


def test_origo_is_for_13_to_26_and_the_national_centre_otherwise(rules):
    ci = load_instrument("hedersindikatorer")
    crs = rules["stockholm"]
    young = assess(ci, neutral(ci) | {"age": 19, "threats_and_sanctions": "yes"}, rules=crs)
    older = assess(ci, neutral(ci) | {"age": 40, "threats_and_sanctions": "yes"}, rules=crs)
    assert "origo" in services(young)
    assert "origo" not in services(older) and "nationellt_centrum" in services(older)


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_the_travel_ban_is_applied_for_under_lvu_not_by_the_police(rules, ruleset):
    mentioned = 0
    for table in rules[ruleset].ruleset.tables:
        for rule in table.rules:
            if "utreseförbud" in rule.reason.sv.lower():
                mentioned += 1
                assert "LVU" in rule.reason.sv and "förvaltningsrätten" in rule.reason.sv
                assert "LVU" in rule.reason.en and "court" in rule.reason.en
                assert rule.refer == ["orosanmalan"], rule.id  # a social-services matter, not a police measure
    assert mentioned


@pytest.mark.parametrize("ruleset", RULESETS)
def test_a_child_who_may_be_taken_abroad_gets_the_child_protection_path(rules, ruleset):
    ci = load_instrument("hedersindikatorer")
    result = assess(ci, neutral(ci) | {"age": 15, "school_absence": "yes"}, rules=rules[ruleset])
    assert {"orosanmalan", "skyddsbedomning", "police"} <= set(services(result))


# --------------------------------------------------------------------------- seen: wording


@pytest.mark.parametrize("ruleset", RULESETS)
def test_seen_no_medium_risk_reason_on_a_high_result(rules, ruleset):
    for instrument in ("freda-farlighet", "patriark"):
        ci = load_instrument(instrument)
        answers = neutral(ci) if instrument == "freda-farlighet" else PATRIARK_FULL
        result = assess(ci, answers, rules=rules[ruleset], judgement=JudgementInput(level="high", rationale=WHY))
        for ref in result.referrals:
            if "Medelhög risk" in ref.reason.sv:
                assert "eller högre" in ref.reason.sv and "or higher" in ref.reason.en, ref.reason


# --------------------------------------------------------------------------- the interview records the reasons


def test_the_interview_asks_why_a_possible_critical_rule_does_not_hold_and_records_it(tmp_path):
    from helpers import build_instrument, text, to_yaml
    from terminal.scripted import ScriptedPrompter

    from screening import Store, parse_instrument
    from screening.interview._run import run_interview

    critical = [
        {"id": "a_yes", "when": "a == 'yes'", "raise_to": "high", "reason": text("Fråga a är besvarad med ja.")}
    ]
    data = build_instrument(judgement={"policy": "required"}, critical=critical, missing={"max_unknown": 1})
    ci = parse_instrument(to_yaml(data), "t.yaml")
    with Store.open(tmp_path / "cases.db", create=True) as store:
        aid = store.create_assessment(ci).id
        store.lock(aid)
        prompter = ScriptedPrompter(["?", "n", "n", "", "1", "Samlad bild.", "Inget i ärendet tyder på det."])
        outcome = run_interview(store, ci, aid, prompter, lang="sv")
        assert "Fråga a är besvarad med ja." in prompter.screen
        assert outcome.result.final_level == "low"
        assert outcome.result.judgement.acknowledged == {"a_yes": "Inget i ärendet tyder på det."}
        assert store.judgement(aid).acknowledged == {"a_yes": "Inget i ärendet tyder på det."}


def test_the_batch_scorer_keys_its_memo_on_the_acknowledged_rules_too():
    from helpers import build_instrument, text, to_yaml

    from screening import parse_instrument
    from screening.batch._rescorer import Scorer

    critical = [
        {"id": "a_yes", "when": "a == 'yes'", "raise_to": "high", "reason": text("Fråga a är besvarad med ja.")}
    ]
    data = build_instrument(judgement={"policy": "raise_or_lower"}, critical=critical)
    ci = parse_instrument(to_yaml(data), "t.yaml")
    scorer = Scorer(ci)
    assert scorer.fast is not None  # complete answers take the memoised fast path
    answers = {"a": "no", "b": "no", "c": "no"}
    with pytest.raises(JudgementError):
        scorer.outcome(answers, JudgementInput(level="low", rationale=WHY, acknowledged={"no_such_rule": "x"}))
    # the same answers and level without the stray acknowledgement are not refused from the memo
    assert scorer.outcome(answers, JudgementInput(level="low", rationale=WHY)).level == "low"


def test_score_takes_the_reasons_for_unknown_critical_rules_from_the_command_line(tmp_path, capsys):
    """A judged danger assessment with strangulation unknown: refused without a reason, recorded with one."""
    from screening import load_instrument
    from screening.cli import run

    ci = load_instrument("freda-farlighet")
    given = {key: "no" for key, item in ci.items.items() if item.type == "choice"}
    given["strangled"], given["own_view"], given["calendar"] = "unknown", "low", []
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(given), encoding="utf-8")
    base = ["score", "freda-farlighet", str(answers), "--judgement", "low", "--rationale", "Samtal med personen",
            "--rules", "stockholm"]
    assert run(base) == 1
    refused = capsys.readouterr()
    assert "Traceback" not in refused.err
    assert run([*base, "--acknowledge", "strangulation=Personen beskriver inget grepp om halsen"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["judgement"]["acknowledged"] == {"strangulation": "Personen beskriver inget grepp om halsen"}
    assert run([*base, "--acknowledge", "no_such_rule=x"]) == 1
    assert "no_such_rule" in capsys.readouterr().err
