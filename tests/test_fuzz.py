"""Hypothesis fuzzing of what the other suites do not cover: answer files and the report renderer.

(The YAML loader, instrument validation and the expression parser are fuzzed in
test_yamlsafe.py, test_engine_properties.py and test_expr_hostile.py; the
coverage-guided atheris targets for them are in fuzz/.)

Answer files, as a caseworker or another system writes them, go through
``screening.api.load_answers`` and ``assess`` (and ``score_file``, the CLI's
path). Anything may come in; only our own errors may come out, and no error
message may repeat an answer (the canary in every value must never show).

Reports: arbitrary text in every free-text field (text answers, group rows, the
judgement rationale, the assessor, the case reference) rendered in every format,
language and profile. Only ``ReportError`` is allowed (a reference may be
refused); HTML gets no tag or attribute from the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_privacy_support import text_instrument
from test_report_hostile import PAYLOADS, _check_html, _no_controls, _result
from test_report_support import ASSESSED_AT, FIXTURE, compiled

from screening import ScreeningError, assess, list_instruments, load_answers, load_instrument_file
from screening.api import score_file
from screening.report._render import FORMATS, LANGS, PROFILES, CaseInfo, ReportError, render_report

CANARY = "CANARY-FRITEXT-7f3a"
FUZZ = settings(max_examples=150, deadline=None, report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
INSTRUMENTS = [text_instrument(), *(load_instrument_file(f.path) for f in list_instruments())]

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 30), st.floats(allow_nan=True),
    st.text(max_size=20).map(lambda s: f"{s}{CANARY}"), st.sampled_from(["yes", "no", "unknown", "2024-01-05", ""]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10,
)


def _answer_docs(ci) -> st.SearchStrategy[dict[str, object]]:
    keys = st.one_of(st.sampled_from(list(ci.order)), st.text(max_size=10))
    fields = sorted({f.id for item in ci.items.values() for f in item.fields or ()}) or ["x"]
    rows = st.lists(st.dictionaries(st.sampled_from(fields), _VALUES, max_size=3), max_size=3)
    return st.dictionaries(keys, st.one_of(_VALUES, rows), max_size=len(ci.order) + 2)


# Found by this fuzzer and fixed (regression tests below): the YAML reader quoted anchor,
# alias and tag names, so an unquoted answer such as ``t: &Anna slog mig`` put the name in
# the error; and a line of free text read as a *key* was echoed as an unknown item id.


def _only_ours(call) -> None:
    try:
        call()
    except ScreeningError as exc:
        assert CANARY not in str(exc), "an error message repeated an answer"


@pytest.mark.parametrize("text", [f"t: &{CANARY} slog mig\n", f"t: *{CANARY}\n", f"t: !{CANARY} slog mig\n"])
def test_regression_yaml_errors_in_an_answers_file_do_not_quote_it(text, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScreeningError) as info:
        load_answers(path)
    assert CANARY not in str(info.value)


def test_regression_a_text_line_read_as_a_key_is_not_echoed(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(f"t: |\n  första raden\n{CANARY} sa att: hon var rädd\n", encoding="utf-8")
    with pytest.raises(ScreeningError) as info:
        assess(INSTRUMENTS[0], load_answers(path))
    assert CANARY not in str(info.value)


@FUZZ
@given(data=st.data(), which=st.integers(0, len(INSTRUMENTS) - 1))
def test_any_answers_give_a_result_or_our_error_without_the_value(data, which):
    ci = INSTRUMENTS[which]
    doc = data.draw(_answer_docs(ci))
    _only_ours(lambda: assess(ci, doc))


@FUZZ
@given(content=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.lists(st.sampled_from(["t: ", CANARY, "\n", "a: 'yes'", "[", "{", "&x", "*x", "!!python/object ", ": ",
                              "- ", "cal:\n  - when: ", "n: 99999999999999999999", "\t", '"', "'"]),
             max_size=20).map("".join),
))
def test_any_answers_file_loads_and_scores_or_gives_our_error(content, tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("answers")) / "answers.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    ci = INSTRUMENTS[0]

    def load_and_score() -> None:
        assess(ci, load_answers(path))

    _only_ours(load_and_score)


@FUZZ
@given(data=st.data())
def test_score_file_names_the_file_and_item_never_the_value(data, tmp_path_factory):
    ci = INSTRUMENTS[0]
    doc = data.draw(_answer_docs(ci))
    path = Path(tmp_path_factory.mktemp("answers")) / "answers.json"
    try:
        path.write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
    except ValueError:
        return  # NaN is not JSON; the YAML test above covers odd scalars
    home = Path(tmp_path_factory.mktemp("home"))
    from test_privacy_support import write_instrument_home

    write_instrument_home(home)
    _only_ours(lambda: score_file("privtest", path, home=home, rules="none"))


_TEXT = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(PAYLOADS)), min_size=1, max_size=4).map("".join)


@settings(max_examples=60, deadline=None, report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow])
@given(free=_TEXT, protected=_TEXT, rationale=_TEXT.filter(str.strip), assessor=_TEXT, reference=_TEXT)
def test_reports_with_arbitrary_text_in_every_free_field_render_inert(free, protected, rationale, assessor, reference):
    ci = compiled(FIXTURE)
    try:
        result = _result(free, protected, rationale, assessor)
    except ScreeningError:
        pytest.fail("assess refused text it must accept")
    try:
        case = CaseInfo(reference=reference, assessor=assessor, assessed_at=ASSESSED_AT)
    except ReportError:
        case = CaseInfo(reference="ÄR-1", assessor=assessor[:200] or None, assessed_at=ASSESSED_AT)
    for fmt in FORMATS:
        for lang in LANGS:
            for profile in PROFILES:
                try:
                    out = render_report(result, instrument=ci, fmt=fmt, lang=lang, profile=profile, case=case)
                except ReportError:
                    continue
                _no_controls(out)
                if fmt == "html":
                    _check_html(out)
