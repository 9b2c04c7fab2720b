"""Re-scoring as a library call: who changed, why, and bad records that never stop the batch."""

from __future__ import annotations

import json

import pytest
from test_rescore_support import test_key, yes_no_versions  # noqa: F401  (test_key: autouse)

from screening import load_instrument
from screening.batch._diff import build_diff
from screening.batch._report import render_diff
from screening.batch._rescorer import Failed, Outcome, Rescored, StoredAssessment, classify, rescore
from screening.content.rules_loader import load_rules
from screening.engine.instrument import JudgementInput


@pytest.fixture
def t_home(tmp_path):
    yes_no_versions(tmp_path)
    return tmp_path


def rec(answers, n=1, version="1.0.0", **extra):
    return StoredAssessment(id=f"a{n}", case=f"ref-{n}", instrument="t", version=version, answers=answers, **extra)


def one(records, target="t@1.1.0", home=None, rules=None, **kw):
    return list(rescore(records, load_instrument(target, home), rules, home=home, **kw))


def test_a_moved_cut_off_raises_the_level_and_says_why(t_home):
    # 1.0.0: one yes is low; 1.1.0: one yes is medium.
    [item] = one([rec({"a": "yes", "b": "no", "c": "no", "d": "no"})], home=t_home)
    assert isinstance(item, Rescored)
    assert (item.old.level, item.new.level, item.change, item.baseline) == ("low", "medium", "rose", "recomputed")
    words = [r.en for r in item.reasons]
    assert words[0] == "The level Låg becomes Medel"
    assert any("lies in the band 1–1" in w for w in words)
    assert item.result is not None and item.result.final_level == "medium"  # the library builds it by default


def test_unchanged_assessments_are_unchanged_and_build_no_result(t_home):
    [item] = one([rec({"a": "no", "b": "no", "c": "no", "d": "no"})], home=t_home)
    assert item.change == "unchanged" and item.reasons == () and item.result is None


def test_a_stored_outcome_is_the_baseline_and_a_fall_is_listed(t_home):
    stored = Outcome("high", "concluded", True, (), ())
    [item] = one([rec({"a": "yes", "b": "no", "c": "no", "d": "no"}, result=stored)], home=t_home)
    assert (item.baseline, item.change, item.new.level) == ("stored", "fell", "medium")


def test_a_judgement_the_new_version_refuses_is_dropped_and_needs_review(t_home):
    # raise_only: the old judgement "low" is below the new computed "medium".
    judged = JudgementInput(level="low", rationale="Handläggarens skäl")
    [item] = one([rec({"a": "yes", "b": "no", "c": "no", "d": "no"}, judgement=judged)], home=t_home)
    assert item.judgement_dropped and item.new.level == "medium" and item.change == "rose"
    assert any("a new judgement is needed" in r.en for r in item.reasons)
    assert not any("Handläggarens skäl" in r.en or "Handläggarens skäl" in r.sv for r in item.reasons)


def test_an_answer_that_no_longer_counts_as_known_makes_it_incomplete(t_home):
    stored = Outcome("low", "concluded", True, (), ())
    [item] = one([rec({"a": "no", "b": "no", "c": "no", "d": "unknown"}, result=stored)], home=t_home)
    # One unknown: 1.0.0's low band (0–1) held it; in 1.1.0 it spans low–medium.
    assert item.new.status == "indeterminate" and item.change == "review"


def test_changed_referrals_with_the_same_level():
    ci = load_instrument("freda-farlighet@1.0.0")
    vector = ci.instrument.tests[2]  # all no, judged medium
    [base] = rescore([StoredAssessment("x", "ref-x", "freda-farlighet", "1.0.0", vector.answers,
                                       judgement=vector.judgement)], ci, load_rules("stockholm"))
    [item] = rescore([StoredAssessment("x", "ref-x", "freda-farlighet", "1.0.0", vector.answers,
                                       judgement=vector.judgement, result=base.new)], ci, load_rules("goteborg"))
    assert item.change == "referrals"
    assert "kriscentrum" in item.referrals_added and "rvc" in item.referrals_removed


