"""Hostile text renders inert, and the referral profile never carries what it must not.

Free text reaches a report from answers (text items, text fields in groups), the
judgement rationale, the assessor's name and the case reference. Each payload goes
into all of them at once, and every template, language and profile is checked.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from test_report_support import ASSESSED_AT, FIXTURE, compiled, parse_html, with_referrals

from screening import JudgementInput, Result, assess
from screening.engine.instrument import Text
from screening.engine.result import Fact
from screening.report._render import FORMATS, LANGS, PROFILES, CaseInfo, render_report

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "{% raw %}{{ cycler.__init__.__globals__ }}",
    "[/b] [link](javascript:alert(1)) <javascript:alert(1)>",
    "javascript:alert(1)",
    "abc\u202edcba\u2066x\u2069 \x1b[31mred\x1b[0m \x00\x07",
    "line one\nSlutlig nivå: Låg\nFinal level: Low\n# Heading\n- item\n1. item",
    "**bold** _em_ `code` | a | b | ~~s~~ &lt;b&gt; &#x202e; ![i](http://e.example/x.png) www.example.com http://e.example",
]
CANARY_TEXT = "CANARY-FRITEXT-7f3a"
CANARY_ADDRESS = "CANARY-ADRESS-19"
CANARY_RATIONALE = "CANARY-MOTIVERING-55"


def _answers(free: str, protected: str) -> dict[str, object]:
    return {
        "address": protected,
        "phone": protected,
        "threats": "yes",
        "physical": "yes",
        "strangled": "no",
        "weapon": "no",
        "children": 1,
        "incidents": [
            {"date": "2025-01-10", "severity": "serious", "description": free, "place": protected},
            {"date": "2025-02-02", "severity": "minor", "description": free},
        ],
        "view": "low",
        "notes": free,
    }


def _result(free: str, protected: str, rationale: str, assessor: str) -> Result:
    ci = compiled(FIXTURE)
    result = assess(
        ci,
        _answers(free, protected),
        judgement=JudgementInput(level="high", rationale=rationale),
        assessor=assessor,
        assessed_at=ASSESSED_AT,
    )
    result = with_referrals(result, ci)
    # Facts naming free-text and protected answers must be dropped in the referral profile.
    facts = [
        *result.referrals[0].facts,
        Fact(ref="notes", text=Text(sv=f"notes: {free}", en=f"notes: {free}")),
        Fact(ref="address", text=Text(sv=f"address: {protected}", en=f"address: {protected}")),
        Fact(ref="incidents", text=Text(sv=f"incidents: {free} {protected}", en=f"incidents: {free} {protected}")),
        Fact(ref="children_in_household", text=Text(sv="Barn i hushållet: ja", en="Children in the household: yes")),
    ]
    first = result.referrals[0].model_copy(update={"facts": facts})
    return result.model_copy(update={"referrals": [first, *result.referrals[1:]]})


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "strong", "p", "h1", "h2", "h3", "dl", "div", "dt",
    "dd", "section", "ul", "ol", "li", "span", "table", "thead", "tbody", "tr", "th", "td", "footer",
}


def _check_html(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in the report"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name not in ("href", "src", "srcset", "action", "formaction", "style"), name
            assert "javascript:" not in (value or "").lower()
    assert "<script" not in html.lower() and "<img" not in html.lower()


def _check_md(md: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(md)
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    # The only block structure in the output is the one the template wrote.
    assert len(re.findall(r"<h1>", rendered)) == 1


def _no_controls(text: str) -> None:
    assert not any(ch in text for ch in "\u202e\u2066\u2069\x1b\x00\x07"), "control or bidi character in output"


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_renders_inert(payload: str, fmt: str) -> None:
    case = CaseInfo(reference=f"ÄR-1 {payload}"[:128], assessor=payload, assessed_at=ASSESSED_AT)
    result = _result(payload, payload, payload, payload)
    for lang in LANGS:
        for profile in PROFILES:
            out = render_report(result, instrument=compiled(FIXTURE), fmt=fmt, lang=lang, profile=profile, case=case)
            _no_controls(out)
            if fmt == "html":
                _check_html(out)
            elif fmt == "md":
                _check_md(out)
            if fmt in ("md", "txt"):
                # Data never starts a line: the level line appears exactly once.
                level_line = re.compile(r"^(- )?(\*\*)?(Slutlig nivå|Final level):")
                level_lines = [line for line in out.splitlines() if level_line.match(line)]
                assert len(level_lines) == 1, level_lines


def test_template_syntax_in_data_stays_literal() -> None:
    result = _result("{{7*7}}", "x", "{{7*7}}", "{{7*7}}")
    case = CaseInfo(reference="{{7*7}}", assessed_at=ASSESSED_AT)
    for fmt in ("html", "txt"):
        out = render_report(result, instrument=compiled(FIXTURE), fmt=fmt, case=case)
        assert out.count("{{7*7}}") >= 4  # reference, assessor, rationale, free text
    md = render_report(result, instrument=compiled(FIXTURE), fmt="md", case=case)
    assert md.count("{{7\\*7}}") >= 4


def test_html_payload_is_visible_as_text() -> None:
    """Escaped, not dropped: the reader sees exactly what was written."""
    result = _result("<script>alert(1)</script>", "x", "ok", "A")
    html = render_report(result, instrument=compiled(FIXTURE), fmt="html", case=CaseInfo("R1"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    texts = [text for _, text in parse_html(html).all("rationale")]
    assert texts == ["ok"]


def _canary_result() -> Result:
    return _result(CANARY_TEXT, CANARY_ADDRESS, CANARY_RATIONALE, "Handläggare A")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_referral_profile_has_no_free_text_or_protected_answers(fmt: str, lang: str) -> None:
    ci = compiled(FIXTURE)
    result = _canary_result()
    case = CaseInfo("ÄR-2025-0042", assessed_at=ASSESSED_AT)
    referral = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile="referral", case=case)
    for canary in (CANARY_TEXT, CANARY_ADDRESS, CANARY_RATIONALE):
        assert canary not in referral
    # What a partner needs is there: level, urgency, reason, structured facts.
    assert result.referrals[0].reason.get(lang) in referral
    assert ("Barn i hushållet" if lang == "sv" else "Children in the household") in referral
    # The same canaries do reach the case file, so this test can fail.
    full = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile="case-file", case=case)
    for canary in (CANARY_TEXT, CANARY_ADDRESS, CANARY_RATIONALE):
        assert canary in full


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", PROFILES)
def test_protected_identity_hides_protected_items_everywhere(fmt: str, profile: str) -> None:
    ci = compiled(FIXTURE)
    result = _canary_result()
    case = CaseInfo("ÄR-2025-0042", assessed_at=ASSESSED_AT, protected_identity=True)
    for lang in LANGS:
        out = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, case=case)
        assert CANARY_ADDRESS not in out
        assert "070-" not in out
        if profile == "case-file":
            assert CANARY_TEXT in out  # other free text stays in the case file


def test_protected_field_in_group_is_masked() -> None:
    ci = compiled(FIXTURE)
    result = _canary_result()
    case = CaseInfo("R1", protected_identity=True)
    html = render_report(result, instrument=ci, fmt="html", case=case)
    assert html.count("Skyddad uppgift – visas inte") >= 3  # address, phone, place in a row
