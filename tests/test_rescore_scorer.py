"""The re-scorer's memoised outcome equals the full engine, on random and bundled input."""

from __future__ import annotations

import pytest
from helpers import FREDA_DEMO, compile_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import demo_home
from strategies import answers as answer_sets
from strategies import instruments

from screening import AnswerError, JudgementError, assess, load_instrument
from screening.batch._score import Outcome, Scorer
from screening.content.rules_loader import load_rules
from screening.engine.instrument import JudgementInput


def expected(ci, answers, judgement=None, rules=None, facts=None):
    """What ``assess`` concludes, in the re-scorer's terms, or the error type it raises."""
    try:
        full = assess(ci, answers, judgement=judgement, rules=rules, facts=facts)
    except (AnswerError, JudgementError) as exc:
        return type(exc)
    return Outcome(
        full.final_level, full.status, full.complete, tuple(full.critical), tuple(r.service for r in full.referrals)
    )


def actual(scorer, answers, judgement=None, facts=None):
    try:
        return scorer.outcome(answers, judgement, facts)
    except (AnswerError, JudgementError) as exc:
        return type(exc)


JUDGEMENTS = st.one_of(
    st.none(),
    st.builds(
        JudgementInput,
        level=st.sampled_from(["low", "medium", "high", "l0", "l1", "l2", "l3"]),
        rationale=st.sampled_from(["skäl", " "]),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_instruments_agree_with_assess_also_from_the_memo(data):
    spec = data.draw(instruments(show_if=True))
    ci = compile_data(spec.data)
    scorer = Scorer(ci)
    for _ in range(4):
        answers = data.draw(answer_sets(spec, complete=data.draw(st.booleans())))
        judgement = data.draw(JUDGEMENTS)
        want = expected(ci, answers, judgement)
        assert actual(scorer, answers, judgement) == want
        assert actual(scorer, answers, judgement) == want  # the second call is a memo hit


# The migration demonstration (tests/fixtures) is loaded by path beside the bundled instruments.
BUNDLED = ["freda-farlighet@1.0.0", str(FREDA_DEMO), "freda-kortfragor", "freda-beskrivning",
           "hedersindikatorer", "patriark"]


@pytest.fixture(scope="module")
def stockholm():
    return load_rules("stockholm")


@pytest.mark.parametrize("ref", BUNDLED)
def test_bundled_golden_vectors_agree_with_assess_with_referrals(ref, stockholm):
    ci = load_instrument(ref)
    scorer = Scorer(ci, stockholm)
    for vector in ci.instrument.tests:
        for facts in ({}, {"children_in_household": True, "age": 16}):
            want = expected(ci, vector.answers, vector.judgement, stockholm, facts)
            assert actual(scorer, vector.answers, vector.judgement, facts) == want, vector.name
            assert actual(scorer, vector.answers, vector.judgement, facts) == want, vector.name


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """The demo instrument without skip logic, so complete answers take the fast path, with its rules."""
    home = demo_home(tmp_path_factory.mktemp("flat"))
    path = home / "instruments" / "demo" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(', show_if: "q2 == \'yes\'"', ""), encoding="utf-8")
    return load_instrument("demo", home), load_rules("demo-rules", home)


VALUES = st.sampled_from(["yes", "no", "unknown", None, "maybe"])


@settings(max_examples=400, deadline=None)
@given(
    answers=st.fixed_dictionaries(
        {},
        optional={"q1": VALUES, "q2": VALUES, "q3": VALUES, "q4": VALUES,
                  "view": st.sampled_from(["low", "high", None, "x"])},
    ),
    children=st.sampled_from([True, False, None]),
    judgement=st.one_of(st.none(), st.builds(JudgementInput, level=st.sampled_from(["low", "medium", "high"]),
                                             rationale=st.just("skäl"))),
)
def test_fast_path_and_referral_memo_agree_with_assess(flat, answers, children, judgement):
    ci, rules = flat
    scorer = Scorer(ci, rules)
    assert scorer.fast is not None
    facts = {"children_in_household": children}
    want = expected(ci, answers, judgement, rules, facts)
    assert actual(scorer, answers, judgement, facts) == want
    assert actual(scorer, answers, judgement, facts) == want


def test_an_unknown_item_and_a_bad_value_are_refused_on_the_fast_path(flat):
    ci, rules = flat
    scorer = Scorer(ci, rules)
    complete = {"q1": "yes", "q2": "no", "q3": "no", "q4": "no"}
    assert isinstance(scorer.outcome(complete), Outcome)
    with pytest.raises(AnswerError, match="no such item"):
        scorer.outcome({**complete, "q9": "yes"})
    with pytest.raises(AnswerError) as info:
        scorer.outcome({**complete, "view": "sky-high"})
    assert "sky-high" not in str(info.value)  # the value is never repeated


def test_an_answer_the_fast_path_does_not_read_is_still_checked():
    from helpers import build_instrument, item, text

    ci = compile_data(build_instrument(
        sections=[{"id": "main", "title": text("Frågor"), "items": [item("a"), item("b"), item("note")]}],
        scores=[{"id": "total", "label": text("Antal ja"), "kind": "count", "values": ["yes"], "items": ["a", "b"]}],
        bands={"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": 0}, {"level": "medium", "min": 1, "max": 1},
            {"level": "high", "min": 2, "max": 2}]},
    ))
    scorer = Scorer(ci)
    assert scorer.fast is not None and "note" in scorer.free_choice
    assert scorer.outcome({"a": "yes", "b": "no", "note": "no"}).level == "medium"
    with pytest.raises(AnswerError, match="note"):
        scorer.outcome({"a": "yes", "b": "no", "note": "perhaps"})
