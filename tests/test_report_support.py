"""Shared data for the report tests: instruments, scored golden vectors, parsers.

No tests live here; the ``test_`` prefix only keeps it among the report files.
Every instrument the loader finds is used, plus tests/fixtures/demo.yaml and
tests/golden/inputs/report-fixture.yaml (every item type, protected items,
free text in groups), so a new instrument is picked up without editing tests.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from screening import CompiledInstrument, Result, assess, list_instruments, load_instrument_file
from screening.api import resolve_rules
from screening.engine.instrument import Text
from screening.engine.result import Fact, FollowUp, Referral
from screening.referral._evaluate import CompiledRuleSet
from screening.report._render import CaseInfo, labels

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
FIXTURE = GOLDEN / "inputs" / "report-fixture.yaml"
DEMO = REPO / "tests" / "fixtures" / "demo.yaml"
ASSESSED_AT = "2025-03-14T09:30:00+01:00"
CASE = CaseInfo(reference="ÄR-2025-0042", assessor="Handläggare A", assessed_at=ASSESSED_AT)


@functools.cache
def instrument_paths() -> tuple[Path, ...]:
    """Bundled instruments (whatever exists now), the demo and the report fixture."""
    return (*(f.path for f in list_instruments()), DEMO, FIXTURE)


@functools.cache
def compiled(path: Path) -> CompiledInstrument:
    return load_instrument_file(path)


def instrument_id(path: Path) -> str:
    """``id-version``: several versions of one instrument can be bundled side by side."""
    inst = compiled(path).instrument
    return f"{inst.id}-{inst.version}"


@dataclass(frozen=True)
class Scored:
    index: int
    name: str
    result: Result


@functools.cache
def default_rules() -> CompiledRuleSet | None:
    """The bundled referral rules (``screening score`` uses the same), so reports show real referrals."""
    return resolve_rules("default", None)


@functools.cache
def scored_vectors(path: Path) -> tuple[Scored, ...]:
    """Every golden vector of an instrument, scored with ``screening.assess`` and the default rules."""
    ci = compiled(path)
    out = []
    for index, vector in enumerate(ci.instrument.tests):
        result = assess(
            ci, vector.answers, judgement=vector.judgement, assessor="Handläggare A", assessed_at=ASSESSED_AT,
            rules=default_rules(),
        )
        out.append(Scored(index, vector.name, result))
    return tuple(out)


def _eventfulness(result: Result) -> int:
    return (
        2 * len(result.critical)
        + 2 * (result.judgement is not None)
        + (result.status != "concluded")
        + min(result.completeness.unknown, 3)
        + bool(result.completeness.skipped_items)
        + bool(result.own_view and result.own_view.discrepancy)
    )


def representative(path: Path) -> tuple[Scored, ...]:
    """The first vector and the most eventful one (critical rules, judgement, unknowns).

    The report fixture is ours and small: all of its vectors.
    """
    vectors = scored_vectors(path)
    if not vectors or path == FIXTURE:
        return vectors
    best = max(vectors, key=lambda s: (_eventfulness(s.result), -s.index))
    return (vectors[0],) if best.index == 0 else (vectors[0], best)


def with_referrals(result: Result, ci: CompiledInstrument) -> Result:
    """The result with recommendations as the referral rules would add them (fixed, for tests)."""
    choice = next(key for key, item in ci.items.items() if item.type == "choice")
    referrals = [
        Referral(
            service="police", name=Text(sv="Polisen", en="The police"), urgency="immediate", rule="test_danger",
            reason=Text(sv="Allvarligt våld har förekommit.", en="Serious violence has occurred."),
            decision_required=False, legal_basis_required=True, legal_basis_options=["consent", "osl_10_18c"],
            facts=[Fact(ref=choice, text=Text(sv=f"{choice}: Ja", en=f"{choice}: Yes"))],
        ),
        Referral(
            service="shelter", name=Text(sv="Skyddat boende", en="Protected housing"), urgency="within_days",
            rule="test_shelter", reason=Text(sv="Behov av skydd.", en="Need of protection."),
            decision_required=True, legal_basis_required=False, legal_basis_options=[], facts=[],
        ),
    ]
    follow = [
        FollowUp(kind="assessment", target="patriark", name=Text(sv="PATRIARK", en="PATRIARK"), rule="test_honour",
                 reason=Text(sv="Hedersindikatorer finns.", en="Honour indicators are present.")),
    ]
    return result.model_copy(update={"referrals": referrals, "follow_up": follow, "reassess_within_days": 14})


def label(key: str, lang: str) -> str:
    return labels()[key].get(lang)


def level_label(ci: CompiledInstrument, level: str | None, lang: str) -> str:
    if level is None:
        return label("no_final_level", lang)
    return next(lv.label.get(lang) for lv in ci.instrument.levels if lv.id == level)


# ---------------------------------------------------------------- parsing reports back


class FieldParser(HTMLParser):
    """Collects every element with a ``data-field`` attribute: its attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, dict[str, str], str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, dict[str, str], list[str], int]] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("meta", "br", "img", "link", "input", "hr"):
            return
        self._depth += 1
        found = {k: v or "" for k, v in attrs}
        if "data-field" in found:
            self._open.append((found["data-field"], found, [], self._depth))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][3] == self._depth:
            name, attrs, text, _ = self._open.pop()
            joined = " ".join("".join(text).split())
            self.fields.append((name, attrs, joined))
            if self._open:
                self._open[-1][2].append(joined)
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def all(self, name: str) -> list[tuple[dict[str, str], str]]:
        return [(attrs, text) for field, attrs, text in self.fields if field == name]

    def one(self, name: str) -> tuple[dict[str, str], str]:
        found = self.all(name)
        assert len(found) == 1, f"{name}: {len(found)} elements"
        return found[0]


def parse_html(html: str) -> FieldParser:
    parser = FieldParser()
    parser.feed(html)
    parser.close()
    return parser


def txt_lines(text: str, key: str, lang: str) -> list[str]:
    """Values of every line that starts with the fixed label ``key`` followed by ': '."""
    prefix = f"{label(key, lang)}: "
    return [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]


def txt_section(text: str, key: str, lang: str) -> list[str]:
    """The lines of a ``== Heading ==`` section of the text report."""
    lines = text.splitlines()
    start = lines.index(f"== {label(key, lang)} ==") + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"^(== .* ==|--)$", lines[i])), len(lines))
    return lines[start:end]
