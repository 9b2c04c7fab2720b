"""The interview flow, scripted through the ``Prompter`` interface (no terminal)."""

from __future__ import annotations

import hashlib
import re
import sqlite3

import pytest
from helpers import DEMO, build_instrument, item, text, to_yaml, yes_no_scale
from terminal.scripted import ENTER, HIDE, HOSTILE_TEXTS, Autopilot, ScriptedPrompter

from screening import InterviewInterrupted, StoreError, assess, list_instruments, load_instrument_file
from screening.content.loader import parse_instrument
from screening.engine.instrument import Text
from screening.interview._run import run_interview
from screening.interview._session import Session, assign_keys, load_pinned
from screening.interview._texts import UI
from screening.store._store import Store

INSTRUMENTS = [pytest.param(f.path, id=f"{f.id}@{f.version}") for f in list_instruments()] + [
    pytest.param(DEMO, id="demo-fixture")
]
ACK = re.compile(r"^✓ (Sparat|Saved): ")
ROW_ACK = re.compile(r"^✓ (Rad|Row) \d+ (sparad|saved)$")


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "cases.db", create=True) as st:
        yield st


@pytest.fixture
def demo():
    return load_instrument_file(DEMO)


def start(store, ci, **kw):
    info = store.create_assessment(ci, instrument_path=kw.pop("path", None), **kw)
    store.lock(info.id)
    return info.id


def run(store, ci, aid, script, lang="sv"):
    prompter = script if isinstance(script, ScriptedPrompter) else ScriptedPrompter(script)
    return run_interview(store, ci, aid, prompter, lang=lang), prompter


def custom(items, **overrides):
    """A test instrument with these items in one section (no bands: any number of items fits)."""
    data = build_instrument(sections=[{"id": "s", "title": text("Avsnitt"), "items": items}], bands=None, **overrides)
    return parse_instrument(to_yaml(data), "t.yaml")


def unsafe_chars(screen: str) -> set[str]:
    return {c for c in screen if (ord(c) < 32 and c not in "\n\t") or c == "\x7f" or "\u202a" <= c <= "\u202e"}


# ---------------------------------------------------------------- every instrument, end to end


@pytest.mark.parametrize("path", INSTRUMENTS)
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_instrument_can_be_interviewed_to_the_end(store, path, lang):
    ci = load_instrument_file(path)
    aid = start(store, ci, path=path, lang=lang)
    pilot = Autopilot(seed=len(ci.order), judge=True)
    outcome, _ = run(store, ci, aid, pilot, lang=lang)

    assert outcome.status == "completed"
    info = store.get(aid)
    assert info.status == "completed"
    answers = store.answers(aid)
    session = Session(store, ci, aid)
    assert session.resume_point() is None, "a shown question was left without an answer"
    assert set(session.visible) <= set(answers)
    # What was stored is what was scored: re-scoring the stored answers gives the stored result.
    (digest, stored), = store.results(aid)
    assert stored.to_json() == outcome.result.to_json()
    judgement = store.judgement(aid)
    assessor = stored.judgement.assessor if stored.judgement else None
    again = assess(ci, session.applicable(), judgement=judgement, assessor=assessor, assessed_at=stored.assessed_at)
    assert hashlib.sha256(again.to_json().encode()).hexdigest() == digest
    if ci.instrument.judgement.policy == "required":
        assert judgement is not None and stored.status == "concluded"
    # Every answer was acknowledged, and the screen never received a raw control character.
    # (the autopilot never goes back, so each shown question is acknowledged exactly once, and each row).
    assert len([line for line in pilot.lines if ACK.match(line)]) == len(session.visible)
    rows = sum(len(v) for v in answers.values() if isinstance(v, list))
    assert len([line for line in pilot.lines if ROW_ACK.match(line)]) == rows
    assert unsafe_chars(pilot.screen) == set()


# ---------------------------------------------------------------- the basic moves


def test_skip_logic_follows_show_if(store, demo):
    aid = start(store, demo)
    outcome, p = run(store, demo, aid, ["j", "n", "n", "l", "", "n"])
    assert outcome.status == "completed"
    assert store.answers(aid) == {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}
    asked = p.screen.split("== Sammanfattning")[0]  # the result's trace names the skipped question
    assert "Fråga tre" not in asked
    assert "Fråga 3 av 4" in asked


