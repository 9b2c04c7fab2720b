"""The judgement prompt offers only the levels the policy allows, by digit, in the session's language (issue 13, 7).

Before: every level was offered by its first free letter (in Swedish ``i`` meant "Inte
identifierat" and ``d`` "Identifierat"), a level the rules refuse was accepted, the
rationale typed, and only then refused.
"""

from __future__ import annotations

import inspect

import pytest
from helpers import DEMO
from terminal.driver import ACK, answer_facts, finish, spawn_cli
from terminal.scripted import ScriptedPrompter

from screening import list_instruments, load_instrument_file
from screening.engine import allowed_levels
from screening.engine.instrument import JudgementInput
from screening.interview._run import run_interview
from screening.store._store import Store


def instrument(name: str):
    (path,) = [f.path for f in list_instruments() if f.id == name]
    return load_instrument_file(path)


def open_store(path):
    """``Store.open`` that makes the store (``create=True`` where the store creates one only when asked)."""
    if "create" in inspect.signature(Store.open).parameters:
        return Store.open(path, create=True)
    return Store.open(path)


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "cases.db") as st:
        yield st


def interview(store, ci, answers, script, lang="sv"):
    """Record ``answers`` first, then run the interview from the summary on with ``script``."""
    info = store.create_assessment(ci)
    store.lock(info.id)
    for key, value in answers.items():
        store.record_answer(info.id, key, value)
    prompter = ScriptedPrompter(script)
    return run_interview(store, ci, info.id, prompter, lang=lang), prompter


def no(ci, **answers):
    """Every choice item answered with its first 'no' value, then ``answers``."""
    out = {}
    for key, item in ci.items.items():
        if item.type == "choice":
            values = [o.value for o in ci.instrument.scales[item.scale].options]
            out[key] = "no" if "no" in values else values[0]
        elif item.type == "group":
            out[key] = []
    return out | answers


def test_levels_are_chosen_by_digit_never_by_a_letter_another_label_starts_with(store):
    ci = instrument("freda-kortfragor")
    outcome, p = interview(store, ci, no(ci), ["", "j", "i", "d", "1", "Inga tecken på våld."])
    offer = next(line for line in p.lines if line.startswith("Välj nivå:"))
    assert "[1] Inte identifierat" in offer and "[2] Identifierat" in offer
    assert "[i]" not in offer and "[d]" not in offer
    assert p.screen.count("Tryck på en av tangenterna ovan.") == 2  # i and d choose nothing
    assert outcome.result.judgement.level == "not_identified"


def test_a_refused_level_is_explained_before_the_rationale_and_never_offered(store):
    ci = load_instrument_file(DEMO)  # raise_only; q4 is critical (at least medium)
    answers = {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}
    outcome, p = interview(store, ci, answers, ["", "j", "1", "3", "Allvarligt läge."])
    offer = p.lines.index(next(line for line in p.lines if line.startswith("Välj nivå:")))
    assert "[1]" not in p.lines[offer] and "[2] Medel" in p.lines[offer] and "[3] Hög" in p.lines[offer]
    reason = "Låg kan inte väljas här: Instrumentet låter bedömaren bara höja nivån: minst Medel."
    assert p.lines[offer + 1].strip() == reason  # named with its reason before anything is typed
    assert p.lines.count(reason) == 1  # pressing its digit says it again, and asks again
    assert p.prompts.count("Motivering: ") == 1  # the rationale is typed once, for an allowed level
    assert "Bedömningen går inte att använda" not in p.screen
    assert outcome.result.final_level == "high"


def test_the_refusal_is_in_english_in_an_english_session(store):
    ci = load_instrument_file(DEMO)
    answers = {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}
    outcome, p = interview(store, ci, answers, ["", "y", "1", "2", "Serious."], lang="en")
    assert (
        "Low cannot be chosen here: The instrument only lets the assessor raise the level: at least Medium." in p.screen
    )
    assert "kan inte" not in p.screen and "Instrumentet" not in p.screen
    assert outcome.result.final_level == "medium"


def test_allowed_levels_follow_the_policy_and_count_a_level_that_needs_acknowledgements_as_allowed():
    demo = load_instrument_file(DEMO)
    ev = demo.evaluate(demo.check_answers({"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}))
    refusals = allowed_levels(demo, ev)
    assert [r is None for r in refusals] == [False, True, True]
    assert "raise" in refusals[0].reason and refusals[0].words.get("sv").startswith("Instrumentet")

    freda = instrument("freda-farlighet")
    ev = freda.evaluate(freda.check_answers(no(freda, strangled="unknown", own_view="low")))
    # low is below the possible strangulation rule: allowed, and the assessor is then asked why it does not hold
    assert allowed_levels(freda, ev) == (None, None, None)


def test_a_level_that_needs_acknowledgements_is_offered_and_then_asks_for_them(store):
    ci = instrument("freda-farlighet")
    answers = no(ci, strangled="unknown", own_view="low")
    why = "Personen beskriver inget tag om halsen."
    outcome, p = interview(store, ci, answers, ["", "1", "Samlad bild.", why])
    offer = next(line for line in p.lines if line.startswith("Välj nivå:"))
    assert "[1] Låg farlighet" in offer and "kan inte väljas" not in p.screen
    assert outcome.result.final_level == "low"
    assert outcome.result.judgement.acknowledged == {"strangulation": why}


def test_an_existing_judgement_the_answers_no_longer_allow_is_not_kept_by_enter(store):
    ci = load_instrument_file(DEMO)
    info = store.create_assessment(ci)
    store.lock(info.id)
    for key, value in {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}.items():
        store.record_answer(info.id, key, value)
    store.set_judgement(info.id, JudgementInput(level="low", rationale="Lugnt."))  # judged before q4 changed
    again = ScriptedPrompter(["", "\r", "2", "Ändrat läge."])
    outcome = run_interview(store, ci, info.id, again)
    assert "Den nuvarande bedömningen kan inte stå kvar" in again.screen
    assert outcome.result.judgement.level == "medium"


@pytest.mark.terminal
def test_the_terminal_offers_only_allowed_levels_by_digit(tmp_path):
    db = tmp_path / "cases.db"
    child = spawn_cli(["interview", str(DEMO), "--store", str(db), "--case", "eva"])
    answer_facts(child, DEMO)
    for key in "jnjl":  # q1 yes, q2 no (q3 skipped), q4 yes (critical), own view low
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\r")
    child.expect_exact("[j] ja  [n] nej")
    child.expect_exact("> ")
    child.send("j")
    child.expect_exact("Välj nivå:  [2] Medel   [3] Hög")
    child.expect_exact("Låg kan inte väljas här: Instrumentet låter bedömaren bara höja nivån: minst Medel.")
    child.expect_exact("> ")
    child.send("1")
    child.expect_exact("Låg kan inte väljas här")
    child.expect_exact("> ")
    child.send("3")
    child.expect_exact("Motivering: ")
    child.send("Allvarligt läge.\r")
    child.expect_exact("✓ Bedömningen är slutförd och sparad.")
    child.expect_exact("Slutlig nivå: Hög")
    _, status = finish(child)
    assert status == 0
