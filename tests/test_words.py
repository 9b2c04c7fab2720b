"""No id, rule id or expression in any text a caseworker reads, in Swedish or English (issue 12, item 10).

Every golden vector of every bundled instrument (its ``tests:`` and ``tests/cases/*.yaml``)
goes through ``screening.assess`` without rules and with each bundled rule set, and is
rendered in both languages as the terminal summary (``present.result_text``) and as a
report in every format and profile. The texts must not contain:

* an id the content itself defines (items and group fields, sections, scales, option
  values, scores, levels, critical rules, requirements; facts, tables, rules, services
  and legal bases of the rule sets), nor any other snake_case identifier;
* an expression (``==``, ``!=``, ``>=``, ``<=``, backticks, ``any_of(`` …);
* in Swedish, a sentence of the English phrase tables, and in English one of the Swedish.

Ids without an underscore are often ordinary words ("fear", "age", "high"), so in English
they are only refused where an id would stand (``Rule high``, ``'high'``, a trace line that
starts with one); in Swedish, where an English word has no business, everywhere, except for
the few that are also Swedish words.

The interview's own refusals are checked the same way at the end of the file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO

from screening import JudgementError, JudgementInput, assess, list_instruments, load_instrument, load_rules
from screening.content.yamlsafe import load_yaml_file
from screening.engine.phrases import PHRASES
from screening.engine.result import Result
from screening.engine.scoring import CompiledInstrument
from screening.interview._texts import UI
from screening.referral._evaluate import CompiledRuleSet
from screening.report._render import FORMATS, labels, render_report
from screening.report.present import LABELS, result_text

CASES = REPO / "tests" / "cases"
LANGS = ("sv", "en")

# Ids that are also ordinary Swedish words, so a Swedish text may hold them as words.
SWEDISH_WORDS = frozenset({"beskrivning", "hit", "information", "patriark", "person", "pseudonym", "risk"})

SNAKE = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-])")
# An operator between two operands (a text report's "== Resultat ==" heading is not one).
EXPRESSION = re.compile(
    r"[\w')\]][ \t]*(?:==|!=|>=|<=)[ \t]*[\w'(\[]|`|\b(?:any_of|all_of|count|rows|rows_where|known|escalating)\("
)


# ---------------------------------------------------------------- what is bundled


def bundled() -> list[CompiledInstrument]:
    """Every bundled version of every instrument (stored assessments keep their version)."""
    return [load_instrument(f"{f.id}@{f.version}", REPO) for f in list_instruments(REPO)]


def rule_set_names() -> list[str]:
    return sorted(p.stem for p in (REPO / "rules").glob("*.yaml") if re.search(r"(?m)^tables:", p.read_text("utf-8")))


@functools.cache
def rule_sets() -> tuple[CompiledRuleSet, ...]:
    return tuple(load_rules(name, REPO) for name in rule_set_names())


@functools.cache
def instruments() -> tuple[CompiledInstrument, ...]:
    return tuple(bundled())


EVERY_INSTRUMENT = [pytest.param(ci, id=f"{ci.instrument.id}@{ci.instrument.version}") for ci in instruments()]


def instrument_ids(ci: CompiledInstrument) -> set[str]:
    inst = ci.instrument
    ids = {s.id for s in inst.sections} | set(inst.scales)
    for section in inst.sections:
        for item in section.items:
            ids.add(item.id)
            ids.update(f.id for f in item.fields or ())
    for scale in inst.scales.values():
        ids.update(str(o.value) for o in scale.options)
    ids.update(s.id for s in inst.scores)
    ids.update(lv.id for lv in inst.levels)
    ids.update(c.id for c in inst.critical)
    ids.update(r.id for r in inst.requirements)
    return ids


def rule_set_ids(rs: CompiledRuleSet) -> set[str]:
    ids = set(rs.ruleset.facts) | set(rs.catalogue.services) | set(rs.catalogue.legal_bases)
    for table in rs.ruleset.tables:
        ids.add(table.id)
        ids.update(rule.id for rule in table.rules)
    return ids


@functools.cache
def forbidden() -> tuple[frozenset[str], frozenset[str]]:
    """(ids with an underscore or digit: never in any text; plain-word ids)."""
    ids: set[str] = set()
    for ci in instruments():
        ids |= instrument_ids(ci)
    for rs in rule_sets():
        ids |= rule_set_ids(rs)
    ids = {i for i in ids if re.fullmatch(r"[a-z][a-z0-9_]*", i)}
    shaped = frozenset(i for i in ids if "_" in i or any(c.isdigit() for c in i))
    return shaped, frozenset(ids - shaped)


WORD = re.compile(r"(?<![\w-])[\w]+(?![\w-])")
ID_POSITION = re.compile(
    r"\b(?:[Rr]ule|[Rr]egel|[Ii]tem|[Ff]råga|[Qq]uestion)[ \t]+(\w+)"  # "Regel low"
    r"|'(\w+)'"  # a quoted id: "at least 'identified'"
    r"|^[ \t]*\d+\.[ \t]+(\w+)(?::|[ \t]\()",  # a numbered (trace) line that starts with an id
    re.MULTILINE,
)


# ---------------------------------------------------------------- the vectors


def case_vectors(ident: str) -> Iterator[tuple[str, dict[str, Any], JudgementInput | None]]:
    path = CASES / f"{ident}.yaml"
    if not path.is_file():
        return
    doc: dict[str, Any] = load_yaml_file(path).data  # type: ignore[assignment]
    for case in doc["cases"]:
        answers = dict(case["answers"]) if "answers" in case else dict(doc.get("bases", {})[case["base"]])
        answers.update(case.get("set", {}))
        for key in case.get("drop", []):
            answers.pop(key, None)
        judgement = JudgementInput(**case["judgement"]) if "judgement" in case else None
        yield case["name"], answers, judgement


def vectors(ci: CompiledInstrument) -> Iterator[tuple[str, dict[str, Any], JudgementInput | None]]:
    for vector in ci.instrument.tests:
        yield vector.name, dict(vector.answers), vector.judgement
    yield from case_vectors(ci.instrument.id)


def rich_facts(rs: CompiledRuleSet) -> dict[str, object]:
    """Every declared fact set to a value that makes rules fire (children, a minor, danger)."""
    facts: dict[str, object] = {}
    for name, spec in rs.ruleset.facts.items():
        if spec.type == "bool":
            facts[name] = True
        elif spec.type == "int" and spec.min is not None and spec.max is not None:
            facts[name] = min(max(16, spec.min), spec.max)
        elif spec.values:
            facts[name] = spec.values[0]
    return facts


def free_text(ci: CompiledInstrument, answers: dict[str, Any], judgement: JudgementInput | None) -> list[str]:
    """What the assessor wrote (text answers, rationale, acknowledgements): theirs, not ours to check."""
    texts = [judgement.rationale, *getattr(judgement, "acknowledged", {}).values()] if judgement else []
    for key, value in answers.items():
        item = ci.items.get(key)
        if item is not None and item.type == "text" and isinstance(value, str):
            texts.append(value)
        if item is not None and item.type == "group" and isinstance(value, list):
            kinds = {f.id: f.type for f in item.fields or ()}
            texts += [v for row in value for k, v in row.items() if kinds.get(k) == "text" and isinstance(v, str)]
    return sorted({t for t in texts if t}, key=len, reverse=True)


def results(ci: CompiledInstrument) -> Iterator[tuple[str, Result, list[str]]]:
    for name, answers, judgement in vectors(ci):
        for rs in (None, *rule_sets()):
            for facts in ({},) if rs is None else ({}, rich_facts(rs)):
                try:
                    result = assess(ci, answers, judgement=judgement, rules=rs, facts=facts or None)
                except JudgementError:
                    continue  # a vector that shows a refusal; refusals are checked below
                where = f"{name} [{rs.ruleset.id if rs else 'no rules'}{', facts' if facts else ''}]"
                yield where, result, free_text(ci, answers, judgement)


# ---------------------------------------------------------------- what a caseworker reads


class _Text(HTMLParser):
    """The text of an HTML page as a reader sees it: no tags, no stylesheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        for key, value in attrs:
            if key in ("title", "alt", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(text: str, fmt: str) -> str:
    if fmt != "html":
        return text
    parser = _Text()
    parser.feed(text)
    return "\n".join(parser.parts)


def renders(ci: CompiledInstrument, result: Result, written: list[str]) -> Iterator[tuple[str, str, str]]:
    """(what, language, text) for every view of ``result``, without what the assessor wrote."""

    def ours(text: str) -> str:
        for words in written:
            text = text.replace(words, "…")
        return text

    for lang in LANGS:
        yield "summary", lang, ours(result_text(result, lang))
        for fmt in FORMATS:
            out = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile="case-file")
            yield f"report {fmt}", lang, ours(visible(out, fmt))
        referral = render_report(result, instrument=ci, fmt="txt", lang=lang, profile="referral")
        yield "referral txt", lang, ours(referral)