def test_an_undecidable_show_if_is_asked(store, demo):
    aid = start(store, demo)
    run(store, demo, aid, ["j", "?", "n", "n", "l", "."])
    assert store.answers(aid) == {"q1": "yes", "q2": "unknown", "q3": "no", "q4": "no", "view": "low"}


def test_back_changes_the_previous_answer(store, demo):
    aid = start(store, demo)
    # q1 yes, q2 no, then back to q2 -> yes, which now shows q3.
    run(store, demo, aid, ["j", "n", "<", "j", "n", "."])
    assert store.answers(aid) == {"q1": "yes", "q2": "yes", "q3": "no"}


def test_back_at_the_first_question_says_so(store, demo):
    aid = start(store, demo)
    _, p = run(store, demo, aid, ["<", "j", "."])
    assert UI["first_question"][0] in p.screen
    assert store.answers(aid) == {"q1": "yes"}


def test_enter_keeps_an_existing_answer(store, demo):
    aid = start(store, demo)
    run(store, demo, aid, ["n", "j", "<", "<", ENTER, ENTER, "."])
    assert store.answers(aid) == {"q1": "no", "q2": "yes"}


def test_skip_records_unknown_and_help_shows_guidance(store):
    ci = custom([
        item("a", help=text("Fråga om senaste månaden.")),
        {"id": "n", "type": "number", "min": 0, "max": 10, "text": text("Hur många?")},
        item("b"),
    ])
    aid = start(store, ci)
    _, p = run(store, ci, aid, ["!", "-", "!", "-", "."])
    assert "Vägledning: Fråga om senaste månaden." in p.screen
    assert UI["no_help"][0] in p.screen
    assert store.answers(aid) == {"a": "unknown", "n": None}


def test_wrong_keys_and_bad_values_are_asked_again(store):
    ci = custom([
        item("a"),
        {"id": "n", "type": "number", "min": 0, "max": 10, "text": text("Hur många?")},
        {"id": "d", "type": "date", "text": text("När?")},
        {"id": "t", "type": "text", "text": text("Berätta")},
    ])
    aid = start(store, ci)
    script = ["x", "J", "tre", "11", "٣", "-1", " 7 ", "2024-02-30", "24-1-1", "2024-02-29", "", "  ord  ", "."]
    _, p = run(store, ci, aid, script)
    assert store.answers(aid) == {"a": "yes", "n": 7, "d": "2024-02-29", "t": "ord"}
    assert p.screen.count("Svaret passar inte") == 6
    assert UI["press_key"][0] in p.screen
    assert "Skriv ett svar" in p.screen


def test_hostile_free_text_is_stored_exactly_and_shown_inert(store):
    texts = [{"id": f"t{n}", "type": "text", "text": text(f"Text {n}")} for n in range(len(HOSTILE_TEXTS) + 1)]
    ci = custom(texts, scores=[], levels=[], judgement={"policy": "none"})
    aid = start(store, ci)
    huge = "x" * 100_000
    _, p = run(store, ci, aid, [*HOSTILE_TEXTS, huge, "kort", "."])
    stored = store.answers(aid)
    assert [stored[f"t{n}"] for n in range(len(HOSTILE_TEXTS))] == [t.strip() for t in HOSTILE_TEXTS]
    assert stored[f"t{len(HOSTILE_TEXTS)}"] == "kort"  # 100 KB refused with a hint, then a short answer
    assert "högst 20000 tecken" in p.screen
    assert unsafe_chars(p.screen) == set()
    assert "[/b]" in p.screen and "\\x1b[2J" in p.screen and "\\u202e" in p.screen


# ---------------------------------------------------------------- leaving and coming back


def test_save_and_quit_then_resume_at_the_first_unanswered(store, demo):
    aid = start(store, demo)
    outcome, _ = run(store, demo, aid, ["j", "n", "."])
    assert outcome.status == "saved"
    outcome, p = run(store, demo, aid, ["j", "l", "", "n"])
    assert outcome.status == "completed"
    assert UI["resumed"][0] in p.screen
    first_question = next(line for line in p.lines if line.startswith("Fråga "))
    assert first_question.startswith("Fråga 3 av 4")
    assert store.answers(aid) == {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}


