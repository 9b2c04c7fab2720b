"""Plain-text views for the terminal: a questionnaire and a result summary.

May import: instrument, scoring, result / stdlib.

Everything a caseworker reads exists in Swedish and English; labels come from the
instrument or from the small table below, never hard-coded in one language.
Person-supplied text is passed through ``safe_text`` so control characters,
ANSI escapes and bidi overrides cannot take over the terminal.
"""

from __future__ import annotations

import unicodedata

from ..engine.instrument import Item
from ..engine.result import Result, ScoreResult
from ..engine.scoring import CompiledInstrument

__all__ = ["LABELS", "label", "questionnaire_text", "result_text", "safe_text"]

LABELS: dict[str, tuple[str, str]] = {
    "section": ("Avsnitt", "Section"),
    "help": ("Vägledning", "Guidance"),
    "answers": ("Svar", "Answers"),
    "shown_if": ("ställs beroende på svar på fråga {numbers}", "asked depending on the answers to question {numbers}"),
    "number": ("heltal {lo}–{hi}", "whole number {lo}–{hi}"),
    "date": ("datum ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ)", "date YYYY-MM-DD (approximate: YYYY-MM or YYYY)"),
    "date_window": (
        "datum ÅÅÅÅ-MM-DD (ungefärligt: ÅÅÅÅ-MM eller ÅÅÅÅ), högst {days} dagar före intervjun",
        "date YYYY-MM-DD (approximate: YYYY-MM or YYYY), at most {days} days before the interview",
    ),
    "text": ("fritext", "free text"),
    "group": ("lista med rader", "list of rows"),
    "final_level": ("Slutlig nivå", "Final level"),
    "status": ("Status", "Status"),
    "range": ("Möjligt intervall", "Possible range"),
    "scores": ("Poäng", "Scores"),
    "unknown": ("Okända svar", "Unknown answers"),
    "unknown_counted": (
        "{n} av dem räknas mot instrumentets gräns på {limit}",
        "{n} of them count against the instrument's limit of {limit}",
    ),
    "warnings": ("Varningar", "Warnings"),
    "case_facts": ("Uppgifter om ärendet", "Facts about the case"),
    "trace": ("Så kom resultatet till", "How the result came about"),
    "referrals": ("Rekommenderade insatser", "Recommended referrals"),
    "ruleset": ("Regeluppsättning för insatser", "Referral rule set"),
    "ruleset_none": ("ingen (inga rekommenderade insatser)", "none (no recommended referrals)"),
    "none": ("ingen", "none"),
    "urgency_immediate": ("omedelbart", "immediate"),
    "urgency_within_days": ("inom några dagar", "within days"),
    "urgency_planned": ("planerat", "planned"),
    "follow_up": ("Fortsatta bedömningar och konsultationer", "Follow-up assessments and consultations"),
    "reassess": ("Ny bedömning senast inom {days} dagar", "Reassess within {days} days at the latest"),
    "nothing_sent": (
        "Inget skickas automatiskt: rekommendationerna är underlag för ditt beslut.",
        "Nothing is sent automatically: the recommendations support your decision.",
    ),
    "status_concluded": ("fastställd", "concluded"),
    "status_indeterminate": ("obestämd", "indeterminate"),
    "status_incomplete": ("ofullständig – låg nivå kan inte fastställas", "incomplete – cannot conclude a low level"),
    "status_judgement_required": ("professionell bedömning krävs", "professional judgement required"),
    "status_no_level": ("beskrivande, ingen nivå", "descriptive, no level"),
    "support_note": (
        "Resultatet är ett stöd för och ersätter inte den professionella bedömningen.",
        "The result supports and does not replace professional judgement.",
    ),
}


def label(key: str, lang: str, **params: object) -> str:
    sv, en = LABELS[key]
    return (en if lang == "en" else sv).format(**params)


_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}