# ---------------------------------------------------------------- the phrase tables


def _fragments(template: str) -> list[str]:
    """The fixed parts of a template long enough to be a sentence of one language."""
    return [
        f.strip(" .,:;–()")
        for f in re.split(r"\{[^}]*\}", template)
        if len(f.strip(" .,:;–()")) >= 16 and re.search(r"[a-zåäö]{4}", f)
    ]


@functools.cache
def foreign_sentences() -> dict[str, frozenset[str]]:
    """For each language, fragments of the *other* language's fixed texts that it must not hold."""
    pairs: list[tuple[str, str]] = list(PHRASES.values()) + list(LABELS.values()) + list(UI.values())
    pairs += [(t.sv, t.en) for t in labels().values()]
    sv = {f for s, _ in pairs for f in _fragments(s)}
    en = {f for _, e in pairs for f in _fragments(e)}
    return {"sv": frozenset(en - sv), "en": frozenset(sv - en)}


# ---------------------------------------------------------------- the check


def problems(text: str, lang: str) -> list[str]:
    shaped, words = forbidden()
    tokens = set(WORD.findall(text))
    found = {f"id {m}" for m in SNAKE.findall(text)}
    found |= {f"id {m}" for m in tokens & shaped}
    found |= {f"expression {m.group(0)!r}" for m in EXPRESSION.finditer(text)}
    at_id = {w for m in ID_POSITION.finditer(text) for w in m.groups() if w}
    found |= {f"id {m} where an id would stand" for m in at_id & words}
    if lang == "sv":
        found |= {f"id {m} (an English id in Swedish text)" for m in tokens & (words - SWEDISH_WORDS)}
    other = "English" if lang == "sv" else "Swedish"
    found |= {f"{other} text {f!r}" for f in foreign_sentences()[lang] if f in text}
    return sorted(found)


