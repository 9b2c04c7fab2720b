"""Rows of repeating groups and dates in the interview (issue 13, seen 6).

Before: a row could not be changed or deleted; ``<`` inside a row threw the row
away silently; a date in the future or years back was accepted for "the past
year"; an approximate date (``2026-03``) was refused although the instruction
says approximate is fine.
"""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import pytest
from helpers import build_instrument, item, text, to_yaml, yes_no_scale
from terminal.driver import ACK, ROW_ACK, finish, spawn_cli
from terminal.scripted import ScriptedPrompter

from screening import list_instruments, load_instrument_file
from screening.content.loader import parse_instrument
from screening.engine._functions import date_interval
from screening.engine.instrument import Item
from screening.interview._dates import check_date
from screening.interview._run import run_interview
from screening.store._store import Store

TODAY = dt.date.today()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def calendar_data(window_days: int | None = 365) -> dict[str, object]:
    """Item ``a``, a calendar group (date in a window, severity, note), item ``b``."""
    severity = {
        "options": [
            {"value": "low", "label": text("Lindrig")},
            {"value": "high", "label": text("Svår")},
            {"value": "unknown", "label": text("Vet ej"), "unknown": True},
        ]
    }
    date: dict[str, object] = {"id": "when", "type": "date", "text": text("Datum")}
    if window_days is not None:
        date["window_days"] = window_days
    fields = [
        date,
        {"id": "sev", "scale": "sev", "text": text("Allvar")},
        {"id": "note", "type": "text", "text": text("Anteckning")},
    ]
    group = {"id": "cal", "type": "group", "max_rows": 5, "text": text("Händelser"), "fields": fields}
    return build_instrument(
        sections=[{"id": "s", "title": text("Avsnitt"), "items": [item("a"), group, item("b")]}],
        scales={"yn": yes_no_scale(), "sev": severity},
        bands=None,
    )


def open_store(path):
    """``Store.open`` that makes the store (``create=True`` where the store creates one only when asked)."""
    if "create" in inspect.signature(Store.open).parameters:
        return Store.open(path, create=True)
    return Store.open(path)


@pytest.fixture
def ci():
    return parse_instrument(to_yaml(calendar_data()), "t.yaml")


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "cases.db") as st:
        yield st


def start(store, ci):
    info = store.create_assessment(ci)
    store.lock(info.id)
    return info.id


def run(store, ci, aid, script, lang="sv"):
    p = ScriptedPrompter(script)
    run_interview(store, ci, aid, p, lang=lang)
    return p


D1, D2, D3 = days_ago(40), days_ago(20), days_ago(3)


# ---------------------------------------------------------------- < inside a row


def test_back_inside_a_row_goes_back_one_field_and_keeps_what_was_typed(store, ci):
    aid = start(store, ci)
    # at the note, < goes back to the severity (shown with what was typed); change it, go on
    p = run(store, ci, aid, ["j", D1, "s", "<", "l", "Slag", "", "n", "."])
    assert store.answers(aid) == {"a": "yes", "cal": [{"when": D1, "sev": "low", "note": "Slag"}], "b": "no"}
    assert "Nuvarande svar: Svår (Enter behåller det)" in p.screen
    assert "✓ Rad 1 sparad" in p.screen


def test_back_at_the_start_of_a_typed_row_asks_before_the_row_is_dropped(store, ci):
    aid = start(store, ci)
    # back to the date, back again: asked; "no" stays in the row, Enter keeps the date
    p = run(store, ci, aid, ["j", D1, "<", "<", "n", "", "s", "Slag", "", "n", "."])
    assert "Raden är inte sparad. Släng den och gå till föregående fråga?  [j] ja  [n] nej" in p.screen
    assert store.answers(aid)["cal"] == [{"when": D1, "sev": "high", "note": "Slag"}]
    # "yes" drops the row (said), and goes to the previous question
    aid = start(store, ci)
    p = run(store, ci, aid, ["j", D1, "<", "<", "j", "n", "."])
    assert store.answers(aid) == {"a": "no"}
    assert p.screen.count("Fråga 1 av 3") == 2


