"""Every word the web interview's pages say, in Swedish and English (Swedish first).

May import: interview (``_texts``, the terminal's phrases, reused where they fit) / stdlib.

Kept in one table, like the terminal's ``_texts``, so the wording is reviewed in one
place (a calm, plain tone: the person across the table may be frightened) and a test
can check both languages fill the same parameters.
"""

from __future__ import annotations

from ..interview._texts import UI

__all__ = ["WEB", "t"]

WEB: dict[str, tuple[str, str]] = {
    "app": ("Strukturerad riskbedömning", "Structured risk screening"),
    "skip": ("Hoppa till innehållet", "Skip to the content"),
    "quick_exit": ("Snabbstängning", "Quick exit"),
    "quick_exit_hint": ("(eller tryck Esc)", "(or press Esc)"),
    "other_lang": ("In English", "På svenska"),
    "signed_in_as": ("Inloggad som {name}", "Signed in as {name}"),
    "sign_out": ("Logga ut", "Sign out"),
    "sign_in": ("Logga in", "Sign in"),
    "name": ("Användarnamn", "User name"),
    "password": ("Lösenord", "Password"),
    "sign_in_failed": ("Fel användarnamn eller lösenord, eller så är kontot avstängt.",
                       "Wrong user name or password, or the account is disabled."),
    "sign_in_wait": ("För många misslyckade försök. Vänta {n} sekunder och försök igen.",
                     "Too many failed attempts. Wait {n} seconds and try again."),
    "fill_both": ("Fyll i både användarnamn och lösenord.", "Fill in both the user name and the password."),
    "signed_out": ("Du är utloggad.", "You are signed out."),
    "cases": ("Teamets ärenden", "The team's cases"),
    "no_cases": ("Teamet har inga ärenden än.", "The team has no cases yet."),
    "case_ref": ("Ärende (pseudonym)", "Case (pseudonym)"),
    "instrument": ("Instrument", "Instrument"),
    "status": ("Status", "Status"),
    "updated": ("Senast ändrat", "Last changed"),
    "draft": ("Utkast", "Draft"),
    "completed": ("Slutförd", "Completed"),
    "continue": ("Fortsätt", "Continue"),
    "open_result": ("Visa resultatet", "Show the result"),
    "new_case": ("Påbörja en bedömning", "Start an assessment"),
    "case_ref_hint": (("En pseudonym som A12 eller ärendets löpnummer, aldrig ett personnummer. Lämna tomt för "
                      "en slumpad."), ("A pseudonym such as A12 or the case's serial number, never a personal "
                      "identity number. Leave it empty for a random one.")),
    "start": ("Påbörja", "Start"),
    "ref_pnr": ("Ärendet kan inte heta så: det liknar ett personnummer. Använd en pseudonym.",
                "The case cannot be called that: it looks like a personal identity number. Use a pseudonym."),
    "ref_bad": ("En ärendebeteckning är 1–64 bokstäver (a–z), siffror, punkt, bindestreck eller understreck.",
                "A case reference is 1–64 letters (a–z), digits, '.', '-' or '_'."),
    "no_team": ("Ditt konto hör inte till något team och kan inte se ärenden.",
                "Your account belongs to no team and cannot see cases."),
    "case_title": ("Ärende {ref}", "Case {ref}"),
    "facts_title": ("Uppgifter om ärendet", "Facts about the case"),
    "fact_progress": ("Uppgift {n} av {total}", "Fact {n} of {total}"),
    "facts_intro": ("Först några uppgifter om ärendet. ”Vet inte” räknas aldrig som nej.",
                    "First, a few facts about the case. “Not known” is never counted as no."),
    "yes": ("Ja", "Yes"),
    "no": ("Nej", "No"),
    "not_known": ("Vet inte", "Not known"),
    "unknown_or_declined": ("Vet inte eller vill inte svara", "Does not know or prefers not to say"),
    "save_next": ("Spara och fortsätt", "Save and continue"),
    "save": ("Spara", "Save"),
    "previous": ("Föregående", "Previous"),
    "to_summary": ("Till sammanfattningen", "To the summary"),
    "progress": ("Fråga {n} av {total}", "Question {n} of {total}"),
    "section": ("Avsnitt: {title}", "Section: {title}"),
    "guidance": ("Vägledning", "Guidance"),
    "choose_one": ("Välj ett av svaren.", "Choose one of the answers."),
    "type_or_unknown": ("Skriv ett svar, eller välj ”vet inte eller vill inte svara”.",
                        "Type an answer, or choose “does not know or prefers not to say”."),
    "errors_heading": ("Något behöver rättas", "Something needs correcting"),
    "stale": (("Frågan besvarades i ett annat fönster eller en annan flik medan den här sidan var öppen. "
              "Det sparade svaret är nu: {answer}. Inget ändrades av ditt klick; välj igen om du vill ändra."),
              ("The question was answered in another window or tab while this page was open. The saved "
              "answer is now: {answer}. Your click changed nothing; choose again if you want to change it.")),
    "stale_row": (("Listan ändrades i ett annat fönster eller en annan flik medan den här sidan var öppen. "
                  "Inget ändrades av ditt klick; se listan som den är nu."),
                  ("The list was changed in another window or tab while this page was open. Your click "
                  "changed nothing; see the list as it is now.")),
    "stale_judgement": (("Bedömningen ändrades i ett annat fönster eller en annan flik medan den här sidan var "
                         "öppen. Inget ändrades av ditt klick; här är den sparade bedömningen."),
                        ("The judgement was changed in another window or tab while this page was open. Your "
                         "click changed nothing; this is the saved judgement.")),
    "saved_answer": ("Sparat: {answer}", "Saved: {answer}"),
    "current_answer": ("Sparat svar: {answer}", "Saved answer: {answer}"),
    "locked": (("Utkastet är öppet i en intervju någon annanstans (till exempel en terminal). Inget sparades. "
               "Försök igen när den intervjun är avslutad."),
               ("The draft is open in an interview elsewhere (a terminal, for instance). Nothing was saved. "
               "Try again when that interview has ended.")),
    "not_found": ("Ärendet finns inte, eller hör inte till ditt team.", ("The case does not exist, or is not "
                  "your team's.")),
    "forbidden": ("Din roll får inte göra detta.", "Your role may not do this."),
    "csrf": ("Formuläret var för gammalt eller kom inte från den här sidan. Ladda om sidan och försök igen.",
             "The form was too old or did not come from this site. Reload the page and try again."),
    "store_failed": ("Svaret kunde inte sparas. Inget som redan sparats har gått förlorat. Försök igen.",
                     "The answer could not be saved. Nothing already saved is lost. Try again."),
    "completed_case": ("Bedömningen är slutförd och kan inte ändras här.",
                       "The assessment is completed and cannot be changed here."),
    "error_title": ("Det gick inte", "That did not work"),
    "back_to_cases": ("Till ärendelistan", "To the list of cases"),
    "group_rows": ("Rader hittills", "Rows so far"),
    "no_rows": ("Inga rader än.", "No rows yet."),
    "row_n": ("Rad {n}", "Row {n}"),
    "edit_row": ("Ändra rad {n}", "Change row {n}"),
    "delete_row": ("Ta bort rad {n}", "Delete row {n}"),
    "add_row": ("Lägg till en rad", "Add a row"),
    "new_row": ("Ny rad", "New row"),
    "save_row": ("Spara raden", "Save the row"),
    "cancel": ("Avbryt", "Cancel"),
    "group_done": ("Listan är klar – fortsätt", "The list is complete – continue"),
    "group_none": ("Det finns inga – fortsätt", "There are none – continue"),
    "group_unknown": ("Inte känt – fortsätt", "Not known – continue"),
    "group_full": ("Högsta antalet rader är nått.", "The maximum number of rows is reached."),
    "row_saved": ("Rad {n} sparad.", "Row {n} saved."),
    "row_deleted": ("Rad {n} borttagen.", "Row {n} deleted."),
    "row_unsaved_hint": ("Raden sparas när du trycker ”Spara raden”. Tomma fält räknas som okända.",
                         "The row is saved when you press “Save the row”. Empty fields count as unknown."),
    "summary": ("Sammanfattning av svaren", "Summary of the answers"),
    "change": ("Ändra", "Change"),
    "change_named": ("Ändra: {what}", "Change: {what}"),
    "no_answer": ("Inte besvarad", "Not answered"),
    "unanswered_left": ("{n} frågor är inte besvarade än.", "{n} questions are not answered yet."),
    "judgement": ("Professionell bedömning", "Professional judgement"),
    "judgement_none_policy": ("Instrumentet har ingen professionell bedömning.",
                              "The instrument has no professional judgement."),
    "make_judgement": ("Gör eller ändra bedömningen", "Make or change the judgement"),
    "no_judgement_yet": ("Ingen bedömning gjord.", "No judgement made."),
    "judgement_is": ("Bedömning: {level}. Motivering: {rationale}", "Judgement: {level}. Rationale: {rationale}"),
    "level": ("Nivå", "Level"),
    "no_judgement": ("Ingen professionell bedömning (den beräknade nivån gäller)",
                     "No professional judgement (the computed level stands)"),
    "rationale": ("Motivering", "Rationale"),
    "rationale_needed": ("En bedömning behöver en motivering.", "A judgement needs a rationale."),
    "too_long": ("Texten är för lång: högst {max} tecken.", "The text is too long: at most {max} characters."),
    "not_allowed_levels": ("Nivåer som inte kan väljas här", "Levels that cannot be chosen here"),
    "acknowledge": ("Okända svar som kan höja nivån", "Unknown answers that could raise the level"),
    "acknowledge_hint": (("Behövs bara om den valda nivån är lägre än vad regeln skulle ge: skriv varför du "
                         "bedömer att det inte gäller."), ("Needed only if the chosen level is lower than the "
                         "rule would give: write why you judge that it does not hold.")),
    "save_judgement": ("Spara bedömningen", "Save the judgement"),
    "judgement_saved": ("Bedömningen är sparad.", "The judgement is saved."),
    "judgement_first": ("Instrumentet kräver en professionell bedömning innan bedömningen kan slutföras.",
                        ("The instrument requires a professional judgement before the assessment can be "
                        "completed.")),
    "complete": ("Slutför bedömningen", "Complete the assessment"),
    "complete_hint": ("När bedömningen är slutförd låses svaren; en rättelse blir en ny version.",
                      "Once completed, the answers are locked; a correction makes a new revision."),
    "result": ("Resultat", "Result"),
    "to_open": ("Till nästa obesvarade fråga", "To the next unanswered question"),
    "correct": ("Rätta bedömningen", "Correct the assessment"),
    "correct_hint": (("En rättelse blir en ny version med svaren som utgångspunkt; den slutförda versionen "
                     "finns kvar."), ("A correction makes a new revision starting from these answers; the "
                     "completed revision is kept.")),
    "result_saved": ("Bedömningen är slutförd och sparad.", "The assessment is completed and saved."),
    "report_case_file": ("Journalrapporten", "The case-file report"),
    "report_referral": ("Remissrapporten", "The referral report"),
    "reports": ("Rapporter att läsa och skriva ut", "Reports to read and print"),
    "print": ("Skriv ut", "Print"),
    "internal": ("Ett fel uppstod i servern. Inget som redan sparats har gått förlorat.",
                 "A server error occurred. Nothing already saved is lost."),
    "neutral_title": ("Väder i dag", "Today's weather"),
}


def t(key: str, lang: str, **params: object) -> str:
    """The phrase ``key`` in ``lang`` (Swedish unless ``en``); the terminal's phrases are found too."""
    sv, en = WEB[key] if key in WEB else UI[key]
    text = en if lang == "en" else sv
    return text.format(**params) if params else text
