"""Every line the interview itself says, in Swedish and English.

May import: stdlib only.

Kept apart from the flow so the wording can be reviewed in one place (a calm,
plain tone: the person across the table may be frightened) and so a test can
check both languages use the same parameters.
"""

from __future__ import annotations

__all__ = ["COMMANDS", "UI", "in_language", "say"]

# Command keys are not letters or digits, so they can never collide with an
# answer key (answer keys are letters/digits; "?" is always "unknown").
BACK = "<"
SKIP = "-"
HELP = "!"
QUIT = "."
HIDE = "\x18"  # Ctrl-X (Esc works too); the terminal prompter maps both to this
ENTER = "\r"
UNKNOWN_KEY = "?"
COMMANDS = frozenset({BACK, SKIP, HELP, QUIT})

UI: dict[str, tuple[str, str]] = {
    "legend": (
        "? vet ej · < föregående · - hoppa över · ! hjälp · . spara och avsluta · Ctrl-X/Esc dölj skärmen",
        "? unknown · < previous · - skip · ! help · . save and quit · Ctrl-X/Esc hide the screen",
    ),
    "case": ("Ärende {ref} · {title} {version}", "Case {ref} · {title} {version}"),
    "resumed": (
        "Fortsätter där ni slutade. Tidigare svar är sparade.",
        "Continuing where you stopped. Earlier answers are saved.",
    ),
    "question": ("Fråga {n} av {total} · Avsnitt: {section}", "Question {n} of {total} · Section: {section}"),
    "total_fewer_one": (
        "(Nu {total} frågor: 1 fråga gäller inte efter svaren hittills.)",
        "(Now {total} questions: 1 question does not apply after the answers so far.)",
    ),
    "total_fewer": (
        "(Nu {total} frågor: {n} frågor gäller inte efter svaren hittills.)",
        "(Now {total} questions: {n} questions do not apply after the answers so far.)",
    ),
    "total_more_one": (
        "(Nu {total} frågor: 1 fråga gäller efter det ändrade svaret.)",
        "(Now {total} questions: 1 more question applies after the changed answer.)",
    ),
    "total_more": (
        "(Nu {total} frågor: {n} frågor gäller efter det ändrade svaret.)",
        "(Now {total} questions: {n} more questions apply after the changed answer.)",
    ),
    "current": ("Nuvarande svar: {answer} (Enter behåller det)", "Current answer: {answer} (Enter keeps it)"),
    "pending": (
        "Inte sparat ännu: {answer} (Enter försöker spara igen)",
        "Not saved yet: {answer} (Enter tries to save again)",
    ),
    "saved": ("✓ Sparat: {answer}", "✓ Saved: {answer}"),
    "row_saved": ("✓ Rad {n} sparad", "✓ Row {n} saved"),
    "save_failed": (
        (
            "Svaret kunde inte sparas ({reason}). Inget har gått förlorat av det som redan sparats. "
            "Tryck Enter för att försöka igen."
        ),
        "The answer could not be saved ({reason}). Nothing already saved is lost. Press Enter to try again.",
    ),
    "press_key": ("Tryck på en av tangenterna ovan.", "Press one of the keys shown above."),
    "type_answer": (
        "Skriv ett svar, ? för vet ej eller - för att hoppa över.",
        "Type an answer, ? for unknown or - to skip.",
    ),
    "bad_answer": ("Svaret passar inte: {hint}.", "That answer does not fit: {hint}."),
    "answer_prompt": ("Svar ({hint}): ", "Answer ({hint}): "),
    "no_help": ("Ingen vägledning finns för den här frågan.", "There is no guidance for this question."),
    "help": ("Vägledning: {text}", "Guidance: {text}"),
    "first_question": ("Det här är den första frågan.", "This is the first question."),
    "unknown": ("okänt", "unknown"),
    "skipped": ("hoppades över (okänt)", "skipped (unknown)"),
    "not_asked": ("ej tillämplig", "not applicable"),
    "rows": ("{n} rader", "{n} rows"),
    "one_row": ("1 rad", "1 row"),
    "row": ("Rad {n}: {fields}", "Row {n}: {fields}"),
    "new_row": (
        "Ny rad {n} – Enter utan svar när det inte finns fler.",
        "New row {n} – Enter with no answer when there are no more.",
    ),
    "first_row": (
        "Rad 1 – Enter utan svar om det inte finns några, - om det inte är känt.",
        "Row 1 – Enter with no answer if there are none, - if it is not known.",
    ),
    "group_full": ("Högsta antalet rader är nått.", "The maximum number of rows is reached."),
    "rows_hint": (
        "#N ändrar eller tar bort rad N (till exempel #1).",
        "#N changes or deletes row N (for example #1).",
    ),
    "row_actions": ("[1] ändra  [2] ta bort  Enter: tillbaka", "[1] change  [2] delete  Enter: back"),
    "which_row": ("Vilken rad? ", "Which row? "),
    "no_such_row": ("Det finns ingen sådan rad; raderna är 1–{n}.", "There is no such row; the rows are 1–{n}."),
    "delete_row": ("Ta bort rad {n}?", "Delete row {n}?"),
    "row_deleted": ("✓ Rad {n} borttagen", "✓ Row {n} deleted"),
    "row_changed": ("✓ Rad {n} ändrad", "✓ Row {n} changed"),
    "drop_row": (
        "Raden är inte sparad. Släng den och gå till föregående fråga?",
        "The row is not saved. Drop it and go to the previous question?",
    ),
    "row_dropped": ("Raden slängdes.", "The row was dropped."),
    "quit_row": (
        "Raden är inte sparad och försvinner om du avslutar nu. Avsluta ändå?",
        "The row is not saved and is lost if you quit now. Quit anyway?",
    ),
    "quit_changes": (
        "Ändringarna i raden är inte sparade och försvinner om du avslutar nu. Avsluta ändå?",
        "The changes to the row are not saved and are lost if you quit now. Quit anyway?",
    ),
    "drop_changes": (
        "Ändringarna i raden är inte sparade. Släng dem?",
        "The changes to the row are not saved. Drop them?",
    ),
    "full_prompt": (
        "Enter går vidare; #N ändrar eller tar bort rad N: ",
        "Enter goes on; #N changes or deletes row N: ",
    ),
    "yes_no": ("  [j] ja  [n] nej", "  [y] yes  [n] no"),
    "summary": ("Sammanfattning av svaren", "Summary of the answers"),
    "summary_prompt": (
        (
            "Skriv frågans nummer (F1, F2 … för uppgifter om ärendet) för att ändra ett svar, "
            "eller Enter för att gå vidare: "
        ),
        (
            "Type a question's number (F1, F2 … for facts about the case) to change its answer, "
            "or Enter to go on: "
        ),
    ),
    "no_such_number": ("Det finns ingen fråga med det numret.", "There is no question with that number."),
    "summary_rows_hint": (
        "({n}#1 ändrar eller tar bort rad 1, {n}#2 rad 2 …)",
        "({n}#1 changes or deletes row 1, {n}#2 row 2 …)",
    ),
    "computed": ("Beräknat underlag: {text}", "Computed support: {text}"),
    "judgement_required": (
        "Instrumentet kräver en professionell bedömning av risknivån.",
        "The instrument requires a professional judgement of the risk level.",
    ),
    "judgement_offer": (
        "Vill du göra en professionell bedömning av nivån? [j] ja  [n] nej",
        "Do you want to make a professional judgement of the level? [y] yes  [n] no",
    ),
    "judgement_current": ("Nuvarande bedömning: {level} – {rationale}", "Current judgement: {level} – {rationale}"),
    "judgement_guidance": ("Vägledning: {text}", "Guidance: {text}"),
    "level_prompt": ("Välj nivå:", "Choose a level:"),
    "level_not_allowed": ("{level} kan inte väljas här: {reason}", "{level} cannot be chosen here: {reason}"),
    "judgement_current_not_allowed": (
        "Den nuvarande bedömningen kan inte stå kvar med svaren som de är nu; välj en nivå.",
        "The current judgement cannot stand with the answers as they are now; choose a level.",
    ),
    "rationale_prompt": ("Motivering: ", "Rationale: "),
    "rationale_needed": ("En bedömning behöver en motivering.", "A judgement needs a rationale."),
    "acknowledge_intro": (
        (
            "Ett okänt svar kan göra att följande gäller, vilket ger en högre nivå än din bedömning. "
            "Skriv för var och en varför du bedömer att det inte gäller:"
        ),
        (
            "An unknown answer could make the following hold, which gives a higher level than your judgement. "
            "Write for each why you judge that it does not hold:"
        ),
    ),
    "acknowledge_prompt": ("Varför gäller det inte? ", "Why does it not hold? "),
    "judgement_refused": ("Bedömningen går inte att använda: {reason}", "The judgement cannot be used: {reason}"),
    "judgement_not_allowed": (
        "den stämmer inte med instrumentets regler för professionell bedömning",
        "it does not fit the instrument's rules for professional judgement",
    ),
    "store_problem": ("lagringen svarade inte som väntat", "the store did not respond as expected"),
    "judgement_saved": ("✓ Bedömningen är sparad.", "✓ The judgement is saved."),
    "requirements": (
        "Bedömningen kan inte slutföras än:",
        "The assessment cannot be completed yet:",
    ),
    "completed": ("✓ Bedömningen är slutförd och sparad.", "✓ The assessment is completed and saved."),
    "report_written": ("Rapporten är skriven till {path}", "The report was written to {path}"),
    "report_unavailable": (
        "Rapporter kan inte skrivas i den här versionen; resultatet finns sparat.",
        "Reports cannot be written by this version; the result is saved.",
    ),
    "quit": (
        "Sparat. Fortsätt senare med: screening interview --resume {ref}",
        "Saved. Continue later with: screening interview --resume {ref}",
    ),
    "interrupted": (
        "Avbrutet. Alla bekräftade svar är sparade. Fortsätt med: screening interview --resume {ref}",
        "Interrupted. Every confirmed answer is saved. Continue with: screening interview --resume {ref}",
    ),
    "hidden": ("Sparat.", "Saved."),
    "facts_intro": (
        "Först några uppgifter om ärendet. ? = vet inte (räknas aldrig som nej).",
        "First, a few facts about the case. ? = not known (never counted as no).",
    ),
    "danger_advice": (
        (
            "⚠ Omedelbar fara: ring 112 nu om personen inte är i säkerhet. Gör en säkerhetsplan innan "
            "personen lämnar mötet, och kontakta socialjouren eller polisen om det behövs."
        ),
        (
            "⚠ Immediate danger: call 112 now if the person is not safe. Make a safety plan before the "
            "person leaves the meeting, and contact the social services' emergency duty or the police if needed."
        ),
    ),
    "fact_number_prompt": (
        "Svar (heltal {lo}–{hi}, ? vet inte): ",
        "Answer (whole number {lo}–{hi}, ? not known): ",
    ),
    "facts_heading": ("Uppgifter om ärendet", "Facts about the case"),
    "yes_key": ("j", "y"),
    "no_key": ("n", "n"),
    "number_hint": ("heltal {lo}–{hi}", "whole number {lo}–{hi}"),
    "date_hint": (
        "datum ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ)",
        "date YYYY-MM-DD (approximate: YYYY-MM or YYYY)",
    ),
    "date_hint_window": (
        "datum från {first} till {last}, ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ)",
        "date from {first} to {last}, YYYY-MM-DD (approximate: YYYY-MM or YYYY)",
    ),
    "date_future": (
        "Datumet ligger efter i dag ({last}); skriv ett datum som redan har varit.",
        "The date is after today ({last}); type a date that has already been.",
    ),
    "date_before_window": (
        "Datumet ligger före {first}; frågan gäller tiden från {first} till {last}.",
        "The date is before {first}; the question covers {first} to {last}.",
    ),
    "text_hint": ("fritext, högst {max} tecken", "free text, at most {max} characters"),
    "choice_hint": ("en av tangenterna", "one of the keys"),
}


def in_language(message: str, lang: str, fallback: str) -> str:
    """An error's text for the interview, never in the other language.

    A bilingual message ("svenska / English") gives the half in ``lang``; an English-only
    one (a library or store error) is replaced by the phrase ``fallback``.
    """
    sv, sep, en = message.partition(" / ")
    if sep:
        return en if lang == "en" else sv
    return say(fallback, lang)


def say(key: str, lang: str, **params: object) -> str:
    """The phrase ``key`` in ``lang`` (Swedish unless ``en``), filled with ``params``."""
    sv, en = UI[key]
    return (en if lang == "en" else sv).format(**params)
