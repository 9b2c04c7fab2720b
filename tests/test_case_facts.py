"""Case facts are part of the assessment (issue 12, item 1).

Before: the interview never asked or stored ``children_in_household``, ``age``,
``honour_context`` or ``immediate_danger``, so from the interview 112 was never
recommended, children in the household never led to a report of concern for the
danger assessment, and re-scoring saw every fact as unknown. Each test here failed
on that code.
"""

from __future__ import annotations

import json
import signal

import pytest
from terminal.driver import ACK, QUESTION, child_env, finish, spawn_cli
from terminal.scripted import ScriptedPrompter
from test_privacy_support import raw

from screening import load_instrument
from screening.api import resolve_rules
from screening.cli import run
from screening.interview._facts import facts_to_ask
from screening.interview._run import run_interview
from screening.report._render import render_report
from screening.store._store import Store

DANGER = "freda-farlighet@1.0.0"
CANARY = "Kanariefågel-4711"


@pytest.fixture
def rules():
    return resolve_rules("stockholm", None)


@pytest.fixture
def store(store_at):
    """A new store on each backend (tests/pg_fixtures.py)."""
    with Store.open(store_at, create=True) as st:
        yield st


def start(store, ci):
    info = store.create_assessment(ci)
    store.lock(info.id)
    return info.id


def fact_script(ci, rules, values):
    """Keys answering the facts in the order the interview asks them (unknown where not given)."""
    keys = []
    for name in facts_to_ask(ci, rules):
        value = values.get(name, "?")
        keys.append(value)
    return keys


# ---------------------------------------------------------------- the store


def test_facts_are_sealed_kept_apart_from_answers_and_frozen_with_the_revision(store, store_at):
    ci = load_instrument(DANGER)
    aid = start(store, ci)
    store.record_answer(aid, "threats_to_kill", "yes")
    store.record_fact(aid, "children_in_household", True)
    store.record_fact(aid, "age", 34)
    store.record_fact(aid, "honour_context", None)  # asked: not known
    assert store.answers(aid) == {"threats_to_kill": "yes"}
    assert store.facts(aid) == {"children_in_household": True, "age": 34, "honour_context": None}

    store.complete(aid)
    with pytest.raises(Exception, match="completed"):
        store.record_fact(aid, "age", 35)
    revision = store.correct(aid)
    assert store.facts(aid) == {"children_in_household": True, "age": 34, "honour_context": None}
    store.record_fact(aid, "age", 35)
    assert store.facts(aid)["age"] == 35
    assert store.facts(aid, revision - 1)["age"] == 34  # the completed revision keeps its own

    conn = raw(store_at)  # as whoever reads the database without the key (the DBA on PostgreSQL)
    stored = b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode() for (v,) in conn.execute("SELECT value FROM answers")
    )
    conn.close()
    assert b"true" not in stored and b"34" not in stored  # sealed like every answer


def test_a_bad_fact_name_is_refused(store):
    aid = start(store, load_instrument(DANGER))
    with pytest.raises(Exception, match="letters, digits"):
        store.record_fact(aid, "age; DROP", 3)


# ---------------------------------------------------------------- the interview


def test_immediate_danger_is_asked_first_and_yes_shows_the_112_advice_at_once(store, rules):
    ci = load_instrument(DANGER)
    names = facts_to_ask(ci, rules)
    assert names[0] == "immediate_danger"
    assert {"children_in_household", "age", "honour_context"} <= set(names)
    aid = start(store, ci)
    prompter = ScriptedPrompter(["j", "."])
    run_interview(store, ci, aid, prompter, rules=rules)
    screen = prompter.screen
    advice = screen.index("ring 112")
    assert screen.index("omedelbar fara") < advice
    assert "Fråga 1 av" not in screen[:advice]  # before any question of the instrument
    assert store.facts(aid) == {"immediate_danger": True}


def test_facts_from_the_interview_reach_the_result(store, rules):
    """From the interview: 112 recommended, and children in the household give a report of concern."""
    ci = load_instrument(DANGER)
    aid = start(store, ci)
    keys = fact_script(ci, rules, {"immediate_danger": "j", "children_in_household": "j", "age": "34"})
    result = _autofinish(store, ci, aid, rules, keys)
    services = [r.service for r in result.referrals]
    assert "emergency" in services and "police" in services
    assert "orosanmalan" in services
    facts = {f.name: (f.value, f.source) for f in result.case_facts}
    assert facts["children_in_household"] == (True, "given")
    assert facts["age"] == (34, "given")
    assert facts["honour_context"] == (None, "unknown")