@pytest.mark.parametrize(
    ("old", "new", "ranks", "change"),
    [
        (("low", "concluded", True), ("high", "concluded", True), (0, 2), "rose"),
        (("high", "concluded", True), ("low", "concluded", True), (2, 0), "fell"),
        (("low", "concluded", True), (None, "judgement_required", True), (0, None), "review"),
        ((None, "judgement_required", True), (None, "judgement_required", False), (None, None), "review"),
        (("low", "concluded", True), ("low", "concluded", True), (0, 0), "unchanged"),
    ],
)
def test_classify(old, new, ranks, change):
    a = Outcome(*old, (), ())
    b = Outcome(*new, (), ())
    assert classify(a, b, *ranks) == change


def test_bad_records_are_listed_and_never_stop_the_batch(t_home):
    records = [
        rec({"a": "yes", "b": "no", "c": "no", "d": "no"}, 1),
        rec({"a": "yes"}, 2, version="0.9.0"),  # no such version
        rec({"a": "perhaps", "b": "no", "c": "no", "d": "no"}, 3),  # not an answer of t
        {"id": "a4", "case": "19121212-1212", "instrument": {"id": "t", "version": "1.0.0"}, "answers": {}},
        {"id": "a5", "case": "ref-5", "answers": {}},
        rec({"a": "no", "b": "no", "c": "no", "d": "no"}, 6),
    ]
    out = one(records, home=t_home)
    assert [type(x).__name__ for x in out] == ["Rescored", "Failed", "Failed", "Failed", "Failed", "Rescored"]
    assert out[1].stage == "instrument" and "0.9.0 is not a known version" in out[1].reason
    assert out[2].stage == "answers" and "a: answer not allowed" in out[2].reason and "perhaps" not in out[2].reason
    assert out[3].case == "?" and "pseudonym" in out[3].reason  # a personnummer is never echoed
    assert "'instrument' needs" in out[4].reason


def test_records_of_another_instrument_fail_when_the_target_is_fixed(t_home):
    [item] = one([StoredAssessment("z", "ref-z", "other", "1.0.0", {})], home=t_home)
    assert isinstance(item, Failed) and "an assessment of other, not of t" in item.reason


def test_json_lines_records_with_a_full_stored_result(t_home):
    from screening import assess

    v1 = load_instrument("t@1.0.0", t_home)
    answers = {"a": "yes", "b": "no", "c": "no", "d": "no"}
    stored = json.loads(assess(v1, answers).to_json())
    [item] = one([{"id": "j1", "case": "ref-j1", "instrument": {"id": "t", "version": "1.0.0"},
                   "answers": answers, "result": stored}], home=t_home)
    assert item.baseline == "stored" and item.old.level == "low" and item.change == "rose"


def test_the_diff_never_holds_answers_or_the_rationale():
    ci = load_instrument("patriark")
    canary, why = "Kanarie-svar-4711", "Kanarie-skäl-4712"
    records = []
    for n, vector in enumerate(ci.instrument.tests):
        answers = dict(vector.answers, info_sources=canary, other_considerations=canary)
        judgement = None if vector.judgement is None else JudgementInput(level=vector.judgement.level, rationale=why)
        # A stored outcome that differs, so every record is listed with its reasons.
        records.append(StoredAssessment(f"p{n}", f"ref-{n}", "patriark", ci.instrument.version, answers,
                                        judgement=judgement, result=Outcome("low", "concluded", False, ("x",), ("y",))))
    items = list(rescore(records, ci, load_rules("stockholm")))
    assert any(isinstance(i, Rescored) and i.change != "unchanged" for i in items)
    diff = build_diff(items)
    assert diff["counts"]["total"] == len(items) and diff["listed"] > 0
    for fmt in ("json", "md", "html"):
        text = render_diff(diff, fmt, targets={"patriark": ci})
        assert canary not in text and why not in text
