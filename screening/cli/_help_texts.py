"""Every help text of the command line, in Swedish and English (the table ``_help`` looks texts up in).

May import: nothing.

Keyed by the text as written in the code, whitespace-normalised, which is
mostly English; a few commands were written in both languages at once ("sv /
en"), and the table splits them. ``tests/test_cli_help.py`` fails while a help
text of any command is missing here.
"""

from __future__ import annotations

__all__ = ["TEXTS"]

# Source text (as written in the code, whitespace-normalised) -> (Swedish, English).
# ``None`` for English means "the source is the English".
TEXTS: dict[str, tuple[str, str | None]] = {
    # the root, click's and typer's own options
    "Strukturerad riskbedömning / structured risk screening (FREDA-style, PATRIARK-style).": (
        "Strukturerad riskbedömning (FREDA-inspirerad, PATRIARK-inspirerad) för socialtjänsten.",
        "Structured risk screening (FREDA-style, PATRIARK-style) for social services.",
    ),
    "Visa versionen. / Show the version.": ("Visa versionen.", "Show the version."),
    "Show this message and exit.": ("Visa den här hjälpen och avsluta.", None),
    "Install completion for the current shell.": ("Installera kommandokomplettering för det här skalet.", None),
    "Show completion for the current shell, to copy it or customize the installation.": (
        "Visa kommandokompletteringen för det här skalet, för att kopiera den eller anpassa installationen.",
        None,
    ),
    # instruments, show, validate, score, schema
    "List the bundled instruments: id, version, title and item count.": (
        "Lista de medföljande instrumenten: id, version, titel och antal frågor.",
        None,
    ),
    "Content directory (instruments/, rules/, reports/); default $SCREENING_HOME or bundled.": (
        "Innehållskatalog (instruments/, rules/, reports/); standard $SCREENING_HOME eller det medföljande.",
        None,
    ),
    "Show an instrument's questions and allowed answers.": ("Visa ett instruments frågor och tillåtna svar.", None),
    "Instrument id, id@version or a YAML path.": ("Instrumentets id, id@version eller en YAML-sökväg.", None),
    "text for reading, json for other systems.": ("text för att läsa, json för andra system.", None),
    "Licensed official wording keyed by item id (overlays the paraphrased texts).": (
        "Licensierade officiella formuleringar per fråge-id (ersätter de omskrivna texterna).",
        None,
    ),
    "Check instruments and rules, all problems at once, and run the golden vectors.": (
        "Kontrollera instrument och regler, alla fel på en gång, och kör testvektorerna.",
        None,
    ),
    "Files or directories; default: all bundled content.": (
        "Filer eller kataloger; standard: allt medföljande innehåll.",
        None,
    ),
    "Score an answers file and print the result with recommended referrals (JSON by default).": (
        "Poängsätt en svarsfil och skriv ut resultatet med rekommenderade insatser (JSON som standard).",
        None,
    ),
    "YAML or JSON file mapping item ids to answers.": ("YAML- eller JSON-fil med svar per fråge-id.", None),
    "The assessor's level: its id, its label (e.g. 'Hög farlighet') or its key.": (
        "Bedömarens nivå: dess id, dess namn (t.ex. 'Hög farlighet') eller dess tangent.",
        None,
    ),
    "Why (required with --judgement; at most 4000 characters).": (
        "Varför (krävs med --judgement; högst 4000 tecken).",
        None,
    ),
    "Who assessed.": ("Vem som bedömde.", None),
    (
        "RULE=REASON: why a critical rule an unknown answer could make hold is judged not to "
        "(needed for a judgement below it; repeatable)."
    ): (
        (
            "REGEL=SKÄL: varför en kritisk regel som ett okänt svar kan uppfylla bedöms inte gälla "
            "(krävs för en bedömning under den; kan upprepas)."
        ),
        None,
    ),
    "sv or en; default: the settings.": ("sv eller en; standard: inställningarna.", None),
    "Referral rule set id or path; 'none' for no referrals; default: the settings, else the bundled default.": (
        ("Regeluppsättning för insatser (id eller sökväg); 'none' för inga insatser; standard: inställningarna, "
        "annars den medföljande."),
        None,
    ),
    "Case fact name=value, e.g. children_in_household=true, age=17 (repeatable).": (
        "Uppgift om ärendet namn=värde, t.ex. children_in_household=true, age=17 (kan upprepas).",
        None,
    ),
    "Also write a case-file report to FILE (.html, .md or .txt), owner-only.": (
        "Skriv också en rapport för akten till FIL (.html, .md eller .txt), bara läsbar för dig.",
        None,
    ),
    "Case pseudonym for --report (never a personal identity number).": (
        "Ärendets pseudonym för --report (aldrig ett personnummer).",
        None,
    ),
    "Print the JSON Schema of the instrument format and of the result.": (
        "Skriv ut JSON Schema för instrumentformatet och för resultatet.",
        None,
    ),
    "instrument, result or all": ("instrument, result eller all", None),
    # interview
    "Walk through an instrument with a person, one question at a time; every answer is saved at once. "
    "Keys: the letters shown answer, ? = unknown, < previous, - skip, ! help, . save and quit, "
    "Ctrl-X or Esc hides the screen at once (everything is saved).": (
        ("Gå igenom ett instrument med en person, en fråga i taget; varje svar sparas direkt.\n\n"
        "Tangenter: de visade bokstäverna svarar, ? = vet inte, < föregående, - hoppa över, ! hjälp, "
        ". spara och avsluta, Ctrl-X eller Esc döljer skärmen direkt (allt är sparat)."),
        None,
    ),
    "Instrument id, id@version or YAML path; with --resume, the case reference.": (
        "Instrumentets id, id@version eller YAML-sökväg; med --resume ärendets referens.",
        None,
    ),
    "Case reference: a pseudonym, never a personnummer; default random.": (
        "Ärendets referens: en pseudonym, aldrig ett personnummer; standard slumpad.",
        None,
    ),
    "Continue a draft at its first unanswered question.": (
        "Fortsätt ett utkast vid dess första obesvarade fråga.",
        None,
    ),
    "sv (default) or en.": ("sv (standard) eller en.", None),
    ("Case store: an SQLite file or a postgresql:// URL; default $SCREENING_STORE or "
     "~/.local/share/screening/screening.db."): (
        ("Ärendelagret: en SQLite-fil eller en postgresql://-adress; standard $SCREENING_STORE eller "
         "~/.local/share/screening/screening.db."),
        None,
    ),
    "Who interviews (name or staff id).": ("Vem som intervjuar (namn eller personal-id).", None),
    "When completed, write the report to this file (0600).": (
        "Skriv rapporten till den här filen när intervjun är klar (0600).",
        None,
    ),
    "Default: --report's extension.": ("Standard: filändelsen i --report.", None),
    "Referral rule set (id or path); 'none' for no recommendations; default: the settings (`screening config`), "
    "else the bundled default.": (
        ("Regeluppsättning för insatser (id eller sökväg); 'none' för inga rekommendationer; standard: "
        "inställningarna (`screening config`), annars den medföljande."),
        None,
    ),
    "Content directory (instruments/, rules/, reports/); default bundled.": (
        "Innehållskatalog (instruments/, rules/, reports/); standard det medföljande.",
        None,
    ),
    # rescore, diff
    "Re-score stored assessments against a new instrument version or rule set and list who changed. "
    "Dry run by default: the diff is shown and nothing is stored. Bad records are listed in the diff, "
    "never stop the run, and make the exit code 1.": (
        ("Poängsätt sparade bedömningar på nytt mot en ny instrumentversion eller regeluppsättning och "
        "lista vilka som ändrades.\n\n"
        "Provkörning som standard: skillnaderna visas och inget sparas. Felaktiga poster listas i "
        "skillnaderna, stoppar aldrig körningen och ger slutkod 1."),
        None,
    ),
    "Case store (default $SCREENING_STORE or the user's data directory).": (
        "Ärendelagret (standard $SCREENING_STORE eller användarens datakatalog).",
        None,
    ),
    "Re-score a JSON Lines file instead of a store (one assessment a line).": (
        "Poängsätt en JSON Lines-fil i stället för ett lager (en bedömning per rad).",
        None,
    ),
    "Only assessments of this instrument.": ("Bara bedömningar med det här instrumentet.", None),
    "Only assessments made with this version.": ("Bara bedömningar gjorda med den här versionen.", None),
    "Target version (default: the latest); needs --instrument.": (
        "Målversion (standard: den senaste); kräver --instrument.",
        None,
    ),
    "Referral rule set id or path; 'none' for no referrals.": (
        "Regeluppsättning för insatser (id eller sökväg); 'none' för inga insatser.",
        None,
    ),
    "Only assessments completed on or after this date.": ("Bara bedömningar slutförda detta datum eller senare.", None),
    "Only assessments completed before this date.": ("Bara bedömningar slutförda före detta datum.", None),
    "Store the new results (default: a dry run).": ("Spara de nya resultaten (standard: en provkörning).", None),
    "Diff report format.": ("Format för skillnadsrapporten.", None),
    "Write the diff report here (0600, atomic).": ("Skriv skillnadsrapporten hit (0600, atomiskt).", None),
    "Every re-scored assessment as JSON Lines, with its migrated answers.": (
        "Varje ompoängsatt bedömning som JSON Lines, med sina överförda svar.",
        None,
    ),
    "Processes (the parent and jobs-1 workers).": ("Processer (huvudprocessen och jobs-1 arbetare).", None),
    "At most this many assessments listed in the report.": ("Högst så här många bedömningar i rapporten.", None),
    "With --apply, also store the full result (with trace) of each change.": (
        "Med --apply: spara också hela resultatet (med spårning) för varje ändring.",
        None,
    ),
    "Assessments per transaction.": ("Bedömningar per transaktion.", None),
    "Content directory (instruments/, rules/, reports/); default $SCREENING_HOME.": (
        "Innehållskatalog (instruments/, rules/, reports/); standard $SCREENING_HOME.",
        None,
    ),
    "Show what changed between two instrument versions or two rule sets.": (
        "Visa vad som ändrats mellan två instrumentversioner eller två regeluppsättningar.",
        None,
    ),
    "Instrument (id@version or path) or rule set (id or path).": (
        "Instrument (id@version eller sökväg) eller regeluppsättning (id eller sökväg).",
        None,
    ),
    "The other version, of the same kind.": ("Den andra versionen, av samma slag.", None),
    # report
    "Render a result as a report for the case file or a referral partner. From a saved result file, or with "
    "--case REF alone from the case store: the stored result of the case's completed assessment, with the "
    "instrument version it was made with. Settings (`screening config`) give the defaults.": (
        ("Skriv ett resultat som rapport för akten eller för en samverkanspart.\n\n"
        "Från en sparad resultatfil, eller med bara --case REF från ärendelagret: det sparade resultatet av "
        "ärendets slutförda bedömning, med den instrumentversion den gjordes med. Inställningarna "
        "(`screening config`) ger standardvärdena."),
        None,
    ),
    "A result saved with `screening score --format json`; or give --case REF alone.": (
        "Ett resultat sparat med `screening score --format json`; eller ange bara --case REF.",
        None,
    ),
    "html (prints on A4), md or txt; default: -o's extension, else the settings.": (
        "html (skrivs ut på A4), md eller txt; standard: filändelsen i -o, annars inställningarna.",
        None,
    ),
    "case-file: everything; referral: what a partner needs, no free text.": (
        "case-file: allt; referral: det en samverkanspart behöver, ingen fritext.",
        None,
    ),
    "Case pseudonym (never a personal identity number); without RESULT_FILE, the report of the case's "
    "completed assessment in the store.": (
        ("Ärendets pseudonym (aldrig ett personnummer); utan RESULT_FILE rapporten för ärendets slutförda "
        "bedömning i lagret."),
        None,
    ),
    "With --case: this revision (default: the latest completed).": (
        "Med --case: den här revisionen (standard: den senaste slutförda).",
        None,
    ),
    "Who assessed (needs --case).": ("Vem som bedömde (kräver --case).", None),
    "ISO date-time of the assessment (needs --case).": (
        "Bedömningens datum och tid i ISO-format (kräver --case).",
        None,
    ),
    "The person has protected personal data (needs --case).": (
        "Personen har skyddade personuppgifter (kräver --case).",
        None,
    ),
    "Directory of replacement templates (run sandboxed).": (
        "Katalog med ersättningsmallar (körs i sandlåda).",
        None,
    ),
    "Write to FILE (owner-only) instead of stdout.": (
        "Skriv till FIL (bara läsbar för dig) i stället för standard ut.",
        None,
    ),
    "Instrument id@version or YAML path; default: the result's. With --case alone: the instrument id, when the "
    "case has several assessments.": (
        ("Instrument id@version eller YAML-sökväg; standard: resultatets. Med bara --case: instrumentets id, "
        "när ärendet har flera bedömningar."),
        None,
    ),
    # cases
    "List assessments (never answers); `cases delete REF` removes a case.": (
        "Lista bedömningar (aldrig svar); `cases delete REF` tar bort ett ärende.",
        None,
    ),
    "Only drafts or only completed.": ("Bara utkast eller bara slutförda.", None),
    "Only this instrument id.": ("Bara det här instrument-id:t.", None),
    "Delete every assessment of a case, its answers and results; the audit trail keeps only the pseudonym.": (
        ("Radera alla bedömningar i ett ärende, med svar och resultat; granskningsloggen behåller bara "
        "pseudonymen."),
        None,
    ),
    "Case reference (pseudonym).": ("Ärendets referens (pseudonym).", None),
    "Do not ask for confirmation.": ("Fråga inte om bekräftelse.", None),
    "Visa en bedömning: svar, uppgifter, resultat och historik. / Show one assessment in words.": (
        "Visa en bedömning: svar, uppgifter, resultat och historik.",
        "Show one assessment: answers, facts, result and history.",
    ),
    "Ärendets referens. / The case reference.": ("Ärendets referens.", "The case reference."),
    "Revision (standard: den senaste / default: the latest).": (
        "Revision (standard: den senaste).",
        "Revision (default: the latest).",
    ),
    "Instrument-id när ärendet har flera. / When the case has several.": (
        "Instrument-id när ärendet har flera.",
        "Instrument id, when the case has several.",
    ),
    "sv eller/or en.": ("sv eller en.", "sv or en."),
    "Content directory; default bundled.": ("Innehållskatalog; standard det medföljande.", None),
    # audit, key
    "The audit trail: verify it, show one case's log extract, or the server's access log.": (
        "Granskningsloggen: kontrollera den, visa ett ärendes loggutdrag eller serverns åtkomstlogg.",
        None,
    ),
    "The server's access log: who opened or was refused a case, when and from where (no answers).": (
        "Serverns åtkomstlogg: vem som öppnade eller nekades ett ärende, när och varifrån (inga svar).",
        None,
    ),
    "An account's name.": ("Ett kontos namn.", None),
    "Check the audit trail's HMAC chain; name the first record that was edited, deleted or reordered.": (
        "Kontrollera granskningsloggens HMAC-kedja; namnge den första posten som ändrats, raderats eller flyttats.",
        None,
    ),
    "A checkpoint kept earlier (N:hex), to catch a cut-off end.": (
        "En tidigare sparad kontrollpunkt (N:hex), för att upptäcka ett avklippt slut.",
        None,
    ),
    "The log extract for one case: who did what and when (no answers; works after deletion too).": (
        "Loggutdraget för ett ärende: vem som gjorde vad och när (inga svar; fungerar även efter radering).",
        None,
    ),
    "text, or json for other systems.": ("text, eller json för andra system.", None),
    "The encryption key: where it is, and rotation.": ("Krypteringsnyckeln: var den finns, och byte av nyckel.", None),
    "Where the key comes from and its id (never the key itself).": (
        "Var nyckeln kommer ifrån och dess id (aldrig själva nyckeln).",
        None,
    ),
    "Make a new key, re-encrypt every value of the stores with it, then retire the old key. Crash-safe: the key "
    "file keeps the old key until every store is done, each value names its key, and running the command again "
    "finishes the job. The key file lists every store opened with it; a rotation that does not name each of them "
    "with ``--store`` refuses to start (``--force`` overrides). One rotation at a time: a second one while the "
    "first runs refuses (the key file's lock).": (
        ("Skapa en ny nyckel, kryptera om varje värde i lagren med den och pensionera sedan den gamla.\n\n"
        "Tål avbrott: nyckelfilen behåller den gamla nyckeln tills varje lager är klart, varje värde anger sin "
        "nyckel, och samma kommando en gång till gör klart jobbet. Nyckelfilen listar varje lager som öppnats "
        "med den; ett byte som inte namnger vart och ett med ``--store`` startar inte (``--force`` tvingar). "
        "Ett byte i taget: ett andra medan det första pågår vägras (nyckelfilens lås)."),
        None,
    ),
    "A store sealed with this key (repeatable); default the default store.": (
        "Ett lager förseglat med den här nyckeln (kan upprepas); standard standardlagret.",
        None,
    ),
    "Keep the old key until another rotate (other stores still use it).": (
        "Behåll den gamla nyckeln till nästa byte (andra lager använder den fortfarande).",
        None,
    ),
    "Rotate even though the key file lists stores not named with --store (they can no longer be read unless "
    "--keep-old).": (
        ("Byt även om nyckelfilen listar lager som inte namnges med --store (de kan inte längre läsas utan "
        "--keep-old)."),
        None,
    ),
    "Say what would be re-encrypted (values per table); change nothing.": (
        "Säg vad som skulle krypteras om (värden per tabell); ändra ingenting.",
        None,
    ),
    # serve, users, cases assign
    "Serve the HTTP API (JSON, OpenAPI at /openapi.json) over the case store; see docs/server.md.": (
        "Kör HTTP-gränssnittet (JSON, OpenAPI på /openapi.json) över ärendelagret; se docs/server.md.",
        None,
    ),
    "Address to listen on; default this machine only.": ("Adress att lyssna på; standard bara den här datorn.", None),
    "Port to listen on (0: any free one).": ("Port att lyssna på (0: valfri ledig).", None),
    "Referral rule set: default, none, or a rule set id or path.": (
        "Regeluppsättning för insatser: default, none, eller en regeluppsättnings id eller sökväg.",
        None,
    ),
    "Accept the signed-in account's name in this header (e.g. X-Remote-User) from a trusted proxy; off by default.": (
        ("Godta den inloggades kontonamn i den här rubriken (t.ex. X-Remote-User) från en betrodd proxy; "
        "av som standard."),
        None,
    ),
    "Address of the reverse proxy the header is accepted from (repeatable); default 127.0.0.1 and ::1.": (
        "Adressen till den omvända proxy som rubriken godtas från (kan upprepas); standard 127.0.0.1 och ::1.",
        None,
    ),
    "Largest request body in bytes (413 above).": ("Största tillåtna anropskropp i byte (413 över det).", None),
    "Session cookies without Secure, for plain HTTP on this machine only (tests).": (
        "Inloggningskakor utan Secure, för okrypterad HTTP på den här datorn (tester).",
        None,
    ),
    "The server's accounts and API tokens (screening serve).": (
        "Serverns konton och API-nycklar (screening serve).",
        None,
    ),
    "Add an account; a person gets a password (asked twice), a system account a token later (users token).": (
        ("Lägg till ett konto; en person får ett lösenord (frågas två gånger), ett systemkonto en API-nyckel "
        "sedan (users token)."),
        None,
    ),
    "The account's sign-in name.": ("Kontots inloggningsnamn.", None),
    "caseworker, team_lead, auditor, admin or system.": ("caseworker, team_lead, auditor, admin eller system.", None),
    "The team whose cases the account works on.": ("Teamet vars ärenden kontot arbetar med.", None),
    "What a system account's token may do (repeatable): instruments:read, score, validate, report, cases:read, "
    "cases:write.": (
        ("Vad ett systemkontos API-nyckel får göra (kan upprepas): instruments:read, score, validate, report, "
        "cases:read, cases:write."),
        None,
    ),
    "Read the password from the first line of standard input (scripts).": (
        "Läs lösenordet från första raden på standard in (skript).",
        None,
    ),
    "No password: the person signs in only through the sign-on header.": (
        "Inget lösenord: personen loggar bara in via inloggningsrubriken.",
        None,
    ),
    "List the accounts: name, role, team, disabled, active tokens (never a password hash).": (
        "Lista kontona: namn, roll, team, avstängt, aktiva API-nycklar (aldrig ett lösenords hash).",
        None,
    ),
    "Disable an account: it cannot sign in, its sessions end and its tokens stop working.": (
        "Stäng av ett konto: det kan inte logga in, dess inloggningar avslutas och dess API-nycklar slutar gälla.",
        None,
    ),
    "Enable a disabled account again.": ("Aktivera ett avstängt konto igen.", None),
    "Set a person's password (asked twice); the account's open sessions end.": (
        "Sätt en persons lösenord (frågas två gånger); kontots öppna inloggningar avslutas.",
        None,
    ),
    "Make an API token for a system account and print it once (the store keeps only its hash).": (
        "Skapa en API-nyckel för ett systemkonto och skriv ut den en gång (lagret sparar bara dess hash).",
        None,
    ),
    "Revoke an API token at once; requests with it get 401 from then on.": (
        "Återkalla en API-nyckel direkt; anrop med den får 401 från och med nu.",
        None,
    ),
    "The token's id (users token printed it).": ("Nyckelns id (users token skrev ut det).", None),
    "Give a case made at a terminal to a team, so the team can open it through the server.": (
        "Ge ett ärende som gjorts i terminalen till ett team, så att teamet kan öppna det via servern.",
        None,
    ),
    "The team that takes the case over.": ("Teamet som tar över ärendet.", None),
    # config
    "Visa inställningarna och var de kommer ifrån; `config set NYCKEL VÄRDE` ändrar. / Show the settings and "
    "where each comes from; `config set KEY VALUE` changes one.": (
        "Visa inställningarna och var de kommer ifrån; `config set NYCKEL VÄRDE` ändrar en.",
        "Show the settings and where each comes from; `config set KEY VALUE` changes one.",
    ),
    "Ändra en inställning (filen skrivs bara läsbar för dig). / Change a setting (the file is owner-only).": (
        "Ändra en inställning (filen skrivs bara läsbar för dig).",
        "Change a setting (the file is owner-only).",
    ),
    "rules, lang, store, timezone, report.format, report.profile": (
        "rules, lang, store, timezone, report.format, report.profile",
        None,
    ),
    "Det nya värdet. / The new value.": ("Det nya värdet.", "The new value."),
    # store upgrade, store copy (issue 17: the PostgreSQL store)
    "The case store: upgrade its schema, or copy it between SQLite and PostgreSQL.": (
        "Ärendelagret: uppgradera dess schema, eller kopiera det mellan SQLite och PostgreSQL.",
        None,
    ),
    "Bring the store's schema up to this version of screening (forward only; a newer store is refused).": (
        "Uppgradera lagrets schema till den här versionen av screening (bara framåt; ett nyare lager vägras).",
        None,
    ),
    "Copy a store, SQLite to PostgreSQL or back, and check the copy: its audit trail and every count. The copy is "
    "the same store (same id, keys and audit trail): use one of the two afterwards.": (
        ("Kopiera ett lager, från SQLite till PostgreSQL eller tillbaka, och kontrollera kopian: dess "
         "granskningslogg och varje antal.\n\nKopian är samma lager (samma id, nycklar och granskningslogg): "
         "använd bara det ena efteråt."),
        None,
    ),
    "The store to copy: an SQLite file or a postgresql:// URL.": (
        "Lagret som ska kopieras: en SQLite-fil eller en postgresql://-adress.",
        None,
    ),
    "A new, empty store: an SQLite file or a postgresql:// URL.": (
        "Ett nytt, tomt lager: en SQLite-fil eller en postgresql://-adress.",
        None,
    ),
}