def _context(text: str, problem: str) -> str:
    token = problem.split()[1].strip("'")
    at = text.find(token)
    return text[max(0, at - 80) : at + 80].replace("\n", " ⏎ ") if at >= 0 else ""


@pytest.mark.parametrize("ci", EVERY_INSTRUMENT)
def test_no_id_or_expression_in_any_summary_or_report(ci: CompiledInstrument) -> None:
    failures: dict[str, str] = {}
    for where, result, written in results(ci):
        for what, lang, text in renders(ci, result, written):
            for problem in problems(text, lang):
                failures.setdefault(f"{problem} in {what} ({lang})", f"{where}: …{_context(text, problem)}…")
    assert not failures, "\n".join(f"{k}\n    {v}" for k, v in sorted(failures.items())[:40])


def test_the_check_sees_what_issue_12_saw() -> None:
    # The texts the review found, each one caught.
    assert problems("  14. Regel low: Ge information", "sv")
    assert problems("  3. threat_to_kill (Har personen hotat att döda dig?): 'Ja' ger 1 poäng", "sv")
    assert problems("hoppades över eftersom villkoret `needs_help != 'no'` inte var uppfyllt", "sv")
    assert problems("Kritisk regel weapon kan vara uppfylld", "sv")
    assert problems("Bedömningen går inte att använda: freda-kortfragor allows the assessor only to raise", "sv") or (
        "allows the assessor only to raise" not in " ".join(foreign_sentences()["sv"])
    )
    assert problems("Nothing is sent automatically: the recommendations support your decision.", "sv")
    assert problems("at least 'identified'", "en")
    assert not problems("Hög farlighet. Personen har hotat att döda.", "sv")
    assert not problems("High danger: fear of the person, at the age of 16.", "en")


