"""The fast path (batch hot path) agrees with the full engine on every answer set, unknowns included."""

from __future__ import annotations

import random

import pytest
from helpers import item
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import FIXTURES, demo_home

from screening import AnswerError, assess, load_instrument
from screening.assessment import summarize_referrals
from screening.content.rules_loader import load_rules
from screening.engine import decide, summarize

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


# --- unknown answers on the fast path ---------------------------------------------


def slow_summary(ci, answers):
    """What ``summarize`` gives when the fast path steps aside: evaluate and decide."""
    ev = ci.evaluate(ci.check_answers(answers))
    d = decide(ci, ev, None)
    totals = tuple(lo if lo == hi else -1 for lo, hi in (ev.scores[s.id] for s in ci.instrument.scores))
    return d.final, d.status, totals, d.floor


@settings(max_examples=400, deadline=None)
@given(answers=answers_strategy(), children=st.sampled_from([True, False, None]))
def test_unknown_answers_take_the_fast_path_and_agree_with_the_full_engine(flat, answers, children):
    ci, rules = flat
    quick = ci.fast.summary(answers)
    assert quick is not None  # unknown, None and missing answers too: no fallback
    assert quick == slow_summary(ci, answers)
    facts = {"children_in_household": children}
    full = assess(ci, answers, rules=rules, facts=facts)
    first = summarize_referrals(ci, rules, answers, facts)
    assert first[1] == tuple(r.service for r in full.referrals)
    assert first[0] == quick
    # The memo now answers for these answers, unknowns and all, and says the same.
    assert rules.fast_for(ci)(answers, facts) == first


def test_the_fast_path_raises_where_assess_raises(flat):
    ci, rules = flat
    complete = {"q1": "yes", "q2": "yes", "q3": "no", "q4": "no"}
    unknown = {"q1": "yes", "q2": "unknown", "q3": None}
    for answers in (complete, unknown):
        summarize_referrals(ci, rules, answers, {"children_in_household": True})  # memoised
        for bad in ({**answers, "q9": "yes"}, {**answers, "view": "sky-high"}, {**answers, "q1": "maybe"}):
            with pytest.raises(AnswerError):
                summarize(ci, bad)
            with pytest.raises(AnswerError):
                summarize_referrals(ci, rules, bad, {"children_in_household": True})
        # Facts the memo has seen in another form: an undeclared one, True for a number, 1 for a yes/no.
        for facts in ({"children_in_household": True, "pets": True}, {"age": True}, {"children_in_household": 1}):
            with pytest.raises(AnswerError):
                summarize_referrals(ci, rules, answers, facts)


def test_a_number_read_by_a_critical_rule_is_never_answered_for_a_bool():
    """``(1,)`` and ``(True,)`` are the same memo key; the answer True is not a number."""
    from helpers import build_instrument, compile_data, text

    ci = compile_data(build_instrument(
        sections=[{"id": "main", "title": text("Frågor"), "items": [
            item("a"), {"id": "n", "type": "number", "text": text("Antal"), "min": 0, "max": 5}]}],
        scores=[{"id": "total", "label": text("Antal ja"), "kind": "count", "values": ["yes"], "items": ["a"]}],
        bands={"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": 0}, {"level": "medium", "min": 1, "max": 1}]},
        critical=[{"id": "many", "when": "n >= 1", "raise_to": "medium", "reason": text("Många")}],
    ))
    assert ci.fast.usable
    assert summarize(ci, {"a": "no", "n": 1}) == slow_summary(ci, {"a": "no", "n": 1})
    assert summarize(ci, {"a": "no"}) == slow_summary(ci, {"a": "no"})  # n unknown: possibly medium
    for answers in ({"a": "no", "n": True}, {"n": True}):
        with pytest.raises(AnswerError):
            summarize(ci, answers)


# --- many rules: the work per rule stays flat ---------------------------------------

ITEMS = ("q1", "q2", "q3", "q4")
SERVICES = ("rvc", "relationsvaldsteam", "healthcare", "police")


def many_rules_text(n: int) -> str:
    """The demo rule set's facts with one table of ``n`` rules over every item and level."""
    head, _, _ = (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8").partition("tables:")
    rules = "\n".join(
        f"      - {{id: r{k}, when: \"{ITEMS[k % 4]} == 'yes' and level >= '{('low', 'medium', 'high')[k % 3]}'\", "
        f"refer: [{SERVICES[k % 4]}], urgency: within_days, reason: {{sv: R, en: R}}}}"
        for k in range(n)
    )
    return (
        f"{head}tables:\n  - id: many\n    instrument: demo\n    hit_policy: collect\n"
        f"    violence_disclosed: \"count('yes', q1, q2, q4) >= 1\"\n    rules:\n{rules}\n"
    )


def test_the_work_per_rule_stays_flat_from_5_to_200_rules(tmp_path):
    """Each memo miss costs one recommendation (one evaluation per rule), a hit costs none.

    Counted, not timed: a miss used to run a full ``assess``, whose near-miss pass
    recommends a second time, and 200 rules made nearly every call a miss.
    """
    rng = random.Random(19)
    sets = [
        (
            {**{q: rng.choice(["yes", "no", "unknown", None]) for q in ITEMS}, "view": rng.choice(["low", "high"])},
            {"children_in_household": rng.choice([True, False, None])},
        )
        for _ in range(300)
    ]
    per_rule: dict[int, float] = {}
    for n in (5, 50, 200):
        home = demo_home(tmp_path / str(n), many_rules_text(n))
        path = home / "instruments" / "demo" / "1.0.0.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(", show_if: \"q2 == 'yes'\"", ""), encoding="utf-8")
        ci, rules = load_instrument("demo", home), load_rules("demo-rules", home)
        for answers, facts in sets:
            full = assess(ci, answers, rules=rules, facts=facts)
            rules.counts.update(recommend=0, conditions=0)  # count summarize_referrals only
            assert summarize_referrals(ci, rules, answers, facts)[1] == tuple(r.service for r in full.referrals)
            counted = dict(rules.counts)
            assert summarize_referrals(ci, rules, answers, facts)[1] == tuple(r.service for r in full.referrals)
            assert rules.counts == counted  # the second call is a memo hit: no rule evaluated
            assert counted["recommend"] <= 1
            assert counted["conditions"] == counted["recommend"] * n  # one pass over the rules, no second
            per_rule[n] = per_rule.get(n, 0) + counted["conditions"] / n
    assert per_rule[5] == per_rule[50] == per_rule[200] < len(sets)
