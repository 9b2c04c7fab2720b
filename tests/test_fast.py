"""The fast path (batch hot path) agrees with the full engine on every answer set."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import demo_home

from screening import assess, load_instrument
from screening.assessment import summarize_referrals
from screening.content.rules_loader import load_rules
from screening.engine import summarize

VALUES = st.sampled_from(["yes", "no", "unknown", None])


def answers_strategy():
    return st.fixed_dictionaries(
        {},
        optional={
            "q1": VALUES,
            "q2": VALUES,
            "q3": VALUES,
            "q4": VALUES,
            "view": st.sampled_from(["low", "high", None]),
        },
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = demo_home(tmp_path_factory.mktemp("home"))
    return load_instrument("demo", home), load_rules("demo-rules", home)


def test_fast_path_is_used_for_complete_answers(demo):
    ci, _ = demo
    # demo has skip logic (q3), so the fast path must step aside rather than guess.
    assert ci.fast.summarize({"q1": "yes", "q2": "no", "q4": "no"}) is None


@settings(max_examples=300, deadline=None)
@given(answers=answers_strategy(), children=st.sampled_from([True, False, None]), honour=st.booleans())
def test_summaries_agree_with_assess(demo, answers, children, honour):
    ci, rules = demo
    facts = {"children_in_household": children, "honour_context": honour}
    full = assess(ci, answers, rules=rules, facts=facts)
    final, status, _totals, _ = summarize(ci, answers)
    assert final == (None if full.final_level is None else full.levels.index(full.final_level))
    assert status == full.status
    _summary, services = summarize_referrals(ci, rules, answers, facts)
    assert services == tuple(r.service for r in full.referrals)
    # Twice: the second call is answered from the memo and must not differ.
    assert summarize_referrals(ci, rules, answers, facts)[1] == services


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """The demo without skip logic, so complete answer sets take the fast path."""
    home = demo_home(tmp_path_factory.mktemp("flat"))
    path = home / "instruments" / "demo" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(", show_if: \"q2 == 'yes'\"", ""), encoding="utf-8")
    return load_instrument("demo", home), load_rules("demo-rules", home)


def test_fast_path_takes_complete_answers_and_declines_unknowns(flat):
    ci, _ = flat
    assert ci.fast.usable
    assert ci.fast.summarize({"q1": "yes", "q2": "yes", "q3": "no", "q4": "no"}) == (1, "concluded", (2,), None)
    assert ci.fast.summarize({"q1": "yes", "q2": "yes", "q3": "unknown", "q4": "no"}) is None
    assert ci.fast.summarize({"q1": "yes", "q2": "yes", "q3": "no"}) is None  # q4 missing = unknown
    assert ci.fast.summarize({"q1": "maybe", "q2": "yes", "q3": "no", "q4": "no"}) is None


@settings(max_examples=400, deadline=None)
@given(answers=answers_strategy(), children=st.sampled_from([True, False, None]))
def test_fast_summaries_agree_with_assess(flat, answers, children):
    ci, rules = flat
    facts = {"children_in_household": children}
    full = assess(ci, answers, rules=rules, facts=facts)
    final, status, _, floor = summarize(ci, answers)
    assert final == (None if full.final_level is None else full.levels.index(full.final_level))
    assert status == full.status
    assert floor == (None if full.critical_level is None else full.levels.index(full.critical_level))
    assert summarize_referrals(ci, rules, answers, facts)[1] == tuple(r.service for r in full.referrals)
    assert summarize_referrals(ci, rules, answers, facts)[1] == tuple(r.service for r in full.referrals)