def test_quick_hide_clears_first_and_keeps_everything(store, demo):
    aid = start(store, demo)
    outcome, p = run(store, demo, aid, ["j", HIDE])
    assert outcome.status == "hidden"
    assert p.hidden_at == len(p.lines), "nothing may be shown after the screen is cleared"
    assert store.answers(aid) == {"q1": "yes"}


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), EOFError()])
def test_interruptions_lose_no_confirmed_answer(store, demo, stop):
    aid = start(store, demo)
    with pytest.raises(InterviewInterrupted) as info:
        run(store, demo, aid, ["j", "n", stop])
    assert info.value.assessment_id == aid
    assert info.value.last_item_id == "q4"
    assert store.answers(aid) == {"q1": "yes", "q2": "no"}
    assert "yes" not in str(info.value)


# ---------------------------------------------------------------- D2: no ACK without COMMIT


def test_a_failed_commit_is_never_acknowledged_and_can_be_retried(monkeypatch, store, demo):
    aid = start(store, demo)
    real = Store._commit
    failing = {"on": False}

    def commit(self):
        if failing["on"]:
            raise sqlite3.OperationalError("disk I/O error")
        real(self)

    monkeypatch.setattr(Store, "_commit", commit)

    def before_read(p):
        # Break the disk just before the answer to question 2 is typed, mend it after.
        failing["on"] = len(p.prompts) == 2

    p = ScriptedPrompter(["j", "n", ENTER, "."])
    p.before_read = before_read
    run(store, demo, aid, p)
    failed_at = next(n for n, line in enumerate(p.lines) if "kunde inte sparas" in line)
    # The store's English message never reaches the Swedish interview; a Swedish one does.
    assert "lagringen svarade inte som väntat" in p.lines[failed_at] and "disk I/O error" not in p.screen
    assert not any(ACK.match(line) for line in p.lines[failed_at - 3 : failed_at + 1])
    assert "Inte sparat ännu: Nej" in p.screen
    acks = [line for line in p.lines if ACK.match(line)]
    assert acks == ["✓ Sparat: Ja", "✓ Sparat: Nej"]
    assert store.answers(aid) == {"q1": "yes", "q2": "no"}
    assert "Traceback" not in p.screen


# ---------------------------------------------------------------- summary, judgement, completion


def test_the_summary_lets_any_answer_change(store, demo):
    aid = start(store, demo)
    outcome, p = run(store, demo, aid, ["j", "n", "n", "l", "9", "2", "j", "j", "", "n"])
    assert outcome.status == "completed"
    assert UI["no_such_number"][0] in p.screen
    # Changing q2 to yes revealed q3, which was asked before the summary came back.
    assert store.answers(aid) == {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "view": "low"}
    assert p.screen.count("== Sammanfattning av svaren ==") == 2


def test_raise_only_refuses_a_lower_level_and_asks_again(store, demo):
    aid = start(store, demo, assessor="kw")
    # Levels are chosen by digit; the lower level is refused with its reason before any rationale.
    script = ["j", "n", "j", "l", "", "j", "1", "3", "", "Allvarligt läge."]
    outcome, p = run(store, demo, aid, script)
    assert "Låg kan inte väljas här: Instrumentet låter bedömaren bara höja nivån: minst Medel." in p.screen
    assert p.prompts.count("Motivering: ") == 2  # one refused empty line, then the rationale
    assert outcome.result.final_level == "high"
    assert outcome.result.judgement.rationale == "Allvarligt läge."
    assert store.judgement(aid).level == "high"


def test_a_required_judgement_is_asked_and_committed_before_completion(store):
    ci = parse_instrument(to_yaml(build_instrument(judgement={"policy": "required"})), "t.yaml")
    aid = start(store, ci)
    outcome, p = run(store, ci, aid, ["n", "n", "n", "", "-", "2", "", "Samlad bild."])
    assert UI["judgement_required"][0] in p.screen
    assert UI["rationale_needed"][0] in p.screen
    assert outcome.result.final_level == "medium"
    assert p.lines.index(UI["judgement_saved"][0]) < p.lines.index(UI["completed"][0])


def test_unmet_requirements_go_back_to_the_summary(store):
    rule = {"id": "ask_a", "check": "known(a)", "message": text("Fråga a måste besvaras.")}
    data = build_instrument(requirements=[rule])
    ci = parse_instrument(to_yaml(data), "t.yaml")
    aid = start(store, ci)
    outcome, p = run(store, ci, aid, ["?", "n", "n", "", "n", "1", "j", "", "n"])
    assert "Fråga a måste besvaras." in p.screen
    assert outcome.status == "completed"
    assert store.answers(aid)["a"] == "yes"