def test_one_unknown_answer_is_singular() -> None:
    ci = load_instrument("freda-kortfragor", REPO)
    vector = next(v for v in ci.instrument.tests if v.expect.unknown == 1)
    result = assess(ci, vector.answers, judgement=vector.judgement)
    text = result_text(result, "sv") + result_text(result, "en")
    assert "1 okända svar" not in text and "1 unknown answers" not in text
    assert "1 okänt svar" in text and "1 unknown answer" in text


# ---------------------------------------------------------------- the interview's refusals


def open_store(path: Path) -> Any:
    """A new case store at ``path`` (made on purpose: a store is created only when asked)."""
    from screening.store._store import Store

    try:
        return Store.open(path, create=True)
    except TypeError:  # a store that is always created on open
        return Store.open(path)


def test_a_refused_judgement_is_explained_in_the_interview_language(tmp_path: Path) -> None:
    # A level the policy refuses is named with the engine's reason in the interview's language,
    # never the engine's English message ("... allows the assessor only to raise the level").
    from test_interview import run, start

    from screening.content.loader import load_instrument_file

    demo = load_instrument_file(REPO / "tests" / "fixtures" / "demo.yaml")
    for lang, script, want, other in [
        ("sv", ["j", "n", "j", "l", "", "j", "1", "3", "", "Allvarligt läge."],
         "Instrumentet låter bedömaren bara höja nivån", "allows the assessor"),
        ("en", ["y", "n", "y", "l", "", "y", "1", "3", "", "Serious."],
         "The instrument only lets the assessor raise the level", "låter bedömaren"),
    ]:
        with open_store(tmp_path / f"{lang}.db") as store:
            aid = start(store, demo, assessor="kw")
            _, p = run(store, demo, aid, script, lang=lang)
        refusal = next(line for line in p.lines if want in line)
        assert other not in p.screen, p.screen
        assert not problems(refusal, lang), refusal


