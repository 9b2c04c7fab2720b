"""The report's view model: a Result and its instrument turned into plain words.

May import: the engine's instrument, scoring and result, this package's _answers and
_time / stdlib.

Templates only lay out what this module gives them; every decision about what
a reader sees happens here, where it can be tested: which level words, which
sentence explains the level, which answers a profile may show. The referral
profile's context never *contains* free text, protected answers or the trace,
so no template mistake can leak them. Strings here are raw; ``report.py``
cleans them for the output format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..engine.instrument import Text
from ..engine.result import Result
from ..engine.scoring import CompiledInstrument
from ._answers import option_label, protected_ids, sections
from ._time import date_of, display_time
from .present import scores_in_order

__all__ = ["Labels", "ViewInput", "Words", "build_context", "css_string", "summary_sentence"]

Labels = Mapping[str, Text]
# A repeating group with more fields than this prints with its fields as rows and its
# records as columns, at most WIDE_RECORDS records per table, so it fits on A4 (issue 13, seen 3).
WIDE_FIELDS = 4
WIDE_RECORDS = 4


@dataclass(frozen=True)
class ViewInput:
    """Everything the view model needs, checked by ``report.py`` beforehand."""

    result: Result
    ci: CompiledInstrument
    lang: str
    profile: str
    reference: str | None
    assessor: str | None
    assessed_at: str | None
    protected_identity: bool
    notices: tuple[str, ...]
    engine_version: str
    audit_checkpoint: str | None = None
    printed_at: dt.datetime | None = None
    zone: dt.tzinfo | None = None


class Words:
    """Label lookup in one language; a missing key is a KeyError, never a blank."""

    def __init__(self, labels: Labels, lang: str) -> None:
        self.labels = labels
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        text = self.labels[key].get(self.lang)
        return text.format(**params) if params else text

    def count(self, key: str, n: int, **params: object) -> str:
        """``key_one`` when ``n`` is 1 and such a label exists (Swedish and English inflect)."""
        one = f"{key}_one"
        return self(one if n == 1 and one in self.labels else key, n=n, **params)

    def text(self, value: Text) -> str:
        return value.get(self.lang)

    def join(self, parts: list[str]) -> str:
        if len(parts) <= 1:
            return "".join(parts)
        return f"{', '.join(parts[:-1])} {self('and')} {parts[-1]}"


def build_context(view: ViewInput, labels: Labels) -> dict[str, Any]:
    """The template context for one report (keys differ by profile; see module docstring).

    The fixed labels (``t``) are added by ``report.py``, cleaned once per language and format.
    """
    w = Words(labels, view.lang)
    r = view.result
    level = _level_namer(view.ci, w)
    printed = display_time(view.printed_at.isoformat(), view.zone) if view.printed_at else w("not_given")
    context: dict[str, Any] = {
        "profile": view.profile,
        "case": {
            "reference": view.reference or w("not_given"),
            "assessor": view.assessor or w("not_given"),
            "assessed_at": display_time(view.assessed_at, view.zone) if view.assessed_at else w("not_given"),
            "protected_identity": view.protected_identity,
            "printed_at": printed,
        },
        "ruleset": _ruleset(r, w),
        "print": {  # the printed page's margins (HTML only): CSS strings, see css_string
            "printed": css_string(w("printed_at_margin", time=printed)),
            "page_before": css_string(w("page_of").split("{page}")[0]),
            "page_middle": css_string(w("page_of").split("{page}")[1].split("{pages}")[0]),
        },
        "instrument": {
            "id": r.instrument.id,
            "title": w.text(r.instrument.title),
            "version": r.instrument.version,
            "sha256": r.instrument.sha256,
            "footer": w("footer", version=view.engine_version, engine=r.engine_version),
            "checkpoint": w("footer_checkpoint", checkpoint=view.audit_checkpoint) if view.audit_checkpoint else "",
        },
        "outcome": _outcome(r, view.ci, w, level),
        "completeness": _completeness(r, view.ci, w, full=view.profile == "case-file"),
        "referrals": _referrals(view, w),
        "follow_up": [
            {"kind": f.kind, "kind_label": w(f"follow_up_{f.kind}"), "target": f.target,
             "name": w.text(f.name), "reason": w.text(f.reason)}
            for f in r.follow_up
        ],
        "reassess": _reassess(r.reassess_within_days, view.assessed_at, w, view.zone),
        "notices": list(view.notices),
    }
    if view.profile == "case-file":
        hidden = protected_ids(view.ci) if view.protected_identity else frozenset()
        context.update(
            judgement=_judgement(r, w, level, view.ci),
            own_view=_own_view(r, view.ci, w, level),
            scores=[
                {"id": key, "label": w.text(s.label), "min": s.min, "max": s.max,
                 "value": str(s.value) if s.value is not None else w("score_range", low=s.min, high=s.max)}
                for key, s in scores_in_order(r, view.ci)
            ],
            case_facts=[
                {"name": f.name, "label": w.text(f.label), "value": w.text(f.text),
                 "source": f.source, "source_label": w(f"fact_source_{f.source}")}
                for f in r.case_facts
            ],
            warnings=[w.text(m.text) for m in r.warnings],
            sections=_with_blocks(sections(r, view.ci, w, hidden), view.ci, w),
            trace=[w.text(step.text) for step in r.trace if step.ref not in hidden],
        )
    return context


# ---------------------------------------------------------------- result


def _level_namer(ci: CompiledInstrument, w: Words) -> Callable[[str | None], str]:
    names = {lv.id: w.text(lv.label) for lv in ci.instrument.levels}
    return lambda key: w("no_final_level") if key is None else names.get(key, key)


def _outcome(r: Result, ci: CompiledInstrument, w: Words, level: Callable[[str | None], str]) -> dict[str, Any]:
    rng = r.level_range
    # The range matters while no final level is settled; after that the summary tells it.
    spans = rng is not None and rng.min != rng.max and r.final_level is None
    return {
        "final_level": r.final_level or "",
        "final_label": level(r.final_level),
        "status": r.status,
        "status_label": w(f"status_{r.status}"),
        "range_min": rng.min if rng else "",
        "range_max": rng.max if rng else "",
        "spans": spans,
        "range_label": w("range_text", low=level(rng.min), high=level(rng.max)) if rng else "",
        "summary": summary_sentence(r, ci, w, level),
    }


def summary_sentence(r: Result, ci: CompiledInstrument, w: Words, level: Callable[[str | None], str]) -> str:
    """One sentence a colleague understands: the level, then how it was reached."""
    rng = r.level_range
    if r.status == "concluded":
        lead = w("sum_concluded", level=level(r.final_level))
    elif r.status == "indeterminate" and rng is not None:
        lead = w("sum_indeterminate", low=level(rng.min), high=level(rng.max))
    elif r.status == "incomplete":
        lead = (
            w("sum_incomplete", low=level(rng.min), high=level(rng.max)) if rng else w("sum_incomplete_open")
        )
    elif r.status == "no_level":
        lead = w("sum_no_level")
    else:
        lead = w("sum_judgement_required")
    how: list[str] = []
    if r.computed_level is not None:
        how.append(w("how_computed", level=level(r.computed_level)))
    elif r.computed_range is not None:
        how.append(w("how_computed_range", low=level(r.computed_range.min), high=level(r.computed_range.max)))
    if r.critical and r.critical_level is not None:
        reasons = {c.id: w.text(c.reason) for c in ci.instrument.critical}
        named = "; ".join(reasons.get(key, key) for key in r.critical)
        how.append(w("how_critical", reasons=named, level=level(r.critical_level)))
    if r.critical_possible:
        how.append(w("how_critical_possible"))
    if r.judgement is not None:
        how.append(w(f"how_judgement_{r.judgement.direction}", level=level(r.judgement.level)))
        if r.final_level is not None and r.final_level != r.judgement.level:
            how.append(w("how_floor_kept", level=level(r.final_level)))
    return f"{lead} – {w.join(how)}." if how else f"{lead}."


def _completeness(r: Result, ci: CompiledInstrument, w: Words, full: bool) -> dict[str, Any]:
    c = r.completeness
    if not c.complete:
        statement = w.count("completeness_incomplete", c.unknown, limit=c.max_unknown)
    elif c.unknown:
        statement = w.count("completeness_some", c.unknown, limit=c.max_unknown)
    else:
        statement = w("completeness_all")
    # Every answer shown as unknown is counted, as the interview's summary counts them; the
    # ones that count against the instrument's limit (they feed a score or a critical rule)
    # are said apart when they are fewer.
    shown = [key for key in ci.order if key in set(c.unknown_answers) | set(c.unknown_items)]
    total = max(len(shown), c.unknown)
    return {
        "unknown": total,
        "counted": w("unknown_counted", n=c.unknown, limit=c.max_unknown) if total != c.unknown else "",
        "max_unknown": c.max_unknown,
        "complete": c.complete,
        "complete_label": w("yes") if c.complete else w("no"),
        "statement": statement,
        "unknown_items": [_question(ci, key, w) for key in shown] if full else [],
        "skipped_items": [_question(ci, key, w) for key in c.skipped_items] if full else [],
    }


def _question(ci: CompiledInstrument, key: str, w: Words) -> str:
    item = ci.items.get(key)
    return w.text(item.text) if item is not None else key


def _judgement(
    r: Result, w: Words, level: Callable[[str | None], str], ci: CompiledInstrument
) -> dict[str, Any] | None:
    j = r.judgement
    if j is None:
        return None
    reasons = {c.id: w.text(c.reason).rstrip(".") for c in ci.instrument.critical}
    return {
        # Critical rules an unknown answer could have fired above the judged level, each
        # with the assessor's reason why it is judged not to hold (issue 12, item 4).
        "acknowledged": [{"rule": reasons.get(rid, rid), "reason": why} for rid, why in j.acknowledged.items()],
        "level": j.level,
        "level_label": level(j.level),
        "direction": j.direction,
        "direction_label": w(f"direction_{j.direction}"),
        "rationale": j.rationale,
        "assessor": j.assessor or w("not_given"),
    }


def _own_view(
    r: Result, ci: CompiledInstrument, w: Words, level: Callable[[str | None], str]
) -> dict[str, Any] | None:
    view, spec = r.own_view, ci.instrument.own_view
    if view is None:
        return None
    if view.answer is None:
        return {"recorded": False, "answer": w("own_view_missing"), "level_label": "", "discrepancy": False,
                "statement": w("own_view_missing")}
    answer = option_label(ci, spec.item, view.answer, w) if spec else view.answer
    statement = {
        "person_lower": w("own_view_lower"), "person_higher": w("own_view_higher"), "same": w("own_view_same"),
    }.get(view.direction or "", w("own_view_open"))
    return {"recorded": True, "answer": answer, "level_label": level(view.level), "discrepancy": view.discrepancy,
            "statement": statement}


def _referrals(view: ViewInput, w: Words) -> list[dict[str, Any]]:
    """Referrals, with the facts this reader may see (see ``_fact_filter``)."""
    keep_fact = _fact_filter(view)
    out = []
    for ref in view.result.referrals:
        notes = []
        if ref.decision_required:
            notes.append(w("decision_required"))
        if ref.legal_basis_required:
            options = [w("legal_basis_option", name=_legal_basis(key, w)) for key in ref.legal_basis_options]
            notes.append(
                w("legal_basis_required", options=", ".join(options)) if options else w("legal_basis_required_open")
            )
        out.append({
            "service": ref.service,
            "name": w.text(ref.name),
            "urgency": ref.urgency,
            "urgency_label": w(f"urgency_{ref.urgency}"),
            "reason": w.text(ref.reason),
            "decision_required": ref.decision_required,
            "legal_basis_required": ref.legal_basis_required,
            "notes": notes,
            "facts": [w.text(f.text) for f in ref.facts if keep_fact(f.ref)],
        })
    return out


def _fact_filter(view: ViewInput) -> Callable[[str], bool]:
    """Which facts (by ``ref``) a report may show.

    A fact names an item, a score, the level or a case fact; for a text item or a
    group its words can be the free-text answer itself. A referral partner sees
    facts about scores, levels, case facts and plain choice or number answers; a
    case file with protected identity drops protected items and groups holding any.
    """
    items = view.ci.items
    if view.profile == "referral":
        return lambda ref: ref not in items or (items[ref].type in ("choice", "number") and not items[ref].protected)
    if view.protected_identity:
        hidden = {key for key, item in items.items() if item.protected or any(f.protected for f in item.fields or ())}
        return lambda ref: ref not in hidden
    return lambda ref: True


def _legal_basis(key: str, w: Words) -> str:
    label = w.labels.get(f"legal_basis_{key}")
    return label.get(w.lang) if label is not None else key


def _reassess(days: int | None, assessed_at: str | None, w: Words, zone: dt.tzinfo | None) -> dict[str, Any]:
    if days is None:
        return {"days": "", "text": w("reassess_none")}
    start = date_of(assessed_at, zone)
    if start is None:
        return {"days": str(days), "text": w("reassess_days", days=days)}
    due = (start + dt.timedelta(days=days)).isoformat()
    return {"days": str(days), "text": w("reassess_date", days=days, date=due)}


# ---------------------------------------------------------------- rule set, wide groups


def _ruleset(r: Result, w: Words) -> dict[str, Any]:
    """Which referral rule set produced the recommendations: its title and version, or none."""
    if r.ruleset is None:
        return {"id": "", "version": "", "text": w("ruleset_none")}
    name = w.text(r.ruleset_title) if r.ruleset_title is not None else r.ruleset.get("id", "")
    version = r.ruleset.get("version", "")
    return {"id": r.ruleset.get("id", ""), "version": version, "text": w("ruleset_text", title=name, version=version)}


def _with_blocks(found: list[dict[str, Any]], ci: CompiledInstrument, w: Words) -> list[dict[str, Any]]:
    """Give every wide group answer ``blocks``: fields as rows, records as columns, a few records per block.

    A PATRIARK perpetrator has 21 fields; as one table row per perpetrator the
    table ran off the A4 page and Chromium dropped 9 of 20 ratings from the print.
    Narrow groups keep their one-row-per-record table (``blocks`` is empty).
    """
    for section in found:
        for q in section["questions"]:
            q["blocks"] = _blocks(q, ci, w) if len(q["columns"]) > WIDE_FIELDS and q["rows"] else []
    return found


def _blocks(q: dict[str, Any], ci: CompiledInstrument, w: Words) -> list[dict[str, Any]]:
    item = ci.items.get(q["id"])
    fields = list(item.fields or ()) if item is not None else []
    named = next((n for n, f in enumerate(fields) if getattr(f, "pseudonym", False)), None)
    records: list[list[str]] = q["rows"]
    heads = [rec[named] if named is not None else f"{w('row')} {n}" for n, rec in enumerate(records, 1)]
    shown = [n for n in range(len(q["columns"])) if n != named]
    blocks = []
    for start in range(0, len(records), WIDE_RECORDS):
        part = range(start, min(start + WIDE_RECORDS, len(records)))
        blocks.append({
            "headers": [heads[k] for k in part],
            "rows": [{"label": q["columns"][n], "cells": [records[k][n] for k in part]} for n in shown],
        })
    return blocks


def css_string(text: str) -> str:
    """``text`` for the inside of a CSS string in a ``<style>`` element: letters, digits and spaces
    stay, everything else becomes a six-digit CSS escape, so no quote, ``<`` or ``&`` appears."""
    return "".join(ch if (ch.isascii() and ch.isalnum()) or ch == " " else f"\\{ord(ch):06x}" for ch in text)