def test_english_interview(store, demo):
    aid = start(store, demo, lang="en")
    outcome, p = run(store, demo, aid, ["y", "n", "n", "l", "", "n"], lang="en")
    assert outcome.status == "completed"
    assert "Question 1 of 5 · Section: Questions" in p.screen
    assert "✓ Saved: Yes" in p.screen
    assert "Fråga" not in p.screen


# ---------------------------------------------------------------- groups


def group_instrument():
    severity = {"options": [
        {"value": "low", "label": text("Lindrig")},
        {"value": "high", "label": text("Svår")},
        {"value": "unknown", "label": text("Vet ej"), "unknown": True},
    ]}
    fields = [
        {"id": "when", "type": "date", "text": text("Datum")},
        {"id": "sev", "scale": "sev", "text": text("Allvar")},
        {"id": "note", "type": "text", "text": text("Anteckning")},
    ]
    group = {"id": "cal", "type": "group", "max_rows": 3, "text": text("Händelser"), "fields": fields}
    items = [item("a"), group, item("b")]
    return custom(items, scales={"yn": yes_no_scale(), "sev": severity})


def test_group_rows_are_added_until_an_empty_answer(store):
    ci = group_instrument()
    aid = start(store, ci)
    script = ["j", "2024-01-05", "s", "Slag", "2024-02-01", "?", "-", "", "n", "."]
    _, p = run(store, ci, aid, script)
    assert store.answers(aid) == {
        "a": "yes",
        # a skipped field is left out of its row: unknown, exactly as the engine reads it
        "cal": [{"when": "2024-01-05", "sev": "high", "note": "Slag"}, {"when": "2024-02-01", "sev": "unknown"}],
        "b": "no",
    }
    assert "✓ Rad 1 sparad" in p.screen and "✓ Rad 2 sparad" in p.screen
    assert "✓ Sparat: 2 rader" in p.screen


def test_a_group_stops_at_max_rows(store):
    ci = group_instrument()
    aid = start(store, ci)
    rows = ["2024-01-01", "l", "x"] * 3
    _, p = run(store, ci, aid, ["j", *rows, "n", "."])
    assert len(store.answers(aid)["cal"]) == 3
    assert UI["group_full"][0] in p.screen


def test_an_interrupted_group_resumes_with_its_rows(store):
    ci = group_instrument()
    aid = start(store, ci)
    with pytest.raises(InterviewInterrupted):
        run(store, ci, aid, ["j", "2024-01-05", "s", "Slag", "2024-02-01", KeyboardInterrupt()])
    assert store.answer_rows(aid)["cal"] == ([{"when": "2024-01-05", "sev": "high", "note": "Slag"}], True)
    _, p = run(store, ci, aid, ["2024-03-03", "l", "Knuff", "", "n", "."])
    assert "Rad 1: Datum: 2024-01-05; Allvar: Svår; Anteckning: Slag" in p.screen
    assert store.answer_rows(aid)["cal"] == (
        [{"when": "2024-01-05", "sev": "high", "note": "Slag"}, {"when": "2024-03-03", "sev": "low", "note": "Knuff"}],
        False,
    )


def test_skipping_a_group_before_any_row_makes_it_unknown_and_enter_keeps_it_so(store):
    ci = group_instrument()
    aid = start(store, ci)
    _, p = run(store, ci, aid, ["j", "-", "n", "<", "", "."])
    assert "Rad 1 – Enter utan svar om det inte finns några, - om det inte är känt." in p.screen
    # Back on the skipped group, Enter must not turn "unknown" into "no rows".
    assert store.answers(aid) == {"a": "yes", "cal": None, "b": "no"}


def test_enter_on_a_new_empty_group_records_no_rows(store):
    ci = group_instrument()
    aid = start(store, ci)
    run(store, ci, aid, ["j", "", "."])
    assert store.answers(aid) == {"a": "yes", "cal": []}


# ---------------------------------------------------------------- keys


def test_keys_come_from_the_author_then_unknown_then_first_free_letter():
    def t(sv, en=None):
        return Text(sv=sv, en=en or sv)

    labels = [(t("Ja", "Yes"), None, False), (t("Nej", "No"), None, False), (t("Vet ej", "Unknown"), None, True)]
    assert assign_keys(labels, "sv") == ["j", "n", "?"]
    assert assign_keys(labels, "en") == ["y", "n", "?"]
    clash = [(t("Nej"), None, False), (t("Nästan"), None, False), (t("Njae"), None, False), (t("?"), None, False)]
    assert assign_keys(clash, "sv") == ["n", "ä", "j", "1"]
    explicit = [(t("Ja"), {"sv": "x"}, False), (t("Vet inte"), {"sv": "v"}, True), (t("Avböjer"), None, True)]
    assert assign_keys(explicit, "sv") == ["x", "v", "a"]


