"""``assess`` made fast (issue 19) gives exactly what it gave before.

Two shortcuts carry the full result's speed, and each is checked here against the
way it replaced:

* the recommendation (referrals with their facts in words, case facts, warnings, the
  trace and the near miss) is memoised on everything it reads: a warm rule set must
  give, on every answer set and case facts, the JSON a rule set that has never seen
  an answer gives;
* the ``Result`` is built from the engine's own values without validating them again
  (``Record.trusted``): validating what it holds must give the same record, and its
  canonical JSON must be the standard library's.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers as random_answers
from strategies import instruments
from test_fast_bundled import answer_sets

from screening import AnswerError, assess, load_instrument, parse_instrument
from screening.content.rules_loader import load_rules
from screening.engine.instrument import JudgementInput
from screening.engine.result import Completeness, Record, Result
from screening.referral import CompiledRuleSet

BUNDLED = ("freda-kortfragor", "freda-farlighet", "hedersindikatorer", "freda-beskrivning", "patriark")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bundled():
    return {name: load_instrument(name) for name in BUNDLED}


@pytest.fixture(scope="module")
def rule_sets():
    return {name: load_rules(name) for name in ("stockholm", "goteborg")}


def case_facts(rules: CompiledRuleSet) -> st.SearchStrategy[dict[str, object]]:
    """Case facts of the declared kinds, each one given or not."""
    kinds: dict[str, st.SearchStrategy[object]] = {}
    for name, spec in rules.ruleset.facts.items():
        if spec.type == "bool":
            kinds[name] = st.booleans()
        elif spec.type == "int":
            kinds[name] = st.integers(0, 90)
        else:
            kinds[name] = st.sampled_from(list(spec.values or ["x"]))
    return st.fixed_dictionaries({}, optional=kinds)  # type: ignore[arg-type]


def fresh(rules: CompiledRuleSet) -> CompiledRuleSet:
    """The same rule set, never used: every recommendation it gives is made, not remembered."""
    made = CompiledRuleSet(rules.ruleset, rules.catalogue, rules.sha256)
    made.instrument_titles = rules.instrument_titles  # as load_rules sets them
    return made


def outcome(call: Any) -> str:
    try:
        return call().to_json()  # type: ignore[no-any-return]
    except AnswerError as e:
        return f"AnswerError: {e}"


def assert_as_validated(record: Record) -> None:
    """What validation would make of the record's values is the record, in the same key order."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic warns when a value is not of its field's type
        try:
            dumped = record.model_dump()
        except UserWarning as e:
            raise AssertionError(f"a value not of its field's type: {e}") from e
    again = type(record).model_validate(dumped)
    assert record == again
    assert list(record.__dict__) == sorted(type(record).model_fields)
    for value in record.__dict__.values():
        for inner in value if isinstance(value, list) else value.values() if isinstance(value, dict) else [value]:
            if isinstance(inner, Record):
                assert_as_validated(inner)


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("ruleset", ["stockholm", "goteborg"])
def test_a_remembered_recommendation_is_the_one_made_afresh(bundled, rule_sets, name, ruleset):
    ci, rules = bundled[name], rule_sets[ruleset]
    before = rules.counts["recommend"]
    calls = []

    @SETTINGS
    @given(answers=answer_sets(ci), facts=case_facts(rules))
    def check(answers: dict[str, object], facts: dict[str, object]) -> None:
        calls.append(1)
        warm = outcome(lambda: assess(ci, answers, rules=rules, facts=facts))
        cold = outcome(lambda: assess(ci, answers, rules=fresh(rules), facts=facts))
        assert warm == cold

    check()
    # Not vacuous: the warm rule set answered some assessments from memory.
    assert rules.counts["recommend"] - before < len(calls)


@pytest.mark.parametrize("name", BUNDLED)
def test_the_result_is_what_validation_would_make_of_it(bundled, rule_sets, name):
    ci, rules = bundled[name], rule_sets["stockholm"]

    @SETTINGS
    @given(answers=answer_sets(ci), facts=case_facts(rules))
    def check(answers: dict[str, object], facts: dict[str, object]) -> None:
        try:
            result = assess(ci, answers, rules=rules, facts=facts, assessed_at="2026-12-06T10:00:00+01:00")
        except AnswerError:
            return
        assert_as_validated(result)
        assert result.to_json() == result.to_json_python()

    check()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), spec=instruments())
