"""Bilingual phrases for traces and warnings (Swedish first, English complete).

May import: instrument / stdlib.

Templates take parameters; a parameter that is a ``Text`` is put in in the same
language as the template, so an item label or level name never shows up in the
other language. ``tests/test_texts.py`` checks both languages use the same
parameters.
"""

from __future__ import annotations

from .instrument import Text

__all__ = ["PHRASES", "phrase", "points", "unknowns"]

PHRASES: dict[str, tuple[str, str]] = {
    "answer": (
        "{item}: {answer} ger {points} till {score}",
        "{item}: {answer} gives {points} to {score}",
    ),
    "unknown": (
        "{item}: okänt svar – räknas inte som nej; kan ge {least}–{most} poäng till {score}",
        "{item}: unknown answer – not counted as no; could give {least}–{most} points to {score}",
    ),
    "unknown_plain": (
        "{item}: okänt svar – räknas inte som nej",
        "{item}: unknown answer – not counted as no",
    ),
    "skipped": (
        "{item}: hoppades över – frågan gäller inte med svaret på {depends}",
        "{item}: skipped – the question does not apply given the answer to {depends}",
    ),
    "skipped_plain": (
        "{item}: hoppades över – frågan gäller inte med de tidigare svaren",
        "{item}: skipped – the question does not apply given the earlier answers",
    ),
    "item_answered": ("{item} ({answer})", "{item} ({answer})"),
    "unknown_value": ("okänt", "unknown"),
    "no_answer": ("inget svar", "no answer"),
    "n_unknown": ("{n} okända svar", "{n} unknown answers"),
    "n_unknown_one": ("1 okänt svar", "1 unknown answer"),
    "n_rows": ("{n} rader", "{n} rows"),
    "n_points": ("{n} poäng", "{n} points"),
    "one_point": ("1 poäng", "1 point"),
    "one_row": ("1 rad", "1 row"),
    "word_yes": ("ja", "yes"),
    "word_no": ("nej", "no"),
    "score": ("{score} = {value}", "{score} = {value}"),
    "score_range": (
        "{score} ligger mellan {least} och {most} beroende på {unknowns}",
        "{score} lies between {least} and {most} depending on {unknowns}",
    ),
    "band": (
        "{score} {value} ligger i intervallet {low}–{high}, vilket ger nivån {level}",
        "{score} {value} lies in the band {low}–{high}, which gives the level {level}",
    ),
    "band_range": (
        "{score} kan ge nivåerna {low} till {high}; nivån kan inte avgöras utan de okända svaren",
        "{score} could give the levels {low} to {high}; the level cannot be settled without the unknown answers",
    ),
    "critical": (
        "Kritiskt svar, nivån är minst {level}: {reason}",
        "Critical answer, the level is at least {level}: {reason}",
    ),
    "critical_possible": (
        "Kan vara ett kritiskt svar om okända svar är ja, och nivån kan då vara {level}: {reason}",
        "May be a critical answer if unknown answers are yes, and the level could then be {level}: {reason}",
    ),
    "judgement": (
        "Professionell bedömning: {level} ({direction}). Motivering: {rationale}",
        "Professional judgement: {level} ({direction}). Rationale: {rationale}",
    ),
    "judgement_below_floor": (
        "Bedömningen {level} låg under nivån {floor} från kritiska regler; kritiska regler kan bara höja, så nivån blir {floor}",
        "The judgement {level} was below the level {floor} from critical rules; critical rules can only raise, so the level is {floor}",
    ),
    "judgement_acknowledged": (
        "Kan vara uppfyllt men bedöms inte gälla: {reason} – bedömarens skäl: {why}",
        "May hold but is judged not to: {reason} – the assessor's reason: {why}",
    ),
    "judgement_discrepancy": (
        "Bedömningen {level} ligger under den nivå svaren ger ({computed}) – använd skillnaden för att samtala om skydd och skriv varför",
        "The judgement {level} is below the level the answers give ({computed}) – use the difference to talk about protection and say why",
    ),
    "judgement_discrepancy_count": (
        "Bedömningen {level} är den lägsta nivån, men {score} är {value} av högst {most} – använd skillnaden för att samtala om skydd och skriv varför",
        "The judgement {level} is the lowest level, but {score} is {value} of at most {most} – use the difference to talk about protection and say why",
    ),
    "final_concluded": ("Slutlig nivå: {level}.", "Final level: {level}."),
    "final_indeterminate": (
        "Nivån kan inte avgöras: mellan {low} och {high}. Den rapporteras inte som den lägre nivån.",
        "The level cannot be settled: between {low} and {high}. It is not reported as the lower level.",
    ),
    "final_incomplete": (
        "Ofullständig: {unknowns} (högst {limit} tillåts) – en låg nivå kan inte fastställas.",
        "Incomplete: {unknowns} (at most {limit} allowed) – a low level cannot be concluded.",
    ),
    "final_blocked": (
        "Ofullständig: delar som krävs för en slutsats saknas (se kraven nedan). Nivån är bedömarens men bedömningen är inte avslutad.",
        "Incomplete: parts needed for a conclusion are missing (see the requirements below). The level is the assessor's but the assessment is not finished.",
    ),
    "final_judgement_required": (
        "Instrumentet kräver professionell bedömning av nivån; underlaget ovan är stöd, inte ett resultat.",
        "The instrument requires a professional judgement of the level; the figures above are support, not a result.",
    ),
    "final_no_level": (
        "Instrumentet ger en beskrivning, ingen risknivå.",
        "The instrument gives a description, no risk level.",
    ),
    "own_view": (
        "Personens egen bedömning: {answer} ({level}); {comparison}",
        "The person's own view: {answer} ({level}); {comparison}",
    ),
    "own_view_lower": (
        "lägre än instrumentets nivå – använd skillnaden för att samtala om skydd",
        "lower than the instrument's level – use the difference to talk about protection",
    ),
    "own_view_higher": (
        "högre än instrumentets nivå – ta personens oro på allvar",
        "higher than the instrument's level – take the person's concern seriously",
    ),
    "own_view_same": ("samma som instrumentets nivå", "the same as the instrument's level"),
    "requirement": ("Krav ej uppfyllt: {message}", "Requirement not met: {message}"),
    "direction_raised": ("höjd", "raised"),
    "direction_confirmed": ("bekräftad", "confirmed"),
    "direction_lowered": ("sänkt", "lowered"),
    "direction_resolved": ("avgjord inom intervallet", "resolved within the range"),
    "direction_set": ("fastställd", "set"),
    "warn_incomplete": (
        "För många okända svar ({n}, högst {limit}): en låg nivå kan inte fastställas.",
        "Too many unknown answers ({n}, at most {limit}): a low level cannot be concluded.",
    ),
    "warn_indeterminate": (
        "Nivån är obestämd ({low}–{high}) på grund av okända svar.",
        "The level is indeterminate ({low}–{high}) because of unknown answers.",
    ),
    "warn_critical_possible": (
        "Ett okänt svar kan vara kritiskt – fråga vidare om de okända svaren: {reason}",
        "An unknown answer may be critical – ask further about the unknown answers: {reason}",
    ),
    "warn_judgement_required": (
        "Professionell bedömning krävs innan en nivå kan anges.",
        "A professional judgement is required before a level can be given.",
    ),
    "warn_discrepancy": (
        "Personens egen bedömning skiljer sig från instrumentets nivå.",
        "The person's own view differs from the instrument's level.",
    ),
    "warn_incomplete_parts": (
        "Delar som krävs för en slutsats saknas – bedömningen är ofullständig och kan inte avslutas förrän de finns.",
        "Parts needed for a conclusion are missing – the assessment is incomplete and cannot be finished until they are there.",
    ),
    "warn_judgement_discrepancy": (
        "Den professionella bedömningen ligger under den nivå som svaren ger – samtala om skillnaden och dokumentera varför.",
        "The professional judgement is below the level the answers give – discuss the difference and record why.",
    ),
    "warn_requirement": ("Krav ej uppfyllt: {message}", "Requirement not met: {message}"),
    "rule_fired": ("Enligt regelverket: {reason}", "By the rule set: {reason}"),
    "refuse_no_level": (
        "{instrument} ger ingen nivå, så det finns ingen nivå att bedöma.",
        "{instrument} gives no level, so there is no level to judge.",
    ),
    "refuse_unknown_level": ("Okänd nivå; välj en av: {levels}.", "Unknown level; choose one of: {levels}."),
    "refuse_no_rationale": ("En bedömning behöver en motivering.", "A judgement needs a rationale."),
    "refuse_raise_only": (
        "Instrumentet låter bedömaren bara höja nivån: minst {level}.",
        "The instrument only lets the assessor raise the level: at least {level}.",
    ),
    "refuse_raise_only_range": (
        "Instrumentet låter bedömaren bara höja nivån: minst {level}. Besvara de okända frågorna för att snäva in intervallet.",
        "The instrument only lets the assessor raise the level: at least {level}. Answer the unknown questions to narrow the range.",
    ),
    "refuse_lowest_incomplete": (
        "{unknowns} (högst {limit} tillåts): den lägsta nivån, {level}, kan inte fastställas.",
        "{unknowns} (at most {limit} allowed): the lowest level, {level}, cannot be concluded.",
    ),
    "refuse_unacknowledged": (
        "Ett okänt svar kan göra att en kritisk regel gäller som ger en högre nivå än bedömningen: {rules}. Skriv för var och en varför den bedöms inte gälla, eller välj en högre nivå.",
        "An unknown answer could make a critical rule hold that gives a higher level than the judgement: {rules}. Write for each why it is judged not to hold, or choose a higher level.",
    ),
    "refuse_no_such_critical": (
        "Instrumentet har ingen sådan kritisk regel att bekräfta.",
        "The instrument has no such critical rule to acknowledge.",
    ),
    "warn_children_unknown": (
        "Våld har framkommit men det är inte känt om barn finns i hushållet – fråga, eftersom barn kan behöva en orosanmälan.",
        "Violence has been disclosed but it is not known whether children live in the household – ask, as children may need a report of concern.",
    ),
    "safety_children": (
        "Barn i hushållet och våld har framkommit: överväg orosanmälan (anmälningsskyldighet enligt socialtjänstlagen (2025:400); tidigare 14 kap. 1 § socialtjänstlagen (2001:453)).",
        "Children in the household and violence disclosed: consider a report of concern (duty to report under the Social Services Act (2025:400); formerly ch. 14 s. 1 of the Social Services Act (2001:453)).",
    ),
    "warn_age_unknown": (
        "Personens ålder är inte känd men spelar roll här (barnskydd, tjänster för unga): ta reda på åldern. Tills dess behandlas personen som om hen kan vara under 18 år.",
        "The person's age is not known but matters here (child protection, services for young people): find out the age. Until then the person is treated as possibly under 18.",
    ),
    "safety_minor": (
        "Personen är under 18 år och har berättat om våld: ta ställning till orosanmälan eller barnutredning och erbjud stöd för barn och unga.",
        "The person is under 18 and has disclosed violence: decide on a report of concern or a child investigation and offer support for children and young people.",
    ),
    "safety_minor_support": (
        "Personen är under 18 år och har berättat om våld: stöd anpassat efter åldern.",
        "The person is under 18 and has disclosed violence: support suited to the age.",
    ),
    "safety_age_unknown": (
        "Hedersrelaterad kontext och okänd ålder: personen kan vara ett barn – ta ställning till orosanmälan eller barnutredning medan åldern tas reda på.",
        "Honour-related context and unknown age: the person may be a child – decide on a report of concern or a child investigation while the age is established.",
    ),
    "safety_honour": (
        "Hedersrelaterad kontext: kontakta inte familj eller vårdnadshavare innan en skyddsbedömning är gjord.",
        "Honour-related context: do not contact the family or guardians before a protection assessment has been made.",
    ),
    "safety_honour_removed": (
        "{service} togs bort: i en hedersrelaterad kontext får familjen inte kontaktas före en skyddsbedömning.",
        "{service} was removed: in an honour-related context the family must not be contacted before a protection assessment.",
    ),
    "safety_incomplete": (
        "Bedömningen är ofullständig eller obestämd: erbjud stöd och komplettera bedömningen snarast; en låg nivå kan inte antas.",
        "The assessment is incomplete or indeterminate: offer support and complete the assessment soon; a low level cannot be assumed.",
    ),
    "outside_target_group": (
        "{service} rekommenderas inte: personen ({age} år) är utanför målgruppens ålder",
        "{service} is not recommended: the person (aged {age}) is outside its target age",
    ),
    "outside_target_gender": (
        "{service} rekommenderas inte: verksamheten tar inte emot personer som anges som {gender}",
        "{service} is not recommended: the service does not take people given as {gender}",
    ),
    "service_proposed": (
        "{service}: föreslagen – finns ännu inte, och rekommenderas därför inte. Behovet kvarstår: {reason} Möt det med de insatser som finns.",
        "{service}: proposed – does not exist yet, so it is not recommended. The need remains: {reason} Meet it with the services that exist.",
    ),
    "warn_no_support_in_target_group": (
        "Våld har framkommit, men ingen stödinsats återstår när insatser utanför sin målgrupp (ålder eller kön) har tagits bort. Hitta en stödinsats som tar emot personen. Är personen under 18 år gäller barnskyddet: orosanmälan eller barnutredning.",
        "Violence has been disclosed, but no support service is left once services outside their target group (age or gender) were removed. Find a support service that accepts the person. If the person is under 18, child protection applies: a report of concern or a child investigation.",
    ),
    "complete_assessment": ("Komplettera bedömningen", "Complete the assessment"),
    "near_miss": (
        "{points} poäng till skulle ge nivån {level}",
        "{points} more point(s) would give the level {level}",
    ),
    "near_miss_added": (
        "{points} poäng till skulle ge nivån {level}: då tillkommer {services}",
        "{points} more point(s) would give the level {level}: that would add {services}",
    ),
}


def phrase(code: str, **params: object) -> Text:
    """Fill both language versions of phrase ``code``."""
    sv, en = PHRASES[code]
    return Text(sv=_fill(sv, params, "sv"), en=_fill(en, params, "en"))


def points(n: object) -> Text:
    """"1 poäng" / "1 point", "2 poäng" / "2 points"."""
    return phrase("one_point") if n == 1 else phrase("n_points", n=n)


def unknowns(n: int) -> Text:
    """"1 okänt svar" / "2 okända svar": the count with the noun agreeing in both languages."""
    return phrase("n_unknown_one") if n == 1 else phrase("n_unknown", n=n)


def _fill(template: str, params: dict[str, object], lang: str) -> str:
    values = {k: (v.get(lang) if isinstance(v, Text) else v) for k, v in params.items()}
    return template.format(**values)