def test_question_mark_answers_unknown_even_when_the_option_has_its_own_key(store):
    path = next(f.path for f in list_instruments() if f.id == "freda-farlighet")
    ci = load_instrument_file(path)
    aid = start(store, ci)
    first_choice = next(i for i in ci.order if ci.items[i].type == "choice")
    session = Session(store, ci, aid)
    session.goto(first_choice)
    run(store, ci, aid, ["-", "?", "."])
    assert store.answers(aid)[first_choice] == session.unknown_value(ci.items[first_choice])


# ---------------------------------------------------------------- pinned instrument versions


def test_resume_uses_the_pinned_version_even_when_a_newer_one_exists(tmp_path, store, monkeypatch):
    home = tmp_path / "home"
    v1 = home / "instruments" / "t" / "1.0.0.yaml"
    v1.parent.mkdir(parents=True)
    v1.write_text(to_yaml(build_instrument()), encoding="utf-8")
    ci = load_instrument_file(v1)
    aid = start(store, ci)  # no path hint: found by hash among the installed versions
    run(store, ci, aid, ["j", "."])
    newer = build_instrument(version="1.1.0", sections=[{"id": "main", "title": text("Nytt"), "items": [item("z")]}])
    (v1.parent / "1.1.0.yaml").write_text(to_yaml(newer), encoding="utf-8")
    monkeypatch.setenv("SCREENING_HOME", str(home))
    pinned = load_pinned(store.get(aid))
    assert pinned.sha256 == ci.sha256
    assert pinned.instrument.version == "1.0.0"


def test_resume_stops_clearly_when_the_pinned_file_changed(tmp_path, store, monkeypatch):
    home = tmp_path / "home"
    path = home / "instruments" / "t" / "1.0.0.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(to_yaml(build_instrument()), encoding="utf-8")
    ci = load_instrument_file(path)
    aid = start(store, ci, path=path)
    path.write_text(to_yaml(build_instrument(title=text("Ändrad titel"))), encoding="utf-8")
    monkeypatch.setenv("SCREENING_HOME", str(home))
    with pytest.raises(StoreError, match=r"t 1\.0\.0 .*no file with that content.*not continued on another version"):
        load_pinned(store.get(aid))


# ---------------------------------------------------------------- referrals


def test_referrals_are_shown_and_stored_with_the_rule_set_hash(store):
    from screening.content.rules_loader import load_rules

    rules = load_rules("stockholm")
    path = next(f.path for f in list_instruments() if f.id == "freda-kortfragor")
    ci = load_instrument_file(path)
    aid = start(store, ci)
    pilot = Autopilot(seed=1)
    pilot.rng.choice = lambda options: options[0]  # every first option: "ja" everywhere
    outcome = run_interview(store, ci, aid, pilot, rules=rules)
    assert outcome.result.referrals, "all-yes answers must give recommendations"
    assert "Rekommenderade insatser" in pilot.screen
    for referral in outcome.result.referrals:
        assert referral.name.sv in pilot.screen
    row = store._conn.execute("SELECT rules_sha256 FROM results WHERE assessment_id = ?", (aid,)).fetchone()
    assert row[0] == rules.sha256 != ""


def test_only_a_draft_on_its_own_instrument_version_is_interviewed(store, demo, tmp_path):
    aid = start(store, demo)
    other = custom([item("a"), item("b")])
    with pytest.raises(StoreError, match="another version"):
        run(store, other, aid, ["j"])
    store.complete(aid)
    with pytest.raises(StoreError, match="completed"):
        run(store, demo, aid, ["j"])


def test_the_interview_locks_its_draft(tmp_path, demo):
    from screening import AssessmentLocked

    with Store.open(tmp_path / "a.db", create=True) as first, Store.open(tmp_path / "a.db") as second:
        aid = first.create_assessment(demo).id
        run_interview(first, demo, aid, ScriptedPrompter(["j", "."]))
        with pytest.raises(AssessmentLocked):
            run_interview(second, demo, aid, ScriptedPrompter(["n"]))
    with Store.open(tmp_path / "a.db") as st:
        assert st.answers(aid) == {"q1": "yes"}
