"""Form fields of the web interview: how an item or a case fact is shown, and how what was posted is read.

May import: engine, interview (``Session``, dates, texts, the terminal's hints), _webtexts / stdlib.

A field is shown as a plain dict the templates lay out (a fieldset of radio buttons
with a legend, or a labelled input with its hint), and read back with the same
checks the terminal makes (numbers in range, dates in the item's window and never in
the future, no personnummer in a pseudonym field). An error names what fits, never
the value typed; the user's own field is re-filled, except with what looks like a
personnummer, which is not sent back at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from ..accounts import Principal
from ..engine.instrument import Item, JudgementInput
from ..engine.pnr import looks_like_personnummer
from ..engine.scoring import MAX_TEXT
from ..errors import AnswerError
from ..interview._dates import check_date, date_hint
from ..interview._facts import describe_fact
from ..interview._run import PSEUDONYM_HINT
from ..interview._session import Session
from ..interview._texts import in_language
from ..store import Store
from ._webtexts import t

if TYPE_CHECKING:
    from ..referral.rules import FactSpec

__all__ = ["OMIT", "W", "describe", "fact_tag", "fact_view", "field_view", "parse_fact", "parse_field", "state_tag"]

@dataclass
class W:
    """One web request: who, in which language, the form it posted, and the store."""

    request: Request
    lang: str
    who: Principal
    store: Store
    form: dict[str, str] = field(default_factory=dict)

    def tr(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)


OMIT: Any = object()
UNKNOWN = "__unknown__"


def state_tag(s: Session, item_id: str) -> str:
    """A short tag of an item's stored answer (and whether it is partial): what a form was made from."""
    if item_id not in s.answers:
        return "none"
    text = json.dumps([s.answers[item_id], item_id in s.partial], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fact_tag(s: Session, name: str) -> str:
    """The same for a case fact."""
    if name not in s.facts:
        return "none"
    return hashlib.sha256(json.dumps(s.facts[name], default=str).encode()).hexdigest()[:16]


def judgement_tag(judgement: JudgementInput | None) -> str:
    """The same for the stored judgement (level, rationale and acknowledgements)."""
    if judgement is None:
        return "none"
    text = json.dumps([judgement.level, judgement.rationale, sorted((judgement.acknowledged or {}).items())],
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(s: Session, item: Item, value: object, lang: str) -> str:
    """An answer in words: the option's label, a row count, or the text itself."""
    if value is None:
        return t("skipped", lang)
    if item.type == "choice":
        for opt in s.ci.instrument.scales[item.scale or ""].options:
            if opt.value == value:
                return opt.label.get(lang)
    if item.type == "group" and isinstance(value, list):
        return t("one_row", lang) if len(value) == 1 else t("rows", lang, n=len(value))
    return str(value)


def _hint(item: Item, lang: str) -> str:
    if item.type == "number":
        return t("number_hint", lang, lo=item.min, hi=item.max)
    if item.type == "date":
        return date_hint(item, lang)
    if item.pseudonym:
        return in_language(PSEUDONYM_HINT, lang, "text_hint")
    if item.type == "text":
        return t("text_hint", lang, max=MAX_TEXT)
    return ""


def field_view(s: Session, item: Item, name: str, lang: str, *, current: object, has: bool, error: str = "",
               typed: str = "", is_question: bool = False) -> dict[str, Any]:
    """What a template needs to show ``item`` as a form field named ``name``."""
    view: dict[str, Any] = {"name": name, "id": f"field-{name}", "label": item.text.get(lang),
                            "help": item.help.get(lang) if item.help else "", "hint": _hint(item, lang),
                            "error": error, "options": [], "value": "", "unknown_button": False, "inputmode": "",
                            "current": t("current_answer", lang, answer=describe(s, item, current, lang))
                            if has and is_question else ""}
    if item.type == "choice":
        view["kind"] = "choice"
        chosen = typed if error else (UNKNOWN if has and current is None else str(current) if has else "")
        options = s.ci.instrument.scales[item.scale or ""].options
        pairs = [(str(o.value), o.label.get(lang)) for o in options]
        if not any(o.unknown for o in options):
            pairs.append((UNKNOWN, t("not_known", lang)))
        view["options"] = [{"value": v, "label": label, "checked": v == chosen, "id": f"{name}-{n}"}
                           for n, (v, label) in enumerate(pairs)]
        return view
    view["kind"] = "textarea" if item.type == "text" and not item.pseudonym else "input"
    view["inputmode"] = "numeric" if item.type == "number" else ""
    view["unknown_button"] = is_question
    if error:
        view["value"] = "" if looks_like_personnummer(typed) else typed
    elif has and current is not None:
        view["value"] = str(current)
    return view


def parse_field(s: Session, item: Item, form: dict[str, str], name: str, lang: str, *,
                unknown_button: bool = False) -> tuple[object, str, str]:
    """``(value, "", typed)`` or ``(None, error, typed)``; an empty group field is ``OMIT`` (unknown)."""
    optional = not unknown_button
    if unknown_button and form.get("unknown"):
        return s.unknown_value(item), "", ""
    raw = form.get(name, "")[: MAX_TEXT + 1]
    entry = raw if item.type == "choice" else raw.strip()
    if not entry:
        if optional:
            return OMIT, "", ""
        return None, t("choose_one" if item.type == "choice" else "type_or_unknown", lang), ""
    value: object
    if item.type == "choice":
        values = {str(o.value): o.value for o in s.ci.instrument.scales[item.scale or ""].options}
        if entry == UNKNOWN:
            value = s.unknown_value(item)
        elif entry in values:
            value = values[entry]
        else:
            return None, t("choose_one", lang), ""
    elif item.type == "number":
        digits = entry[1:] if entry[:1] in "+-" else entry
        if not (digits.isascii() and digits.isdigit() and len(digits) < 10):
            return None, t("bad_answer", lang, hint=_hint(item, lang)), entry
        value = int(entry)
        if item.min is not None and item.max is not None and not item.min <= value <= item.max:
            return None, t("bad_answer", lang, hint=_hint(item, lang)), entry
    elif item.type == "date":
        day, why = check_date(item, entry, lang)
        if day is None:
            return None, why, entry
        value = day
    else:
        if item.pseudonym and looks_like_personnummer(entry):
            return None, t("bad_answer", lang, hint=_hint(item, lang)), ""
        if len(entry) > MAX_TEXT:
            return None, t("bad_answer", lang, hint=_hint(item, lang)), ""
        value = entry
    if unknown_button:  # a whole answer: the engine's own check too (a row is checked with its group)
        try:
            s.ci.check_answers({item.id: value})
        except AnswerError:
            return None, t("bad_answer", lang, hint=_hint(item, lang) or t("choose_one", lang)), entry
    return value, "", entry


def fact_view(spec: FactSpec, name: str, current: object, has: bool, lang: str, *, error: str = "",
              typed: str | None = None) -> dict[str, Any]:
    """A case fact as a form field: yes/no/not known, its values, or a number with "not known"."""
    view: dict[str, Any] = {"name": "value", "id": "field-value", "label": spec.question.get(lang),
                            "help": spec.help.get(lang) if spec.help else "", "hint": "", "error": error,
                            "options": [], "value": "", "unknown_button": False, "inputmode": "",
                            "current": t("current_answer", lang, answer=describe_fact(spec, current, lang))
                            if has else ""}
    if spec.type == "int":
        view.update(kind="input", inputmode="numeric", unknown_button=True,
                    hint=t("number_hint", lang, lo=spec.min, hi=spec.max))
        view["value"] = typed if error and typed is not None else (str(current) if has and current is not None
                                                                    else "")
        return view
    if spec.type == "bool":
        pairs = [("true", t("yes", lang)), ("false", t("no", lang))]
        chosen = "" if not has else UNKNOWN if current is None else "true" if current else "false"
    else:
        labels = spec.value_labels or {}
        pairs = [(v, labels[v].get(lang)) for v in spec.values or ()]
        chosen = "" if not has else UNKNOWN if current is None else str(current)
    pairs.append((UNKNOWN, t("not_known", lang)))
    if error:
        chosen = typed or ""
    view["kind"] = "choice"
    view["options"] = [{"value": v, "label": label, "checked": v == chosen, "id": f"value-{n}"}
                       for n, (v, label) in enumerate(pairs)]
    return view


def parse_fact(spec: FactSpec, form: dict[str, str], lang: str) -> tuple[object, str, str | None]:
    """``(value, "", typed)``, ``None`` meaning "not known"; or ``(None, error, typed)``."""
    if spec.type == "int":
        if form.get("unknown"):
            return None, "", None
        entry = form.get("value", "").strip()[:20]
        if entry.isascii() and entry.isdigit() and len(entry) <= 3 and spec.min is not None \
                and spec.max is not None and spec.min <= int(entry) <= spec.max:
            return int(entry), "", entry
        key = "bad_answer" if entry else "type_or_unknown"
        return None, t(key, lang, hint=t("number_hint", lang, lo=spec.min, hi=spec.max)), entry
    entry = form.get("value", "")
    if entry == UNKNOWN:
        return None, "", entry
    if spec.type == "bool" and entry in ("true", "false"):
        return entry == "true", "", entry
    if spec.type == "choice" and entry in (spec.values or ()):
        return entry, "", entry
    return None, t("choose_one", lang), None