def safe_text(text: str) -> str:
    """Person-supplied text made inert for a terminal: no control or bidi characters."""
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def questionnaire_text(ci: CompiledInstrument, lang: str) -> str:
    """The instrument as a readable questionnaire."""
    inst = ci.instrument
    lines = [f"{inst.title.get(lang)} ({inst.id} {inst.version})", inst.intro.get(lang), ""]
    number = 0
    for section in inst.sections:
        lines.append(f"== {label('section', lang)}: {section.title.get(lang)} ==")
        if section.intro:
            lines.append(section.intro.get(lang))
        for item in section.items:
            number += 1
            lines.append(f"{number}. [{item.id}] {item.text.get(lang)}")
            if item.help:
                lines.append(f"   {label('help', lang)}: {item.help.get(lang)}")
            if item.show_if:
                lines.append(f"   ({label('shown_if', lang, numbers=_depends_on(ci, item.id, lang))})")
            lines.append("   " + _answer_hint(ci, item.id, lang))
            for f in item.fields or ():
                lines.append(f"   - [{f.id}] {f.text.get(lang)}: {_field_hint(ci, f, lang)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _depends_on(ci: CompiledInstrument, item_id: str, lang: str) -> str:
    """The questions a skip condition reads, by their number: never the expression itself."""
    numbers = {item.id: n for n, item in enumerate((i for s in ci.instrument.sections for i in s.items), 1)}
    return ", ".join(str(numbers[key]) for key in numbers if key in ci.show_if[item_id].names) or label("none", lang)


def _field_hint(ci: CompiledInstrument, field: Item, lang: str) -> str:
    if field.type == "choice":
        return ", ".join(f"{o.value} = {o.label.get(lang)}" for o in ci.instrument.scales[field.scale or ""].options)
    if field.type == "number":
        return label("number", lang, lo=field.min, hi=field.max)
    if field.type == "date" and field.window_days is not None:
        return label("date_window", lang, days=field.window_days)
    return label(field.type, lang)


def _answer_hint(ci: CompiledInstrument, item_id: str, lang: str) -> str:
    item = ci.items[item_id]
    if item.type == "choice":
        options = ci.instrument.scales[item.scale or ""].options
        return ", ".join(f"{o.value} = {o.label.get(lang)}" for o in options)
    if item.type == "number":
        return label("number", lang, lo=item.min, hi=item.max)
    if item.type == "group":
        return f"{label('group', lang)} ({len(item.fields or ())})"
    return _field_hint(ci, item, lang)


def scores_in_order(result: Result, ci: CompiledInstrument | None) -> list[tuple[str, ScoreResult]]:
    """The result's scores in the instrument's order (then any it no longer has).

    A stored result comes back with its scores in key order (the canonical JSON sorts
    keys), a fresh one in the instrument's: a report and a summary must not depend on
    which of the two they were given.
    """
    if ci is None:
        return list(result.scores.items())
    order = {s.id: n for n, s in enumerate(ci.instrument.scores)}
    return sorted(result.scores.items(), key=lambda kv: order.get(kv[0], len(order)))


def result_text(result: Result, lang: str, ci: CompiledInstrument | None = None) -> str:
    """A short summary of a result for the terminal."""
    lines = [f"{result.instrument.title.get(lang)} ({result.instrument.id} {result.instrument.version})"]

    def level_name(level: str) -> str:
        text = result.level_labels.get(level)
        return text.get(lang) if text else level

    final = level_name(result.final_level) if result.final_level else "—"
    lines.append(f"{label('final_level', lang)}: {final}")
    lines.append(f"{label('status', lang)}: {label('status_' + result.status, lang)}")
    if result.level_range and result.level_range.min != result.level_range.max:
        lines.append(
            f"{label('range', lang)}: {level_name(result.level_range.min)}–{level_name(result.level_range.max)}"
        )
    if result.scores:
        scores = ", ".join(
            f"{s.label.get(lang)} {s.value if s.value is not None else f'{s.min}–{s.max}'}"
            for _, s in scores_in_order(result, ci)
        )
        lines.append(f"{label('scores', lang)}: {scores}")
    c = result.completeness
    # Every answer shown as unknown is counted; the ones that count against the limit are said apart.
    unknown = max(len(c.unknown_answers), c.unknown)
    counted = f" ({label('unknown_counted', lang, n=c.unknown, limit=c.max_unknown)})" if unknown != c.unknown else ""
    lines.append(f"{label('unknown', lang)}: {unknown}{counted}")
    if result.case_facts:
        facts = "; ".join(f"{f.label.get(lang)}: {f.text.get(lang)}" for f in result.case_facts)
        lines.append(f"{label('case_facts', lang)}: {facts}")
    if result.warnings:
        lines.append(f"{label('warnings', lang)}:")
        lines.extend(f"  - {w.text.get(lang)}" for w in result.warnings)
    lines.append(f"{label('ruleset', lang)}: {_ruleset_name(result, lang)}")
    if result.referrals:
        lines.append(f"{label('referrals', lang)}:")
        lines.extend(
            f"  - [{label('urgency_' + r.urgency, lang)}] {r.name.get(lang)}: {r.reason.get(lang)}"
            for r in result.referrals
        )
        lines.append(f"  {label('nothing_sent', lang)}")
    if result.follow_up:
        lines.append(f"{label('follow_up', lang)}:")
        lines.extend(f"  - {f.name.get(lang)}: {f.reason.get(lang)}" for f in result.follow_up)
    if result.reassess_within_days:
        lines.append(label("reassess", lang, days=result.reassess_within_days))
    lines.append(f"{label('trace', lang)}:")
    lines.extend(f"  {n}. {safe_text(step.text.get(lang))}" for n, step in enumerate(result.trace, 1))
    lines.append(label("support_note", lang))
    return "\n".join(lines) + "\n"


def _ruleset_name(result: Result, lang: str) -> str:
    """The rule set that made the recommendations, by title and version (issue 13, seen 9)."""
    if result.ruleset is None:
        return label("ruleset_none", lang)
    title = result.ruleset_title.get(lang) if result.ruleset_title else result.ruleset.get("id", "")
    return f"{title}, version {result.ruleset.get('version', '')}"