def _autofinish(store, ci, aid, rules, fact_keys):
    """Run a whole interview: the given fact keys, then the autopilot for every question."""
    from terminal.scripted import Autopilot

    class Pilot(Autopilot):
        def __init__(self) -> None:
            super().__init__(seed=3, judge=False)
            self.pending = list(fact_keys)

        def read_key(self, prompt: str) -> str:
            if self.pending:
                self.prompts.append(prompt)
                return self.pending.pop(0)
            return super().read_key(prompt)

        def read_line(self, prompt: str) -> str:
            if self.pending:
                self.prompts.append(prompt)
                return self.pending.pop(0)
            return super().read_line(prompt)

    outcome = run_interview(store, ci, aid, Pilot(), rules=rules)
    assert outcome.status == "completed"
    assert outcome.result is not None
    return outcome.result


def test_a_resumed_draft_asks_only_the_facts_still_missing(store, rules):
    ci = load_instrument(DANGER)
    aid = start(store, ci)
    run_interview(store, ci, aid, ScriptedPrompter(["n", "j", "."]), rules=rules)
    assert store.facts(aid) == {"immediate_danger": False, "children_in_household": True}
    prompter = ScriptedPrompter(["."])
    run_interview(store, ci, aid, prompter, rules=rules)
    assert "omedelbar fara just nu" not in prompter.screen
    assert "Hur gammal är personen" in prompter.screen


def test_a_fact_is_shown_and_changed_from_the_summary(store, rules):
    ci = load_instrument("freda-kortfragor")
    names = facts_to_ask(ci, rules)
    assert "children_in_household" not in names  # kortfrågor ask it themselves
    aid = start(store, ci)
    for item in ci.order:
        store.record_answer(aid, item, "no" if ci.items[item].type == "choice" else None)
    for name in names:
        store.record_fact(aid, name, None)
    age = names.index("age") + 1
    prompter = ScriptedPrompter([f"F{age}", "17", "", "n"])
    outcome = run_interview(store, ci, aid, prompter, rules=rules)
    assert outcome.status == "completed"
    assert f"F{age}. Ålder — Vet inte" in prompter.screen
    assert f"F{age}. Ålder — 17" in prompter.screen
    assert store.facts(aid)["age"] == 17


def test_the_case_file_report_names_every_fact_in_words(store, rules):
    ci = load_instrument(DANGER)
    aid = start(store, ci)
    keys = fact_script(ci, rules, {"immediate_danger": "n", "children_in_household": "j"})
    result = _autofinish(store, ci, aid, rules, keys)
    sv = render_report(result, instrument=ci, fmt="txt", lang="sv")
    en = render_report(result, instrument=ci, fmt="txt", lang="en")
    assert "Barn i hushållet: ja (angivet av handläggaren)" in sv
    assert "Children in the household: yes (given by the caseworker)" in en
    assert "okänt – räknas inte som nej" in sv
    assert "children_in_household" not in sv + en


# ---------------------------------------------------------------- re-scoring


def test_rescoring_a_store_uses_the_stored_facts(tmp_path, store_at, rules, capsys):
    """A fact stored is never re-scored as unknown, and the JSON Lines export carries it."""
    db = store_at
    ci = load_instrument(DANGER)
    with Store.open(db, create=True) as st:
        aid = start(st, ci)
        st.record_answer(aid, "threats_to_kill", "yes")
        st.record_fact(aid, "children_in_household", True)
        st.record_fact(aid, "immediate_danger", True)
        st.record_fact(aid, "age", None)
        st.complete(aid)
    out = tmp_path / "rescored.jsonl"
    code = run(["rescore", "--store", str(db), "--instrument", "freda-farlighet", "--to", "1.0.0",
                "--rules", "stockholm", "--output", str(out), "--format", "json"])
    printed = capsys.readouterr()
    assert code == 0, printed.out[-2000:] + printed.err
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["facts"] == {"children_in_household": True, "immediate_danger": True}
    services = line["result"]["referrals"]
    assert {"emergency", "orosanmalan"} <= set(services)


# ---------------------------------------------------------------- a real terminal


@pytest.mark.terminal
def test_in_a_terminal_the_112_advice_comes_first_and_facts_survive_kill_9(store_at):
    db = store_at
    child = spawn_cli(["interview", DANGER, "--store", str(db), "--case", "nora", "--rules", "stockholm"],
                      env=child_env())
    child.expect_exact("Är personen i omedelbar fara just nu")
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    child.expect_exact("ring 112 nu")
    before_question = child.before
    assert QUESTION.search(before_question) is None
    child.expect_exact("Finns det barn i hushållet")
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    child.expect_exact("Hur gammal är personen")
    child.kill(signal.SIGKILL)
    finish(child)
    with Store.open(db) as st:
        (info,) = st.find("nora")
        assert st.facts(info.id) == {"immediate_danger": True, "children_in_household": True}
