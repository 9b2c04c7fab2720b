"""The question counter and the unknown-answer count in the interview (issue 13, seen 11).

Before: the total changed from one question to the next without a word ("Fråga 1 av
13", then "2 av 12"), and the result said "Okända svar: 0" beside a summary showing
"Vet inte" (an own view, a descriptive item: unknown, but not counted against the
instrument's limit, and so not counted at all).

The total counts every item not known to be skipped (an item whose ``show_if`` is still
undecided is counted), so it changes only when an answer decides a skip, and then the
interview says so.
"""

from __future__ import annotations

import inspect
import itertools
import re

import pytest
from helpers import DEMO
from terminal.driver import ACK, QUESTION, answer_facts, finish, spawn_cli
from terminal.scripted import Autopilot, ScriptedPrompter

from screening import assess, list_instruments, load_instrument_file
from screening.interview._run import run_interview
from screening.report.present import result_text
from screening.store._store import Store

INSTRUMENTS = [pytest.param(f.path, id=f.id) for f in list_instruments()] + [pytest.param(DEMO, id="demo")]
CHANGE = re.compile(r"^\((?:Nu|Now) (\d+) ")


def open_store(path):
    """``Store.open`` that makes the store (``create=True`` where the store creates one only when asked)."""
    if "create" in inspect.signature(Store.open).parameters:
        return Store.open(path, create=True)
    return Store.open(path)


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "cases.db") as st:
        yield st


def start(store, ci):
    info = store.create_assessment(ci)
    store.lock(info.id)
    return info.id


def test_a_skip_decision_is_said_when_the_total_changes(store):
    ci = load_instrument_file(DEMO)  # q3 is asked only if q2 is yes
    p = ScriptedPrompter(["j", "n", "n", "l", "."])
    run_interview(store, ci, start(store, ci), p)
    assert "Fråga 2 av 5" in p.screen and "Fråga 3 av 4" in p.screen
    at = p.lines.index(next(line for line in p.lines if line.startswith("Fråga 3 av 4")))
    assert p.lines[at + 1] == "(Nu 4 frågor: 1 fråga gäller inte efter svaren hittills.)"


def test_changing_an_answer_back_says_the_question_applies_again(store):
    ci = load_instrument_file(DEMO)
    p = ScriptedPrompter(["y", "n", "<", "y", "n", "."])
    run_interview(store, ci, start(store, ci), p, lang="en")
    assert "(Now 5 questions: 1 more question applies after the changed answer.)" in p.screen


@pytest.mark.parametrize("path", INSTRUMENTS)
def test_the_total_never_changes_without_a_word(store, path):
    ci = load_instrument_file(path)
    pilot = Autopilot(seed=3)
    run_interview(store, ci, start(store, ci), pilot)
    totals = [(n, int(m.group(2))) for n, line in enumerate(pilot.lines) if (m := QUESTION.match(line))]
    for (_, before), (at, after) in itertools.pairwise(totals):
        if after != before:
            said = CHANGE.match(pilot.lines[at + 1])
            assert said and int(said.group(1)) == after, pilot.lines[at : at + 2]


def test_the_result_counts_every_answer_shown_as_unknown(store):
    (path,) = [f.path for f in list_instruments() if f.id == "freda-farlighet"]
    ci = load_instrument_file(path)
    answers = {key: "no" for key, item in ci.items.items() if item.type == "choice"} | {"calendar": []}
    answers["own_view"] = "unknown"  # "Vet inte eller vill inte svara": unknown, not a danger answer
    result = assess(ci, answers)
    assert result.completeness.unknown == 0 and result.complete  # the limit is about the danger questions
    assert result.completeness.unknown_answers == ["own_view"]
    assert "Okända svar: 1 (0 av dem räknas mot instrumentets gräns på 3)" in result_text(result, "sv")
    assert "Unknown answers: 1 (0 of them count against the instrument's limit of 3)" in result_text(result, "en")
    answers["strangled"] = "unknown"
    counted = result_text(assess(ci, answers), "sv")
    assert "Okända svar: 2 (1 av dem räknas mot instrumentets gräns på 3)" in counted


def test_when_every_unknown_counts_the_line_is_as_before():
    ci = load_instrument_file(DEMO)
    result = assess(ci, {"q1": "unknown", "q2": "no", "q4": "no", "view": "low"})
    assert result.completeness.unknown_answers == ["q1"] == result.completeness.unknown_items
    assert "Okända svar: 1\n" in result_text(result, "sv")


@pytest.mark.terminal
def test_the_terminal_says_why_the_total_changed_and_counts_the_unknown_own_view(tmp_path):
    db = tmp_path / "cases.db"
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "ulf"])
    answer_facts(child, DEMO)
    child.expect_exact("Fråga 1 av 5")
    for key in "jn":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("Fråga 3 av 4")
    child.expect_exact("(Nu 4 frågor: 1 fråga gäller inte efter svaren hittills.)")
    child.expect_exact("> ")
    child.send("n")
    child.expect(ACK)
    child.expect_exact("> ")
    child.send("?")  # own view: not known
    child.expect(ACK)
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\r")
    child.expect_exact("[j] ja  [n] nej")
    child.expect_exact("> ")
    child.send("n")
    child.expect_exact("Okända svar: 1 (0 av dem räknas mot instrumentets gräns på 1)")
    _, status = finish(child)
    assert status == 0


def test_the_report_counts_every_unknown_answer_shown_as_the_summary_does():
    """Issue 13, seen 11: 'Okända svar: 0' beside a 'Vet inte' in the printed report as well."""
    from screening import load_instrument
    from screening.report import render_report

    ci = load_instrument("freda-farlighet")
    answers = {key: "no" for key, item in ci.items.items() if item.type == "choice"}
    answers["calendar"] = []
    answers["own_view"] = "unknown"  # shown as "Vet inte", but it feeds no score: not counted
    result = assess(ci, answers)
    assert result.completeness.unknown == 0 and result.completeness.unknown_answers == ["own_view"]
    sv = render_report(result, instrument=ci, fmt="txt", lang="sv")
    en = render_report(result, instrument=ci, fmt="txt", lang="en")
    assert "Okända svar: 1 (0 av dem räknas mot instrumentets gräns på 3)" in sv
    assert "Unknown answers: 1 (0 of them count against the instrument's limit of 3)" in en
