"""Bilingual words of the re-score diff: reasons, labels, the summary line (Swedish first).

May import: instrument / stdlib.

Kept apart from the report helper's ``labels.yaml`` so the two can change
independently; ``tests/test_rescore_report.py`` checks both languages use the
same parameters.
"""

from __future__ import annotations

from ..engine.instrument import Text

__all__ = ["LABELS", "PHRASES", "label", "phrase"]

PHRASES: dict[str, tuple[str, str]] = {
    "critical_new": (
        "Ny kritisk regel uppfylld: {reason}",
        "A critical rule now holds: {reason}",
    ),
    "critical_gone": ("Kritisk regel inte längre uppfylld: {reason}", "A critical rule no longer holds: {reason}"),
    "level": ("Nivån {old} blir {new}", "The level {old} becomes {new}"),
    "status": ("Status {old} blir {new}", "The status {old} becomes {new}"),
    "incomplete": (
        "Bedömningen är nu ofullständig: fler okända svar än instrumentet tillåter",
        "The assessment is now incomplete: more unknown answers than the instrument allows",
    ),
    "judgement_dropped": (
        (
            "Den professionella bedömningen ({level}) gäller inte enligt version {version}: {reason} "
            "– en ny bedömning behövs"
        ),
        (
            "The professional judgement ({level}) does not hold under version {version}: {reason} "
            "– a new judgement is needed"
        ),
    ),
    "referral_added": ("Ny rekommendation: {service} – {reason}", "New recommendation: {service} – {reason}"),
    "referral_removed": ("Rekommenderas inte längre: {service}", "No longer recommended: {service}"),
    "not_asked": (
        "Inte ställda i den tidigare versionen (räknas som okända, inte som nej): {items}",
        "Not asked in the earlier version (counted as unknown, not as no): {items}",
    ),
    "migrated": ("Svar överförda från version {old}: {items}", "Answers carried over from version {old}: {items}"),
    "questions_gone": ("{n} frågor som inte finns i den nya versionen", "{n} questions the new version no longer has"),
    "question_gone": ("1 fråga som inte finns i den nya versionen", "1 question the new version no longer has"),
    "summary": (
        (
            "{total} bedömningar omprövade mot {target}: {rose} fick högre nivå{rose_top}, {review} behöver ses över, "
            "{fell} fick lägre nivå, {referrals} fick ändrade rekommendationer, {failed} kunde inte omprövas."
        ),
        (
            "{total} assessments re-scored against {target}: {rose} rose in level{rose_top}, {review} need review, "
            "{fell} fell in level, {referrals} changed recommendations, {failed} could not be re-scored."
        ),
    ),
    "summary_top": (" ({n} till {level} – kontakta dem först)", " ({n} to {level} – contact them first)"),
    "summary_action": (
        "Ingen ny nivå visas för handläggare förrän omprövningen har godkänts och sparats (--apply).",
        "No new level is shown to caseworkers until the re-score has been approved and stored (--apply).",
    ),
    "summary_applied": ("{stored} nya resultat sparades.", "{stored} new results were stored."),
    "summary_more": (
        "Listorna visar {shown} av {changed} ändrade bedömningar; alla finns i --output.",
        "The lists show {shown} of {changed} changed assessments; all of them are in --output.",
    ),
}

# Fixed labels of the report, one per key.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Omprövning av lagrade bedömningar", "Re-score of stored assessments"),
    "confidential": (
        "Sekretess: innehåller uppgifter om enskilda (pseudonymer och risknivåer, inga svar).",
        "Confidential: holds information about individuals (pseudonyms and risk levels, no answers).",
    ),
    "dry_run": ("Provkörning: inget sparades.", "Dry run: nothing was stored."),
    "applied": ("Sparat i ärendelagret.", "Stored in the case store."),
    "target": ("Mål", "Target"),
    "instrument": ("Instrument", "Instrument"),
    "rules": ("Regeluppsättning", "Rule set"),
    "engine": ("Motorversion", "Engine version"),
    "counts": ("Antal", "Counts"),
    "total": ("Omprövade", "Re-scored"),
    "rose": ("Högre nivå", "Level rose"),
    "review": ("Behöver ses över", "Needs review"),
    "fell": ("Lägre nivå", "Level fell"),
    "referrals": ("Ändrade rekommendationer", "Changed recommendations"),
    "other": ("Andra ändringar (kritiska regler, fullständighet)", "Other changes (critical rules, completeness)"),
    "unchanged": ("Oförändrade", "Unchanged"),
    "failed": ("Kunde inte omprövas", "Could not be re-scored"),
    "stored": ("Nya rader sparade", "New rows stored"),
    "matrix": ("Tidigare nivå × ny nivå", "Previous level × new level"),
    "matrix_corner": ("tidigare \\ ny", "previous \\ new"),
    "no_level": ("ingen nivå", "no level"),
    "status_concluded": ("fastställd", "concluded"),
    "status_judgement_required": ("väntar på professionell bedömning", "awaiting professional judgement"),
    "status_incomplete": ("ofullständig", "incomplete"),
    "status_indeterminate": ("obestämd", "indeterminate"),
    "status_no_level": ("ger ingen nivå", "gives no level"),
    "case": ("Ärende", "Case"),
    "assessment": ("Bedömning", "Assessment"),
    "versions": ("Version", "Version"),
    "old_level": ("Tidigare", "Previous"),
    "new_level": ("Ny", "New"),
    "added": ("Tillkommer", "Added"),
    "removed": ("Faller bort", "Removed"),
    "why": ("Vad ändrades och varför", "What changed and why"),
    "reason": ("Orsak", "Reason"),
    "none": ("inga", "none"),
    "baseline_note": (
        (
            "Jämfört med det senast sparade resultatet; saknas ett sådant, med resultatet enligt den version "
            "bedömningen gjordes med."
        ),
        (
            "Compared with the latest stored result; where there is none, with the result under the version the "
            "assessment was made with."
        ),
    ),
}


def phrase(key: str, **params: object) -> Text:
    """A bilingual phrase; ``Text`` parameters are filled in the matching language.

    Built without validation: the templates are ours and never empty, and a batch
    run builds hundreds of thousands of these.
    """
    sv, en = PHRASES[key]
    texts = {k: v for k, v in params.items() if v.__class__ is Text}  # isinstance on a pydantic class is slow
    if texts:
        return Text.model_construct(
            sv=sv.format(**{**params, **{k: v.sv for k, v in texts.items()}}),
            en=en.format(**{**params, **{k: v.en for k, v in texts.items()}}),
        )
    return Text.model_construct(sv=sv.format(**params), en=en.format(**params))


def label(key: str) -> Text:
    sv, en = LABELS[key]
    return Text.model_construct(sv=sv, en=en)