def test_random_instruments_give_results_validation_would_make(data, spec):
    ci = parse_instrument(spec.yaml, "random.yaml")
    answers = data.draw(random_answers(spec))
    result = assess(ci, answers)
    assert_as_validated(result)
    assert result.to_json() == result.to_json_python()


def test_the_check_catches_a_value_of_the_wrong_type(bundled):
    """``assert_as_validated`` is not vacuous: a tuple where a list belongs, or keys out of order, fail it."""
    result = assess(bundled["freda-kortfragor"], {})
    values = dict(result.__dict__)
    wrong = Completeness.trusted(dict(result.completeness.__dict__, unknown_items=("q1",)))
    with pytest.raises(AssertionError):
        assert_as_validated(Result.trusted(dict(values, completeness=wrong)))
    unsorted = dict(reversed(values.items()))
    with pytest.raises(AssertionError):
        assert_as_validated(Result.trusted(unsorted))


def test_the_same_reads_recommend_once_and_a_judgement_every_time(bundled, rule_sets):
    ci = bundled["freda-kortfragor"]
    rules = fresh(rule_sets["stockholm"])
    answers = {item: "nej" for item in ci.order if ci.items[item].type == "choice" and "nej" in ci.known[item]}
    first = assess(ci, answers, rules=rules, facts={"children_in_household": True})
    made = rules.counts["recommend"]
    again = assess(ci, answers, rules=rules, facts={"children_in_household": True})
    assert again == first
    assert rules.counts["recommend"] == made  # remembered
    other = assess(ci, answers, rules=rules, facts={"children_in_household": False})
    assert rules.counts["recommend"] > made  # a fact the rules read: made afresh
    assert [r.service for r in other.referrals] != [r.service for r in first.referrals]
    level = first.final_level or first.levels[-1]
    judged = JudgementInput(level=level, rationale="Bedömt i samtal.")
    made = rules.counts["recommend"]
    assess(ci, answers, rules=rules, judgement=judged)
    assess(ci, answers, rules=rules, judgement=judged)
    assert rules.counts["recommend"] >= made + 2  # with a judgement, never remembered


def test_the_near_miss_is_remembered_with_the_score_it_counts_from(tmp_path):
    """Rules that read only the level: two answer sets at the same level, one point apart,
    are told different distances to the next level (the memo's key holds the band score)."""
    from rules_helpers import FIXTURES, demo_home

    from screening.content.loader import load_instrument_file
    from screening.content.rules_loader import load_rules_file

    text = (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8")
    text = text.replace("\"count('yes', q1, q2, q4) >= 1\"", "\"level >= 'medium'\"")
    home = demo_home(tmp_path, text)
    ci = load_instrument_file(home / "instruments" / "demo" / "1.0.0.yaml")
    rules = load_rules_file(home / "rules" / "demo-rules.yaml", home)
    none = assess(ci, {"q1": "no", "q2": "no", "q4": "no", "view": "low"}, rules=rules)
    one = assess(ci, {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}, rules=rules)
    assert (none.final_level, one.final_level) == ("low", "low")
    near = [[s.text.en for s in r.trace if s.kind == "near_miss"] for r in (none, one)]
    assert near[0] and near[1] and near[0] != near[1]
    assert one.to_json() == assess(ci, dict(one.answers), rules=fresh(rules)).to_json()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rationale=st.text(min_size=1, max_size=60), assessor=st.text(max_size=30))
def test_canonical_json_escapes_any_text_as_the_standard_library_does(bundled, rationale, assessor):
    """``to_json`` (orjson) and ``to_json_python`` (json.dumps) agree on any text a person
    types: control characters, quotes, backslashes, line separators, emoji, and a lone
    surrogate (orjson refuses it; the standard library then writes it)."""
    from pydantic import ValidationError

    ci = bundled["freda-kortfragor"]
    try:
        judged = JudgementInput(level=ci.levels[-1], rationale="Bedömt: " + rationale)
    except ValidationError:
        return  # an over-long rationale is refused before any result
    result = assess(ci, {}, judgement=judged, assessor=assessor)
    assert result.to_json() == result.to_json_python()
    lone = assess(ci, {}, judgement=judged, assessor=assessor + "\ud800")
    assert lone.to_json() == lone.to_json_python()