def test_back_at_the_start_of_an_empty_row_is_the_previous_question_and_keeps_the_saved_rows(store, ci):
    aid = start(store, ci)
    run(store, ci, aid, ["j", D1, "s", "Slag", "<", "n", "."])
    assert store.answers(aid) == {"a": "no", "cal": [{"when": D1, "sev": "high", "note": "Slag"}]}


def test_save_and_quit_inside_a_typed_row_asks_first(store, ci):
    aid = start(store, ci)
    # "." at the severity: asked; "no" stays in the row; the row is finished; "." where nothing
    # is typed quits at once; "." in a typed row and "yes" quits
    p = run(store, ci, aid, ["j", D1, ".", "n", "s", "Slag", "."])
    assert "Raden är inte sparad och försvinner om du avslutar nu. Avsluta ändå?  [j] ja  [n] nej" in p.screen
    assert p.screen.count("Avsluta ändå?") == 1
    assert store.answers(aid)["cal"] == [{"when": D1, "sev": "high", "note": "Slag"}]
    p = run(store, ci, aid, [D2, ".", "j"])
    assert p.screen.count("Avsluta ändå?") == 1
    assert len(store.answers(aid)["cal"]) == 1


# ---------------------------------------------------------------- change and delete


def two_rows(store, ci):
    aid = start(store, ci)
    run(store, ci, aid, ["j", D1, "s", "Slag", D2, "l", "Knuff", "", "n", "."])
    assert len(store.answers(aid)["cal"]) == 2
    return aid


def test_a_row_is_changed_field_by_field(store, ci):
    aid = two_rows(store, ci)
    # from the summary to the group (question 2): the rows are listed; #1, change: keep the date,
    # severity low, note unknown; Enter ends the group, and the summary comes back
    p = run(store, ci, aid, ["2", "#1", "1", "", "l", "-", "", "."])
    assert "Rad 1: Datum: " + D1 + "; Allvar: Svår; Anteckning: Slag" in p.screen
    assert "#N ändrar eller tar bort rad N (till exempel #1)." in p.screen
    assert "✓ Rad 1 ändrad" in p.screen
    assert store.answers(aid)["cal"] == [{"when": D1, "sev": "low"}, {"when": D2, "sev": "low", "note": "Knuff"}]
    assert store.answer_rows(aid)["cal"][1] is False  # Enter ended the group again


def test_a_row_is_deleted_after_asking(store, ci):
    aid = two_rows(store, ci)
    p = run(store, ci, aid, ["2", "#2", "2", "n", "#2", "2", "j", "", "."])
    assert "Ta bort rad 2?  [j] ja  [n] nej" in p.screen
    assert "✓ Rad 2 borttagen" in p.screen
    assert store.answers(aid)["cal"] == [{"when": D1, "sev": "high", "note": "Slag"}]


def test_a_row_number_that_does_not_exist_is_said(store, ci):
    aid = two_rows(store, ci)
    p = run(store, ci, aid, ["2", "#7", "", "."])
    assert "Det finns ingen sådan rad; raderna är 1–2." in p.screen
    assert len(store.answers(aid)["cal"]) == 2


def test_rows_are_changed_and_deleted_from_the_summary(store, ci):
    aid = two_rows(store, ci)
    # summary: question 2 is the group; delete row 1, end the group; back at the summary
    p = run(store, ci, aid, ["2", "#1", "2", "j", "", "."])
    assert p.screen.count("== Sammanfattning av svaren ==") == 2
    assert store.answers(aid)["cal"] == [{"when": D2, "sev": "low", "note": "Knuff"}]
    summary = p.screen.split("== Sammanfattning av svaren ==")[-1]
    assert "Rad 1: Datum: " + D2 in summary and "Slag" not in summary