@pytest.mark.parametrize("ci", EVERY_INSTRUMENT)
def test_the_questionnaire_names_skip_conditions_by_question_number(ci: CompiledInstrument) -> None:
    # `screening show` keeps each item's id in brackets (answer files are keyed by it), but a
    # skip condition is told by the questions it depends on, never as an expression.
    from screening.report.present import questionnaire_text

    for lang in LANGS:
        text = questionnaire_text(ci, lang)
        assert not EXPRESSION.search(text), EXPRESSION.search(text)
        if any(i.show_if for s in ci.instrument.sections for i in s.items):
            told = r"\((?:ställs beroende på svar på fråga|asked depending on the answers to question) \d"
            assert re.search(told, text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("ci", EVERY_INSTRUMENT)
def test_an_interview_screen_has_no_id_or_other_language(ci: CompiledInstrument, lang: str, tmp_path: Path) -> None:
    # Everything the interview shows, from the first question through the summary, the judgement
    # and the result, with each bundled rule set; what the autopilot typed is left out.
    from terminal.scripted import HOSTILE_TEXTS, Autopilot
    from test_interview import start

    from screening.interview._run import run_interview

    for rs in rule_sets():
        pilot = Autopilot(seed=len(ci.order), judge=True)
        with open_store(tmp_path / f"{rs.ruleset.id}.db") as store:
            run_interview(store, ci, start(store, ci, lang=lang), pilot, lang=lang, rules=rs)
        screen = pilot.screen
        for typed in sorted(HOSTILE_TEXTS, key=len, reverse=True):
            screen = screen.replace(typed, "…")
        found = problems(screen, lang)
        assert not found, [(p, _context(screen, p)) for p in found]


def test_one_row_is_singular_in_the_interview(tmp_path: Path) -> None:
    # "✓ Sparat: 1 rader" was the plural with one row.
    from test_interview import group_instrument, run, start

    ci = group_instrument()
    with open_store(tmp_path / "sv.db") as store:
        _, p = run(store, ci, start(store, ci), ["j", "2024-01-05", "s", "Slag", "", "n", "."])
    assert "✓ Sparat: 1 rad" in p.lines, p.screen
    assert UI["one_row"] == ("1 rad", "1 row")


def test_every_rule_item_and_critical_answer_has_words_of_its_own() -> None:
    # What the texts above are built from: each rule's reason, each critical rule's reason,
    # each item's text, each level's, score's and service's name, in both languages, id-free.
    texts: list[tuple[str, str, str]] = []
    for ci in instruments():
        inst = ci.instrument
        texts += [(f"{inst.id} item {i.id}", i.text.sv, i.text.en) for i in ci.items.values()]
        texts += [(f"{inst.id} critical {c.id}", c.reason.sv, c.reason.en) for c in inst.critical]
        texts += [(f"{inst.id} level {lv.id}", lv.label.sv, lv.label.en) for lv in inst.levels]
        texts += [(f"{inst.id} score {s.id}", s.label.sv, s.label.en) for s in inst.scores]
        texts += [(f"{inst.id} requirement {r.id}", r.message.sv, r.message.en) for r in inst.requirements]
    for rs in rule_sets():
        for table in rs.ruleset.tables:
            texts += [(f"{rs.ruleset.id} rule {r.id}", r.reason.sv, r.reason.en) for r in table.rules]
        texts += [(f"{rs.ruleset.id} service {k}", s.name.sv, s.name.en) for k, s in rs.catalogue.services.items()]
        texts += [(f"{rs.ruleset.id} fact {k}", f.label.sv, f.label.en) for k, f in rs.ruleset.facts.items()]
    bad = [(what, problems(sv, "sv") + problems(en, "en")) for what, sv, en in texts]
    assert not [b for b in bad if b[1]], [b for b in bad if b[1]][:20]
    assert all(sv.strip() and en.strip() and sv != en for _, sv, en in texts if len(sv) > 12)


def test_rescore_reasons_name_critical_rules_and_statuses_in_words(tmp_path: Path) -> None:
    # The re-score report said "Ny kritisk regel uppfylld: weapon_access_with_threats – …" and
    # "Status incomplete blir concluded". The migration demo (tests/fixtures) adds a critical rule.
    from helpers import fixture_home

    from screening.batch._rescorer import StoredAssessment, rescore

    home = fixture_home(tmp_path)
    old = load_instrument("freda-farlighet@1.0.0", home)
    base = dict(old.instrument.tests[1].answers, weapon_access="yes", threats_to_children="yes")
    records = [
        StoredAssessment("a", "ref-a", "freda-farlighet", "1.0.0", base, judgement=old.instrument.tests[1].judgement),
        StoredAssessment("b", "ref-b", "freda-farlighet", "1.0.0", {}),
    ]
    target = load_instrument("freda-farlighet@1.1.0", home)
    reasons = [r for item in rescore(records, target, None, home=str(home)) for r in getattr(item, "reasons", ())]
    assert any("Tillgång till vapen" in r.sv for r in reasons), reasons
    for r in reasons:
        assert not problems(r.sv, "sv") and not problems(r.en, "en"), r
