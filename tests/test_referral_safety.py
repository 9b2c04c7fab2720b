"""The safety rules that always hold, whatever the rule set, and referral explanations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import FIXTURES, demo_home

from screening import JudgementInput, assess, load_instrument
from screening.content.rules_loader import load_rules
from screening.referral.rules_checks import claims_action

BASE = (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8")
# A cumulative variant: every level keeps what the level below recommended.
CUMULATIVE = (
    BASE.replace("hit_policy: unique", "hit_policy: collect")
    .replace("when: \"level == 'low'\"", "when: \"level >= 'low'\"")
    .replace("when: \"level == 'medium'\"", "when: \"level >= 'medium'\"")
)

VALUE = st.sampled_from(["yes", "no", "unknown", None])
ANSWERS = st.fixed_dictionaries(
    {"q1": VALUE, "q2": VALUE, "q3": VALUE, "q4": VALUE, "view": st.sampled_from(["low", "high", None])}
)
FACTS = st.fixed_dictionaries(
    {
        "children_in_household": st.sampled_from([True, False, None]),
        "honour_context": st.sampled_from([True, False, None]),
    }
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = demo_home(tmp_path_factory.mktemp("home"))
    return load_instrument("demo", home), load_rules("demo-rules", home)


@pytest.fixture(scope="module")
def cumulative(tmp_path_factory):
    home = demo_home(tmp_path_factory.mktemp("cumulative"), CUMULATIVE)
    return load_instrument("demo", home), load_rules("demo-rules", home)


def services(result):
    return [r.service for r in result.referrals]


def test_children_with_disclosed_violence_always_give_a_report_of_concern(demo):
    ci, rules = demo
    result = assess(ci, {"q1": "yes", "q2": "no", "q4": "no"}, rules=rules, facts={"children_in_household": True})
    report = [r for r in result.referrals if r.service == "orosanmalan"]
    assert report and report[0].rule == "safety.children" and report[0].urgency == "immediate"
    without = assess(ci, {"q1": "yes", "q2": "no", "q4": "no"}, rules=rules, facts={"children_in_household": False})
    assert "orosanmalan" not in services(without)
    nothing = assess(ci, {"q1": "no", "q2": "no", "q4": "no"}, rules=rules, facts={"children_in_household": True})
    assert "orosanmalan" not in services(nothing)  # no violence disclosed


def test_unknown_children_with_disclosed_violence_warns(demo):
    ci, rules = demo
    result = assess(ci, {"q1": "yes", "q2": "no", "q4": "no"}, rules=rules)
    assert "children_unknown" in [w.code for w in result.warnings]


@settings(max_examples=300, deadline=None)
@given(answers=ANSWERS, facts=FACTS)
def test_safety_rules_hold_for_any_answers(demo, answers, facts):
    ci, rules = demo
    result = assess(ci, answers, rules=rules, facts=facts)
    tiers = {r.service: rules.catalogue.services[r.service].tier for r in result.referrals}
    disclosed = any(answers.get(q) in ("yes", "unknown", None) for q in ("q1", "q2", "q4"))
    if facts["children_in_household"] is True and disclosed:
        assert "orosanmalan" in tiers
    if result.status in ("incomplete", "indeterminate"):
        assert any(t != "information" for t in tiers.values()), tiers
    if facts["honour_context"] is True:
        assert not any(rules.catalogue.services[s].contacts_family for s in tiers)
        assert "skyddsbedomning" in tiers
    texts = [r.reason for r in result.referrals] + [s.text for s in result.trace] + [w.text for w in result.warnings]
    assert not any(claims_action(t.sv) or claims_action(t.en) for t in texts)


@settings(max_examples=200, deadline=None)
@given(answers=ANSWERS, facts=FACTS, raise_by=st.integers(min_value=1, max_value=2))
def test_raising_the_final_level_never_removes_a_referral(cumulative, answers, facts, raise_by):
    ci, rules = cumulative
    base = assess(ci, answers, rules=rules, facts=facts)
    if base.final_level is None:
        return
    index = ci.levels.index(base.final_level)
    if index + raise_by >= len(ci.levels):
        return
    raised = assess(
        ci,
        answers,
        rules=rules,
        facts=facts,
        judgement=JudgementInput(level=ci.levels[index + raise_by], rationale="Ny information om hot."),
    )
    assert set(services(base)) <= set(services(raised))


def test_referral_explains_the_facts_and_what_would_change(demo):
    ci, rules = demo
    result = assess(
        ci, {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}, rules=rules, facts={"children_in_household": False}
    )
    low = next(r for r in result.referrals if r.rule == "low")
    assert [f.ref for f in low.facts] == ["level"]
    assert "Låg" in low.facts[0].text.sv and "Low" in low.facts[0].text.en
    near = [s for s in result.trace if s.kind == "near_miss"]
    assert near and "1 more point(s) would give the level Medium" in near[0].text.en
    assert "Relationship Violence Centre" in near[0].text.en
    assert result.reassess_within_days == 90
    assert result.ruleset is not None and result.ruleset["id"] == "demo-rules"


def test_origo_is_dropped_when_the_person_is_outside_its_age_range(demo):
    ci, rules = demo
    answers = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no"}
    young = assess(ci, answers, rules=rules, facts={"age": 19, "children_in_household": False})
    older = assess(ci, answers, rules=rules, facts={"age": 40, "children_in_household": False})
    assert "origo" in [f.target for f in young.follow_up]
    assert "origo" not in [f.target for f in older.follow_up]


def test_bad_facts_are_answer_errors_naming_the_fact(demo):
    from screening import AnswerError

    ci, rules = demo
    with pytest.raises(AnswerError) as info:
        assess(ci, {}, rules=rules, facts={"age": 300})
    assert info.value.item_id == "age" and "300" not in str(info.value)
    with pytest.raises(AnswerError) as info:
        assess(ci, {}, rules=rules, facts={"childrn_in_household": True})
    assert "children_in_household" in info.value.allowed