def test_a_row_is_changed_or_deleted_straight_from_the_summary(store, ci):
    aid = two_rows(store, ci)
    # "2#1" at the summary opens row 1 of question 2: change its note; "2#2": delete row 2
    p = run(store, ci, aid, ["2#9", "1#1", "2#1", "1", "", "", "Sparkar", "2#2", "2", "j", "."])
    assert "(2#1 ändrar eller tar bort rad 1, 2#2 rad 2 …)" in p.screen
    assert "Det finns ingen sådan rad; raderna är 1–2." in p.screen  # 2#9
    assert "Det finns ingen fråga med det numret." in p.screen  # 1#1: question 1 is not a list
    assert "✓ Rad 1 ändrad" in p.screen and "✓ Rad 2 borttagen" in p.screen
    assert store.answer_rows(aid)["cal"] == ([{"when": D1, "sev": "high", "note": "Sparkar"}], False)
    assert p.screen.count("== Sammanfattning av svaren ==") == 3


def test_english_row_commands(store, ci):
    aid = two_rows(store, ci)
    p = run(store, ci, aid, ["2", "#2", "2", "y", "", "."], lang="en")
    assert "Delete row 2?  [y] yes  [n] no" in p.screen and "✓ Row 2 deleted" in p.screen
    assert len(store.answers(aid)["cal"]) == 1


# ---------------------------------------------------------------- dates


def test_a_future_date_and_a_date_before_the_window_are_refused_with_the_window(store, ci):
    aid = start(store, ci)
    tomorrow, old = (TODAY + dt.timedelta(days=1)).isoformat(), days_ago(400)
    p = run(store, ci, aid, ["j", tomorrow, old, D1, "s", "x", "", "n", "."])
    first = days_ago(365)
    assert f"Datumet ligger efter i dag ({TODAY.isoformat()}); skriv ett datum som redan har varit." in p.screen
    assert f"Datumet ligger före {first}; frågan gäller tiden från {first} till {TODAY.isoformat()}." in p.screen
    assert (
        f"Svar (datum från {first} till {TODAY.isoformat()}, ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ)): "
        in p.prompts
    )
    assert store.answers(aid)["cal"] == [{"when": D1, "sev": "high", "note": "x"}]


def test_an_approximate_month_or_year_is_accepted(store, ci):
    aid = start(store, ci)
    month, year = TODAY.strftime("%Y-%m"), TODAY.strftime("%Y")
    run(store, ci, aid, ["j", month, "s", "x", year, "l", "y", "", "n", "."])
    assert [r["when"] for r in store.answers(aid)["cal"]] == [month, year]


def test_dates_in_english(store, ci):
    aid = start(store, ci)
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    p = run(store, ci, aid, ["j", tomorrow, "2026-13", D1, "s", "x", "", "n", "."], lang="en")
    assert f"The date is after today ({TODAY.isoformat()}); type a date that has already been." in p.screen
    assert "That answer does not fit: date from" in p.screen
    assert not any("Datumet" in line or "ÅÅÅÅ" in line for line in [*p.lines, *p.prompts])


@pytest.mark.parametrize(
    ("entry", "fits"),
    [
        ("2026-12-06", True),  # today
        ("2026-12-07", False),  # tomorrow
        ("2025-12-06", True),  # the first day of a 365-day window
        ("2025-12-05", False),
        ("2025-12", True),  # partly in the window
        ("2025-11", False),
        ("2025", True),
        ("2024", False),
        ("2027", False),
        ("2026-02-30", False),
        ("2026-W09-1", False),
        ("2026-3", False),
    ],
)
def test_the_window_is_checked_against_the_interview_day(entry: str, fits: bool) -> None:
    field = Item.model_validate({"id": "when", "type": "date", "window_days": 365, "text": {"sv": "D", "en": "D"}})
    value, why = check_date(field, entry, "sv", dt.date(2026, 12, 6))
    assert (value == entry) is fits and (why == "") is fits


