"""The report equals the engine: read level, scores, referrals and completeness back.

For every golden vector of every instrument, the HTML report is parsed with the
standard library's html.parser (stable ``data-field`` attributes *and* the visible
words) and the text report by its fixed line labels, and both are compared with
the ``Result``. A template that recomputes, drops or mislabels anything fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_support import (
    CASE,
    compiled,
    instrument_id,
    instrument_paths,
    label,
    level_label,
    parse_html,
    scored_vectors,
    txt_lines,
    txt_section,
    with_referrals,
)

from screening import CompiledInstrument, Result
from screening.report._render import LANGS, PROFILES, render_report


def _results(path: Path) -> list[Result]:
    ci = compiled(path)
    plain = [s.result for s in scored_vectors(path)]
    # The same vectors with recommendations, so referral rendering is checked on every instrument.
    return plain + [with_referrals(r, ci) for r in plain[:3]]


def _score_text(result: Result, key: str, lang: str) -> str:
    score = result.scores[key]
    if score.value is not None:
        return str(score.value)
    return label("score_range", lang).format(low=score.min, high=score.max)


def _check_html(html: str, result: Result, ci: CompiledInstrument, lang: str, profile: str) -> None:
    page = parse_html(html)
    attrs, text = page.one("final-level")
    assert attrs["data-value"] == (result.final_level or "")
    assert text == level_label(ci, result.final_level, lang)
    attrs, text = page.one("status")
    assert attrs["data-value"] == result.status
    assert text == label(f"status_{result.status}", lang)
    ranges = page.all("level-range")
    spans = result.level_range is not None and result.level_range.min != result.level_range.max
    if spans and result.final_level is None:
        assert result.level_range is not None
        ((attrs, _),) = ranges
        assert (attrs["data-min"], attrs["data-max"]) == (result.level_range.min, result.level_range.max)
    else:
        assert ranges == []
    assert page.one("unknown-count")[1].split(" (")[0] == str(shown_unknown(result))
    assert page.one("unknown-limit")[1] == str(result.completeness.max_unknown)
    attrs, text = page.one("complete")
    assert attrs["data-value"] == ("true" if result.completeness.complete else "false")
    assert text == label("yes" if result.completeness.complete else "no", lang)
    statement = page.one("completeness-statement")[1]
    # "Ofullständig: …" / "Incomplete: …" is said in so many words.
    incomplete_word = label("completeness_incomplete", lang).split(":")[0]
    assert statement.startswith(incomplete_word) == (not result.completeness.complete)
    scores = {a["data-score"]: (a, t) for a, t in page.all("score")}
    if profile == "case-file":
        assert set(scores) == set(result.scores)
        for key, (attrs, text) in scores.items():
            assert (int(attrs["data-min"]), int(attrs["data-max"])) == (result.scores[key].min, result.scores[key].max)
            assert text == _score_text(result, key, lang)
        assert len(page.all("unknown-item")) == shown_unknown(result)
    else:
        assert scores == {}
    found = page.all("referral")
    assert [(a["data-service"], a["data-urgency"]) for a, _ in found] == [
        (r.service, r.urgency) for r in result.referrals
    ]
    names = [t for _, t in page.all("referral-name")]
    assert names == [r.name.get(lang) for r in result.referrals]
    urgencies = [label(f"urgency_{r.urgency}", lang) for r in result.referrals]
    assert [t for _, t in page.all("referral-urgency")] == urgencies
    assert [t for _, t in page.all("referral-reason")] == [r.reason.get(lang) for r in result.referrals]
    assert len(page.all("referrals-none")) == (0 if result.referrals else 1)
    assert [a["data-target"] for a, _ in page.all("follow-up")] == [f.target for f in result.follow_up]
    reassess = page.one("reassess")[0]["data-days"]
    assert reassess == ("" if result.reassess_within_days is None else str(result.reassess_within_days))


def _check_txt(text: str, result: Result, ci: CompiledInstrument, lang: str, profile: str) -> None:
    assert txt_lines(text, "final_level", lang) == [level_label(ci, result.final_level, lang)]
    assert txt_lines(text, "status", lang) == [label(f"status_{result.status}", lang)]
    assert [v.split(" (")[0] for v in txt_lines(text, "unknown_count", lang)] == [str(shown_unknown(result))]
    assert txt_lines(text, "unknown_limit", lang) == [str(result.completeness.max_unknown)]
    assert txt_lines(text, "complete", lang) == [label("yes" if result.completeness.complete else "no", lang)]
    result_lines = txt_section(text, "section_result", lang)
    if profile == "case-file":
        for key, score in result.scores.items():
            assert f"  - {score.label.get(lang)}: {_score_text(result, key, lang)}" in result_lines
    else:
        assert not any(line.startswith(f"{label('scores', lang)}:") for line in result_lines)
    referral_lines = txt_section(text, "section_referrals", lang)
    numbered = [line.strip() for line in referral_lines if line.startswith("  ") and line.strip()[:1].isdigit()]
    assert numbered == [f"{n}. {r.name.get(lang)}" for n, r in enumerate(result.referrals, 1)]
    urgencies = [line.strip() for line in referral_lines if line.strip().startswith(f"{label('urgency', lang)}: ")]
    assert urgencies == [f"{label('urgency', lang)}: {label(f'urgency_{r.urgency}', lang)}" for r in result.referrals]
    assert (label("referrals_none", lang) in referral_lines) == (not result.referrals)


@pytest.mark.parametrize("path", instrument_paths(), ids=[instrument_id(p) for p in instrument_paths()])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("profile", PROFILES)
def test_report_equals_engine(path: Path, lang: str, profile: str) -> None:
    ci = compiled(path)
    results = _results(path)
    assert results, f"{instrument_id(path)} has no golden vectors to check"
    for result in results:
        html = render_report(result, instrument=ci, fmt="html", lang=lang, profile=profile, case=CASE)
        _check_html(html, result, ci, lang, profile)
        text = render_report(result, instrument=ci, fmt="txt", lang=lang, profile=profile, case=CASE)
        _check_txt(text, result, ci, lang, profile)


def test_parser_catches_a_wrong_level() -> None:
    """The checks above can fail: a report of another result is rejected."""
    path = next(p for p in instrument_paths() if instrument_id(p) == "report-fixture-1.0.0")
    ci = compiled(path)
    low, high = scored_vectors(path)[0].result, scored_vectors(path)[1].result
    assert low.final_level != high.final_level
    html = render_report(low, instrument=ci, fmt="html", case=CASE)
    with pytest.raises(AssertionError):
        _check_html(html, high, ci, "sv", "case-file")
    text = render_report(low, instrument=ci, fmt="txt", case=CASE)
    with pytest.raises(AssertionError):
        _check_txt(text, high, ci, "sv", "case-file")


def shown_unknown(result: Result) -> int:
    """Every answer shown as unknown, counted against the limit or not (as the summary counts)."""
    c = result.completeness
    return max(len(set(c.unknown_answers) | set(c.unknown_items)), c.unknown)
