"""Report machinery: the Jinja environment, case data, labels, wording and failure modes."""

from __future__ import annotations

import re
import string
from pathlib import Path

import jinja2
import pytest
from jinja2.exceptions import SecurityError
from test_report_support import ASSESSED_AT, CASE, DEMO, FIXTURE, compiled, scored_vectors, with_referrals

from screening import JudgementInput, ScreeningError, assess, list_instruments, parse_instrument
from screening.report._escape import escape_markdown, flatten, strip_controls
from screening.report._render import (
    FORMATS,
    PROFILES,
    CaseInfo,
    ReportError,
    environment,
    labels,
    looks_like_personnummer,
    render_report,
    render_template,
    report_context,
    template_name,
)

REPORTS = Path(__file__).resolve().parent.parent / "reports"

# ---------------------------------------------------------------- case data


@pytest.mark.parametrize(
    "reference",
    [
        "850101-1236", "8501011236", "19850101-1236", "198501011236", "ärende 850101+1236", "19850161-1234",
        "850101 1236",
    ],
)
def test_personal_identity_numbers_are_refused_as_reference(reference: str) -> None:
    with pytest.raises(ReportError) as info:
        CaseInfo(reference)
    assert isinstance(info.value, ScreeningError)
    assert info.value.field == "case.reference"
    assert reference not in str(info.value)  # the number itself never goes into a message


@pytest.mark.parametrize("reference", ["ÄR-2025-0042", "F1", "2025-0042", "12345", "VX 2025/123", "1234567890123"])
def test_pseudonyms_are_accepted(reference: str) -> None:
    assert CaseInfo(reference).reference == reference
    assert not looks_like_personnummer(reference)


def test_reference_is_required_and_time_must_be_iso() -> None:
    with pytest.raises(ReportError):
        CaseInfo("  ")
    with pytest.raises(ReportError, match="ISO"):
        CaseInfo("R1", assessed_at="igår kväll")
    assert CaseInfo("R1", assessed_at="2025-03-14").assessed_at == "2025-03-14"


# ---------------------------------------------------------------- the environment


def test_one_cached_environment_with_strict_undefined_and_forced_autoescape() -> None:
    env = environment()
    assert env is environment()
    assert env.undefined is jinja2.StrictUndefined
    assert not env.auto_reload
    autoescape = env.autoescape
    assert callable(autoescape)
    for name in ("report.html.j2", "x.html.j2", "report.html", "custom.j2", "weird.htm.jinja", None):
        assert autoescape(name) is True, name
    assert autoescape("report.md.j2") is False and autoescape("report.txt.j2") is False
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_override_templates_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("{{ cycler.__init__.__globals__ }}", encoding="utf-8")
    env = environment(str(tmp_path))
    assert isinstance(env, jinja2.sandbox.ImmutableSandboxedEnvironment)
    with pytest.raises(SecurityError):
        env.get_template("report.html.j2").render()
    result = scored_vectors(DEMO)[0].result
    with pytest.raises(ReportError, match="not allowed"):
        render_report(result, instrument=compiled(DEMO), templates=tmp_path)


def test_override_html_template_under_any_name_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text('{% include "part.x.j2" %}{% include "part.txt.j2" %}', encoding="utf-8")
    (tmp_path / "part.x.j2").write_text("{{ case.reference }}|", encoding="utf-8")
    # Even a partial named like a text template gets HTML-escaped data in an HTML report.
    (tmp_path / "part.txt.j2").write_text("{{ case.reference }}", encoding="utf-8")
    result = scored_vectors(DEMO)[0].result
    out = render_report(result, instrument=compiled(DEMO), templates=tmp_path, case=CaseInfo("<b>R</b>"))
    assert out == "&lt;b&gt;R&lt;/b&gt;|&lt;b&gt;R&lt;/b&gt;"


def test_override_can_extend_the_default_template(tmp_path: Path) -> None:
    (tmp_path / "report.txt.j2").write_text('EXTRA\n{% include "default:report.txt.j2" %}', encoding="utf-8")
    result = scored_vectors(DEMO)[0].result
    out = render_report(result, instrument=compiled(DEMO), fmt="txt", templates=tmp_path, case=CASE)
    plain = render_report(result, instrument=compiled(DEMO), fmt="txt", case=CASE)
    assert out == "EXTRA\n" + plain