def test_window_days_belongs_to_date_items() -> None:
    with pytest.raises(ValueError, match="'window_days' belongs to date items"):
        Item.model_validate({"id": "n", "type": "text", "window_days": 3, "text": {"sv": "D", "en": "D"}})


def test_approximate_dates_are_intervals() -> None:
    assert date_interval("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert date_interval("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert date_interval("2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert date_interval("2026-03-04") == (dt.date(2026, 3, 4),) * 2
    assert date_interval("2026-00") is None and date_interval("twenty") is None


def test_the_danger_assessment_calendar_takes_an_approximate_date_within_the_past_year(store):
    (path,) = [f.path for f in list_instruments() if f.id == "freda-farlighet"]
    ci = load_instrument_file(path)
    assert ci.items["calendar"].fields[0].window_days == 365
    aid = start(store, ci)
    month = TODAY.strftime("%Y-%m")
    p = run(store, ci, aid, [month, "3", days_ago(800), days_ago(10), "4", "", "."])
    assert "Datumet ligger före" in p.screen
    assert store.answers(aid)["calendar"] == [{"date": month, "severity": 3}, {"date": days_ago(10), "severity": 4}]


# ---------------------------------------------------------------- the real terminal


def rows_home(root: Path) -> Path:
    data = calendar_data()
    data["id"] = "rader"
    path = root / "instruments" / "rader" / f"{data['version']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(data), encoding="utf-8")
    return root


@pytest.mark.terminal
def test_terminal_rows_back_a_field_change_and_delete(tmp_path):
    home, db = rows_home(tmp_path / "home"), tmp_path / "cases.db"
    child = spawn_cli(
        ["interview", "rader", "--home", str(home), "--store", str(db), "--case", "rut", "--rules", "none"]
    )
    child.expect_exact("> ")
    child.send("j")
    child.expect(ACK)
    child.expect_exact("Svar (datum från")
    child.send((TODAY + dt.timedelta(days=2)).isoformat() + "\r")
    child.expect_exact("Datumet ligger efter i dag")
    child.send(TODAY.strftime("%Y-%m") + "\r")  # approximate: accepted
    child.expect_exact("[l] Lindrig")
    child.expect_exact("> ")
    child.send("s")
    child.expect_exact("Svar (fritext")
    child.send("<\r")  # back one field, not out of the row
    child.expect_exact("Nuvarande svar: Svår (Enter behåller det)")
    child.expect_exact("> ")
    child.send("l")
    child.expect_exact("Svar (fritext")
    child.send("Knuff\r")
    child.expect(ROW_ACK)
    child.expect_exact("Ny rad 2")
    child.expect_exact("Svar (datum")
    child.send(D2 + "\r")
    child.expect_exact("> ")
    child.send("s")
    child.expect_exact("Svar (fritext")
    child.send("Slag\r")
    child.expect(ROW_ACK)
    child.expect_exact("Ny rad 3")
    child.expect_exact("Svar (datum")
    child.send("#1\r")
    child.expect_exact("[1] ändra  [2] ta bort")
    child.expect_exact("> ")
    child.send("2")
    child.expect_exact("Ta bort rad 1?")
    child.expect_exact("> ")
    child.send("j")
    child.expect_exact("✓ Rad 1 borttagen")
    child.expect_exact("Rad 1: Datum: " + D2 + "; Allvar: Svår; Anteckning: Slag")
    child.expect_exact("Svar (datum")
    child.send("\r")
    child.expect(ACK)
    child.expect_exact("> ")
    child.send(".")
    _, status = finish(child)
    assert status == 0
    with Store.open(db) as st:
        (info,) = st.find("rut")
        assert st.answers(info.id)["cal"] == [{"when": D2, "sev": "high", "note": "Slag"}]
