"""The bundled instruments take the fast path, and it agrees with the full engine on them.

Skip logic (FREDA-kortfrågor, hedersindikatorer, FREDA-beskrivning) and a critical rule
reading the incident calendar (FREDA-farlighet) are on the fast path; these tests
check first that it gives ``assess``'s answer on every answer set — unknown options,
``None``, left out, answered behind a hidden or an unknown condition, and answers that
do not fit (then the fast path steps aside and ``assess`` raises) — and then that the
instruments do take it, so a change cannot quietly send them back to the slow path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import AnswerError, JudgementError, assess, load_instrument
from screening.assessment import summarize_referrals
from screening.batch._score import Scorer
from screening.content.rules_loader import load_rules
from screening.engine import decide, summarize
from screening.engine.instrument import JudgementInput

FAST = ("freda-kortfragor", "freda-farlighet", "hedersindikatorer", "freda-beskrivning")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bundled():
    return {name: load_instrument(name) for name in FAST}


@pytest.fixture(scope="module")
def stockholm():
    return load_rules("stockholm")


def _value(ci: Any, item: Any, bad: bool) -> st.SearchStrategy[object]:
    """Answers of every kind for one item; ``bad`` adds a few that do not fit."""
    odd: list[object] = ["maybe", True, 1.0] if bad else []
    if item.type == "choice":
        values = [o.value for o in ci.instrument.scales[item.scale].options]
        return st.sampled_from([*values, None, *odd])
    if item.type == "number":
        return st.one_of(st.integers(item.min - 1 if bad else item.min, item.max + (1 if bad else 0)),
                         st.sampled_from([None, *odd]))
    if item.type == "date":
        dates = ["2025-03-01", "2025-06", "2024", dt.date(2025, 1, 2), None]
        return st.sampled_from([*dates, *(["31/12"] if bad else [])])
    if item.type == "text":
        return st.sampled_from(["", "   ", "anteckning", None, *([7] if bad else [])])
    fields = {f.id: _value(ci, f, bad) for f in item.fields or ()}
    rows = st.fixed_dictionaries({}, optional=fields)
    return st.one_of(st.lists(rows, max_size=4), st.none())


@st.composite
def answer_sets(draw: st.DrawFn, ci: Any) -> dict[str, object]:
    bad = draw(st.integers(0, 9)) == 0
    out: dict[str, object] = {}
    for item in ci.items.values():
        if draw(st.integers(0, 7)) == 0:
            continue  # left out
        out[item.id] = draw(_value(ci, item, bad))
    if bad and draw(st.booleans()):
        out["no_such_item"] = "yes"
    return out


def slow(ci: Any, answers: dict[str, object]) -> tuple[object, ...]:
    """``summary`` and ``quick`` as ``evaluate`` + ``decide`` give them."""
    ev = ci.evaluate(ci.check_answers(answers))
    d = decide(ci, ev, None)
    ranges = tuple(ev.scores[s.id] for s in ci.instrument.scores)
    totals = tuple(lo if lo == hi else -1 for lo, hi in ranges)
    return (d.final, d.status, totals, d.floor), d.complete, d.hi, ranges


@pytest.mark.parametrize("name", FAST)
def test_the_fast_path_agrees_with_the_full_engine_on_the_bundled_instruments(bundled, stockholm, name):
    ci = bundled[name]

    @SETTINGS
    @given(answers=answer_sets(ci))
    def check(answers: dict[str, object]) -> None:
        try:
            expected = slow(ci, answers)
        except AnswerError:
            assert ci.fast.quick(answers) is None  # steps aside: the slow path raises
            assert ci.fast.summary(answers) is None
            with pytest.raises(AnswerError):
                summarize(ci, answers)
            return
        assert ci.fast.quick(answers) == expected
        assert ci.fast.summary(answers) == expected[0]
        assert summarize(ci, answers) == expected[0]
        full = assess(ci, answers, rules=stockholm)
        final = None if full.final_level is None else full.levels.index(full.final_level)
        assert expected[0][:2] == (final, full.status)
        services = tuple(r.service for r in full.referrals)
        assert summarize_referrals(ci, stockholm, answers, {})[1] == services
        assert summarize_referrals(ci, stockholm, answers, {})[1] == services  # memoised: the same

    check()


@pytest.mark.parametrize("name", FAST)
def test_the_bundled_instruments_take_the_fast_path(bundled, name):
    """Skip logic and a calendar read by a critical rule no longer send them to ``evaluate``."""
    ci = bundled[name]
    assert ci.fast.usable
    empty: dict[str, object] = {}
    assert ci.fast.quick(empty) is not None  # every answer unknown: still on the fast path
    every = {}
    for item in ci.items.values():
        if item.type == "choice":
            every[item.id] = next(o.value for o in ci.instrument.scales[item.scale].options if not o.unknown)
        elif item.type == "number":
            every[item.id] = item.min
        elif item.type == "group":
            every[item.id] = []
        elif item.type == "date":
            every[item.id] = "2025-01-01"
        else:
            every[item.id] = "anteckning"
    assert ci.fast.quick(every) == slow(ci, every)


def test_patriark_steps_aside_for_its_blocking_requirements():
    """Its blocking requirements read repeating groups the fast path does not; ``evaluate`` decides."""
    ci = load_instrument("patriark")
    assert not ci.fast.usable
    assert ci.fast.quick({}) is None


JUDGEMENTS = st.one_of(
    st.none(),
    st.builds(
        JudgementInput,
        level=st.sampled_from(["low", "medium", "high", "not_identified", "identified", "no_indicators",
                               "indicators_present", "l9"]),
        rationale=st.sampled_from(["skäl", " "]),
        acknowledged=st.sampled_from([{}, {"strangulation": "skäl", "escalation": "skäl"}, {"nope": "skäl"}]),
    ),
)


def _outcome_or_refusal(call: Any) -> object:
    try:
        return call()
    except JudgementError as exc:
        return ("refused", exc.reason, None if exc.words is None else exc.words.get("sv"))
    except AnswerError:
        return AnswerError


@pytest.mark.parametrize("name", FAST)
def test_batch_rescoring_takes_the_fast_path_and_agrees_with_assess(bundled, stockholm, name):
    """The re-scorer's memoised outcome on the bundled instruments equals ``assess``, refusals word for word."""
    ci = bundled[name]
    scorer = Scorer(ci, stockholm)
    assert scorer.detail is not None  # skip logic no longer sends batch re-scoring to ``evaluate``

    facts = st.sampled_from([{}, {"children_in_household": True}])

    @SETTINGS
    @given(answers=answer_sets(ci), judgement=JUDGEMENTS, children=facts)
    def check(answers: dict[str, object], judgement: JudgementInput | None, children: dict[str, object]) -> None:
        def full() -> object:
            r = assess(ci, answers, judgement=judgement, rules=stockholm, facts=children)
            scores = tuple(s.value if s.value is not None else (s.min, s.max) for s in r.scores.values())
            return (r.final_level, r.status, r.complete, tuple(r.critical), tuple(x.service for x in r.referrals),
                    scores)

        def fast() -> object:
            o = scorer.outcome(answers, judgement, children)
            scores = tuple(lo if lo == hi else (lo, hi) for lo, hi in o.scores)  # type: ignore[misc]
            return (o.level, o.status, o.complete, o.critical, o.referrals, scores)

        want = _outcome_or_refusal(full)
        assert _outcome_or_refusal(fast) == want
        assert _outcome_or_refusal(fast) == want  # a memo hit says the same

    check()