def test_the_default_templates_render_the_same_in_the_sandbox(tmp_path: Path) -> None:
    """Shipped templates use nothing the sandbox forbids, so overrides can reuse them."""
    result = with_referrals(scored_vectors(FIXTURE)[1].result, compiled(FIXTURE))
    for fmt in FORMATS:
        sandboxed = render_report(result, instrument=compiled(FIXTURE), fmt=fmt, case=CASE, templates=tmp_path)
        assert sandboxed == render_report(result, instrument=compiled(FIXTURE), fmt=fmt, case=CASE)


def test_no_safe_filter_or_autoescape_off_in_shipped_templates() -> None:
    for path in REPORTS.glob("*.j2"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b", source), path.name
        assert "autoescape false" not in source.replace(" ", " ").lower(), path.name
        assert not re.search(r"https?://|<link|<script|<img|@import|url\(", source), path.name


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", PROFILES)
def test_removing_any_context_key_fails_loudly(fmt: str, profile: str) -> None:
    result = with_referrals(scored_vectors(FIXTURE)[3].result, compiled(FIXTURE))
    context = report_context(result, instrument=compiled(FIXTURE), fmt=fmt, profile=profile, case=CASE)
    assert render_template(template_name(fmt), context)
    for key in context:
        reduced = {k: v for k, v in context.items() if k != key}
        with pytest.raises(ReportError):
            render_template(template_name(fmt), reduced)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_level_is_an_error_not_a_blank(fmt: str) -> None:
    result = scored_vectors(FIXTURE)[1].result
    context = report_context(result, instrument=compiled(FIXTURE), fmt=fmt, case=CASE)
    broken = dict(context, outcome=dict(context["outcome"], final_label=None))
    with pytest.raises(ReportError, match="None"):
        render_template(template_name(fmt), broken)
    del broken["outcome"]["final_label"]
    with pytest.raises(ReportError, match="undefined"):
        render_template(template_name(fmt), broken)


def test_bad_arguments_are_screening_errors() -> None:
    result = scored_vectors(DEMO)[0].result
    for kwargs in ({"fmt": "pdf"}, {"lang": "de"}, {"profile": "police"}):
        with pytest.raises(ReportError):
            render_report(result, instrument=compiled(DEMO), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ReportError, match="scored with demo"):
        render_report(result, instrument=compiled(FIXTURE))


def test_broken_override_templates_are_report_errors(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("{% if %}", encoding="utf-8")
    (tmp_path / "report.txt.j2").write_text("{{ 1 / 0 }}", encoding="utf-8")
    result = scored_vectors(DEMO)[0].result
    with pytest.raises(ReportError, match=r"report\.md\.j2:1"):
        render_report(result, instrument=compiled(DEMO), fmt="md", templates=tmp_path)
    with pytest.raises(ReportError, match="ZeroDivisionError"):
        render_report(result, instrument=compiled(DEMO), fmt="txt", templates=tmp_path)


# ---------------------------------------------------------------- labels


def test_labels_have_the_same_placeholders_in_both_languages() -> None:
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    for key, text in labels().items():
        assert fields(text.sv) == fields(text.en), key


def test_every_label_a_template_uses_exists() -> None:
    used = set()
    for path in [*REPORTS.glob("report.*.j2"), *REPORTS.glob("_report.*.j2")]:
        used |= set(re.findall(r"\bt\.([a-z_]+)", path.read_text(encoding="utf-8")))
    assert used, "templates use labels"
    assert used <= set(labels())


# ---------------------------------------------------------------- instrument loading and hashes


def test_bundled_instrument_is_loaded_by_id_and_version() -> None:
    bundled = list_instruments()
    if not bundled:
        pytest.skip("no bundled instruments yet")
    ci = compiled(bundled[0].path)
    vector = ci.instrument.tests[0]
    result = assess(ci, vector.answers, judgement=vector.judgement, assessed_at=ASSESSED_AT)
    assert render_report(result, case=CASE) == render_report(result, instrument=ci, case=CASE)


def test_a_changed_instrument_is_stated_in_the_report() -> None:
    result = scored_vectors(DEMO)[0].result
    changed = parse_instrument(DEMO.read_text(encoding="utf-8") + "\n# edited\n", "demo.yaml")
    assert changed.sha256 != result.instrument.sha256
    for lang, word in (("sv", "Instrumentfilen har ändrats"), ("en", "The instrument file has changed")):
        for fmt in FORMATS:
            out = render_report(result, instrument=changed, fmt=fmt, lang=lang, case=CASE)
            assert word in out
            assert result.instrument.sha256[:16] in out and changed.sha256[:16] in out
    assert "Instrumentfilen" not in render_report(result, instrument=compiled(DEMO), case=CASE)


# ---------------------------------------------------------------- wording


def _summary(answers: dict[str, object], lang: str = "sv", judgement: JudgementInput | None = None) -> str:
    result = assess(compiled(FIXTURE), answers, judgement=judgement, assessed_at=ASSESSED_AT)
    return str(report_context(result, instrument=compiled(FIXTURE), fmt="txt", lang=lang)["outcome"]["summary"])


def test_summary_sentences_say_how_the_level_was_reached() -> None:
    base = {"threats": "no", "physical": "no", "weapon": "no", "view": "low"}
    assert _summary(base) == "Nivån är Låg – poängen gav Låg."
    assert _summary(base, "en") == "The level is Low – the scores gave Low."
    strangled = dict(base, physical="yes", strangled="yes")
    assert _summary(strangled, "en") == (
        "The level is High – the scores gave Medium and critical items "
        "(Strangulation is a strong risk factor) set a floor of High."
    )
    assert _summary(dict(base, threats="yes", weapon="unknown"), "en") == (
        "The level cannot be settled: it lies between Low and Medium and is not reported as the lower level"
        " – the scores give Low–Medium depending on unknown answers."
    )
    incomplete = {"threats": "unknown", "physical": "no", "view": "low"}
    assert _summary(incomplete).startswith("Bedömningen är ofullständig och en låg nivå kan inte fastställas")
    raised = _summary(strangled, "en", JudgementInput(level="low", rationale="r"))
    assert "the assessor lowered the level to Low" in raised and "so the level is High" in raised


def test_reassessment_date_is_counted_from_the_assessment() -> None:
    result = with_referrals(scored_vectors(FIXTURE)[0].result, compiled(FIXTURE))
    txt = render_report(result, instrument=compiled(FIXTURE), fmt="txt", case=CASE)
    assert "Ny bedömning: inom 14 dagar, senast 2025-03-28" in txt
    no_date = CaseInfo("R1")
    undated = result.model_copy(update={"assessed_at": None})
    txt = render_report(undated, instrument=compiled(FIXTURE), fmt="txt", lang="en", case=no_date)
    assert "Re-assessment: within 14 days\n" in txt
    assert "Date and time: not given" in txt


def test_empty_referrals_and_follow_ups_say_none() -> None:
    result = scored_vectors(FIXTURE)[0].result
    assert not result.referrals and not result.follow_up
    sv = render_report(result, instrument=compiled(FIXTURE), fmt="txt", case=CASE)
    en = render_report(result, instrument=compiled(FIXTURE), fmt="txt", lang="en", case=CASE)
    assert "Inga rekommenderade insatser." in sv and "Inga uppföljande bedömningar" in sv
    assert "None: no referrals are recommended." in en and "None: no follow-up" in en


# ---------------------------------------------------------------- escaping helpers


def test_markdown_escaping_neutralises_syntax() -> None:
    assert escape_markdown("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert escape_markdown("<b>&amp;") == "\\<b\\>\\&amp;"
    assert escape_markdown("- a") == "\\- a" and escape_markdown("1. a") == "1\\. a"
    assert escape_markdown("http://x www.y a@b") == "http\\://x www\\.y a\\@b"


def test_controls_are_made_visible_and_lines_flattened() -> None:
    assert strip_controls("a\u202eb\x1b") == "a\\u202eb\\u001b"
    assert strip_controls("rad\nrad\tx") == "rad\nrad\tx"
    assert flatten("a\r\nb\n\nc\td") == "a / b / c d"


@pytest.mark.parametrize("fmt", ["txt", "html", "md"])
def test_a_stored_result_reports_its_scores_in_the_instruments_order(fmt: str) -> None:
    """Seen while speeding up ``to_json``: a stored result's scores come back in key order
    (canonical JSON sorts keys), so FREDA-beskrivning's thirteen scores were listed
    alphabetically by id in a report from the store and in the instrument's order right
    after the interview. The same assessment now gives the same report either way."""
    from screening import load_instrument
    from screening.engine.result import Result
    from screening.report.present import result_text

    ci = load_instrument("freda-beskrivning")
    fresh = assess(ci, {}, assessed_at=ASSESSED_AT)
    stored = Result.model_validate_json(fresh.to_json())
    assert list(stored.scores) != list(fresh.scores)  # the stored order differs underneath
    same = {"instrument": ci, "fmt": fmt, "case": CASE, "timezone": "Europe/Stockholm"}
    assert render_report(stored, **same) == render_report(fresh, **same)
    assert result_text(stored, "sv", ci) == result_text(fresh, "sv", ci)
